"""`pmflow agency ...`: the agency assessments (the organisation level)."""
from __future__ import annotations

import typer

from workflow.errors import WorkflowError

app = typer.Typer(help="Agency assessments: a province's agencies assessed in weighted dimensions.",
                  no_args_is_help=True)


@app.command("open")
def agency_open(org: str = typer.Option(..., "--org", help="the province's code"),
                fiscal_year: int = typer.Option(..., "--fiscal-year", help="Buddhist era, e.g. 2570")) -> None:
    """Open one assessment for each agency directly under the province, with its SAR milestones."""
    from db.session import new_session
    from workflow.access import Actor
    from workflow.agency_assessments import milestones_of, open_year

    try:
        with new_session() as session:
            opened = open_year(session, Actor.system(), org_code=org, fiscal_year=fiscal_year)
            typer.echo(f"fiscal {fiscal_year}: {len(opened.created)} agency assessments opened under {org}"
                       f" ({opened.existing} already open)")
            for a in opened.created:
                dues = ", ".join(f"{m.code} {m.due_on.isoformat()}" for m in milestones_of(session, a.id))
                typer.echo(f"  assessment {a.id} (org {a.org_unit_id}): {dues}")
    except WorkflowError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        for p in getattr(exc, "problems", []):
            typer.secho(f"  - {p}", err=True)
        raise typer.Exit(code=2)
