"""Rounds and their milestones; opening a round (HR of the organisation, or an admin)."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.schemas import Page, UtcDateTime
from db.models import OrgUnit, Round
from workflow import flows, milestone_dates, queries, rounds
from workflow.access import reach_of
from workflow.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["rounds"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class MilestoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str = Field(examples=["agreement_signed"])
    due_on: date
    name_th: str
    name_en: str


class RoundOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 3, "org_unit_id": 1, "fiscal_year": 2569, "number": 1, "starts_on": "2025-10-01",
        "ends_on": "2026-03-31", "policy_version_id": 1, "status": "open", "opened_at": "2025-10-01T01:00:00Z",
        "milestones": [{"id": 1, "code": "agreement_signed", "due_on": "2025-10-31",
                        "name_th": "ลงนามข้อตกลงการปฏิบัติราชการ", "name_en": "Performance agreement signed"}]}]})
    id: int
    org_unit_id: int
    fiscal_year: int
    number: int
    starts_on: date
    ends_on: date
    policy_version_id: int
    status: str
    opened_at: UtcDateTime
    milestones: list[MilestoneOut]


class RoundIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"org_code": "UDN", "fiscal_year": 2569, "number": 1}]})
    org_code: str = Field(min_length=1, max_length=64)
    fiscal_year: int = Field(ge=2500, le=2700, description="Buddhist era")
    number: int = Field(ge=1, le=2, description="1 (Oct-Mar) or 2 (Apr-Sep)")


class WithoutEvaluator(BaseModel):
    person_id: int
    code: str
    name: str


class RoundOpenedOut(RoundOut):
    appraisals: int = Field(description="draft appraisals created")
    without_evaluator: list[WithoutEvaluator] = Field(description="people HR must hand to an evaluator")


def _milestones(session, round_id: int) -> list[MilestoneOut]:  # noqa: ANN001
    return [MilestoneOut.model_validate(m) for m in rounds.milestones_of(session, round_id)]


def _visible_round(session, actor, round_id: int) -> Round:  # noqa: ANN001
    """The round, if the caller may see its organisation (404 otherwise, as if it did not exist)."""
    r = session.get(Round, round_id)
    unit = session.get(OrgUnit, r.org_unit_id) if r is not None else None
    if unit is None or not reach_of(session, actor).sees(unit.path):
        raise NotFound("round", round_id)
    return r


def _round(r: Round, milestones: list[MilestoneOut]) -> dict:
    return dict(id=r.id, org_unit_id=r.org_unit_id, fiscal_year=r.fiscal_year, number=r.number,
                starts_on=r.starts_on, ends_on=r.ends_on, policy_version_id=r.policy_version_id,
                status=r.status, opened_at=r.opened_at, milestones=milestones)


@router.get("/rounds", response_model=Page[RoundOut], responses=responses(401, 422), summary="Rounds / รอบการประเมิน")
def list_rounds(session: SessionDep, actor: ActorDep,
                org_unit: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 50,
                offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Page[RoundOut]:
    visible = Round.org_unit_id.in_(select(OrgUnit.id).where(reach_of(session, actor).clause(OrgUnit.path)))
    total, rows = queries.rounds_page(session, org_unit_id=org_unit, limit=limit, offset=offset, where=visible)
    milestones = rounds.milestones_by_round(session, [r.id for r in rows])
    return Page[RoundOut](items=[RoundOut(**_round(r, [MilestoneOut.model_validate(m) for m in milestones[r.id]]))
                                 for r in rows], total=total, limit=limit, offset=offset)


@router.get("/rounds/{round_id}", response_model=RoundOut, responses=responses(401, 404, 422))
def get_round(round_id: Id, session: SessionDep, actor: ActorDep) -> RoundOut:
    r = _visible_round(session, actor, round_id)
    return RoundOut(**_round(r, _milestones(session, r.id)))


@router.get("/rounds/{round_id}/milestones", response_model=list[MilestoneOut], responses=responses(401, 404, 422))
def list_milestones(round_id: Id, session: SessionDep, actor: ActorDep) -> list[MilestoneOut]:
    _visible_round(session, actor, round_id)
    return _milestones(session, round_id)


@router.post("/rounds", response_model=RoundOpenedOut, status_code=201,
             responses=responses(401, 403, 404, 409, 413, 422),
             summary="Open a round: milestones from the policy, a draft appraisal for everyone (HR/admin)")
def open_round(body: RoundIn, session: SessionDep, actor: ActorDep) -> RoundOpenedOut:
    opened = flows.open_round(session, org_code=body.org_code, fiscal_year=body.fiscal_year, number=body.number,
                              actor=actor)
    return RoundOpenedOut(**_round(opened.round, [MilestoneOut.model_validate(m) for m in opened.milestones]),
                          appraisals=opened.appraisals,
                          without_evaluator=[WithoutEvaluator(person_id=i, code=c, name=n)
                                             for i, c, n in opened.without_evaluator])


class MilestoneDueIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"due_date": "2026-04-30"}]})
    due_date: date


@router.patch("/rounds/{round_id}/milestones/{code}", response_model=MilestoneOut,
              responses=responses(401, 403, 404, 409, 422),
              summary="Move a milestone's due date for this round (HR of the round's organisation, or an admin)")
def move_milestone(round_id: Id, code: Annotated[str, Path(min_length=1, max_length=64)], body: MilestoneDueIn,
                   session: SessionDep, actor: ActorDep) -> MilestoneOut:
    return MilestoneOut.model_validate(milestone_dates.move_due_date(session, actor, round_id, code, body.due_date))
