"""What a caller may see, as SQL: the list queries behind the API, filtered in the database.

The rule is `access.appraisal_roles`: an appraisal is visible when the caller holds at least
one role on it, the committee role counting only once the appraisal is in review. The
`visible_appraisals` clause says the same thing in SQL so a list of 100,000 appraisals is
never loaded to be filtered in Python; `tests/api` checks the two agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Sequence

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from db.models import Account, Appraisal, Committee, CommitteeMember, Milestone, OrgUnit, Person, RoleAssignment, Round
from workflow import calendar, engine, milestones, orgs
from workflow.access import Actor, AppraisalView, appraisal_roles
from workflow.errors import NotAllowed, NotFound
from workflow.milestones import STATE_DEADLINE

# The committee sees an appraisal only once it reaches them.
REVIEW_STATES = frozenset({"committee_review", "reviewed", "announced"})


def seen_roles(roles: frozenset[str], state: str) -> frozenset[str]:
    """The roles that make an appraisal visible: committee membership counts only in review."""
    return roles if state in REVIEW_STATES else roles - {"committee"}


def _in_scopes(column: Any, paths: Sequence[str]) -> ColumnElement[bool]:
    if not paths:
        return false()
    return column.in_(select(OrgUnit.id).where(orgs.within(paths)))


def visible_appraisals(actor: Actor) -> ColumnElement[bool]:
    """SQL for `seen_roles(appraisal_roles(actor, a), a.state)` being non-empty."""
    if actor.is_admin or actor.is_system:
        return true()
    # The organisation scope first: for HR and the authority it decides almost every row, and
    # PostgreSQL tests an OR's terms in order, stopping at the first that holds.
    clauses: list[ColumnElement[bool]] = []
    scopes = actor.scopes("hr") + actor.scopes("authority")
    if scopes:
        clauses.append(_in_scopes(Appraisal.org_unit_id, scopes))
    me = actor.person_id
    if me is not None:
        clauses += [Appraisal.person_id == me, Appraisal.evaluator_id == me, Appraisal.superior_id == me,
                    Appraisal.superior2_id == me]
        # The rounds whose committee the caller sits on, as one uncorrelated subquery: the
        # planner reads it once, not once per appraisal of a 100,000-row round.
        sits_on = (select(Committee.round_id).join(CommitteeMember, CommitteeMember.committee_id == Committee.id)
                   .where(CommitteeMember.person_id == me, Committee.round_id.is_not(None)))
        clauses.append(and_(Appraisal.state.in_(REVIEW_STATES), Appraisal.person_id != me,
                            Appraisal.round_id.in_(sits_on)))
    return or_(*clauses) if clauses else false()


def committee_rounds(session: Session, actor: Actor) -> frozenset[int]:
    """The rounds in which the caller sits on a committee."""
    if actor.person_id is None:
        return frozenset()
    return frozenset(session.execute(
        select(Committee.round_id).join(CommitteeMember, CommitteeMember.committee_id == Committee.id)
        .where(CommitteeMember.person_id == actor.person_id, Committee.round_id.is_not(None))).scalars())


def _roles_of(actor: Actor, a: Any, org_path: str, rounds: frozenset[int]) -> frozenset[str]:
    view = AppraisalView(person_id=a.person_id, evaluator_id=a.evaluator_id, superior_id=a.superior_id,
                         superior2_id=a.superior2_id, org_path=org_path,
                         committee_person_ids=frozenset({actor.person_id}) if a.round_id in rounds else frozenset())
    return seen_roles(appraisal_roles(actor, view), a.state)


@dataclass(frozen=True)
class AppraisalFilter:
    round_id: int | None = None
    unit_id: int | None = None  # the unit and everything below it
    state: str | None = None
    evaluator_id: int | None = None
    person_id: int | None = None
    overdue: bool | None = None
    milestone: str | None = None  # in a state whose deadline is this milestone (`milestones.due_at`)


def _overdue(session: Session, today: date, round_id: int | None) -> ColumnElement[bool]:
    """Past the due date of the milestone that should have ended its current state. The
    milestones passed by `today` are read first (a handful of rows), so the clause on the
    appraisals is plain lists of rounds and states that the (round, state) index answers:
    rounds that passed the same milestones share one term."""
    passed = select(Milestone.round_id, Milestone.code).where(Milestone.due_on < today)
    if round_id is not None:
        passed = passed.where(Milestone.round_id == round_id)
    codes: dict[int, set[str]] = {}
    for rid, code in session.execute(passed):
        codes.setdefault(rid, set()).add(code)
    rounds_of: dict[tuple[str, ...], list[int]] = {}
    for rid, done in codes.items():
        late = tuple(sorted(state for state, code in STATE_DEADLINE.items() if code in done))
        if late:
            rounds_of.setdefault(late, []).append(rid)
    return or_(false(), *[and_(Appraisal.round_id.in_(sorted(rids)), Appraisal.state.in_(late))
                          for late, rids in rounds_of.items()])


@dataclass(frozen=True)
class Listed:
    appraisal: Appraisal
    person_code: str
    person_name: str
    org_path: str
    roles: frozenset[str]
    available_events: list[str]


def _where(session: Session, actor: Actor, f: AppraisalFilter, today: date | None) -> list[ColumnElement[bool]] | None:
    """The filter as SQL conditions on Appraisal (None: nothing can match)."""
    where: list[ColumnElement[bool]] = [visible_appraisals(actor)]
    if f.round_id is not None:
        where.append(Appraisal.round_id == f.round_id)
    if f.state is not None:
        where.append(Appraisal.state == f.state)
    if f.evaluator_id is not None:
        where.append(Appraisal.evaluator_id == f.evaluator_id)
    if f.person_id is not None:
        where.append(Appraisal.person_id == f.person_id)
    if f.unit_id is not None:
        unit = session.get(OrgUnit, f.unit_id)
        if unit is None:
            return None
        where.append(Appraisal.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))
    if f.milestone is not None:
        where.append(Appraisal.state.in_(sorted(milestones.due_at(f.milestone))))
    if f.overdue is not None:
        clause = _overdue(session, today or calendar.today(), f.round_id)
        where.append(clause if f.overdue else ~clause)
    return where


def evaluators_of(session: Session, actor: Actor, f: AppraisalFilter, *, today: date | None = None
                  ) -> list[tuple[int, str]]:
    """(person id, name) of the evaluators of the appraisals this caller may see that match, by name."""
    where = _where(session, actor, f, today)
    if where is None:
        return []
    # The matching appraisals' evaluators first (found by round and state), then their names by
    # key: joined in one statement, the planner would rather read every person to match them.
    ids = sorted(session.execute(select(Appraisal.evaluator_id).where(*where, Appraisal.evaluator_id.is_not(None))
                                 .distinct()).scalars())
    return [(pid, name) for pid, name in session.execute(
        select(Person.id, Person.name_th).where(Person.id.in_(ids)).order_by(Person.name_th, Person.id))] if ids else []


def list_appraisals(session: Session, actor: Actor, f: AppraisalFilter, *, limit: int = 50, offset: int = 0,
                    after: int | None = None, today: date | None = None) -> tuple[int, list[Listed]]:
    """One page of the appraisals this caller may see, filtered and counted in SQL. `total`
    counts every match; `after` (an id) starts the page past it, in id order."""
    where = _where(session, actor, f, today)
    if where is None:
        return 0, []
    total = session.execute(select(func.count()).select_from(Appraisal).where(*where)).scalar_one()
    page = [Appraisal.id > after] if after is not None else []
    rows = session.execute(
        select(Appraisal, Person.code, Person.name_th, OrgUnit.path)
        .join(Person, Person.id == Appraisal.person_id).join(OrgUnit, OrgUnit.id == Appraisal.org_unit_id)
        .where(*where, *page).order_by(Appraisal.id).limit(limit).offset(offset)).all()
    rounds = committee_rounds(session, actor)
    machine = engine.kind_of("appraisal").machine
    out = []
    for a, code, name, path in rows:
        roles = _roles_of(actor, a, path, rounds)
        out.append(Listed(a, code, name, path, roles, machine.allowed(a.state, roles)))
    return total, out


def appraisal_for(session: Session, actor: Actor, appraisal_id: int) -> tuple[Appraisal, frozenset[str]]:
    """The appraisal and the caller's roles on it; NotFound if it does not exist or is not theirs."""
    a = session.get(Appraisal, appraisal_id)
    if a is None:
        raise NotFound("appraisal", appraisal_id)
    roles = seen_roles(engine.kind_of("appraisal").roles(session, actor, a), a.state)
    if not roles:
        raise NotFound("appraisal", appraisal_id)
    return a, roles


def visible_roles(session: Session, kind_name: str, actor: Actor, row: Any) -> frozenset[str]:
    """The caller's roles on a workflow object of any kind, as far as they make it visible."""
    return seen(kind_name, engine.kind_of(kind_name).roles(session, actor, row), row.state)


def seen(kind_name: str, roles: frozenset[str], state: str) -> frozenset[str]:
    """Of the caller's roles on an object of this kind in this state, those that let them see it."""
    return seen_roles(roles, state) if kind_name == "appraisal" else roles


# --- people, organisations, rounds, committees ----------------------------------------------------
def visible_people(actor: Actor) -> ColumnElement[bool]:
    """Yourself, the people you evaluate or stand above, and everyone in your HR/authority scope."""
    if actor.is_admin or actor.is_system:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if actor.person_id is not None:
        me = actor.person_id
        clauses += [Person.id == me, Person.evaluator_id == me, Person.superior_id == me]
    scopes = actor.scopes("hr") + actor.scopes("authority")
    if scopes:
        clauses.append(_in_scopes(Person.org_unit_id, scopes))
    return or_(*clauses) if clauses else false()


def person_for(session: Session, actor: Actor, person_id: int) -> Person:
    p = session.execute(select(Person).where(Person.id == person_id, visible_people(actor))).scalar_one_or_none()
    if p is None:
        raise NotFound("person", person_id)
    return p


def managed_scopes(actor: Actor) -> list[str]:
    """The org paths the caller administers as HR (admin: everything)."""
    return ["/"] if actor.is_admin else actor.scopes("hr")


def require_may_open_round(session: Session, actor: Actor, org_code: str) -> None:
    """Opening a round is for the organisation's HR (or an admin)."""
    org = session.execute(select(OrgUnit).where(OrgUnit.code == org_code)).scalar_one_or_none()
    if actor.is_admin or actor.is_system:
        return
    if org is None or not actor.has_scope("hr", org.path):
        raise NotAllowed("open_round", frozenset(r for r, _ in actor.scoped_roles))


def visible_committees(actor: Actor) -> ColumnElement[bool]:
    """Committees you sit on, and those of organisations in your HR/authority scope."""
    if actor.is_admin or actor.is_system:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if actor.person_id is not None:
        clauses.append(exists().where(CommitteeMember.committee_id == Committee.id,
                                      CommitteeMember.person_id == actor.person_id))
    scopes = actor.scopes("hr") + actor.scopes("authority") + actor.scopes("committee")
    if scopes:
        clauses.append(_in_scopes(Committee.org_unit_id, scopes))
    return or_(*clauses) if clauses else false()


def require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise NotAllowed(action, frozenset(r for r, _ in actor.scoped_roles))


def accounts_page(session: Session, *, limit: int, offset: int) -> tuple[int, list[Account]]:
    total = session.execute(select(func.count()).select_from(Account)).scalar_one()
    rows = list(session.execute(select(Account).order_by(Account.id).limit(limit).offset(offset)).scalars())
    return total, rows


def roles_of_accounts(session: Session, account_ids: list[int]) -> dict[int, list[RoleAssignment]]:
    out: dict[int, list[RoleAssignment]] = {i: [] for i in account_ids}
    if account_ids:
        for r in session.execute(select(RoleAssignment).where(RoleAssignment.account_id.in_(account_ids))
                                 .order_by(RoleAssignment.id)).scalars():
            out[r.account_id].append(r)
    return out


def rounds_page(session: Session, *, org_unit_id: int | None, limit: int, offset: int,
                where: ColumnElement[bool] | None = None) -> tuple[int, list[Round]]:
    where = ([Round.org_unit_id == org_unit_id] if org_unit_id is not None else []) + ([where] if where is not None else [])
    total = session.execute(select(func.count()).select_from(Round).where(*where)).scalar_one()
    rows = list(session.execute(select(Round).where(*where).order_by(Round.id.desc())
                                .limit(limit).offset(offset)).scalars())
    return total, rows
