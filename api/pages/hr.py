"""The HR dashboard: per round, progress per unit and milestone, the overdue list, the
low-performer cases and their measures, report downloads, and opening a round."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api import i18n
from api.deps import SessionDep
from api.i18n import N_
from api.pages.common import (
    FormDep,
    Viewer,
    ViewerDep,
    api_path,
    errors_from,
    forbidden,
    form_dict,
    lang_of,
    render,
    status_of,
)
from db.models import Round
from workflow import dashboard, flows
from workflow.calendar import today
from workflow.errors import InvalidInput, Problem, WorkflowError
from workflow.milestones import STATE_DEADLINE

router = APIRouter()


def _may_use(viewer: Viewer) -> bool:
    return dashboard.may_use(viewer.actor)


REPORTS = [("progress", N_("Round progress per unit")),
           ("round_report", N_("Round report to the parent organisation")),
           ("distribution", N_("Rating distribution per unit and evaluator")),
           ("announcement", N_("Outstanding and very good staff (announcement)")),
           ("ranking", N_("Ranking within each unit")),
           ("kpi_cascade", N_("KPI cascade")),
           ("reward", N_("Raises by result (suggested)"))]
FORMATS = ("xlsx", "csv", "pdf")


def report_links(request: Request, rnd: Round) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, [(format, href)]) for each report the JSON API serves (none if its routes are absent)."""
    out = []
    for name, title in REPORTS:
        base = api_path(request, "report", round_id=rnd.id, name=name)
        if base:
            out.append((title, [(fmt, f"{base}?format={fmt}") for fmt in FORMATS]))
    forms = api_path(request, "round_forms", round_id=rnd.id)
    if forms:
        out.append((N_("Every summary form of the round"), [("zip", f"{forms}?format=zip"),
                                                            ("pdf", f"{forms}?format=pdf")]))
    return out


def _context(request: Request, session: Session, viewer: Viewer, round_id: int | None, day: date) -> dict:
    d = dashboard.hr_dashboard(session, viewer.actor, round_id, day)
    ctx: dict = {"active": "hr", "rounds": d.rounds, "chosen": d.chosen, "today": day, "open_orgs": d.open_orgs,
                 "default_year": d.default_year, "default_number": d.default_number}
    if d.chosen:
        ctx.update(milestones=d.milestones, units=d.units, overall=d.overall, overdue=d.overdue,
                   overdue_total=d.overdue_total, cases=d.cases, reports=report_links(request, d.chosen[0]),
                   deadline=STATE_DEADLINE, due_of=d.due_of)
    return ctx


@router.get("/hr")
def hr_page(request: Request, viewer: ViewerDep, session: SessionDep, round: int | None = None,
            opened: int | None = None) -> Response:
    if not _may_use(viewer):
        return forbidden(request, viewer)
    lang = lang_of(request, viewer)
    flash = i18n.gettext(lang, "The round was opened.") if opened else None
    return render(request, "hr.html", viewer, flash=flash,
                  **_context(request, session, viewer, round, today()))


@router.post("/hr/rounds")
def open_round_form(request: Request, viewer: ViewerDep, session: SessionDep, posted: FormDep) -> Response:
    if not _may_use(viewer):
        return forbidden(request, viewer)
    form = form_dict(posted)
    problems = []
    year = form.get("fiscal_year", "").strip()
    number = form.get("round", "").strip()
    if not year.isdigit():
        problems.append(Problem("fiscal_year", "ปีงบประมาณต้องเป็นตัวเลข เช่น 2569",
                                "the fiscal year must be a number, e.g. 2569"))
    if number not in ("1", "2"):
        problems.append(Problem("round", "รอบการประเมินต้องเป็น 1 หรือ 2", "round must be 1 or 2"))
    try:
        if problems:
            raise InvalidInput(problems)
        opened = flows.open_round(session, org_code=form.get("org", ""), fiscal_year=int(year),
                                  number=int(number), actor=viewer.actor)
    except WorkflowError as exc:
        session.rollback()
        errors = errors_from(exc, "open_round", known=("org", "fiscal_year", "round"))
        return render(request, "hr.html", viewer, status_of(exc), errors=errors, form=form,
                      **_context(request, session, viewer, None, today()))
    return RedirectResponse(f"/hr?round={opened.round.id}&opened=1", status_code=303)

