"""`pmflow import people FILE.xlsx|.csv --org CODE`: preview, then import if the file is clean."""
from __future__ import annotations

from pathlib import Path

import typer

from workflow.errors import WorkflowError

app = typer.Typer(help="Import data HR keeps in spreadsheets. / นำเข้าข้อมูลจากไฟล์", no_args_is_help=True)


@app.command("people")
def import_people(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                              help=".xlsx or .csv with columns code, name_th, position, "
                                                   "position_level, staff_type, unit, evaluator, superior, email"),
                  org: str = typer.Option(..., "--org", help="the organisation the people belong to (code)"),
                  dry_run: bool = typer.Option(False, "--dry-run", help="show the preview only"),
                  yes: bool = typer.Option(False, "--yes", "-y", help="import without asking")) -> None:
    """Preview what will change (new / updated / unchanged per row); nothing is imported until
    the file is clean; a re-import updates people by their code."""
    from rich.progress import Progress

    from db.session import new_session
    from workflow import roster
    from workflow.access import Actor

    content = file.read_bytes()
    actor = Actor.system()
    try:
        with new_session() as session, Progress(transient=True) as bar:
            task = bar.add_task("ตรวจสอบ / checking", total=None)
            plan = roster.plan(session, actor, org_code=org, filename=file.name, content=content,
                               progress=lambda done, total: bar.update(task, completed=done, total=total))
            bar.remove_task(task)
            if not plan.clean:
                bar.stop()
                typer.secho(f"{len(plan.problems)} problem(s); nothing imported (พบข้อผิดพลาด ยังไม่ได้นำเข้า):",
                            fg=typer.colors.RED, err=True)
                for p in plan.problems:
                    typer.echo(f"  แถว/row {p.row}  {p.column}: {p.th} / {p.en}", err=True)
                raise typer.Exit(code=2)
            bar.stop()
            counts = plan.counts()
            typer.echo(f"new {counts['new']}, updated {counts['updated']}, unchanged {counts['unchanged']} "
                       f"(ใหม่ {counts['new']} ปรับปรุง {counts['updated']} ไม่เปลี่ยน {counts['unchanged']})")
            for r in plan.rows:
                if r.action != "unchanged":
                    detail = ", ".join(f"{k}: {b} -> {a}" for k, (b, a) in r.changes.items())
                    typer.echo(f"  row {r.row:>6} {r.code:<12} {r.action:<8} {detail}")
            if dry_run or not (counts["new"] or counts["updated"]):
                return
            if not yes and not typer.confirm("import these changes? / นำเข้าหรือไม่", default=False):
                raise typer.Exit(code=1)
            with Progress(transient=True) as bar2:
                task = bar2.add_task("นำเข้า / importing", total=None)
                done = roster.apply(session, actor, org_code=org, filename=file.name, content=content,
                                    progress=lambda n, total: bar2.update(task, completed=n, total=total))
        typer.echo(f"imported into {done.org_code}: {done.counts}")
    except WorkflowError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        for p in getattr(exc, "problems", []):
            typer.secho(f"  - {p}", err=True)
        raise typer.Exit(code=2) from None
