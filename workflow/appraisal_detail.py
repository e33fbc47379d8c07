"""One appraisal as a reader sees it: the row, the caller's roles and the events open to them,
the people around it, KPIs, competencies, signatures, progress notes and history. The JSON
route (`GET /api/v1/appraisals/{id}`) and the appraisal page both read it from here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select
from sqlmodel import Session

from db.models import (
    Appraisal,
    Competency,
    Event,
    Kpi,
    LowPerformerCase,
    OrgUnit,
    Person,
    ProgressNote,
    Round,
    Signature,
)
from workflow import audit, cases
from workflow.access import Actor
from workflow.appraisals import competencies_of, kpis_of
from workflow.machines.appraisal import MACHINE
from workflow.queries import appraisal_for


class Note(NamedTuple):
    note: ProgressNote
    author_name: str | None


@dataclass(frozen=True)
class AppraisalDetail:
    appraisal: Appraisal
    roles: frozenset[str]  # the caller's roles that let them see it
    events: list[str]  # the events the caller may fire now (guards are checked when fired)
    person: Person
    unit: OrgUnit | None
    round: Round
    evaluator: Person | None
    superior: Person | None
    kpis: list[Kpi]
    competencies: list[Competency]
    signatures: list[Signature]
    notes: list[Note]
    history: list[Event]
    # The person's low-performer case still open from an earlier round, with its plan: the
    # evaluator of the next round sees it where the work is (seeds 000/003 3.4, DOMAIN.md).
    open_case: LowPerformerCase | None = None


def detail(session: Session, actor: Actor, appraisal_id: int) -> AppraisalDetail:
    """The appraisal as this caller may see it; NotFound if it is not theirs to see."""
    a, roles = appraisal_for(session, actor, appraisal_id)
    signatures = list(session.execute(select(Signature).where(Signature.appraisal_id == a.id)
                                      .order_by(Signature.signed_at, Signature.id)).scalars())
    notes = [Note(n, name) for n, name in session.execute(
        select(ProgressNote, Person.name_th).outerjoin(Person, Person.id == ProgressNote.author_person_id)
        .where(ProgressNote.appraisal_id == a.id).order_by(ProgressNote.id)).all()]
    return AppraisalDetail(
        appraisal=a, roles=roles, events=MACHINE.allowed(a.state, roles), person=session.get(Person, a.person_id),
        unit=session.get(OrgUnit, a.org_unit_id), round=session.get(Round, a.round_id),
        evaluator=session.get(Person, a.evaluator_id) if a.evaluator_id else None,
        superior=session.get(Person, a.superior_id) if a.superior_id else None,
        kpis=list(kpis_of(session, a.id)), competencies=list(competencies_of(session, a.id)),
        signatures=signatures, notes=notes, history=list(audit.history(session, "appraisal", a.id)),
        open_case=cases.open_case_of(session, a.person_id, session.get(Round, a.round_id).starts_on)
        if roles - {"committee"} else None)


def _root_path(unit: OrgUnit | None) -> str:
    """The organisation the unit belongs to (the top of its path): hand-over stays inside it."""
    if unit is None:
        return "/"
    first = unit.path.strip("/").split("/")[0]
    return f"/{first}/"


def hand_over_candidates(session: Session, a: Appraisal, unit: OrgUnit | None) -> list[Person]:
    """Who may take an appraisal over as its evaluator: active people of its organisation but the appraisee."""
    return list(session.execute(
        select(Person).join(OrgUnit, OrgUnit.id == Person.org_unit_id)
        .where(OrgUnit.path.startswith(_root_path(unit)), Person.active.is_(True), Person.id != a.person_id)
        .order_by(Person.name_th).limit(500)).scalars())
