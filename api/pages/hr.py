"""The HR dashboard: per round, progress per unit and milestone, the overdue list, the
low-performer cases and their measures, report downloads, and opening a round."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, or_, select
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
from api.pages.tasks import today_in_bangkok
from db.models import Appraisal, Milestone, OrgUnit, Round
from workflow import cases, queries
from workflow.calendar import fiscal_year_of
from workflow.errors import InvalidInput, Problem, WorkflowError
from workflow.notifications import inbox
from workflow.notifications.pending import NOT_DONE_STATES
from workflow.notifications.scheduler import schedule_round
from workflow.rounds import open_round
from workflow.settings import get_settings

router = APIRouter()


@dataclass
class UnitProgress:
    unit: OrgUnit
    total: int
    done: dict[str, int]  # milestone code -> appraisals past it
    states: dict[str, int]


def _may_use(viewer: Viewer) -> bool:
    return viewer.actor.is_admin or bool(viewer.actor.scopes("hr"))


def hr_rounds(session: Session, viewer: Viewer) -> list[tuple[Round, OrgUnit]]:
    stmt = select(Round, OrgUnit).join(OrgUnit, OrgUnit.id == Round.org_unit_id).order_by(Round.starts_on.desc(), Round.id.desc())
    if not viewer.actor.is_admin:
        stmt = stmt.where(or_(*[OrgUnit.path.startswith(p) for p in viewer.actor.scopes("hr")]))
    return list(session.execute(stmt.limit(100)).all())


def progress(session: Session, rnd: Round, milestones: list[Milestone]) -> tuple[list[UnitProgress], UnitProgress]:
    """Per unit: how many appraisals have passed each milestone (withdrawn ones are not counted)."""
    counts = session.execute(
        select(Appraisal.org_unit_id, Appraisal.state, func.count()).where(Appraisal.round_id == rnd.id)
        .group_by(Appraisal.org_unit_id, Appraisal.state)).all()
    by_unit: dict[int, dict[str, int]] = defaultdict(dict)
    for unit_id, state, n in counts:
        by_unit[unit_id][state] = n
    units = {u.id: u for u in session.execute(select(OrgUnit).where(OrgUnit.id.in_(by_unit))).scalars()}
    codes = [m.code for m in milestones if NOT_DONE_STATES.get(m.code)]

    def summarise(unit: OrgUnit | None, states: dict[str, int]) -> UnitProgress:
        live = {s: n for s, n in states.items() if s != "withdrawn"}
        total = sum(live.values())
        done = {c: total - sum(n for s, n in live.items() if s in NOT_DONE_STATES[c]) for c in codes}
        return UnitProgress(unit, total, done, states)

    rows = [summarise(units[uid], st) for uid, st in by_unit.items() if uid in units]
    rows.sort(key=lambda r: r.unit.path)
    everything: dict[str, int] = defaultdict(int)
    for st in by_unit.values():
        for s, n in st.items():
            everything[s] += n
    return rows, summarise(None, dict(everything))


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


def _cases(session: Session, viewer: Viewer, rnd: Round) -> list[dict]:
    return [cases.case_out(session, viewer.actor, c) for c in cases.list_cases(session, viewer.actor, round_id=rnd.id)]


def _context(request: Request, session: Session, viewer: Viewer, round_id: int | None, today: date) -> dict:
    rounds = hr_rounds(session, viewer)
    chosen = next(((r, o) for r, o in rounds if r.id == round_id), rounds[0] if rounds else None)
    ctx: dict = {"active": "hr", "rounds": rounds, "chosen": chosen, "today": today,
                     "open_orgs": _open_orgs(session, viewer), "default_year": fiscal_year_of(today),
                     "default_number": 1 if today.month >= 10 or today.month <= 3 else 2}
    if chosen:
        rnd = chosen[0]
        milestones = list(session.execute(select(Milestone).where(Milestone.round_id == rnd.id)
                                          .order_by(Milestone.due_on, Milestone.id)).scalars())
        units, overall = progress(session, rnd, milestones)
        total, overdue = queries.list_appraisals(session, viewer.actor,
                                                 queries.AppraisalFilter(round_id=rnd.id, overdue=True),
                                                 limit=200, today=today)
        ctx.update(milestones=milestones, units=units, overall=overall, overdue=overdue, overdue_total=total,
                   cases=_cases(session, viewer, rnd), reports=report_links(request, rnd),
                   deadline=queries.STATE_DEADLINE,
                   due_of={m.code: m.due_on for m in milestones})
    return ctx


def _open_orgs(session: Session, viewer: Viewer) -> list[OrgUnit]:
    paths = ["/"] if viewer.actor.is_admin else viewer.actor.scopes("hr")
    if not paths:
        return []
    rows = session.execute(select(OrgUnit).where(or_(*[OrgUnit.path.startswith(p) for p in paths]))
                           .order_by(OrgUnit.path).limit(300)).scalars()
    return [u for u in rows if u.policy_version_id is not None or u.path in paths]


@router.get("/hr")
def hr_page(request: Request, viewer: ViewerDep, session: SessionDep, round: int | None = None,
            opened: int | None = None) -> Response:
    if not _may_use(viewer):
        return forbidden(request, viewer)
    lang = lang_of(request, viewer)
    flash = i18n.gettext(lang, "The round was opened.") if opened else None
    return render(request, "hr.html", viewer, flash=flash,
                  **_context(request, session, viewer, round, today_in_bangkok()))


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
        queries.require_may_open_round(session, viewer.actor, form.get("org", ""))
        opened = open_round(session, org_code=form.get("org", ""), fiscal_year=int(year), number=int(number),
                            actor=viewer.actor)
    except WorkflowError as exc:
        session.rollback()
        errors = errors_from(exc, "open_round", known=("org", "fiscal_year", "round"))
        return render(request, "hr.html", viewer, status_of(exc), errors=errors, form=form,
                      **_context(request, session, viewer, None, today_in_bangkok()))
    schedule_round(opened.round.id, engine=session.get_bind())  # its reminder jobs, now
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
                      **_context(request, session, viewer, None, today_in_bangkok()))
    return RedirectResponse("/hr?webhook=1", status_code=303)
