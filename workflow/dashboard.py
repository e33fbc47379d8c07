"""The HR dashboard's contents: the rounds HR may follow, the chosen round's milestones,
progress per unit (`workflow.progress`), its overdue appraisals and its low-performer cases,
and the organisations where HR may open a round. The page and any JSON route render this."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from db.models import Appraisal, Milestone, OrgUnit, Round
from workflow import cases, progress, queries, rounds
from workflow.access import Actor
from workflow.calendar import round_of
from workflow.machines.appraisal import OPEN_STATES

OVERDUE_LIMIT = 200  # the overdue list shows this many; the total is counted in full


def may_use(actor: Actor) -> bool:
    return actor.is_admin or bool(actor.scopes("hr"))


def hr_rounds(session: Session, actor: Actor) -> list[tuple[Round, OrgUnit]]:
    """The newest hundred rounds of the organisations the caller follows as HR (admin: all)."""
    stmt = (select(Round, OrgUnit).join(OrgUnit, OrgUnit.id == Round.org_unit_id)
            .order_by(Round.starts_on.desc(), Round.id.desc()))
    if not actor.is_admin:
        stmt = stmt.where(or_(*[OrgUnit.path.startswith(p) for p in actor.scopes("hr")]))
    return list(session.execute(stmt.limit(100)).all())


def openable_orgs(session: Session, actor: Actor) -> list[OrgUnit]:
    """Organisations where the caller may open a round: those with a policy, and their own roots."""
    paths = queries.managed_scopes(actor)
    if not paths:
        return []
    rows = session.execute(select(OrgUnit).where(or_(*[OrgUnit.path.startswith(p) for p in paths]))
                           .order_by(OrgUnit.path).limit(300)).scalars()
    return [u for u in rows if u.policy_version_id is not None or u.path in paths]


@dataclass
class Dashboard:
    rounds: list[tuple[Round, OrgUnit]]
    chosen: tuple[Round, OrgUnit] | None
    open_orgs: list[OrgUnit]
    default_year: int  # what the "open a round" form suggests
    default_number: int
    milestones: list[Milestone] = field(default_factory=list)
    units: list[progress.UnitProgress] = field(default_factory=list)
    overall: progress.UnitProgress | None = None
    overdue: list[queries.Listed] = field(default_factory=list)
    overdue_total: int = 0
    cases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def due_of(self) -> dict[str, date]:
        return {m.code: m.due_on for m in self.milestones}


def hr_dashboard(session: Session, actor: Actor, round_id: int | None, today: date) -> Dashboard:
    """The chosen round (or else the newest that still has work, or else the newest) as HR
    follows it."""
    followed = hr_rounds(session, actor)
    chosen = next(((r, o) for r, o in followed if r.id == round_id), None) if round_id else None
    if chosen is None and followed:
        busy = set(session.execute(select(Appraisal.round_id).where(
            Appraisal.round_id.in_([r.id for r, _ in followed]), Appraisal.state.in_(OPEN_STATES)).distinct()).scalars())
        chosen = next(((r, o) for r, o in followed if r.id in busy), followed[0])
    out = Dashboard(followed, chosen, openable_orgs(session, actor), *round_of(today))
    if chosen:
        rnd = chosen[0]
        out.milestones = rounds.milestones_of(session, rnd.id)
        out.units, out.overall = progress.round_progress(session, rnd.id, [m.code for m in out.milestones])
        out.overdue_total, out.overdue = queries.list_appraisals(
            session, actor, queries.AppraisalFilter(round_id=rnd.id, overdue=True), limit=OVERDUE_LIMIT, today=today)
        out.cases = [cases.case_out(session, actor, c) for c in cases.list_cases(session, actor, round_id=rnd.id)]
    return out
