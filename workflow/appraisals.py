"""Appraisals as an engine kind: who holds which role, what the guards see, what each event
writes. The rules themselves are in `machines/appraisal.py` (the table) and `scoring.py`.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import bindparam, delete, select
from sqlmodel import Session

from db.models import (Appraisal, Committee, CommitteeMember, Competency, Kpi, OrgUnit,
                       Person, ProgressNote, Round, Signature, utcnow)
from workflow import engine, scoring
from workflow.access import Actor, AppraisalView, appraisal_roles
from workflow.competencies import CORE_COMPETENCIES  # noqa: F401  (re-exported)
from workflow.errors import InvalidInput, Problem
from workflow.machines.appraisal import MACHINE, AppraisalFacts
from workflow.rounds import policy_of_round

# --- payload shapes --------------------------------------------------------------------------------
class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str | None = Field(None, max_length=4000)


class KpiIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=1, max_length=500)
    source: Literal["strategic", "role", "assigned"] = "role"
    weight: int = Field(ge=1, le=100)
    level_descriptions: list[str] = Field(default_factory=list, max_length=5)
    org_kpi_id: int | None = None
    evidence: str = Field("", max_length=4000)

    @field_validator("level_descriptions")
    @classmethod
    def _five_or_none(cls, v: list[str]) -> list[str]:
        if v and len(v) != 5:
            raise ValueError("give all five target levels or none (ต้องระบุเป้าหมายครบ 5 ระดับ)")
        return v


class CompetencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=64)
    name_th: str = Field(min_length=1, max_length=300)
    name_en: str = Field("", max_length=300)
    expected_level: int = Field(3, ge=1, le=5)


class EditAgreement(_In):
    kpis: list[KpiIn] = Field(max_length=50)
    competencies: list[CompetencyIn] | None = Field(None, max_length=30)


class ChangeKpis(EditAgreement):
    reason: str | None = Field(None, max_length=4000)

    @field_validator("kpis")
    @classmethod
    def _sum_100(cls, v: list[KpiIn]) -> list[KpiIn]:
        total = sum(k.weight for k in v)
        if not v or total != 100:
            raise ValueError(f"KPI weights must sum to 100, got {total} (น้ำหนักรวมต้องเท่ากับ 100)")
        return v


class Note(_In):
    note: str | None = Field(None, max_length=8000)


class ScoreIn(_In):
    kpi_levels: list[int | None] | None = Field(None, max_length=50)
    competency_scores: list[int | None] | None = Field(None, max_length=30)
    development_plan: str | None = Field(None, max_length=8000)

    @field_validator("kpi_levels")
    @classmethod
    def _levels(cls, v: list[int | None] | None) -> list[int | None] | None:
        if v and any(x is not None and not 1 <= x <= 5 for x in v):
            raise ValueError("each KPI level must be 1..5 (ระดับตัวชี้วัดต้องเป็น 1-5)")
        return v

    @field_validator("competency_scores")
    @classmethod
    def _scores(cls, v: list[int | None] | None) -> list[int | None] | None:
        if v and any(x is not None and not 0 <= x <= 5 for x in v):
            raise ValueError("each competency score must be 0..5 (คะแนนสมรรถนะต้องเป็น 0-5)")
        return v


class Refusal(_In):
    witness_name: str | None = Field(None, max_length=300)
    refused_on: date | None = None


class Opinion(_In):
    opinion: Literal["agree", "differ"] | None = None
    total_percent: Decimal | None = Field(None, ge=0, le=100)
    reason: str | None = Field(None, max_length=4000)


class Reasoned(_In):
    reason: str | None = Field(None, max_length=4000)


class HandOver(Reasoned):
    evaluator_id: int | None = None


PAYLOADS: dict[str, type[_In]] = {
    "edit_agreement": EditAgreement,
    "change_kpis": ChangeKpis,
    "review_progress": Note,
    "add_progress_note": Note,
    "score": ScoreIn,
    "record_refusal": Refusal,
    "give_opinion": Opinion,
    "hand_over": HandOver,
    "withdraw": Reasoned,
}


validate = engine.payload_validator(PAYLOADS, _In)


# --- roles and facts -----------------------------------------------------------------------------
# Built once: a statement object memoizes its cache key, so executing it again skips the
# construction and the cache-key walk. They read values, not entities, so they run on the
# session's connection (Core: ~15 us a query on SQLite, against ~45 us through Session.execute
# and ~95 us for a statement built each time). The Core path does not autoflush: the engine
# calls these right after load_for_update, whose ORM query has flushed whatever was pending.
_COMMITTEE = (select(CommitteeMember.person_id)
              .join(Committee, Committee.id == CommitteeMember.committee_id)
              .where(Committee.round_id == bindparam("round_id")))
_ORG_PATH = select(OrgUnit.path).where(OrgUnit.id == bindparam("org_id"))
_KPI_FACTS = (select(Kpi.weight, Kpi.level).where(Kpi.appraisal_id == bindparam("appraisal_id"))
              .order_by(Kpi.position, Kpi.id))
_COMPETENCY_SCORES = (select(Competency.score).where(Competency.appraisal_id == bindparam("appraisal_id"))
                      .order_by(Competency.position, Competency.id))
_SIGNED = select(Signature.role).where(Signature.appraisal_id == bindparam("appraisal_id"),
                                       Signature.kind == "agreement",
                                       Signature.revision == bindparam("revision"))


def committee_people(session: Session, round_id: int) -> frozenset[int]:
    return frozenset(session.connection().execute(_COMMITTEE, {"round_id": round_id}).scalars())


def view_of(session: Session, a: Appraisal) -> AppraisalView:
    path = session.connection().execute(_ORG_PATH, {"org_id": a.org_unit_id}).scalar_one_or_none()
    return AppraisalView(person_id=a.person_id, evaluator_id=a.evaluator_id,
                         superior_id=a.superior_id, org_path=path or "/",
                         committee_person_ids=committee_people(session, a.round_id))


def roles(session: Session, actor: Actor, a: Appraisal) -> frozenset[str]:
    return appraisal_roles(actor, view_of(session, a))


def kpis_of(session: Session, appraisal_id: int) -> list[Kpi]:
    return list(session.execute(
        select(Kpi).where(Kpi.appraisal_id == appraisal_id).order_by(Kpi.position, Kpi.id)).scalars())


def competencies_of(session: Session, appraisal_id: int) -> list[Competency]:
    return list(session.execute(
        select(Competency).where(Competency.appraisal_id == appraisal_id)
        .order_by(Competency.position, Competency.id)).scalars())


def facts(session: Session, a: Appraisal) -> AppraisalFacts:
    # Columns, not entities: the guards read values, and entity rows cost an identity-map entry each.
    conn = session.connection()
    kpis = conn.execute(_KPI_FACTS, {"appraisal_id": a.id}).all()
    scores = conn.execute(_COMPETENCY_SCORES, {"appraisal_id": a.id}).scalars().all()
    signed = conn.execute(_SIGNED, {"appraisal_id": a.id, "revision": a.agreement_revision}).scalars()
    return AppraisalFacts(
        evaluator_id=a.evaluator_id,
        kpi_weights=tuple(k.weight for k in kpis),
        kpi_levels=tuple(k.level for k in kpis),
        competency_scores=tuple(scores),
        agreement_signed_by=frozenset(signed),
        development_plan=a.development_plan or "",
        acknowledged=a.acknowledged_at is not None,
        refused_with_witness=bool(a.refusal_witness),
        superior_opinion=a.superior_opinion,
    )


# --- effects -------------------------------------------------------------------------------------
def apply(session: Session, a: Appraisal, event: str, p: dict[str, Any], actor: Actor,
          held: frozenset[str]) -> Mapping[str, Any] | None:
    handler = EFFECTS.get(event)
    return handler(session, a, p, actor, held) if handler else None


def _replace_agreement(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
                       held: frozenset[str]) -> Mapping[str, Any]:
    session.execute(delete(Kpi).where(Kpi.appraisal_id == a.id))
    for i, k in enumerate(p["kpis"]):
        session.add(Kpi(appraisal_id=a.id, position=i, **k))
    if "competencies" in p:
        session.execute(delete(Competency).where(Competency.appraisal_id == a.id))
        for j, c in enumerate(p["competencies"]):
            session.add(Competency(appraisal_id=a.id, position=j, **c))
    # A changed agreement needs both signatures again.
    a.agreement_revision += 1
    return {"agreement_revision": a.agreement_revision}


def _sign(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
          held: frozenset[str]) -> Mapping[str, Any]:
    signed_as = sorted(held & {"appraisee", "evaluator"})
    for role in signed_as:
        session.add(Signature(appraisal_id=a.id, kind="agreement", role=role,
                              revision=a.agreement_revision, person_id=actor.person_id,
                              name=actor.name))
    return {"signed_as": signed_as, "revision": a.agreement_revision}


def _note(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
          held: frozenset[str]) -> None:
    session.add(ProgressNote(appraisal_id=a.id, author_person_id=actor.person_id, text=p["note"]))


def _score(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
           held: frozenset[str]) -> Mapping[str, Any]:
    kpis, comps = kpis_of(session, a.id), competencies_of(session, a.id)
    problems = []
    if "kpi_levels" in p and len(p["kpi_levels"]) != len(kpis):
        problems.append(Problem("payload.kpi_levels", f"ต้องมี {len(kpis)} ค่า ตามจำนวนตัวชี้วัด",
                                f"expected {len(kpis)} levels, one per KPI"))
    if "competency_scores" in p and len(p["competency_scores"]) != len(comps):
        problems.append(Problem("payload.competency_scores", f"ต้องมี {len(comps)} ค่า ตามจำนวนสมรรถนะ",
                                f"expected {len(comps)} scores, one per competency"))
    if problems:
        raise InvalidInput(problems)
    for k, level in zip(kpis, p.get("kpi_levels", [k.level for k in kpis])):
        k.level = level
    for c, s in zip(comps, p.get("competency_scores", [c.score for c in comps])):
        c.score = s
    if "development_plan" in p:
        a.development_plan = p["development_plan"]
    session.add_all([*kpis, *comps])
    # A changed score is a new result: the acknowledgment and opinions on the old one lapse.
    a.acknowledged_at = a.refusal_witness = a.refused_on = None
    a.superior_opinion = a.superior_total_percent = a.superior_reason = None
    return _compute(session, a, kpis, comps)


def _compute(session: Session, a: Appraisal, kpis: list[Kpi], comps: list[Competency]) -> Mapping[str, Any]:
    if any(k.level is None for k in kpis) or any(c.score is None for c in comps) or not kpis or not comps:
        a.results_percent = a.competency_percent = a.total_percent = a.rating_code = None
        return {}
    policy = policy_of_round(session, a.round_id)
    result = scoring.score(policy, a.staff_type, [(k.weight, k.level) for k in kpis],
                           [c.score for c in comps])
    a.results_percent, a.competency_percent = result.results_percent, result.competency_percent
    a.total_percent, a.rating_code = result.total_percent, result.rating.code
    return {"total_percent": str(result.total_percent), "rating": result.rating.code}


def _evaluate(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
              held: frozenset[str]) -> Mapping[str, Any]:
    # Values suffice here: rows of (weight, level) and (score,) instead of entities.
    conn = session.connection()
    return _compute(session, a, conn.execute(_KPI_FACTS, {"appraisal_id": a.id}).all(),
                    conn.execute(_COMPETENCY_SCORES, {"appraisal_id": a.id}).all())


def _acknowledge(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
                 held: frozenset[str]) -> None:
    a.acknowledged_at = utcnow()
    session.add(Signature(appraisal_id=a.id, kind="acknowledgment", role="appraisee",
                          revision=a.agreement_revision, person_id=actor.person_id, name=actor.name))


def _refusal(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
             held: frozenset[str]) -> None:
    a.refusal_witness = p["witness_name"]
    a.refused_on = date.fromisoformat(p["refused_on"]) if "refused_on" in p else date.today()
    session.add(Signature(appraisal_id=a.id, kind="refusal_witness", role="witness",
                          revision=a.agreement_revision, name=p["witness_name"]))


def _opinion(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
             held: frozenset[str]) -> None:
    a.superior_opinion = p["opinion"]
    differ = p["opinion"] == "differ"
    a.superior_total_percent = scoring.round2(Decimal(str(p["total_percent"]))) if differ else None
    a.superior_reason = p.get("reason") if differ else None


def _hand_over(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
               held: frozenset[str]) -> Mapping[str, Any]:
    new = session.get(Person, p["evaluator_id"])
    if new is None or not new.active or new.id == a.person_id:
        raise InvalidInput([Problem("payload.evaluator_id", "ผู้ประเมินคนใหม่ไม่ถูกต้อง",
                                    "the new evaluator must be another active person")])
    old, a.evaluator_id = a.evaluator_id, new.id
    return {"previous_evaluator_id": old}


EFFECTS = {
    "edit_agreement": _replace_agreement,
    "change_kpis": _replace_agreement,
    "sign_agreement": _sign,
    "review_progress": _note,
    "add_progress_note": _note,
    "score": _score,
    "evaluate": _evaluate,
    "acknowledge": _acknowledge,
    "record_refusal": _refusal,
    "give_opinion": _opinion,
    "hand_over": _hand_over,
}

KIND = engine.register(engine.Kind(
    name="appraisal", table=Appraisal, machine=MACHINE, roles=roles, facts=facts,
    validate=validate, apply=apply,
))


def round_of(session: Session, a: Appraisal) -> Round:
    return session.get(Round, a.round_id)
