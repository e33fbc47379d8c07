"""My tasks: everything waiting for one person, grouped by what to do, with due dates.

Whose move is next is the rule the reminders use (`workflow.notifications.pending.next_actions`),
so the page, the API and the reminder e-mails agree; the due date is that of the milestone the
appraisal's state works towards (`workflow.milestones`). A constant number of queries however
many appraisals and cases there are (`tests/test_tasks.py`).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from db.models import Appraisal, Milestone, OrgUnit, Person, Round, Signature
from workflow import cases, orgs
from workflow.access import Actor
from workflow.machines.appraisal import OPEN_STATES
from workflow.machines.low_performer import MACHINE as CASE_MACHINE
from workflow.milestones import LOW_PERFORMER_REPORT, STATE_DEADLINE
from workflow.notifications import pending
from workflow.queries import committee_rounds

LIMIT = 500  # a person's own task list; HR's whole-organisation view is the dashboard

# The groups, in the order a user works through them (the page carries their headings).
ACTIONS = (pending.SIGN_AGREEMENT, pending.CONFIRM_AGREEMENT, pending.ASSIGN_EVALUATOR, pending.MID_ROUND_REVIEW,
           pending.SCORE, pending.ACKNOWLEDGE, pending.GIVE_OPINION, pending.SUBMIT, pending.COMMITTEE_REVIEW,
           pending.ANNOUNCE, pending.CASE_MEASURE)


@dataclass(frozen=True)
class Task:
    action: str
    link: str
    subject: str
    state: str
    due: date | None
    overdue: bool
    detail: str = ""
    round_id: int | None = None
    own: bool = False  # the caller's own appraisal (not one of their staff's)


def _candidates(session: Session, actor: Actor, committee: frozenset[int]) -> list[tuple[Appraisal, str]]:
    """The open appraisals on which this person might have a move to make."""
    me = actor.person_id
    clauses = []
    if me is not None:
        clauses += [Appraisal.person_id == me, Appraisal.evaluator_id == me, Appraisal.superior_id == me,
                    Appraisal.superior2_id == me]
        if committee:
            clauses.append(and_(Appraisal.state == "committee_review", Appraisal.round_id.in_(committee),
                                Appraisal.person_id != me))
    for role, state in (("authority", "reviewed"), ("hr", "draft")):
        paths = actor.scopes(role)
        if paths:
            # The units read first, as a list: then every term of the OR below has an index,
            # and the planner combines them instead of walking every appraisal in id order.
            units = list(session.execute(select(OrgUnit.id).where(orgs.within(paths))).scalars())
            extra = [Appraisal.evaluator_id.is_(None)] if role == "hr" else []
            clauses.append(and_(Appraisal.state == state, Appraisal.org_unit_id.in_(units), *extra))
    if not clauses:
        return []
    return list(session.execute(
        select(Appraisal, Person.name_th).join(Person, Person.id == Appraisal.person_id)
        .where(or_(*clauses), Appraisal.state.in_(OPEN_STATES)).order_by(Appraisal.id).limit(LIMIT)).all())


def _due_dates(session: Session, round_ids: set[int]) -> dict[tuple[int, str], date]:
    if not round_ids:
        return {}
    return {(rid, code): day for rid, code, day in session.execute(
        select(Milestone.round_id, Milestone.code, Milestone.due_on).where(Milestone.round_id.in_(round_ids)))}


def _appraisal_tasks(session: Session, actor: Actor, today: date) -> list[Task]:
    committee = committee_rounds(session, actor)
    rows = _candidates(session, actor, committee)
    me = actor.person_id
    signed: dict[tuple[int, int], set[str]] = defaultdict(set)
    if rows:
        for aid, role, rev in session.execute(
                select(Signature.appraisal_id, Signature.role, Signature.revision)
                .where(Signature.appraisal_id.in_([a.id for a, _ in rows]), Signature.kind == "agreement")):
            signed[(aid, rev)].add(role)
    due = _due_dates(session, {a.round_id for a, _ in rows})
    others = frozenset({me}) if me is not None else frozenset()
    out = []
    for a, name in rows:
        fact = pending.AppraisalFact(
            id=a.id, person_id=a.person_id, person_name=name, state=a.state, evaluator_id=a.evaluator_id,
            superior_id=a.superior_id, signed_by=frozenset(signed.get((a.id, a.agreement_revision), set())),
            acknowledged=a.acknowledged_at is not None, refused_with_witness=bool(a.refusal_witness),
            superior_opinion_given=a.superior_opinion is not None, superior2_id=a.superior2_id,
            superior2_opinion_given=a.superior2_opinion is not None)
        items = pending.next_actions(
            fact, committee_ids=others if a.round_id in committee else frozenset(),
            hr_ids=others if actor.scopes("hr") else frozenset(),
            authority_ids=others if actor.scopes("authority") else frozenset())
        day = due.get((a.round_id, STATE_DEADLINE.get(a.state, "")))
        for who, item in items:
            if who == me and item.action in ACTIONS:
                out.append(Task(item.action, item.link, name, a.state, day, day is not None and day < today,
                                round_id=a.round_id, own=a.person_id == me))
    return out


def _case_tasks(session: Session, actor: Actor, today: date) -> list[Task]:
    """Open cases on which the caller may fire an event (read in bulk: four queries)."""
    found = [c for c in cases.list_cases(session, actor) if c.state not in CASE_MACHINE.final]
    if not found:
        return []
    held = cases.roles_of_cases(session, actor, found)
    names = dict(session.execute(select(Person.id, Person.name_th)
                                 .where(Person.id.in_({c.person_id for c in found}))).all())
    due = _due_dates(session, {c.round_id for c in found})
    out = []
    for c in found:
        if not CASE_MACHINE.allowed(c.state, held[c.id]):
            continue
        day = due.get((c.round_id, LOW_PERFORMER_REPORT))
        out.append(Task(pending.CASE_MEASURE, f"/cases/{c.id}", names.get(c.person_id, ""), c.state,
                        day, day is not None and day < today, round_id=c.round_id, own=c.person_id == actor.person_id))
    return out


def my_tasks(session: Session, actor: Actor, today: date) -> dict[str, list[Task]]:
    """Action code -> the caller's tasks of that kind, overdue first, then by due date (groups in
    `ACTIONS` order; empty groups left out)."""
    groups: dict[str, list[Task]] = defaultdict(list)
    for task in _appraisal_tasks(session, actor, today) + _case_tasks(session, actor, today):
        groups[task.action].append(task)
    return {code: sorted(groups[code], key=lambda t: (not t.overdue, t.due or date.max, t.subject))
            for code in ACTIONS if groups.get(code)}


def by_round(groups: dict[str, list[Task]]) -> tuple[list[Task], dict[int | None, dict[str, list[Task]]]]:
    """The caller's own tasks apart, and the rest by round (newest round id first), each round's
    tasks by action as `my_tasks` orders them."""
    own = [t for ts in groups.values() for t in ts if t.own]
    rounds: dict[int | None, dict[str, list[Task]]] = {}
    for code, ts in groups.items():
        for t in ts:
            if not t.own:
                rounds.setdefault(t.round_id, {}).setdefault(code, []).append(t)
    return own, dict(sorted(rounds.items(), key=lambda kv: -(kv[0] or 0)))


def my_appraisals(session: Session, actor: Actor) -> list[tuple[Appraisal, Round]]:
    """The caller's own appraisals, newest round first."""
    if actor.person_id is None:
        return []
    return list(session.execute(
        select(Appraisal, Round).join(Round, Round.id == Appraisal.round_id)
        .where(Appraisal.person_id == actor.person_id).order_by(Round.starts_on.desc())).all())
