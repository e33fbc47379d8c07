"""Roster import over HTTP: the same preview and import as `pmflow import people`."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import ActorDep, SessionDep
from api.errors import responses
from workflow import roster

router = APIRouter(prefix="/api/v1", tags=["roster"])
OrgCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Upload = Annotated[UploadFile, File(description=".xlsx or .csv: code, name_th, position, position_level, "
                                                "staff_type, unit, evaluator, superior, email, salary")]


@router.post("/orgs/{org_code}/roster/preview", responses=responses(401, 403, 404, 413, 422),
             summary="What importing this staff list would change, and every problem in it / ตรวจสอบก่อนนำเข้า")
async def preview(org_code: OrgCode, file: Upload, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    content = await file.read()
    # Parsing a spreadsheet is CPU work: in a worker thread, never on the event loop.
    plan = await run_in_threadpool(roster.plan, session, actor, org_code=org_code, filename=file.filename or "",
                                   content=content)
    return plan.as_dict()


@router.post("/orgs/{org_code}/roster/import", responses=responses(401, 403, 404, 413, 422),
             summary="Import the staff list if it is clean (422 with every problem otherwise) / นำเข้า")
async def import_people(org_code: OrgCode, file: Upload, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    content = await file.read()
    done = await run_in_threadpool(roster.apply, session, actor, org_code=org_code, filename=file.filename or "",
                                   content=content)
    return {"org_code": done.org_code, "counts": done.counts}
