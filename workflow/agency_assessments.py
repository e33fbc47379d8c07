"""Agency assessments as an engine kind: who holds which role, what the guards see, what each
event writes (pure effects, Env -> Changes), opening one per agency for a fiscal year, the
views the API shows, and who has an agency item due for a SAR milestone.

The rules themselves are in `machines/agency_assessment.py` (the table), `scoring.agency_score`
and the policy's `[agency]` section.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any, Iterable, Literal, Mapping, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from db.models import (
    Account,
    AgencyAssessment,
    AgencyMilestone,
    AgencySar,
    OrgUnit,
    Person,
    RoleAssignment,
)
from db.raw import Raw, decimal2
from workflow import audit, engine, orgs, scoring
from workflow.access import Actor
from workflow.errors import InvalidInput, NotFound, Problem
from workflow.machines.agency_assessment import MACHINE, MILESTONE_TH, NOT_YET, SAR_MILESTONES, STATE_TH, AgencyFacts
from workflow.rounds import policy_by_version, policy_of_version, policy_version_for_org
from workflow.targets import TargetLevels

KIND_NAME = "agency_assessment"


# --- payload shapes --------------------------------------------------------------------------------
class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str | None = Field(None, max_length=4000)


class PlanKpi(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    dimension: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")
    title: str = Field(min_length=1, max_length=500)
    weight: int = Field(ge=1, le=100, description="whole percent within its dimension")
    level_descriptions: TargetLevels = []
    org_kpi_id: int | None = None


class EditPlan(_In):
    kpis: list[PlanKpi] = Field(max_length=100)

    @field_validator("kpis")
    @classmethod
    def _codes_unique(cls, v: list[PlanKpi]) -> list[PlanKpi]:
        codes = [k.code for k in v]
        if len(set(codes)) != len(codes):
            raise ValueError("KPI codes must be unique in the plan (รหัสตัวชี้วัดซ้ำกัน)")
        return v


class SarLine(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kpi_id: str = Field(min_length=1, max_length=64)
    progress: str = Field(min_length=1, max_length=8000)
    level: int | None = Field(None, ge=1, le=5, description="the agency's own estimate")
    evidence: str = Field("", max_length=8000)


class Sar(_In):
    progress: list[SarLine] = Field(max_length=100)


class Evaluate(_In):
    levels: dict[str, Literal[1, 2, 3, 4, 5]] = Field(description="plan KPI code -> level 1..5")


PAYLOADS: dict[str, type[_In]] = {"edit_plan": EditPlan, "submit_sar_6": Sar, "submit_sar_9": Sar,
                                  "submit_sar_12": Sar, "evaluate": Evaluate}
validate = engine.payload_validator(PAYLOADS, _In)


# --- roles: pure ---------------------------------------------------------------------------------
def assessment_roles(actor: Actor, agency_path: str, province_path: str) -> frozenset[str]:
    """`agency`: HR or the head (authority) assigned on the agency itself (not above it);
    `hr`, `committee`, `authority`: assigned on the province (or above); `admin`; `system`."""
    if actor.is_system:
        return frozenset({"system"})
    roles: set[str] = set()
    for role, p in actor.scoped_roles:
        if role in ("hr", "authority") and agency_path.startswith(p) and not province_path.startswith(p):
            roles.add("agency")
    for role in ("hr", "committee", "authority"):
        if actor.has_scope(role, province_path):
            roles.add(role)
    if actor.is_admin:
        roles.add("admin")
    return frozenset(roles)


def facts_of(dimensions: list[Mapping[str, Any]], plan: list[Mapping[str, Any]]) -> AgencyFacts:
    return AgencyFacts(dimensions={d["code"]: int(d["weight"]) for d in dimensions},
                       kpis=tuple((k["code"], k["dimension"], int(k["weight"])) for k in plan))


# --- the direct path's reader ----------------------------------------------------------------------
_SNAPSHOT = """
SELECT a.id, a.org_unit_id, a.province_id, a.fiscal_year, a.state, a.version, a.dimensions, a.plan, a.levels,
       ag.path, pr.path, pv.id, pv.content_hash,
       (SELECT hash FROM event WHERE entity_type = 'agency_assessment' AND entity_id = a.id AND seq = a.version)
  FROM agency_assessment a JOIN org_unit ag ON ag.id = a.org_unit_id JOIN org_unit pr ON pr.id = a.province_id
  JOIN policy_version pv ON pv.id = a.policy_version_id
 WHERE a.id = %s"""


def snapshot(raw: Raw, assessment_id: int, actor: Actor, *, lock: bool = True) -> engine.Snapshot | None:
    found = raw.one(_SNAPSHOT + ("" if raw.sqlite or not lock else "\n   FOR UPDATE OF a"), (assessment_id,))
    if found is None:
        return None
    (id_, org_unit_id, province_id, fiscal_year, state, version, dimensions, plan, levels, agency_path,
     province_path, policy_id, policy_hash, prev_hash) = found
    dims, planned = json.loads(dimensions or "[]"), json.loads(plan or "[]")
    row = SimpleNamespace(id=id_, org_unit_id=org_unit_id, province_id=province_id, fiscal_year=fiscal_year,
                          state=state, version=version, dimensions=dims, plan=planned,
                          levels=json.loads(levels or "{}"), policy_version_id=policy_id)
    return engine.Snapshot(row=row, roles=assessment_roles(actor, agency_path, province_path),
                           facts=facts_of(dims, planned), prev_hash=prev_hash or audit.GENESIS,
                           policy=policy_by_version(raw, policy_id, policy_hash))


def roles(session: Session, actor: Actor, a: AgencyAssessment) -> frozenset[str]:
    """The caller's roles on an assessment (lists and pages), as the engine's snapshot finds them."""
    snap = snapshot(Raw.within(session), a.id, actor, lock=False)
    return snap.roles if snap else frozenset()


def _json(value: Any, empty: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value or json.dumps(empty))
    return value if value is not None else empty


# --- effects: pure ---------------------------------------------------------------------------------
def _edit_plan(e: engine.Env) -> engine.Changes:
    kpis = list(e.payload["kpis"])
    return engine.Changes(set={"plan": json.dumps(kpis, ensure_ascii=False)}, record={"kpis": len(kpis)})


def _sar(milestone: str):
    def effect(e: engine.Env) -> engine.Changes:
        return engine.Changes(add=tuple(
            engine.Insert(AgencySar, dict(assessment_id=e.row.id, milestone=milestone, kpi_id=line["kpi_id"],
                                          progress=line["progress"], level=line.get("level"),
                                          evidence=line.get("evidence", ""), author_person_id=e.actor.person_id,
                                          created_at=e.now))
            for line in e.payload["progress"]), record={"milestone": milestone})
    effect.__name__ = f"_sar_{milestone}"
    return effect


def score_of(dimensions: list[Mapping[str, Any]], plan: list[Mapping[str, Any]],
             levels: Mapping[str, int]) -> scoring.AgencyScore:
    """The plan scored: each dimension from its KPIs' weights and levels, then by dimension."""
    return scoring.agency_score([
        (d["code"], int(d["weight"]),
         [(int(k["weight"]), int(levels[k["code"]])) for k in plan if k["dimension"] == d["code"]])
        for d in dimensions if any(k["dimension"] == d["code"] for k in plan)])


def _evaluate(e: engine.Env) -> engine.Changes:
    levels = {k: int(v) for k, v in e.payload["levels"].items()}
    dims, plan = _json(e.row.dimensions, []), _json(e.row.plan, [])
    result = score_of(dims, plan, levels)
    agency = e.policy.agency
    band = agency.band_for(result.total_percent) if agency is not None else None
    body = {"dimensions": {k: str(v) for k, v in result.dimension_percents.items()},
            "working": list(result.working), "rating": band.model_dump(mode="json") if band else None}
    return engine.Changes(set={"levels": json.dumps(levels), "result": json.dumps(body, ensure_ascii=False),
                               "total_percent": result.total_percent, "rating_code": band.code if band else None},
                          record={"total_percent": str(result.total_percent), "rating": band.code if band else None})


def _return(e: engine.Env) -> engine.Changes:
    return engine.Changes(set={"review_comment": e.payload.get("comment", "")})


CHANGES = {"edit_plan": _edit_plan, "submit_sar_6": _sar("sar_6"), "submit_sar_9": _sar("sar_9"),
           "submit_sar_12": _sar("sar_12"), "evaluate": _evaluate, "return_evaluation": _return}

def kind() -> engine.Kind:
    """The agency assessment kind, built by `workflow.kinds`."""
    return engine.Kind(name=KIND_NAME, table=AgencyAssessment, machine=MACHINE, snapshot=snapshot,
                       validate=validate, payloads=PAYLOADS, default_payload=_In, changes=CHANGES, roles=roles)


# --- opening: one per agency (each organisation directly under the province) for a fiscal year -----
@dataclass
class Opened:
    province: OrgUnit
    fiscal_year: int
    created: list[AgencyAssessment]
    existing: int


def open_year(session: Session, actor: Actor, *, org_code: str, fiscal_year: int) -> Opened:
    try:
        result = _open_year(session, actor, org_code, fiscal_year)
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise


def _open_year(session: Session, actor: Actor, org_code: str, fiscal_year: int) -> Opened:
    province = orgs.by_code(session, org_code)
    if not (actor.is_hr_of(province.path)):
        raise NotFound("organisation", org_code)
    if not 2400 <= fiscal_year <= 2700:
        raise InvalidInput([Problem("fiscal_year", "ปีงบประมาณต้องเป็นปีพุทธศักราช เช่น 2570",
                                    "fiscal year must be a Buddhist-era year, e.g. 2570")])
    pv = policy_version_for_org(session, province)
    rules = policy_of_version(pv).agency
    if rules is None:
        raise InvalidInput([Problem("policy.agency", f"นโยบาย {pv.code} ไม่ได้กำหนดการประเมินส่วนราชการ ([agency])",
                                    f"policy {pv.code} has no agency assessment ([agency] section)")])
    agencies = list(session.execute(select(OrgUnit).where(OrgUnit.parent_id == province.id)
                                    .order_by(OrgUnit.code)).scalars())
    if not agencies:
        raise InvalidInput([Problem("org", f"{province.code} ไม่มีส่วนราชการในสังกัด",
                                    f"{province.code} has no agencies under it")])
    have = set(session.execute(select(AgencyAssessment.org_unit_id).where(
        AgencyAssessment.province_id == province.id, AgencyAssessment.fiscal_year == fiscal_year)).scalars())
    dims = json.dumps([{"code": c, "th": d.th, "en": d.en, "weight": d.weight} for c, d in rules.dimensions.items()],
                      ensure_ascii=False)
    due = rules.sar_due_dates(fiscal_year)
    created = []
    for agency in agencies:
        if agency.id in have:
            continue
        a = AgencyAssessment(org_unit_id=agency.id, province_id=province.id, fiscal_year=fiscal_year,
                             policy_version_id=pv.id, dimensions=dims, version=1)
        session.add(a)
        session.flush()
        session.add_all(AgencyMilestone(assessment_id=a.id, code=code, due_on=day) for code, day in due.items())
        audit.append(session, entity_type=KIND_NAME, entity_id=a.id, seq=1, event="open", from_state=None,
                     to_state="draft", actor_account_id=actor.account_id, actor=actor.name,
                     payload={"fiscal_year": fiscal_year, "policy_version_id": pv.id})
        created.append(a)
    session.flush()
    return Opened(province, fiscal_year, created, len(have))


# --- reading -------------------------------------------------------------------------------------
def _paths(session: Session, a: AgencyAssessment) -> tuple[OrgUnit, OrgUnit]:
    return session.get(OrgUnit, a.org_unit_id), session.get(OrgUnit, a.province_id)


def roles_on(session: Session, actor: Actor, a: AgencyAssessment) -> frozenset[str]:
    agency, province = _paths(session, a)
    return assessment_roles(actor, agency.path, province.path)


def get(session: Session, actor: Actor, assessment_id: int) -> tuple[AgencyAssessment, frozenset[str]]:
    a = session.get(AgencyAssessment, assessment_id)
    held = roles_on(session, actor, a) if a is not None else frozenset()
    if not held:
        raise NotFound(KIND_NAME, assessment_id)
    return a, held


class Visible(NamedTuple):
    """An assessment the caller holds a role on, with its agency and province."""

    assessment: AgencyAssessment
    held: frozenset[str]
    agency: OrgUnit
    province: OrgUnit


def list_visible(session: Session, actor: Actor, *, fiscal_year: int | None = None,
                 province_id: int | None = None) -> list[Visible]:
    """The assessments the caller holds a role on (in SQL: those under one of their scopes),
    read with their agency and province in one query, the roles decided from those."""
    agency, province = aliased(OrgUnit), aliased(OrgUnit)
    query = (select(AgencyAssessment, agency, province).join(agency, agency.id == AgencyAssessment.org_unit_id)
             .join(province, province.id == AgencyAssessment.province_id))
    if fiscal_year is not None:
        query = query.where(AgencyAssessment.fiscal_year == fiscal_year)
    if province_id is not None:
        query = query.where(AgencyAssessment.province_id == province_id)
    if not (actor.is_admin or actor.is_system):
        scopes = [p for r, p in actor.scoped_roles if r in ("hr", "authority", "committee")]
        if not scopes:
            return []
        query = query.where(orgs.within(scopes, agency.path))
    out = []
    for a, ag, pr in session.execute(query.order_by(AgencyAssessment.fiscal_year, AgencyAssessment.id)).all():
        held = assessment_roles(actor, ag.path, pr.path)
        if held:
            out.append(Visible(a, held, ag, pr))
    return out


def _by_assessment(session: Session, table: type, ids: Iterable[int], order: Any) -> dict[int, list[Any]]:
    """Rows of `table` for many assessments in one query, grouped by assessment, in `order`."""
    out: dict[int, list[Any]] = {i: [] for i in ids}
    if out:
        for row in session.execute(select(table).where(table.assessment_id.in_(out)).order_by(order)).scalars():
            out[row.assessment_id].append(row)
    return out


def milestones_of(session: Session, assessment_id: int) -> list[AgencyMilestone]:
    return _by_assessment(session, AgencyMilestone, [assessment_id], AgencyMilestone.due_on)[assessment_id]


def out(session: Session, a: AgencyAssessment, held: frozenset[str]) -> dict[str, Any]:
    agency, province = _paths(session, a)
    return views(session, [Visible(a, held, agency, province)])[0]


def views(session: Session, found: list[Visible]) -> list[dict[str, Any]]:
    """The assessments as the API and the HR page show them: the milestones and SAR lines of all
    read in two queries."""
    ids = [v.assessment.id for v in found]
    milestones = _by_assessment(session, AgencyMilestone, ids, AgencyMilestone.due_on)
    sars = _by_assessment(session, AgencySar, ids, AgencySar.id)
    return [_view(v, milestones[v.assessment.id], sars[v.assessment.id]) for v in found]


def _view(v: Visible, milestones: list[AgencyMilestone], sars: list[AgencySar]) -> dict[str, Any]:
    a, held, agency, province = v
    result = _json(a.result, {})
    return {
        "id": a.id, "fiscal_year": a.fiscal_year, "state": a.state, "state_th": STATE_TH[a.state],
        "version": a.version, "available_events": MACHINE.allowed(a.state, held), "roles": sorted(held),
        "agency": {"id": agency.id, "code": agency.code, "name_th": agency.name_th},
        "province": {"id": province.id, "code": province.code, "name_th": province.name_th},
        "dimensions": _json(a.dimensions, []), "plan": _json(a.plan, []), "levels": _json(a.levels, {}),
        "dimension_percents": result.get("dimensions", {}), "working": result.get("working", []),
        "total_percent": str(a.total_percent) if a.total_percent is not None else None,
        "rating_code": a.rating_code, "rating": result.get("rating"), "review_comment": a.review_comment,
        "milestones": [{"code": m.code, "name_th": MILESTONE_TH.get(m.code, m.code), "due_on": m.due_on.isoformat()}
                       for m in milestones],
        "sars": [{"milestone": s.milestone, "kpi_id": s.kpi_id, "progress": s.progress, "level": s.level,
                  "evidence": s.evidence, "created_at": s.created_at.isoformat() if s.created_at else None}
                 for s in sars],
    }


# --- reminders: who has an agency item due for a SAR milestone ------------------------------------
@dataclass(frozen=True)
class AgencyItem:
    """One assessment as the reminder rule sees it: its state, the milestone's due date and the
    people to remind (the agency's head and HR: role assignments on the agency itself; and the
    province's HR: an HR assignment on the province itself)."""

    assessment_id: int
    agency_code: str
    agency_name: str
    state: str
    milestone: str
    due_on: date
    recipients: tuple[int, ...]
    province_id: int | None = None


def due_for_milestone(items: Iterable[AgencyItem], milestone: str) -> dict[int, list[AgencyItem]]:
    """Pure: person id -> the assessments that still owe this SAR (state before it), each person
    once with all of their items (a digest)."""
    if milestone not in NOT_YET:
        raise InvalidInput([Problem("milestone", f"ไม่มีหมุดหมาย {milestone}",
                                    f"no agency milestone {milestone!r}; one of {', '.join(SAR_MILESTONES)}")])
    pending: dict[int, list[AgencyItem]] = {}
    for item in items:
        if item.milestone == milestone and item.state in NOT_YET[milestone]:
            for person_id in item.recipients:
                pending.setdefault(person_id, []).append(item)
    return pending


def items_for(session: Session, milestone: str, due_on: date | None = None) -> list[AgencyItem]:
    """The rows `due_for_milestone` reads: every assessment with this milestone (on `due_on` if
    given) and the people assigned HR or head on its agency, or HR on its province."""
    query = (select(AgencyAssessment, AgencyMilestone.due_on, OrgUnit)
             .join(AgencyMilestone, AgencyMilestone.assessment_id == AgencyAssessment.id)
             .join(OrgUnit, OrgUnit.id == AgencyAssessment.org_unit_id)
             .where(AgencyMilestone.code == milestone))
    if due_on is not None:
        query = query.where(AgencyMilestone.due_on == due_on)
    rows = session.execute(query).all()
    org_ids = {org.id for _, _, org in rows} | {a.province_id for a, _, _ in rows}
    people: dict[tuple[int, str], set[int]] = {}
    if org_ids:
        for org_id, role, person_id in session.execute(
                select(RoleAssignment.org_unit_id, RoleAssignment.role, Account.person_id)
                .join(Account, Account.id == RoleAssignment.account_id)
                .join(Person, Person.id == Account.person_id)
                .where(RoleAssignment.org_unit_id.in_(org_ids), RoleAssignment.role.in_(("hr", "authority")),
                       Account.active.is_(True), Person.active.is_(True))):
            people.setdefault((org_id, role), set()).add(person_id)

    def recipients(a: AgencyAssessment, org: OrgUnit) -> tuple[int, ...]:
        found = people.get((org.id, "hr"), set()) | people.get((org.id, "authority"), set())
        return tuple(sorted(found | people.get((a.province_id, "hr"), set())))

    return [AgencyItem(a.id, org.code, org.name_th, a.state, milestone, day, recipients(a, org), a.province_id)
            for a, day, org in rows]


def result_rows(session: Session, actor: Actor, province: OrgUnit, fiscal_year: int) -> list[dict[str, Any]]:
    """One row per agency of the province for the year: state and result (the report's input)."""
    rows = []
    for a, _, agency, _ in list_visible(session, actor, fiscal_year=fiscal_year, province_id=province.id):
        result = _json(a.result, {})
        rows.append({"id": a.id, "agency_code": agency.code, "agency_name": agency.name_th, "state": a.state,
                     "dimensions": _json(a.dimensions, []), "dimension_percents": result.get("dimensions", {}),
                     "total_percent": decimal2(a.total_percent), "rating": (result.get("rating") or {}).get("th")})
    return rows
