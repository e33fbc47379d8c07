"""Appraisals as an engine kind: who holds which role, what the guards see, what each event
writes. The rules themselves are in `machines/appraisal.py` (the table) and `scoring.py`.
"""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from decimal import Decimal
from typing import Any, Iterable, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import bindparam, delete, select
from sqlmodel import Session

from db.models import (Appraisal, Committee, CommitteeMember, Competency, Kpi, OrgUnit,
                       Person, ProgressNote, Round, Signature)
from db.raw import Raw, decimal2
from workflow import audit, engine, org_kpis, scoring
from workflow.access import Actor, AppraisalView, appraisal_roles
from workflow.competencies import CORE_COMPETENCIES  # noqa: F401  (re-exported)
from workflow.errors import InvalidInput, Problem
from workflow.machines.appraisal import MACHINE, AppraisalFacts
from workflow.machines.low_performer import OPEN_STATES as CASE_OPEN_STATES
from workflow.rounds import cached_policy, policy_of_round

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
                         superior_id=a.superior_id, superior2_id=a.superior2_id, org_path=path or "/",
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
    return facts_of(a, kpis, scores, signed, acknowledged=a.acknowledged_at is not None)


def facts_of(a: Any, kpis: Iterable[Sequence[Any]], scores: Iterable[int | None], signed: Iterable[str], *,
             acknowledged: bool) -> AppraisalFacts:
    """The guards' facts from an appraisal's columns (an ORM row or the direct path's snapshot)
    and its (weight, level) KPI pairs, competency scores and agreement signers."""
    kpis = list(kpis)
    return AppraisalFacts(
        evaluator_id=a.evaluator_id,
        kpi_weights=tuple(k[0] for k in kpis),
        kpi_levels=tuple(k[1] for k in kpis),
        competency_scores=tuple(scores),
        agreement_signed_by=frozenset(signed),
        development_plan=a.development_plan or "",
        acknowledged=acknowledged,
        refused_with_witness=bool(a.refusal_witness),
        superior_opinion=a.superior_opinion,
        second_opinion_required=a.superior2_id is not None,
        superior2_opinion=a.superior2_opinion,
    )


# --- the direct path's reader: the row, the roles' inputs, the facts and the previous hash -----
# One statement, one round trip (the ORM path above takes seven); the four lists come back as
# one JSON array. Each database says "a JSON array of these, in this order" its own way.
_SNAPSHOT_COLUMNS = """
    a.id, a.round_id, a.person_id, a.org_unit_id, a.staff_type, a.evaluator_id, a.superior_id,
    a.state, a.version, a.agreement_revision, a.total_percent, a.rating_code, a.development_plan,
    a.acknowledged_at IS NOT NULL, a.refusal_witness, a.superior_opinion, a.superior2_id,
    a.superior2_opinion, o.path, pv.id, pv.content_hash,
    (SELECT hash FROM event WHERE entity_type = 'appraisal' AND entity_id = a.id AND seq = a.version),
    (SELECT count(*) FROM low_performer_case lc WHERE lc.person_id = a.person_id
        AND lc.round_id <> a.round_id AND lc.state IN ({open_cases})),"""
_SNAPSHOT_FROM = """
  FROM appraisal a JOIN org_unit o ON o.id = a.org_unit_id JOIN round r ON r.id = a.round_id
  LEFT JOIN policy_version pv ON pv.id = r.policy_version_id
 WHERE a.id = %s"""
_SNAPSHOT_SQL = {
    "sqlite": "SELECT" + _SNAPSHOT_COLUMNS + """ json_array(
    json((SELECT json_group_array(cm.person_id) FROM committee_member cm
        JOIN committee c ON c.id = cm.committee_id WHERE c.round_id = a.round_id)),
    json((SELECT json_group_array(json_array(weight, level))
        FROM (SELECT weight, level FROM kpi WHERE appraisal_id = %s ORDER BY position, id))),
    json((SELECT json_group_array(score)
        FROM (SELECT score FROM competency WHERE appraisal_id = %s ORDER BY position, id))),
    json((SELECT json_group_array(role) FROM signature
        WHERE appraisal_id = a.id AND kind = 'agreement' AND revision = a.agreement_revision)))
""" + _SNAPSHOT_FROM,
    "postgresql": "SELECT" + _SNAPSHOT_COLUMNS + """ json_build_array(
    (SELECT json_agg(cm.person_id) FROM committee_member cm
        JOIN committee c ON c.id = cm.committee_id WHERE c.round_id = a.round_id),
    (SELECT json_agg(json_build_array(weight, level) ORDER BY position, id) FROM kpi
        WHERE appraisal_id = %s),
    (SELECT json_agg(score ORDER BY position, id) FROM competency WHERE appraisal_id = %s),
    (SELECT json_agg(role) FROM signature
        WHERE appraisal_id = a.id AND kind = 'agreement' AND revision = a.agreement_revision))
""" + _SNAPSHOT_FROM + "\n   FOR UPDATE OF a",  # lock the appraisal only, not its unit and round
}
_OPEN_CASE_STATES = ", ".join(f"'{s}'" for s in CASE_OPEN_STATES)
_SNAPSHOT_SQL = {k: v.replace("{open_cases}", _OPEN_CASE_STATES) for k, v in _SNAPSHOT_SQL.items()}


def snapshot(raw: Raw, appraisal_id: int, actor: Actor) -> engine.Snapshot | None:
    found = raw.one(_SNAPSHOT_SQL["sqlite" if raw.sqlite else "postgresql"], (appraisal_id,) * 3)
    if found is None:
        return None
    (id_, round_id, person_id, org_unit_id, staff_type, evaluator_id, superior_id, state, version,
     revision, total, rating, plan, acknowledged, witness, opinion, superior2_id, opinion2, org_path,
     policy_id, policy_hash,
     prev_hash, open_cases, lists) = found
    committee, kpis, scores, signed = (x or () for x in raw.json(lists))  # an empty aggregate is NULL
    row = SimpleNamespace(
        id=id_, round_id=round_id, person_id=person_id, org_unit_id=org_unit_id, staff_type=staff_type,
        evaluator_id=evaluator_id, superior_id=superior_id, superior2_id=superior2_id, state=state, version=version,
        agreement_revision=revision, total_percent=decimal2(total), rating_code=rating,
        development_plan=plan, refusal_witness=witness, superior_opinion=opinion, superior2_opinion=opinion2,
        open_cases_elsewhere=open_cases)
    view = AppraisalView(person_id=person_id, evaluator_id=evaluator_id, superior_id=superior_id,
                         superior2_id=superior2_id, org_path=org_path or "/", committee_person_ids=frozenset(committee))
    return engine.Snapshot(row=row, roles=appraisal_roles(actor, view),
                           facts=facts_of(row, kpis, scores, signed, acknowledged=bool(acknowledged)),
                           prev_hash=prev_hash or audit.GENESIS,
                           policy=cached_policy(policy_id, policy_hash))


# --- effects: pure ones (Env -> Changes), then the few that need the session -------------------
def _sign(e: engine.Env) -> engine.Changes:
    signed_as = sorted(e.roles & {"appraisee", "evaluator"})
    revision = e.row.agreement_revision
    return engine.Changes(
        add=tuple((Signature, dict(appraisal_id=e.row.id, kind="agreement", role=role, revision=revision,
                                   person_id=e.actor.person_id, name=e.actor.name, signed_at=e.now))
                  for role in signed_as),
        record={"signed_as": signed_as, "revision": revision})


def _note(e: engine.Env) -> engine.Changes:
    return engine.Changes(add=((ProgressNote, dict(appraisal_id=e.row.id, author_person_id=e.actor.person_id,
                                                  text=e.payload["note"], created_at=e.now)),))


def result_columns(policy: Any, staff_type: str, weights_levels: list[tuple[int, int | None]],
                   scores: list[int | None]) -> dict[str, Any]:
    """The score columns of an appraisal: all None until every KPI and competency is scored."""
    if (not weights_levels or not scores or any(level is None for _, level in weights_levels)
            or any(s is None for s in scores)):
        return dict(results_percent=None, competency_percent=None, total_percent=None, rating_code=None)
    result = scoring.score(policy, staff_type, weights_levels, scores)
    return dict(results_percent=result.results_percent, competency_percent=result.competency_percent,
                total_percent=result.total_percent, rating_code=result.rating.code)


def _recorded_result(columns: Mapping[str, Any]) -> dict[str, Any]:
    if columns["total_percent"] is None:
        return {}
    return {"total_percent": str(columns["total_percent"]), "rating": columns["rating_code"]}


def _evaluate(e: engine.Env) -> engine.Changes:
    f = e.facts
    columns = result_columns(e.policy(), e.row.staff_type, list(zip(f.kpi_weights, f.kpi_levels)),
                             list(f.competency_scores))
    return engine.Changes(set=columns, record=_recorded_result(columns))


def _acknowledge(e: engine.Env) -> engine.Changes:
    return engine.Changes(
        set={"acknowledged_at": e.now},
        add=((Signature, dict(appraisal_id=e.row.id, kind="acknowledgment", role="appraisee",
                              revision=e.row.agreement_revision, person_id=e.actor.person_id,
                              name=e.actor.name, signed_at=e.now)),))


def _refusal(e: engine.Env) -> engine.Changes:
    p = e.payload
    refused_on = date.fromisoformat(p["refused_on"]) if "refused_on" in p else e.now.date()
    return engine.Changes(
        set={"refusal_witness": p["witness_name"], "refused_on": refused_on},
        add=((Signature, dict(appraisal_id=e.row.id, kind="refusal_witness", role="witness",
                              revision=e.row.agreement_revision, name=p["witness_name"], signed_at=e.now)),))


def _opinion(e: engine.Env) -> engine.Changes:
    """The opinion of the level the caller stands at: the superior above, or the one above that."""
    p = e.payload
    differ = p["opinion"] == "differ"
    second = e.actor.person_id != e.row.superior_id and e.actor.person_id == e.row.superior2_id
    prefix = "superior2" if second else "superior"
    return engine.Changes(set={
        f"{prefix}_opinion": p["opinion"],
        f"{prefix}_total_percent": scoring.round2(Decimal(str(p["total_percent"]))) if differ else None,
        f"{prefix}_reason": p.get("reason") if differ else None,
    }, record={"level": 2 if second else 1})


def _replace_agreement(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
                       held: frozenset[str]) -> Mapping[str, Any]:
    org_kpis.require_agreement_links(session, a, p["kpis"])  # links to organisation KPIs: 422 if not theirs
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
    a.superior2_opinion = a.superior2_total_percent = a.superior2_reason = None
    columns = result_columns(policy_of_round(session, a.round_id), a.staff_type,
                             [(k.weight, k.level) for k in kpis], [c.score for c in comps])
    for column, value in columns.items():
        setattr(a, column, value)
    return _recorded_result(columns)


def _hand_over(session: Session, a: Appraisal, p: dict[str, Any], actor: Actor,
               held: frozenset[str]) -> Mapping[str, Any]:
    new = session.get(Person, p["evaluator_id"])
    if new is None or not new.active or new.id == a.person_id:
        raise InvalidInput([Problem("payload.evaluator_id", "ผู้ประเมินคนใหม่ไม่ถูกต้อง",
                                    "the new evaluator must be another active person")])
    old, a.evaluator_id = a.evaluator_id, new.id
    return {"previous_evaluator_id": old}


CHANGES = {
    "sign_agreement": _sign,
    "review_progress": _note,
    "add_progress_note": _note,
    "evaluate": _evaluate,
    "acknowledge": _acknowledge,
    "record_refusal": _refusal,
    "give_opinion": _opinion,
}
EFFECTS = {
    "edit_agreement": _replace_agreement,
    "change_kpis": _replace_agreement,
    "score": _score,
    "hand_over": _hand_over,
}

KIND = engine.register(engine.Kind(
    name="appraisal", table=Appraisal, machine=MACHINE, roles=roles, facts=facts,
    validate=validate, effects=EFFECTS, changes=CHANGES,
    policy=lambda session, a: policy_of_round(session, a.round_id), snapshot=snapshot,
))


def round_of(session: Session, a: Appraisal) -> Round:
    return session.get(Round, a.round_id)
