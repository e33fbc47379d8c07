"""My tasks: everything waiting for the signed-in user, grouped by what to do, with due dates.

Whose move is next is decided by the same pure rule the reminders use
(`workflow.notifications.pending.next_actions`), so the page and the reminder e-mails agree.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import and_, or_, select
from sqlmodel import Session

from api.deps import SessionDep
from api.i18n import N_
from api.pages.common import FormDep, ViewerDep, render
from db.models import (
    Appraisal,
    Milestone,
    OrgUnit,
    Person,
    Round,
    Signature,
)
from workflow import cases, engine
from workflow.calendar import BANGKOK
from workflow.machines.appraisal import OPEN_STATES
from workflow.machines.low_performer import FINAL_STATES as CASE_FINAL_STATES
from workflow.notifications import inbox as inbox_service
from workflow.notifications import pending
from workflow.queries import STATE_DEADLINE, committee_rounds

router = APIRouter()
LIMIT = 500  # a person's own task list; HR's whole-organisation view is the dashboard

# The groups, in the order a user works through them (action code -> heading).
GROUPS = {
    pending.SIGN_AGREEMENT: N_("Sign performance agreements"),
    pending.CONFIRM_AGREEMENT: N_("Confirm signed agreements"),
    pending.ASSIGN_EVALUATOR: N_("Assign an evaluator"),
    pending.MID_ROUND_REVIEW: N_("Mid-round reviews"),
    pending.SCORE: N_("Score appraisals"),
    pending.ACKNOWLEDGE: N_("Acknowledge your result"),
    pending.GIVE_OPINION: N_("Give your opinion as superior"),
    pending.SUBMIT: N_("Submit to the committee"),
    pending.COMMITTEE_REVIEW: N_("Review in committee"),
    pending.ANNOUNCE: N_("Approve and announce results"),
    pending.CASE_MEASURE: N_("Low-performer case measures"),
}
# The milestone each action works towards.
ACTION_MILESTONE = {
    pending.SIGN_AGREEMENT: "agreement_signed", pending.CONFIRM_AGREEMENT: "agreement_signed",
    pending.ASSIGN_EVALUATOR: "agreement_signed", pending.MID_ROUND_REVIEW: "mid_round_review",
    pending.SCORE: "evaluation_submitted", pending.ACKNOWLEDGE: "evaluation_submitted",
    pending.GIVE_OPINION: "evaluation_submitted", pending.SUBMIT: "evaluation_submitted",
    pending.COMMITTEE_REVIEW: "committee_review_done", pending.ANNOUNCE: "results_announced",
    pending.CASE_MEASURE: "low_performer_report",
}


@dataclass(frozen=True)
class Task:
    action: str
    link: str
    subject: str
    state: str
    due: date | None
    overdue: bool
    detail: str = ""


def today_in_bangkok() -> date:
    return datetime.now(BANGKOK).date()


def _candidates(session: Session, viewer_actor) -> list[tuple[Appraisal, str]]:
    """The open appraisals on which this person might have a move to make."""
    me = viewer_actor.person_id
    clauses = []
    if me is not None:
        clauses += [Appraisal.person_id == me, Appraisal.evaluator_id == me, Appraisal.superior_id == me,
                    Appraisal.superior2_id == me]
        rounds = committee_rounds(session, viewer_actor)
        if rounds:
            clauses.append(and_(Appraisal.state == "committee_review", Appraisal.round_id.in_(rounds),
                                Appraisal.person_id != me))
    for role, state in (("authority", "reviewed"), ("hr", "draft")):
        paths = viewer_actor.scopes(role)
        if paths:
            units = select(OrgUnit.id).where(or_(*[OrgUnit.path.startswith(p) for p in paths]))
            extra = [Appraisal.evaluator_id.is_(None)] if role == "hr" else []
            clauses.append(and_(Appraisal.state == state, Appraisal.org_unit_id.in_(units), *extra))
    if not clauses:
        return []
    return list(session.execute(
        select(Appraisal, Person.name_th).join(Person, Person.id == Appraisal.person_id)
        .where(or_(*clauses), Appraisal.state.in_(OPEN_STATES)).order_by(Appraisal.id).limit(LIMIT)).all())


def my_tasks(session: Session, actor, today: date) -> dict[str, list[Task]]:
    rows = _candidates(session, actor)
    me = actor.person_id
    ids = [a.id for a, _ in rows]
    signed: dict[tuple[int, int], set[str]] = defaultdict(set)
    if ids:
        for aid, role, rev in session.execute(
                select(Signature.appraisal_id, Signature.role, Signature.revision)
                .where(Signature.appraisal_id.in_(ids), Signature.kind == "agreement")):
            signed[(aid, rev)].add(role)
    round_ids = {a.round_id for a, _ in rows}
    due: dict[tuple[int, str], date] = {}
    if round_ids:
        for rid, code, day in session.execute(select(Milestone.round_id, Milestone.code, Milestone.due_on)
                                              .where(Milestone.round_id.in_(round_ids))):
            due[(rid, code)] = day
    committee = committee_rounds(session, actor)
    groups: dict[str, list[Task]] = defaultdict(list)
    for a, name in rows:
        fact = pending.AppraisalFact(
            id=a.id, person_id=a.person_id, person_name=name, state=a.state, evaluator_id=a.evaluator_id,
            superior_id=a.superior_id, signed_by=frozenset(signed.get((a.id, a.agreement_revision), set())),
            acknowledged=a.acknowledged_at is not None, refused_with_witness=bool(a.refusal_witness),
            superior_opinion_given=a.superior_opinion is not None, superior2_id=a.superior2_id,
            superior2_opinion_given=a.superior2_opinion is not None)
        others = frozenset({me}) if me is not None else frozenset()
        items = pending.next_actions(
            fact, committee_ids=others if a.round_id in committee else frozenset(),
            hr_ids=others if actor.scopes("hr") else frozenset(),
            authority_ids=others if actor.scopes("authority") else frozenset())
        for who, item in items:
            if who != me or item.action not in GROUPS:
                continue
            day = due.get((a.round_id, ACTION_MILESTONE.get(item.action, STATE_DEADLINE.get(a.state, ""))))
            groups[item.action].append(Task(item.action, item.link, name, a.state, day,
                                            day is not None and day < today))
    for task in _case_tasks(session, actor, today):
        groups[task.action].append(task)
    return {code: sorted(groups[code], key=lambda t: (not t.overdue, t.due or date.max, t.subject))
            for code in GROUPS if groups.get(code)}


def _case_tasks(session: Session, actor, today: date) -> list[Task]:
    out = []
    for c in cases.list_cases(session, actor):
        if c.state in CASE_FINAL_STATES:
            continue
        if not engine.available_events(session, "case", c, actor):
            continue
        person = session.get(Person, c.person_id)
        day = session.execute(select(Milestone.due_on).where(
            Milestone.round_id == c.round_id, Milestone.code == "low_performer_report")).scalar_one_or_none()
        out.append(Task(pending.CASE_MEASURE, f"/cases/{c.id}", person.name_th if person else "", c.state,
                        day, day is not None and day < today))
    return out


def my_appraisals(session: Session, actor) -> list[tuple[Appraisal, Round]]:
    if actor.person_id is None:
        return []
    return list(session.execute(
        select(Appraisal, Round).join(Round, Round.id == Appraisal.round_id)
        .where(Appraisal.person_id == actor.person_id).order_by(Round.starts_on.desc())).all())


@router.get("/")
def tasks_page(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    actor = viewer.actor
    today = today_in_bangkok()
    groups = my_tasks(session, actor, today)
    inbox, _, unread = inbox_service.messages(session, actor, limit=20)
    return render(request, "tasks.html", viewer, active="tasks", groups=groups, group_titles=GROUPS,
                  inbox=inbox, unread=unread, mine=my_appraisals(session, actor), today=today)


@router.post("/inbox/read-all")
def read_all(viewer: ViewerDep, session: SessionDep, _form: FormDep) -> Response:
    inbox_service.mark_all_read(session, viewer.actor, now=datetime.now(UTC))
    return RedirectResponse("/#h-inbox", status_code=303)
