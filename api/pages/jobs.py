"""Long work from the pages: start building a round's forms or a large report, then a page with a progress bar
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
    fmt = str(form.get("format") or "zip")
    return _start(request, viewer, session, form,
                  lambda rid: jobs.start_round_forms(session, engine, viewer.actor, rid, fmt=fmt))


@router.post("/jobs/reports")
def start_report(request: Request, viewer: ViewerDep, session: SessionDep, form: FormDep,
                 engine: Engine = Depends(get_engine)) -> Response:
    name, fmt = str(form.get("name") or ""), str(form.get("format") or "pdf")
    return _start(request, viewer, session, form,
                  lambda rid: jobs.start_report(session, engine, viewer.actor, rid, name, fmt=fmt))


def _start(request: Request, viewer, session, form, start) -> Response:  # noqa: ANN001
    """Start a job for the form's round and show its progress page; a refusal is a page."""
    round_id = str(form.get("round") or "")
    try:
        if not round_id.isdigit() or int(round_id) > 2**31 - 1:
            raise NotFound("round", round_id)
        job = start(int(round_id))
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
