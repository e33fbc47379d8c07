"""Appraisals as an engine kind: who holds which role, what the guards see, what each event
writes. The rules themselves are in `machines/appraisal.py` (the table) and `scoring.py`.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Iterable, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import bindparam, select
from sqlmodel import Session

from db.models import Appraisal, Committee, CommitteeMember, Competency, Kpi, OrgUnit, ProgressNote, Signature
from db.raw import Raw, decimal2
from workflow import audit, engine, org_kpis, orgs, scoring
from workflow.access import Actor, AppraisalView, appraisal_roles
from workflow.errors import InvalidInput, Problem
from workflow.machines.appraisal import MACHINE, AppraisalFacts
from workflow.machines.low_performer import OPEN_STATES as CASE_OPEN_STATES
from workflow.rounds import policy_by_version
from workflow.targets import TargetLevels


# --- payload shapes --------------------------------------------------------------------------------
class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str | None = Field(None, max_length=4000)


class KpiIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=1, max_length=500)
    source: Literal["strategic", "role", "assigned"] = "role"
    weight: int = Field(ge=1, le=100)
    level_descriptions: TargetLevels = []
    org_kpi_id: int | None = None
    evidence: str = Field("", max_length=4000)


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

    @model_validator(mode="after")
    def _something(self) -> "ScoreIn":
        if self.kpi_levels is None and self.competency_scores is None and self.development_plan is None:
            raise ValueError("give kpi_levels, competency_scores or development_plan "
                             "(ต้องระบุ kpi_levels, competency_scores หรือ development_plan)")
        return self

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


# --- roles (for lists and pages; the engine reads them in its snapshot) ---------------------------
# Built once: a statement object memoizes its cache key. They read values, not entities, so they
# run on the session's connection.
_COMMITTEE = (select(CommitteeMember.person_id)
              .join(Committee, Committee.id == CommitteeMember.committee_id)
              .where(Committee.round_id == bindparam("round_id")))
_ORG_PATH = select(OrgUnit.path).where(OrgUnit.id == bindparam("org_id"))


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


def facts_of(a: Any, kpis: Iterable[Sequence[Any]], scores: Iterable[int | None], signed: Iterable[str], *,
             acknowledged: bool, caller: Actor | None = None, caller_roles: frozenset[str] = frozenset()
             ) -> AppraisalFacts:
    """The guards' facts from an appraisal's columns and its (weight, level) KPI pairs,
    competency scores and agreement signers, as the caller sees them."""
    kpis = list(kpis)
    second = (caller is not None and caller.person_id is not None and caller.person_id != a.superior_id
              and caller.person_id == a.superior2_id)
    return AppraisalFacts(
        caller_roles=caller_roles,
        caller_opinion=a.superior2_opinion if second else a.superior_opinion,
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


# --- the engine's reader: the row, the roles' inputs, the facts and the previous hash -----------
# One statement, one round trip; the four lists come back as one JSON array. Each database says
# "a JSON array of these, in this order" its own way.
_SNAPSHOT_COLUMNS = """
    a.id, a.round_id, a.person_id, a.org_unit_id, a.staff_type, a.evaluator_id, a.superior_id,
    a.state, a.version, a.agreement_revision, a.total_percent, a.rating_code, a.development_plan,
    a.acknowledged_at IS NOT NULL, a.refusal_witness, a.superior_opinion, a.superior2_id,
    a.superior2_opinion, o.path, ro.path, pv.id, pv.content_hash,
    (SELECT hash FROM event WHERE entity_type = 'appraisal' AND entity_id = a.id AND seq = a.version),
    (SELECT count(*) FROM low_performer_case lc WHERE lc.person_id = a.person_id
        AND lc.round_id <> a.round_id AND lc.state IN ({open_cases})),"""
_SNAPSHOT_FROM = """
  FROM appraisal a JOIN org_unit o ON o.id = a.org_unit_id JOIN round r ON r.id = a.round_id
  JOIN org_unit ro ON ro.id = r.org_unit_id
  LEFT JOIN policy_version pv ON pv.id = r.policy_version_id
 WHERE a.id = %s"""
_SNAPSHOT_SQL = {
    "sqlite": "SELECT" + _SNAPSHOT_COLUMNS + """ json_array(
    json((SELECT json_group_array(cm.person_id) FROM committee_member cm
        JOIN committee c ON c.id = cm.committee_id WHERE c.round_id = a.round_id)),
    json((SELECT json_group_array(json_array(id, weight, level))
        FROM (SELECT id, weight, level FROM kpi WHERE appraisal_id = %s ORDER BY position, id))),
    json((SELECT json_group_array(json_array(id, score))
        FROM (SELECT id, score FROM competency WHERE appraisal_id = %s ORDER BY position, id))),
    json((SELECT json_group_array(role) FROM signature
        WHERE appraisal_id = a.id AND kind = 'agreement' AND revision = a.agreement_revision)))
""" + _SNAPSHOT_FROM,
    "postgresql": "SELECT" + _SNAPSHOT_COLUMNS + """ json_build_array(
    (SELECT json_agg(cm.person_id) FROM committee_member cm
        JOIN committee c ON c.id = cm.committee_id WHERE c.round_id = a.round_id),
    (SELECT json_agg(json_build_array(id, weight, level) ORDER BY position, id) FROM kpi
        WHERE appraisal_id = %s),
    (SELECT json_agg(json_build_array(id, score) ORDER BY position, id) FROM competency
        WHERE appraisal_id = %s),
    (SELECT json_agg(role) FROM signature
        WHERE appraisal_id = a.id AND kind = 'agreement' AND revision = a.agreement_revision))
""" + _SNAPSHOT_FROM,
}
_OPEN_CASE_STATES = ", ".join(f"'{s}'" for s in CASE_OPEN_STATES)
_SNAPSHOT_SQL = {k: v.replace("{open_cases}", _OPEN_CASE_STATES) for k, v in _SNAPSHOT_SQL.items()}
_LOCK = "\n   FOR UPDATE OF a"  # PostgreSQL: lock the appraisal only, not its unit and round


def snapshot(raw: Raw, appraisal_id: int, actor: Actor, *, lock: bool = True) -> engine.Snapshot | None:
    sql = _SNAPSHOT_SQL["sqlite"] if raw.sqlite else _SNAPSHOT_SQL["postgresql"] + (_LOCK if lock else "")
    found = raw.one(sql, (appraisal_id,) * 3)
    if found is None:
        return None
    (id_, round_id, person_id, org_unit_id, staff_type, evaluator_id, superior_id, state, version,
     revision, total, rating, plan, acknowledged, witness, opinion, superior2_id, opinion2, org_path,
     round_org_path, policy_id, policy_hash, prev_hash, open_cases, lists) = found
    committee, kpis, scores, signed = (x or () for x in raw.json(lists))  # an empty aggregate is NULL
    row = SimpleNamespace(
        id=id_, round_id=round_id, person_id=person_id, org_unit_id=org_unit_id, staff_type=staff_type,
        evaluator_id=evaluator_id, superior_id=superior_id, superior2_id=superior2_id, state=state, version=version,
        agreement_revision=revision, total_percent=decimal2(total), rating_code=rating,
        development_plan=plan, refusal_witness=witness, superior_opinion=opinion, superior2_opinion=opinion2,
        open_cases_elsewhere=open_cases, org_path=org_path or "/", round_org_path=round_org_path or "/",
        kpi_ids=tuple(k[0] for k in kpis), competency_ids=tuple(c[0] for c in scores))
    view = AppraisalView(person_id=person_id, evaluator_id=evaluator_id, superior_id=superior_id,
                         superior2_id=superior2_id, org_path=org_path or "/", committee_person_ids=frozenset(committee))
    held = appraisal_roles(actor, view)
    return engine.Snapshot(row=row, roles=held,
                           facts=facts_of(row, [k[1:] for k in kpis], [c[1] for c in scores], signed,
                                          acknowledged=bool(acknowledged), caller=actor, caller_roles=held),
                           prev_hash=prev_hash or audit.GENESIS,
                           policy=policy_by_version(raw, policy_id, policy_hash))


# --- effects: pure, Env -> Changes ----------------------------------------------------------------
Insert = engine.Insert


def _sign(e: engine.Env) -> engine.Changes:
    signed_as = sorted(e.roles & {"appraisee", "evaluator"})
    revision = e.row.agreement_revision
    return engine.Changes(
        add=tuple(Insert(Signature, dict(appraisal_id=e.row.id, kind="agreement", role=role, revision=revision,
                                         person_id=e.actor.person_id, name=e.actor.name, signed_at=e.now))
                  for role in signed_as),
        record={"signed_as": signed_as, "revision": revision})


def _note(e: engine.Env) -> engine.Changes:
    return engine.Changes(add=(Insert(ProgressNote, dict(appraisal_id=e.row.id, author_person_id=e.actor.person_id,
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
    columns = result_columns(e.policy, e.row.staff_type, list(zip(f.kpi_weights, f.kpi_levels)),
                             list(f.competency_scores))
    return engine.Changes(set=columns, record=_recorded_result(columns))


def _acknowledge(e: engine.Env) -> engine.Changes:
    return engine.Changes(
        set={"acknowledged_at": e.now},
        add=(Insert(Signature, dict(appraisal_id=e.row.id, kind="acknowledgment", role="appraisee",
                                    revision=e.row.agreement_revision, person_id=e.actor.person_id,
                                    name=e.actor.name, signed_at=e.now)),))


def _refusal(e: engine.Env) -> engine.Changes:
    p = e.payload
    refused_on = date.fromisoformat(p["refused_on"]) if "refused_on" in p else e.now.date()
    return engine.Changes(
        set={"refusal_witness": p["witness_name"], "refused_on": refused_on},
        add=(Insert(Signature, dict(appraisal_id=e.row.id, kind="refusal_witness", role="witness",
                                    revision=e.row.agreement_revision, name=p["witness_name"],
                                    signed_at=e.now)),))


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


def _linked_org_kpis(raw: Raw, snap: engine.Snapshot, p: Mapping[str, Any]) -> Any:
    """What the link rule needs: the organisation KPIs named, the appraisee's unit and the units
    above it, and the round's fiscal year."""
    ids = sorted({k["org_kpi_id"] for k in p.get("kpis", ()) if k.get("org_kpi_id") is not None})
    if not ids:
        return None
    marks = ", ".join(["%s"] * len(ids))
    known = {r[0]: org_kpis.KpiRef(r[0], r[1], r[2], bool(r[3])) for r in raw.all(
        f"SELECT id, org_unit_id, fiscal_year, retired FROM org_kpi WHERE id IN ({marks})", ids)}
    above = orgs.path_ids(snap.row.org_path)  # the unit and those above it
    (year,) = raw.one("SELECT fiscal_year FROM round WHERE id = %s", (snap.row.round_id,))
    return known, above, year


def _replace_agreement(e: engine.Env) -> engine.Changes:
    p = e.payload
    if e.inputs is not None:  # links to organisation KPIs: their own line, their year, not retired
        known, above, year = e.inputs
        problems = org_kpis.link_problems([(i, k.get("org_kpi_id")) for i, k in enumerate(p["kpis"])],
                                          known, above, year)
        if problems:
            raise InvalidInput(problems)
    replace = [(Kpi, "appraisal_id", tuple(dict(k, appraisal_id=e.row.id, position=i)
                                           for i, k in enumerate(p["kpis"])))]
    if "competencies" in p:
        replace.append((Competency, "appraisal_id", tuple(dict(c, appraisal_id=e.row.id, position=j)
                                                          for j, c in enumerate(p["competencies"]))))
    # A changed agreement needs both signatures again.
    revision = e.row.agreement_revision + 1
    return engine.Changes(set={"agreement_revision": revision}, replace=tuple(replace),
                          record={"agreement_revision": revision})


def _score(e: engine.Env) -> engine.Changes:
    p, f, row = e.payload, e.facts, e.row
    problems = []
    if "kpi_levels" in p and len(p["kpi_levels"]) != len(row.kpi_ids):
        problems.append(Problem("payload.kpi_levels", f"ต้องมี {len(row.kpi_ids)} ค่า ตามจำนวนตัวชี้วัด",
                                f"expected {len(row.kpi_ids)} levels, one per KPI"))
    if "competency_scores" in p and len(p["competency_scores"]) != len(row.competency_ids):
        problems.append(Problem("payload.competency_scores",
                                f"ต้องมี {len(row.competency_ids)} ค่า ตามจำนวนสมรรถนะ",
                                f"expected {len(row.competency_ids)} scores, one per competency"))
    if problems:
        raise InvalidInput(problems)
    levels = list(p.get("kpi_levels", f.kpi_levels))
    scores = list(p.get("competency_scores", f.competency_scores))
    update = [(Kpi, kid, {"level": lv}) for kid, lv in zip(row.kpi_ids, levels)] if "kpi_levels" in p else []
    if "competency_scores" in p:
        update += [(Competency, cid, {"score": sc}) for cid, sc in zip(row.competency_ids, scores)]
    columns = result_columns(e.policy, row.staff_type, list(zip(f.kpi_weights, levels)), scores)
    # A changed score is a new result: the acknowledgment and opinions on the old one lapse.
    lapsed = dict.fromkeys(("acknowledged_at", "refusal_witness", "refused_on", "superior_opinion",
                            "superior_total_percent", "superior_reason", "superior2_opinion",
                            "superior2_total_percent", "superior2_reason"))
    plan = {"development_plan": p["development_plan"]} if "development_plan" in p else {}
    return engine.Changes(set={**lapsed, **plan, **columns}, update=tuple(update),
                          record=_recorded_result(columns))


def _new_evaluator(raw: Raw, snap: engine.Snapshot, p: Mapping[str, Any]) -> Any:
    """The person named as the new evaluator: active? and where?"""
    return raw.one("SELECT p.id, p.active, o.path FROM person p JOIN org_unit o ON o.id = p.org_unit_id "
                   "WHERE p.id = %s", (p["evaluator_id"],)) if p.get("evaluator_id") is not None else None


def _hand_over(e: engine.Env) -> engine.Changes:
    new = e.inputs
    if (new is None or not new[1] or new[0] == e.row.person_id
            or not (new[2] or "").startswith(e.row.round_org_path)):
        raise InvalidInput([Problem("payload.evaluator_id",
                                    "ผู้ประเมินคนใหม่ต้องเป็นบุคลากรอื่นที่ยังปฏิบัติงานอยู่ในหน่วยงานเดียวกัน",
                                    "the new evaluator must be another active person of the same organisation")])
    return engine.Changes(set={"evaluator_id": new[0]}, record={"previous_evaluator_id": e.row.evaluator_id})


CHANGES = {
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
READS = {
    "edit_agreement": _linked_org_kpis,
    "change_kpis": _linked_org_kpis,
    "hand_over": _new_evaluator,
}


def kind() -> engine.Kind:
    """The appraisal kind, built by `workflow.kinds` (which also wires its hooks)."""
    return engine.Kind(name="appraisal", table=Appraisal, machine=MACHINE, snapshot=snapshot,
                       validate=validate, payloads=PAYLOADS, default_payload=_In, changes=CHANGES, reads=READS, roles=roles)


