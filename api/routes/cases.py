"""Low-performer cases: list, one with its measures and evidence, its history, its events
(the same pattern as appraisals), evidence upload (stored with its SHA-256) and download."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, File, Form, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.routes import events
from api.schemas import EventIn, EventResult, HistoryEvent, NextStepOut, Page, UtcDateTime, next_steps_out
from workflow import cases
from workflow.machines.low_performer import MACHINE, STATES

router = APIRouter(prefix="/api/v1", tags=["low-performer cases"])
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1, description="case id")]
EventName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z_]+$",
                                description="one of the case machine's events", examples=sorted(MACHINE.events))]
State = Literal[tuple(STATES)]  # type: ignore[valid-type]
MeasureKind = Literal["coaching", "training", "commitment"]


class EvidenceOut(BaseModel):
    id: int
    filename: str = Field(examples=["coaching-record.pdf"])
    sha256: str
    note: str
    size: int | None = None
    measure_id: int | None = None


class MeasureOut(BaseModel):
    kind: str = Field(examples=["coaching"])
    name_th: str
    status: str = Field(examples=["in_progress"])
    status_th: str
    note: str
    evidence: list[EvidenceOut]


class CasePerson(BaseModel):
    id: int
    code: str
    name_th: str


class CaseOut(BaseModel):
    id: int
    state: str = Field(examples=["coaching"])
    state_th: str
    version: int
    available_events: list[str]
    person: CasePerson
    appraisal_id: int
    round_id: int
    org_unit_id: int
    follow_up_appraisal_id: int | None
    follow_up_candidate_id: int | None = Field(description="the appraisal that will be the follow-up")
    consecutive_low_rounds: int
    flagged_for_action: bool
    weakness_analysis: str
    development_plan: str
    measures: list[MeasureOut]
    evidence: list[EvidenceOut]
    commitment_signed_by: list[str]
    updated_at: UtcDateTime | None
    next_steps: list[NextStepOut] = Field(default_factory=list, description=(
        "each event in available_events with `ready` and, when not ready, the problems its guards report now"))


def _out(c, out: dict[str, Any]) -> CaseOut:  # noqa: ANN001
    return CaseOut.model_validate({**out, "updated_at": c.updated_at, "next_steps": next_steps_out(out["next_steps"])})


@router.get("/cases", response_model=Page[CaseOut], responses=responses(401, 422),
            summary="Low-performer cases the caller may see / กรณีผู้มีผลการปฏิบัติงานต่ำ")
def list_cases(session: SessionDep, actor: ActorDep, round_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
               state: State | None = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Page[CaseOut]:
    found = cases.list_cases(session, actor, round_id=round_id, state=state)
    page = found[offset:offset + limit]
    items = [_out(c, out) for c, out in zip(page, cases.cases_out(session, actor, page), strict=True)]
    return Page[CaseOut](items=items, total=len(found), limit=limit, offset=offset,
                         next_after=items[-1].id if len(items) == limit else None)


@router.get("/cases/{case_id}", response_model=CaseOut, responses=responses(401, 404, 422))
def get_case(case_id: CaseId, session: SessionDep, actor: ActorDep) -> JSONResponse:
    c = cases.get_case(session, actor, case_id)
    body = _out(c, cases.case_out(session, actor, c)).model_dump(mode="json")
    return JSONResponse(body, headers={"ETag": f'"{c.version}"'})


@router.get("/cases/{case_id}/history", response_model=list[HistoryEvent], responses=responses(401, 404, 422),
            summary="The case's event history (hash-chained)")
def case_history(case_id: CaseId, session: SessionDep, actor: ActorDep) -> list[HistoryEvent]:
    from api.routes.appraisals import history_out

    cases.get_case(session, actor, case_id)
    return history_out(session, "case", case_id)


@router.post("/cases/{case_id}/events/{event}", response_model=EventResult, responses=events.EVENT_RESPONSES,
             summary="Fire an event on a case / ดำเนินการ",
             description="Same rules as appraisals: the version in `If-Match` (or the body); 409 stale, "
                         "403 role, 422 with every failing guard (e.g. a measure the policy does not let you "
                         "skip), 404 unknown case or event. `Idempotency-Key` makes a retry safe.")
def fire_case_event(case_id: CaseId, event: EventName, session: SessionDep, actor: ActorDep,
                    body: Annotated[EventIn | None, Body()] = None, if_match: events.IfMatch = None,
                    idempotency_key: events.IdempotencyKey = None) -> JSONResponse:
    return events.fire(kind="case", entity_id=case_id, event=event, body=body, if_match=if_match,
                       idempotency_key=idempotency_key, session=session, actor=actor)


@router.post("/cases/{case_id}/evidence", response_model=EventResult, responses=events.EVENT_RESPONSES,
             summary="Upload evidence (a file, stored with its SHA-256) / แนบหลักฐาน")
async def upload_evidence(case_id: CaseId, session: SessionDep, actor: ActorDep,
                          file: Annotated[UploadFile, File(description="the evidence file")],
                          measure: Annotated[MeasureKind | None, Form()] = None,
                          note: Annotated[str, Form(max_length=8000)] = "",
                          if_match: events.IfMatch = None) -> JSONResponse:
    content = await file.read()
    version = events.required_version(session, "case", case_id, events.expected_version(if_match, None), actor)
    fired = cases.add_evidence_file(session, case_id, actor, filename=file.filename or "evidence",
                                    content=content, content_type=file.content_type or "application/octet-stream",
                                    measure=measure, note=note, expected_version=version)
    c = cases.get_case(session, actor, case_id)
    out = EventResult(kind="case", id=fired.id, event=fired.event, from_state=fired.from_state, state=fired.state,
                      version=fired.version, event_id=fired.event_id,
                      available_events=cases.case_out(session, actor, c)["available_events"])
    return JSONResponse(out.model_dump(mode="json"), headers={"ETag": f'"{fired.version}"'})


@router.get("/cases/{case_id}/evidence/{evidence_id}",
            responses={200: {"description": "the file as uploaded (a note as text/plain)",
                             "content": {"application/octet-stream": {}, "text/plain": {}}},
                       **responses(401, 404, 422)},
            response_class=Response, summary="Download one evidence file")
def download_evidence(case_id: CaseId, evidence_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                      session: SessionDep, actor: ActorDep) -> Response:
    ev = cases.evidence_file(session, actor, case_id, evidence_id)
    if not ev.filename:  # a note, not a file
        return Response(ev.note.encode("utf-8"), media_type="text/plain; charset=utf-8",
                        headers={"X-Content-SHA256": ev.sha256})
    from api.downloads import attachment, safe_media_type

    return Response(ev.content, media_type=safe_media_type(ev.content_type),
                    headers={"Content-Disposition": attachment(ev.filename), "X-Content-SHA256": ev.sha256})
