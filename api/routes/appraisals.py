"""Appraisals: list (filtered and paged in SQL), one with everything on it, its history,
and firing its events."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import JSONResponse
from sqlmodel import Session

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.routes import events
from api.schemas import (
    AppraisalOut,
    AppraisalSummary,
    CompetencyOut,
    EventIn,
    EventResult,
    HistoryEvent,
    KpiOut,
    NoteOut,
    OpenCaseOut,
    Page,
    PersonRef,
    SignatureOut,
    next_steps_out,
)
from db.models import Appraisal
from workflow import appraisal_detail, audit, queries
from workflow.appraisal_detail import AppraisalDetail
from workflow.machines.appraisal import MACHINE, STATES
from workflow.next_steps import NextStep, next_steps

router = APIRouter(prefix="/api/v1", tags=["appraisals"])
State = Literal[tuple(STATES)]  # type: ignore[valid-type]
EventName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z_]+$",
                                description="one of the appraisal machine's events",
                                examples=sorted(MACHINE.events))]
AppraisalId = Annotated[int, Path(ge=1, le=2**31 - 1, description="appraisal id")]


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _summary_fields(a: Appraisal, person: PersonRef, roles: frozenset[str], available: list[str]) -> dict[str, Any]:
    return dict(id=a.id, round_id=a.round_id, person=person, org_unit_id=a.org_unit_id, staff_type=a.staff_type,
                evaluator_id=a.evaluator_id, superior_id=a.superior_id, state=a.state, version=a.version,
                total_percent=_pct(a.total_percent), rating_code=a.rating_code, updated_at=a.updated_at,
                roles=sorted(roles), available_events=available)


def appraisal_out(v: AppraisalDetail, steps: list[NextStep] = ()) -> AppraisalOut:
    """Everything about one appraisal the caller may see (`workflow.appraisal_detail`, as the page shows it)."""
    a, p = v.appraisal, v.person
    return AppraisalOut(
        **_summary_fields(a, PersonRef(id=p.id, code=p.code, name_th=p.name_th, name_en=p.name_en), v.roles,
                          v.events),
        agreement_revision=a.agreement_revision, results_percent=_pct(a.results_percent),
        competency_percent=_pct(a.competency_percent), development_plan=a.development_plan,
        acknowledged_at=a.acknowledged_at, refusal_witness=a.refusal_witness, refused_on=a.refused_on,
        superior_opinion=a.superior_opinion, superior_total_percent=_pct(a.superior_total_percent),
        superior_reason=a.superior_reason, superior2_id=a.superior2_id, superior2_opinion=a.superior2_opinion,
        superior2_total_percent=_pct(a.superior2_total_percent), superior2_reason=a.superior2_reason,
        kpis=[KpiOut.model_validate(k, from_attributes=True) for k in v.kpis],
        competencies=[CompetencyOut.model_validate(c, from_attributes=True) for c in v.competencies],
        signatures=[SignatureOut.model_validate(s, from_attributes=True) for s in v.signatures],
        progress_notes=[NoteOut.model_validate(n.note, from_attributes=True) for n in v.notes],
        next_steps=next_steps_out(steps),
        open_case=OpenCaseOut.model_validate(v.open_case, from_attributes=True) if v.open_case else None,
    )


@router.get("/appraisals", response_model=Page[AppraisalSummary], responses=responses(401, 422),
            summary="Appraisals the caller may see / แบบประเมินที่เห็นได้")
def list_appraisals(
    session: SessionDep, actor: ActorDep,
    round: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="round id")] = None,
    unit: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="org unit id (and everything below)")] = None,
    state: Annotated[State | None, Query(description="current state")] = None,
    evaluator: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="evaluator's person id")] = None,
    person: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="appraisee's person id")] = None,
    overdue: Annotated[bool | None, Query(description="past the milestone of its current step")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    after: Annotated[int | None, Query(ge=0, le=2**31 - 1, description=(
        "only appraisals with a larger id: the previous page's `next_after` (keyset paging)"))] = None,
) -> Page[AppraisalSummary]:
    f = queries.AppraisalFilter(round_id=round, unit_id=unit, state=state, evaluator_id=evaluator,
                                person_id=person, overdue=overdue)
    total, rows = queries.list_appraisals(session, actor, f, limit=limit, offset=offset, after=after)
    items = [AppraisalSummary(**_summary_fields(
        r.appraisal, PersonRef(id=r.appraisal.person_id, code=r.person_code, name_th=r.person_name),
        r.roles, r.available_events)) for r in rows]
    full = len(items) == limit
    return Page[AppraisalSummary](items=items, total=total, limit=limit, offset=offset,
                                  next_after=items[-1].id if full else None)


@router.get("/appraisals/{appraisal_id}", response_model=AppraisalOut, responses=responses(401, 404, 422),
            summary="One appraisal with its KPIs, competencies, scores and signatures")
def get_appraisal(appraisal_id: AppraisalId, session: SessionDep, actor: ActorDep) -> AppraisalOut:
    v = appraisal_detail.detail(session, actor, appraisal_id)
    return appraisal_out(v, next_steps(session, "appraisal", v.appraisal, actor))


def history_out(session: Session, kind: str, entity_id: int) -> list[HistoryEvent]:
    return [HistoryEvent(seq=e.seq, event=e.event, from_state=e.from_state, to_state=e.to_state, actor=e.actor,
                         actor_account_id=e.actor_account_id, at=e.at, payload=json.loads(e.payload or "{}"),
                         reason=e.reason, hash=e.hash)
            for e in audit.history(session, kind, entity_id)]


@router.get("/appraisals/{appraisal_id}/history", response_model=list[HistoryEvent],
            responses=responses(401, 404, 422), summary="The appraisal's event history (hash-chained)")
def appraisal_history(appraisal_id: AppraisalId, session: SessionDep, actor: ActorDep) -> list[HistoryEvent]:
    queries.appraisal_for(session, actor, appraisal_id)
    return history_out(session, "appraisal", appraisal_id)


@router.post("/appraisals/{appraisal_id}/events/{event}", response_model=EventResult,
             responses=events.EVENT_RESPONSES, summary="Fire an event on an appraisal / ดำเนินการ",
             description="The version goes in `If-Match` (or the body). 409 on a stale version (with "
                         "`current_version`), 403 when your role may not, 422 with every failing guard, "
                         "404 for an unknown appraisal or event. `Idempotency-Key` makes a retry safe.")
def fire_appraisal_event(appraisal_id: AppraisalId, event: EventName, session: SessionDep, actor: ActorDep,
                         body: Annotated[EventIn | None, Body()] = None,
                         if_match: events.IfMatch = None,
                         idempotency_key: events.IdempotencyKey = None) -> JSONResponse:
    return events.fire(kind="appraisal", entity_id=appraisal_id, event=event, body=body, if_match=if_match,
                       idempotency_key=idempotency_key, session=session, actor=actor)
