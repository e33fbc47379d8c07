"""The HR dashboard: per round, progress per milestone and per unit (as the hierarchy), the
overdue list filtered by unit, milestone and evaluator with "remind now" for the selected,
the low-performer cases and their measures, report downloads, and opening a round."""
from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

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
from workflow.calendar import BANGKOK, today
from workflow.errors import InvalidInput, Problem, WorkflowError
from workflow.milestones import STATE_DEADLINE
from workflow.notifications import inbox
from workflow.settings import get_settings

router = APIRouter()


def _may_use(viewer: Viewer) -> bool:
    return dashboard.may_use(viewer.actor)


REPORTS = [("progress", N_("Round progress per unit")),
           ("round_report", N_("Round report to the parent organisation")),
           ("distribution", N_("Rating distribution per unit and evaluator")),
           ("announcement", N_("Outstanding and very good staff (announcement)")),
           ("ranking", N_("Ranking within each unit")),
           ("kpi_cascade", N_("KPI cascade")),
           ("reward", N_("Raises by result (suggested)")),
           ("low_performers", N_("Low-performer cases open during the round"))]
FORMATS = ("xlsx", "csv", "pdf")


# Laid out as pages, a report of a large round takes long (the reward report of 100,000 staff:
# ~37 s): its PDF is made in the background, with a progress page, instead of a waiting link.
IN_BACKGROUND = ("pdf",)


def report_links(request: Request, rnd: Round) -> list[tuple[str, str, list[tuple[str, str, bool]]]]:
    """(title, report name, [(format, href, made in the background)]) for each report the JSON
    API serves (none if its routes are absent)."""
    out = []
    for name, title in REPORTS:
        base = api_path(request, "report", round_id=rnd.id, name=name)
        if base:
            out.append((title, name, [(fmt, f"{base}?format={fmt}", fmt in IN_BACKGROUND) for fmt in FORMATS]))
    forms = api_path(request, "round_forms", round_id=rnd.id)
    if forms:
        out.append((N_("Every summary form of the round"), "forms",
                    [("zip", f"{forms}?format=zip", False), ("pdf", f"{forms}?format=pdf", False)]))
    return out


def _context(request: Request, session: Session, viewer: Viewer, round_id: int | None, day: date,
             filters: dashboard.OverdueFilter = dashboard.OverdueFilter()) -> dict:
    d = dashboard.hr_dashboard(session, viewer.actor, round_id, day, filters)
    ctx: dict = {"active": "hr", "rounds": d.rounds, "chosen": d.chosen, "today": day, "open_orgs": d.open_orgs,
                 "default_year": d.default_year, "default_number": d.default_number}
    if d.chosen:
        ctx.update(milestones=d.milestones, units=d.units, tree=d.tree, filters=d.filters, evaluators=d.evaluators,
                   overall=d.overall, overdue=d.overdue,
                   overdue_total=d.overdue_total, cases=d.cases, reports=report_links(request, d.chosen[0]),
                   deadline=STATE_DEADLINE, due_of=d.due_of)
    return ctx


def _number(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _filters(unit: str | None, milestone: str | None, evaluator: str | None) -> dashboard.OverdueFilter:
    """The overdue list's GET form as a filter ("" from a select's "any" is no filter)."""
    problems = [Problem(name, f"{name} ต้องเป็นตัวเลข", f"{name} must be a number")
                for name, value in (("unit", unit), ("evaluator", evaluator))
                if (value or "").strip() and _number(value) is None]
    if problems:
        raise InvalidInput(problems)
    return dashboard.OverdueFilter(unit_id=_number(unit), milestone=(milestone or "").strip() or None,
                                   evaluator_id=_number(evaluator))


@router.get("/hr")
def hr_page(request: Request, viewer: ViewerDep, session: SessionDep, round: int | None = None,
            opened: int | None = None, unit: str | None = None, milestone: str | None = None,
            evaluator: str | None = None, reminded: int | None = None, already: int | None = None) -> Response:
    if not _may_use(viewer):
        return forbidden(request, viewer)
    lang = lang_of(request, viewer)
    flash = i18n.gettext(lang, "The round was opened.") if opened else None
    if reminded is not None or already is not None:
        flash = (i18n.gettext(lang, "Reminders sent now: %(sent)s. Already reminded today: %(already)s.")
                 % {"sent": reminded or 0, "already": already or 0})
    try:
        ctx = _context(request, session, viewer, round, today(), _filters(unit, milestone, evaluator))
    except InvalidInput as exc:
        errors = errors_from(exc, "overdue_filter", known=("unit", "milestone", "evaluator"))
        return render(request, "hr.html", viewer, 422, errors=errors,
                      **_context(request, session, viewer, round, today()))
    return render(request, "hr.html", viewer, flash=flash, **ctx)


@router.post("/hr/remind")
def remind_form(request: Request, viewer: ViewerDep, session: SessionDep, posted: FormDep) -> Response:
    """Remind now whoever must act on the overdue appraisals ticked on the list."""
    if not _may_use(viewer):
        return forbidden(request, viewer)
    round_id = _number(posted.get("round") if isinstance(posted.get("round"), str) else None)
    picked = [v for v in posted.getlist("ids") if isinstance(v, str)]
    try:
        if any(_number(v) is None for v in picked):
            raise InvalidInput([Problem("appraisal", "รายการที่เลือกต้องเป็นตัวเลข", "each selected id must be a number")])
        done = dashboard.remind_now(session, viewer.actor, [int(v) for v in picked],
                                    now=datetime.now(BANGKOK), base_url=get_settings().base_url)
    except WorkflowError as exc:
        session.rollback()
        errors = errors_from(exc, "remind", known=())
        return render(request, "hr.html", viewer, status_of(exc), errors=errors,
                      **_context(request, session, viewer, round_id, today()))
    kept = {k: posted.get(k) for k in ("round", "unit", "milestone", "evaluator")}
    back = urlencode({k: v for k, v in kept.items() if isinstance(v, str) and v.strip()})
    return RedirectResponse(f"/hr?{back}{'&' if back else ''}reminded={len(done.people)}&already={len(done.already)}#h-overdue",
                            status_code=303)


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


@router.post("/hr/webhook")
def webhook_form(request: Request, viewer: ViewerDep, session: SessionDep, posted: FormDep) -> Response:
    """Where the organisation's reminders are posted (the service decides; see inbox.set_webhook)."""
    if not _may_use(viewer):
        return forbidden(request, viewer)
    form = form_dict(posted)
    try:
        inbox.set_webhook(session, viewer.actor, form.get("org", ""), target=form.get("target", ""),
                          enabled=form.get("enabled") == "1", secret=get_settings().webhook_secret)
    except WorkflowError as exc:
        session.rollback()
        errors = errors_from(exc, "webhook", known=("target", "enabled"))
        return render(request, "hr.html", viewer, status_of(exc), errors=errors, form=form,
                      **_context(request, session, viewer, None, today()))
    return RedirectResponse("/hr?webhook=1", status_code=303)
