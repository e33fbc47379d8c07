"""`pmflow`: the command line. Thin: each command calls one service and prints its result."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

import workflow.kinds  # noqa: F401  (the workflow kinds and their hooks)
from workflow.errors import WorkflowError

app = typer.Typer(help="pmflow: ระบบบริหารผลการปฏิบัติงาน / performance-management workflow",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
round_app = typer.Typer(help="Rounds of the performance cycle.", no_args_is_help=True)
policy_app = typer.Typer(help="Policy files and presets.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained event log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(round_app, name="round")
app.add_typer(policy_app, name="policy")
app.add_typer(audit_app, name="audit")
from workflow.roster_cli import app as import_app  # noqa: E402  (pmflow import people ...)

app.add_typer(import_app, name="import")
from workflow.reports.cli import app as report_app  # noqa: E402  (pmflow report ...)

app.add_typer(report_app, name="report")
from workflow.notifications.cli import notify_app, scheduler_command  # noqa: E402

app.add_typer(notify_app, name="notify")
app.command("scheduler")(scheduler_command)
from workflow.agency_cli import app as agency_app  # noqa: E402  (pmflow agency open ...)

app.add_typer(agency_app, name="agency")


def _fail(exc: WorkflowError) -> None:
    problems = getattr(exc, "problems", [])
    if not problems:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
    else:  # each problem once, one language per line
        typer.secho(f"{len(problems)} problem(s) (พบ {len(problems)} ข้อ):", fg=typer.colors.RED, err=True)
        for p in problems:
            typer.secho(f"  - {p.field}: {p.th}", err=True)
            typer.secho(f"    {p.field}: {p.en}", err=True)
    raise typer.Exit(code=2)


def _session():
    from db.session import new_session

    return new_session()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the migrations up to REVISION (default: head)."""
    from db.migrate import upgrade
    from db.session import database_url

    upgrade(revision=revision)
    typer.echo(f"database at {revision}: {database_url()}")


@app.command()
def demo(if_empty: bool = typer.Option(False, "--if-empty", help="do nothing if the demo exists")) -> None:
    """Create the demo organisation (a province, three agencies, 60 people) and open its round."""
    from workflow.demo import DEMO_PASSWORD, build

    with _session() as session:
        result = build(session)
    if not result.created:
        typer.echo("demo organisation already present" + ("" if if_empty else " (nothing done)"))
        return
    typer.echo(f"demo organisation DEMO: {result.people} people; password for every account: {DEMO_PASSWORD}")
    for username, what in result.accounts.items():
        typer.echo(f"  {username:<11} {what}")
    if result.round:
        _print_opened(result.round)


@round_app.command("open")
def round_open(org: str = typer.Option(..., "--org", help="organisation code"),
               fiscal_year: int = typer.Option(..., "--fiscal-year", help="Buddhist era, e.g. 2569"),
               number: int = typer.Option(..., "--round", help="1 (Oct-Mar) or 2 (Apr-Sep)")) -> None:
    """Open a round: milestones from the policy, a draft appraisal for every active person."""
    from workflow.access import Actor
    from workflow.flows import open_round

    try:
        with _session() as session:
            opened = open_round(session, org_code=org, fiscal_year=fiscal_year, number=number,
                                actor=Actor.system())
            _print_opened(opened)
    except WorkflowError as exc:
        _fail(exc)


def _print_opened(opened) -> None:  # noqa: ANN001
    from workflow.calendar import thai_date

    r = opened.round
    typer.echo(f"round {r.number}/{r.fiscal_year} opened ({r.starts_on} - {r.ends_on}): "
               f"{opened.appraisals} appraisals in draft")
    for m in opened.milestones:
        typer.echo(f"  {m.due_on.isoformat()}  {thai_date(m.due_on):<22} {m.code}")
    if opened.without_evaluator:
        typer.secho(f"{len(opened.without_evaluator)} people have no evaluator "
                    f"(ยังไม่มีผู้ประเมิน) - hand each to an evaluator:", fg=typer.colors.YELLOW)
        for pid, code, name in opened.without_evaluator:
            typer.echo(f"  person {pid} {code} {name}")


@policy_app.command("check")
def policy_check(file: Path) -> None:
    """Validate a policy file; every broken rule is named by its key."""
    from workflow.policy import load_file

    try:
        policy = load_file(file)
    except WorkflowError as exc:
        _fail(exc)
    rows = policy.provenance()
    defaults = sum(1 for _, _, source in rows if source == "default")
    typer.echo(f"ok: {policy.code} ({policy.name_en}); weights {policy.weights.results}/"
               f"{policy.weights.competencies}; low performer by {policy.low_performer.trigger}; "
               f"{len(rows) - defaults} values from notices, {defaults} defaults")


def _cli_actor():  # noqa: ANN202
    import getpass

    from workflow.access import Actor

    return Actor(account_id=None, person_id=None, name=f"cli:{getpass.getuser()}", is_system=True)


@policy_app.command("show")
def policy_show(org: str = typer.Option(..., "--org", help="organisation code")) -> None:
    """Print the policy TOML in force for an organisation (its own, or inherited)."""
    from workflow.org_policy import in_force

    try:
        with _session() as session:
            found = in_force(session, _cli_actor(), org)
    except WorkflowError as exc:
        _fail(exc)
    typer.echo(found.version.content, nl=False)


@policy_app.command("set")
def policy_set(file: Path, org: str = typer.Option(..., "--org", help="organisation code")) -> None:
    """Validate FILE, store it as a new policy version and attach it to the organisation.
    Rounds already open keep the version they were opened with."""
    from workflow.org_policy import attach

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        typer.secho(f"cannot read {file}: {exc} (อ่านไฟล์ไม่ได้)", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    try:
        with _session() as session:
            result = attach(session, _cli_actor(), org, text)
            pv = result.version
            typer.echo(f"{org}: {pv.code} v{pv.version} "
                       + ("attached (applies to rounds opened from now on)" if result.changed
                          else "already in force, nothing changed"))
    except WorkflowError as exc:
        _fail(exc)


@policy_app.command("list")
def policy_list() -> None:
    """The presets that ship with pmflow."""
    from workflow.policy import load_preset, preset_names

    for name in preset_names():
        p = load_preset(name)
        typer.echo(f"{name:<18} {p.name_th} / {p.name_en}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check every event chain; exit 1 if anything was altered or removed."""
    from workflow.audit import verify

    with _session() as session:
        findings = verify(session)
    if findings:
        typer.secho(f"TAMPERED: {len(findings)} problem(s) (พบการแก้ไขประวัติ)", fg=typer.colors.RED, err=True)
        for f in findings:
            typer.echo(f"  {f}", err=True)
        raise typer.Exit(code=1)
    typer.echo("audit log intact (ประวัติครบถ้วน ไม่ถูกแก้ไข)")


@app.command()
def serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000),
          workers: int = typer.Option(1, help="API worker processes (use PostgreSQL for more than 1)")) -> None:
    """Run the HTTP server."""
    import uvicorn

    from workflow.settings import SettingsError, get_settings

    os.environ.setdefault("PMFLOW_WORKERS", str(workers))  # the worker processes read it too
    try:
        settings = get_settings()
    except SettingsError as exc:
        typer.secho(f"pmflow will not start: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    if workers > 1 and settings.database_url.startswith("sqlite"):
        typer.secho("several workers need PostgreSQL (PMFLOW_DATABASE_URL)", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    from workflow.logs import logging_config

    typer.echo(f"pmflow on http://{host}:{port}/  (API docs: /api/v1/docs)")
    # Behind a reverse proxy: uvicorn believes X-Forwarded-For/-Proto only from these addresses.
    proxies = ",".join(settings.proxies) or "127.0.0.1"
    uvicorn.run("api.main:app", host=host, port=port, workers=workers, log_config=logging_config(settings),
                access_log=False, proxy_headers=True, forwarded_allow_ips=proxies)


def main() -> None:  # pragma: no cover
    app(sys.argv[1:])
