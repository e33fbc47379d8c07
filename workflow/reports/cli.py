"""`pmflow report ...`: the round's reports and forms as files, for HR offices that send them
upward by mail. Runs with the database's full view (whoever can run it can read the database)."""
from __future__ import annotations

from pathlib import Path

import typer

from workflow.errors import WorkflowError

app = typer.Typer(help="Reports and forms as files. / รายงานและแบบฟอร์ม", no_args_is_help=True)
NAMES = "progress, round_report, distribution, announcement, ranking, kpi_cascade, reward, low_performers, agency_assessment"


def _actor():  # noqa: ANN202
    from workflow.access import Actor

    return Actor(account_id=None, person_id=None, name="pmflow CLI", is_admin=True)


def _fail(exc: WorkflowError) -> None:
    typer.secho(str(exc), fg=typer.colors.RED, err=True)
    for p in getattr(exc, "problems", []):
        typer.secho(f"  - {p}", err=True)
    raise typer.Exit(code=2) from None


def _check_folder(out: Path) -> None:
    """Refuse, before any work, a file whose folder does not exist."""
    folder = out.resolve().parent
    if not folder.is_dir():
        typer.secho(f"ไม่มีโฟลเดอร์ {folder} / the folder {folder} does not exist", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)


@app.command("build")
def build(name: str = typer.Argument(..., help=NAMES),
          round_id: int = typer.Option(..., "--round", help="round id"),
          fmt: str = typer.Option("xlsx", "--format", help="json, csv, xlsx or pdf"),
          out: Path = typer.Option(..., "--out", "-o", help="file to write"),
          digits: str = typer.Option("arabic", "--digits", help="arabic or thai (dates)")) -> None:
    """Write one report of a round to a file."""
    from db.session import new_session
    from workflow.reports import load, writers

    if fmt not in ("json", "csv", "xlsx", "pdf"):
        typer.secho("--format must be json, csv, xlsx or pdf", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    _check_folder(out)
    try:
        with new_session() as session:
            report = load.build(session, _actor(), round_id, name, digits=digits)
    except WorkflowError as exc:
        _fail(exc)
    out.write_bytes(writers.write(report, fmt))
    typer.echo(f"{report.title_en}: {out} ({out.stat().st_size} bytes)")


@app.command("forms")
def forms_(round_id: int = typer.Option(..., "--round", help="round id"),
           out: Path = typer.Option(..., "--out", "-o", help="forms.zip (a PDF per person) or forms.pdf (one file)"),
           digits: str = typer.Option("arabic", "--digits", help="arabic or thai (dates)")) -> None:
    """Every appraisal summary form of a round, to print, sign and file."""
    from db.session import new_session
    from workflow.reports import forms

    fmt = "pdf" if out.suffix.lower() == ".pdf" else "zip"
    _check_folder(out)
    try:
        with new_session() as session:
            content = forms.round_forms(session, _actor(), round_id, fmt=fmt, digits=digits)
    except WorkflowError as exc:
        _fail(exc)
    out.write_bytes(content)
    typer.echo(f"forms of round {round_id}: {out} ({out.stat().st_size} bytes)")
