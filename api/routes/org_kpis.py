"""Organisation KPIs over HTTP (HR of the organisation's subtree): list, add, change, retire,
import from .xlsx/.csv (preview, then import when clean), copy last year's."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, UploadFile
from pydantic import BaseModel

from api.deps import ActorDep, SessionDep
from api.errors import responses
from workflow import org_kpis

router = APIRouter(prefix="/api/v1", tags=["organisation KPIs"])
OrgCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
KpiId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FiscalYear = Annotated[int, Query(ge=2400, le=2700, description="Buddhist era, e.g. 2570")]
Upload = Annotated[UploadFile, File(description=".xlsx or .csv: code, title, weight, level_1..level_5, parent "
                                                "(the code of the KPI above it serves)")]


class OrgKpiOut(BaseModel):
    id: int
    org_unit_id: int
    fiscal_year: int
    code: str
    title: str
    weight: int
    level_descriptions: list[str]
    parent_id: int | None
    retired: bool


def _out(k) -> OrgKpiOut:  # noqa: ANN001
    return OrgKpiOut(**org_kpis.as_dict(k))


@router.get("/orgs/{org_code}/kpis", response_model=list[OrgKpiOut], responses=responses(401, 404, 422),
            summary="An organisation's KPIs for a fiscal year / ตัวชี้วัดระดับองค์กร")
def list_kpis(org_code: OrgCode, fiscal_year: FiscalYear, session: SessionDep, actor: ActorDep,
              include_retired: bool = False) -> list[OrgKpiOut]:
    return [_out(k) for k in org_kpis.list_kpis(session, actor, org_code, fiscal_year,
                                                include_retired=include_retired)]


@router.post("/orgs/{org_code}/kpis", response_model=OrgKpiOut, status_code=201,
             responses=responses(401, 404, 413, 422), summary="Add an organisation KPI (HR) / เพิ่มตัวชี้วัด")
def create_kpi(org_code: OrgCode, body: org_kpis.OrgKpiIn, session: SessionDep, actor: ActorDep) -> OrgKpiOut:
    return _out(org_kpis.create(session, actor, org_code, body.model_dump(exclude_unset=True)))


@router.patch("/orgs/{org_code}/kpis/{kpi_id}", response_model=OrgKpiOut, responses=responses(401, 404, 413, 422),
              summary="Change an organisation KPI (title, weight, targets, parent)")
def update_kpi(org_code: OrgCode, kpi_id: KpiId, body: org_kpis.OrgKpiPatch, session: SessionDep,
               actor: ActorDep) -> OrgKpiOut:
    return _out(org_kpis.update(session, actor, org_code, kpi_id, body.model_dump(exclude_unset=True)))


@router.delete("/orgs/{org_code}/kpis/{kpi_id}", response_model=OrgKpiOut, responses=responses(401, 404, 422),
               summary="Retire an organisation KPI (kept for the links to it, offered no more) / ยกเลิก")
def retire_kpi(org_code: OrgCode, kpi_id: KpiId, session: SessionDep, actor: ActorDep) -> OrgKpiOut:
    return _out(org_kpis.retire(session, actor, org_code, kpi_id))


@router.post("/orgs/{org_code}/kpis/preview", responses=responses(401, 404, 413, 422),
             summary="What importing this KPI file would change, and every problem in it by row")
async def preview_kpis(org_code: OrgCode, fiscal_year: FiscalYear, file: Upload, session: SessionDep,
                       actor: ActorDep) -> dict[str, Any]:
    content = await file.read()
    return org_kpis.plan_import(session, actor, org_code=org_code, fiscal_year=fiscal_year,
                                filename=file.filename or "", content=content).as_dict()


@router.post("/orgs/{org_code}/kpis/import", responses=responses(401, 404, 413, 422),
             summary="Import the KPI file if it is clean (422 with every problem by row otherwise) / นำเข้า")
async def import_kpis(org_code: OrgCode, fiscal_year: FiscalYear, file: Upload, session: SessionDep,
                      actor: ActorDep) -> dict[str, Any]:
    content = await file.read()
    return org_kpis.apply_import(session, actor, org_code=org_code, fiscal_year=fiscal_year,
                                 filename=file.filename or "", content=content).as_dict()


@router.post("/orgs/{org_code}/kpis/copy", response_model=list[OrgKpiOut], responses=responses(401, 404, 422),
             summary="Copy last year's KPIs as a start (codes already present are kept) / คัดลอกจากปีก่อน")
def copy_kpis(org_code: OrgCode, from_fiscal_year: FiscalYear, session: SessionDep, actor: ActorDep,
              to_fiscal_year: Annotated[int | None, Query(ge=2400, le=2700, description="default: the next year")] = None
              ) -> list[OrgKpiOut]:
    target = to_fiscal_year if to_fiscal_year is not None else from_fiscal_year + 1
    return [_out(k) for k in org_kpis.copy_year(session, actor, org_code, from_fiscal_year, target)]
