"""Long work from the pages: start building a round's forms, then a page with a progress bar
(polling the JSON API; without JavaScript it refreshes itself) and the download when done."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from api.deps import SessionDep, get_engine
from api.pages.common import FormDep, ViewerDep, not_found, render, status_of
from workflow import jobs
from workflow.errors import NotFound, WorkflowError

router = APIRouter()


@router.post("/jobs/forms")
def start_forms(request: Request, viewer: ViewerDep, session: SessionDep, form: FormDep,
                engine: Engine = Depends(get_engine)) -> Response:
    round_id = str(form.get("round") or "")
    fmt = str(form.get("format") or "zip")
    try:
        if not round_id.isdigit():
            raise NotFound("round", round_id)
        job = jobs.start_round_forms(session, engine, viewer.actor, int(round_id), fmt=fmt)
    except WorkflowError as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            return not_found(request, viewer)
        return render(request, "error.html", viewer, status_of(exc), code=status_of(exc),
                      title_th="สั่งงานไม่ได้", title_en="Cannot start", text_th=str(exc), text_en=str(exc))
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: int, viewer: ViewerDep, session: SessionDep) -> Response:
    try:
        job = jobs.get_job(session, viewer.actor, job_id)
    except NotFound:
        return not_found(request, viewer)
    return render(request, "job.html", viewer, job=job, percent=jobs.progress_percent(job), active="hr")
