"""KPI sets kept for a position, and starting a draft agreement from one or from the last round."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.routes import events
from api.schemas import EventResult
from workflow import engine, kpi_sets, queries
from workflow.appraisals import KpiIn

router = APIRouter(prefix="/api/v1", tags=["KPI sets"])
OrgCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


class KpiSetIn(BaseModel):
    position: str = Field(min_length=1, max_length=300, examples=["นักวิเคราะห์นโยบายและแผน"])
    kpis: list[KpiIn] = Field(min_length=1, max_length=50)


class KpiSetOut(BaseModel):
    id: int
    org_unit_id: int
    position: str
    kpis: list[dict[str, Any]]


@router.get("/orgs/{org_code}/kpi-sets", response_model=list[KpiSetOut], responses=responses(401, 404, 422),
            summary="KPI sets kept for positions in an organisation / ชุดตัวชี้วัดตามตำแหน่ง")
def list_sets(org_code: OrgCode, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    return [kpi_sets.as_dict(s) for s in kpi_sets.list_sets(session, actor, org_code)]


@router.post("/orgs/{org_code}/kpi-sets", response_model=KpiSetOut, responses=responses(401, 404, 413, 422),
             summary="Keep (or replace) the KPI set of a position / บันทึกชุดตัวชี้วัด")
def keep_set(org_code: OrgCode, body: KpiSetIn, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    kpis = [k.model_dump(mode="json", exclude_none=True) for k in body.kpis]
    return kpi_sets.as_dict(kpi_sets.keep(session, actor, org_code, body.position, kpis))


@router.post("/appraisals/{appraisal_id}/start-agreement", response_model=EventResult,
             responses=events.EVENT_RESPONSES,
             summary="Start a draft agreement from the last round or a KPI set (an edit_agreement event)",
             description="`source=last_round` copies the person's most recent earlier KPIs; `source=kpi_set` "
                         "copies the set `kpi_set_id`. Links to organisation KPIs move to this fiscal year by code. "
                         "Send the version in `If-Match`.")
def start_agreement(appraisal_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep, actor: ActorDep,
                    source: kpi_sets.Source,
                    kpi_set_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    if_match: events.IfMatch = None) -> JSONResponse:
    version = events.expected_version(if_match, None)
    fired = kpi_sets.start_agreement(session, actor, appraisal_id, source=source, kpi_set_id=kpi_set_id,
                                     expected_version=version)
    out = EventResult(kind="appraisal", id=fired.id, event=fired.event, from_state=fired.from_state,
                      state=fired.state, version=fired.version, event_id=fired.event_id,
                      available_events=engine.kind_of("appraisal").machine.allowed(
                          fired.state, queries.seen("appraisal", fired.roles, fired.state)))
    return JSONResponse(out.model_dump(mode="json"), headers={"ETag": f'"{fired.version}"'})
