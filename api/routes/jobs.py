"""Background jobs: start building a round's forms or writing a report, follow its progress, download the result."""
from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from api.deps import ActorDep, SessionDep, get_engine
from api.errors import ApiError, responses
from api.routes.reports import ReportFormat, ReportName
from api.schemas import UtcDateTime
from db.models import Job
from workflow import jobs
from workflow.reports.writers import MEDIA_TYPES

router = APIRouter(prefix="/api/v1", tags=["jobs"])
JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="job id")]
EngineDep = Annotated[Engine, Depends(get_engine)]


class JobOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 7, "kind": "round_forms", "round_id": 3, "state": "running", "progress": 40, "done": 48,
        "total": 120, "message": "", "created_at": "2026-10-01T08:00:00Z", "finished_at": None,
        "download_url": None}]})
    id: int
    kind: str
    round_id: int | None
    state: str = Field(description="queued | running | done | failed | interrupted (start it again)")
    progress: int = Field(ge=0, le=100, description="percent")
    done: int
    total: int
    message: str
    created_at: UtcDateTime
    finished_at: UtcDateTime | None
    download_url: str | None = Field(description="when done: where to download the result")


def job_out(request: Request, job: Job) -> JobOut:
    return JobOut(id=job.id, kind=job.kind, round_id=job.round_id, state=job.state,
                  progress=jobs.progress_percent(job), done=job.done, total=job.total, message=job.message,
                  created_at=job.created_at, finished_at=job.finished_at,
                  download_url=str(request.url_for("download_job", job_id=job.id).path)
                  if job.state == "done" else None)


@router.post("/rounds/{round_id}/jobs/forms", response_model=JobOut, status_code=202,
             responses=responses(401, 404, 422),
             summary="Build every form of a round in the background / สร้างแบบฟอร์มทั้งรอบ")
def start_forms(request: Request, round_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
                engine: EngineDep, actor: ActorDep,
                format: Annotated[Literal["zip", "pdf"], Query(description="a zip of PDFs or one PDF")] = "zip",
                digits: Annotated[Literal["arabic", "thai"], Query()] = "arabic") -> JSONResponse:
    return _accepted(request, jobs.start_round_forms(session, engine, actor, round_id, fmt=format, digits=digits))


def _accepted(request: Request, job: Job) -> JSONResponse:
    return JSONResponse(job_out(request, job).model_dump(mode="json"), status_code=202,
                        headers={"Location": str(request.url_for("get_job", job_id=job.id).path)})


@router.post("/rounds/{round_id}/jobs/reports/{name}", response_model=JobOut, status_code=202,
             responses=responses(401, 404, 422),
             summary="Write one of a round's reports as a file in the background / สร้างไฟล์รายงาน",
             description="The same report as GET /api/v1/rounds/{round_id}/reports/{name}, for the big ones (the "
                         "reward report of 100,000 staff as a PDF): answers 202 with the job at once; follow "
                         "`Location`, download from `download_url` when it is done.")
def start_report(request: Request, round_id: Annotated[int, Path(ge=1, le=2**31 - 1)], name: ReportName,
                 session: SessionDep, engine: EngineDep, actor: ActorDep,
                 format: Annotated[ReportFormat, Query()] = "pdf",
                 digits: Annotated[Literal["arabic", "thai"], Query()] = "arabic") -> JSONResponse:
    return _accepted(request, jobs.start_report(session, engine, actor, round_id, name, fmt=format, digits=digits))


@router.get("/jobs/{job_id}", response_model=JobOut, responses=responses(401, 404, 422),
            summary="A job's state and progress")
def get_job(request: Request, job_id: JobId, session: SessionDep, actor: ActorDep) -> JobOut:
    return job_out(request, jobs.get_job(session, actor, job_id))


@router.get("/jobs/{job_id}/download", response_class=Response, name="download_job",
            responses={200: {"description": "the result", "content": {t.split(";")[0]: {} for t in MEDIA_TYPES.values()}},
                       **responses(401, 404, 409, 422)},
            summary="Download a finished job's result")
def download_job(job_id: JobId, session: SessionDep, actor: ActorDep) -> Response:
    job = jobs.get_job(session, actor, job_id)
    if job.state != "done" or job.result is None:
        raise ApiError(409, "งานยังไม่เสร็จ", f"the job is {job.state}, not done", field="state")
    return Response(job.result, media_type=job.result_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(job.result_name)}"})
