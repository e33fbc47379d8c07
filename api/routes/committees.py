"""Screening committees: read those the caller may see, set one up for a round (HR), its review
list with the calibration view, endorse in bulk, return one with a comment. Every decision is
an engine event with its decider (`workflow.committees`)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.schemas import EventResult, Page
from workflow import committees, engine

router = APIRouter(prefix="/api/v1", tags=["committees"])
CommitteeId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class MemberOut(BaseModel):
    person_id: int
    code: str
    name_th: str
    is_chair: bool


class CommitteeOut(BaseModel):
    id: int
    org_unit_id: int
    round_id: int | None
    name_th: str = Field(examples=["คณะกรรมการกลั่นกรองผลการประเมิน"])
    members: list[MemberOut]


@router.get("/committees", response_model=Page[CommitteeOut], responses=responses(401, 422),
            summary="Screening committees / คณะกรรมการกลั่นกรอง")
def list_committees(session: SessionDep, actor: ActorDep,
                    round: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Page[CommitteeOut]:
    total, rows = committees.committees_page(session, actor, round_id=round, limit=limit, offset=offset)
    items = [CommitteeOut.model_validate(c) for c in committees.committees_out(session, rows)]
    return Page[CommitteeOut](items=items, total=total, limit=limit, offset=offset)


@router.get("/committees/{committee_id}", response_model=CommitteeOut, responses=responses(401, 404, 422))
def get_committee(committee_id: CommitteeId, session: SessionDep, actor: ActorDep) -> CommitteeOut:
    return CommitteeOut.model_validate(committees.committee_out(
        session, committees.get_committee(session, actor, committee_id)))


class CommitteeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    round_id: int = Field(ge=1, le=2**31 - 1)
    chair_person_id: int = Field(ge=1, le=2**31 - 1)
    member_person_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(default_factory=list, max_length=50)
    name_th: str | None = Field(None, max_length=300)


class EndorseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    appraisal_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=2000)
    comment: str | None = Field(None, max_length=4000)


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(max_length=4000, description="required: why it goes back to the evaluator")
    version: int | None = Field(None, ge=0, le=2**31 - 1)


class ItemResult(BaseModel):
    appraisal_id: int
    ok: bool
    state: str | None = None
    version: int | None = None
    error: str | None = None
    message: str | None = None
    problems: list[dict[str, str]] = Field(default_factory=list)


@router.post("/committees", status_code=201, responses=responses(401, 403, 404, 409, 422),
             summary="Set up the screening committee of a round (HR) / แต่งตั้งคณะกรรมการกลั่นกรอง")
def create_committee(body: CommitteeIn, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    c = committees.create_committee(session, actor, round_id=body.round_id, chair_person_id=body.chair_person_id,
                                    member_person_ids=body.member_person_ids, name_th=body.name_th)
    return committees.committee_out(session, c)


@router.get("/committees/{committee_id}/review", responses=responses(401, 404, 422),
            summary="The review list with the rating distribution per unit and evaluator / รายการรอกลั่นกรอง")
def review_list(committee_id: CommitteeId, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return committees.review_list(session, actor, committee_id).as_dict()


@router.post("/committees/{committee_id}/endorse", response_model=list[ItemResult], responses=responses(401, 404, 422),
             summary="Endorse many at once; a result per appraisal / เห็นชอบหลายรายการ")
def bulk_endorse(committee_id: CommitteeId, body: EndorseIn, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    committees.get_committee(session, actor, committee_id)
    return committees.bulk_endorse(session, actor, body.appraisal_ids, comment=body.comment)


@router.post("/committees/{committee_id}/review/{appraisal_id}/return", response_model=EventResult,
             responses=responses(401, 403, 404, 409, 422),
             summary="Return one to its evaluator with a comment / ส่งกลับให้ผู้ประเมิน")
def return_one(committee_id: CommitteeId, appraisal_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ReturnIn,
               session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    committees.get_committee(session, actor, committee_id)
    fired = committees.return_to_evaluator(session, actor, appraisal_id, body.comment, expected_version=body.version)
    row = session.get(engine.kind_of("appraisal").table, appraisal_id)
    return EventResult(kind="appraisal", id=fired.id, event=fired.event, from_state=fired.from_state,
                       state=fired.state, version=fired.version, event_id=fired.event_id,
                       available_events=engine.available_events(session, "appraisal", row, actor)).model_dump()
