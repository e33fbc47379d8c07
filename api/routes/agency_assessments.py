"""Agency assessments (the organisation level): open one per agency for a fiscal year, list,
one with its plan, SARs and result, its history, and its events (the same pattern as the
other kinds: If-Match, Idempotency-Key)."""
from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.routes import events
from api.schemas import EventIn, EventResult, HistoryEvent
from workflow import agency_assessments, audit
from workflow.machines.agency_assessment import MACHINE

router = APIRouter(prefix="/api/v1", tags=["agency assessments"])
AssessmentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="agency assessment id")]
EventName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$",
                                description="one of the agency assessment machine's events",
                                examples=sorted(MACHINE.events))]


class OpenIn(BaseModel):
    org_code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$",
                          description="the province: one assessment for each organisation directly under it")
    fiscal_year: int = Field(ge=2400, le=2700, examples=[2570])


class OpenedOut(BaseModel):
    org_code: str
    fiscal_year: int
    created: list[int]
    existing: int


class AssessmentOut(BaseModel):
    id: int
    fiscal_year: int
    state: str = Field(examples=["sar_6"])
    state_th: str
    version: int
    available_events: list[str]
    roles: list[str]
    agency: dict[str, Any]
    province: dict[str, Any]
    dimensions: list[dict[str, Any]]
    plan: list[dict[str, Any]]
    levels: dict[str, int]
    dimension_percents: dict[str, str]
    working: list[str]
    total_percent: str | None
    rating_code: str | None
    rating: dict[str, Any] | None
    review_comment: str
    milestones: list[dict[str, Any]]
    sars: list[dict[str, Any]]


@router.post("/agency-assessments", response_model=OpenedOut, status_code=201,
             responses=responses(401, 404, 413, 422),
             summary="Open the agency assessments of a fiscal year (the province's HR) / เปิดการประเมินส่วนราชการ")
def open_year(body: OpenIn, session: SessionDep, actor: ActorDep) -> OpenedOut:
    opened = agency_assessments.open_year(session, actor, org_code=body.org_code, fiscal_year=body.fiscal_year)
    return OpenedOut(org_code=opened.province.code, fiscal_year=opened.fiscal_year,
                     created=[a.id for a in opened.created], existing=opened.existing)


@router.get("/agency-assessments", response_model=list[AssessmentOut], responses=responses(401, 422),
            summary="Agency assessments the caller may see / การประเมินผลส่วนราชการ")
def list_assessments(session: SessionDep, actor: ActorDep,
                     fiscal_year: Annotated[int | None, Query(ge=2400, le=2700)] = None) -> list[dict[str, Any]]:
    return agency_assessments.views(session, agency_assessments.list_visible(session, actor, fiscal_year=fiscal_year))


@router.get("/agency-assessments/{assessment_id}", response_model=AssessmentOut, responses=responses(401, 404, 422))
def get_assessment(assessment_id: AssessmentId, session: SessionDep, actor: ActorDep) -> JSONResponse:
    a, held = agency_assessments.get(session, actor, assessment_id)
    body = AssessmentOut.model_validate(agency_assessments.out(session, a, held)).model_dump(mode="json")
    return JSONResponse(body, headers={"ETag": f'"{a.version}"'})


@router.get("/agency-assessments/{assessment_id}/history", response_model=list[HistoryEvent],
            responses=responses(401, 404, 422), summary="The assessment's event history (hash-chained)")
def history(assessment_id: AssessmentId, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    agency_assessments.get(session, actor, assessment_id)
    return [{"seq": e.seq, "event": e.event, "from_state": e.from_state, "to_state": e.to_state,
             "actor": e.actor, "actor_account_id": e.actor_account_id, "at": e.at,
             "payload": json.loads(e.payload or "{}"), "reason": e.reason, "hash": e.hash}
            for e in audit.history(session, agency_assessments.KIND_NAME, assessment_id)]


@router.post("/agency-assessments/{assessment_id}/events/{event}", response_model=EventResult,
             responses=events.EVENT_RESPONSES, summary="Fire an event on an agency assessment / ดำเนินการ",
             description="edit_plan {kpis: [{dimension, code, title, weight, level_descriptions}]}, agree_plan, "
                         "submit_sar_6 / submit_sar_9 / submit_sar_12 {progress: [{kpi_id, progress, level, "
                         "evidence}]}, evaluate {levels: {code: 1..5}}, return_evaluation (comment), review, "
                         "announce. The version in `If-Match`; 409 stale, 403 role, 422 every failing guard.")
def fire_event(assessment_id: AssessmentId, event: EventName, session: SessionDep, actor: ActorDep,
               body: Annotated[EventIn | None, Body()] = None, if_match: events.IfMatch = None,
               idempotency_key: events.IdempotencyKey = None) -> JSONResponse:
    return events.fire(kind=agency_assessments.KIND_NAME, entity_id=assessment_id, event=event, body=body,
                       if_match=if_match, idempotency_key=idempotency_key, session=session, actor=actor)
