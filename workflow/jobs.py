"""Long work in the background: a round's forms, or a round's report as a file, built in a
process pool (documents are CPU work: a process of their own keeps the server answering), with
progress and a download. A report answers at once on its own route; as a job it is for the big
ones (the reward report of 100,000 staff as a PDF takes half a minute: benchmarks/RESULTS.md).

A job is a row (`db.models.Job`): queued -> running -> done | failed, or interrupted when the
process that ran it is gone (a restarted server): such a job says clearly that it must be
started again; nothing resumes it behind the caller's back. The pool is the standard library's
`ProcessPoolExecutor` (spawned processes, one or two workers); no queue of our own.

Progress: `round_forms` reports each form as it is finished (`on_progress(done, total)`), which
the job records for the progress bar.
"""
from __future__ import annotations

import multiprocessing
import os
import socket
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import timedelta
from typing import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from db.models import Job, utcnow
from workflow.access import Actor
from workflow.errors import InvalidInput, NotFound, Problem

OWNER = f"{socket.gethostname()}:{os.getpid()}:{id(object())}"  # this process, this start
STALE = timedelta(minutes=10)  # a job of another process with no news this long is gone
FORMATS = {"zip": "application/zip", "pdf": "application/pdf"}
_POOL: ProcessPoolExecutor | None = None
_LIVE: dict[int, Future] = {}
_LOCK = threading.Lock()


def _pool() -> ProcessPoolExecutor:
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(max_workers=max(1, min(2, (os.cpu_count() or 2) // 2)),
                                        mp_context=multiprocessing.get_context("spawn"))
        return _POOL


def start_round_forms(session: Session, engine: Engine, actor: Actor, round_id: int, *, fmt: str = "zip",
                      digits: str = "arabic") -> Job:
    """Queue building every form of a round; the job row, committed. The caller must be allowed
    the round's forms (checked now, so a refusal is immediate)."""
    from workflow.reports.load import round_for

    if fmt not in FORMATS:
        raise InvalidInput([Problem("format", "รูปแบบต้องเป็น zip หรือ pdf", "format must be zip or pdf")])
    rnd, _ = round_for(session, actor, round_id)
    return _start(session, engine, actor, Job(kind="round_forms", account_id=actor.account_id, round_id=rnd.id,
                                               params={"format": fmt, "digits": digits}, owner=OWNER), run_round_forms)


def start_report(session: Session, engine: Engine, actor: Actor, round_id: int, name: str, *, fmt: str,
                 digits: str = "arabic") -> Job:
    """Queue writing one of a round's reports as a file (`workflow.reports.load.REPORTS`); the
    caller's right to the round is checked now, to the report when it is built."""
    from workflow.reports import writers
    from workflow.reports.load import check_request, round_for

    check_request(name, digits)
    if fmt not in writers.WRITERS:
        known = ", ".join(writers.WRITERS)
        raise InvalidInput([Problem("format", f"รูปแบบต้องเป็นหนึ่งใน {known}", f"format must be one of {known}")])
    rnd, _ = round_for(session, actor, round_id)
    return _start(session, engine, actor, Job(kind="report", account_id=actor.account_id, round_id=rnd.id,
                                               params={"name": name, "format": fmt, "digits": digits}, owner=OWNER),
                  run_report)


def _start(session: Session, engine: Engine, actor: Actor, job: Job, runner: Callable[[str, int, Actor], None]) -> Job:
    session.add(job)
    session.commit()
    session.refresh(job)
    url = engine.url.render_as_string(hide_password=False)
    future = _pool().submit(runner, url, job.id, actor)
    _LIVE[job.id] = future
    future.add_done_callback(lambda f, jid=job.id: _LIVE.pop(jid, None))
    return job


def get_job(session: Session, actor: Actor, job_id: int) -> Job:
    """A job of the caller's (an admin sees every one); a job whose process is gone is marked
    interrupted here."""
    job = session.get(Job, job_id)
    if job is None or not (actor.is_admin or (actor.account_id is not None and job.account_id == actor.account_id)):
        raise NotFound("job", job_id)
    if job.state in ("queued", "running") and _gone(job):
        job.state, job.message = "interrupted", ("งานหยุดไปเพราะระบบเริ่มใหม่ กรุณาสั่งใหม่ / the server restarted "
                                                 "while this job ran: start it again")
        job.updated_at = utcnow()
        session.add(job)
        session.commit()
    return job


def _gone(job: Job) -> bool:
    if job.owner == OWNER:
        return job.id not in _LIVE
    updated = job.updated_at if job.updated_at.tzinfo else job.updated_at.replace(tzinfo=utcnow().tzinfo)
    return utcnow() - updated > STALE


def progress_percent(job: Job) -> int:
    if job.state == "done":
        return 100
    return int(100 * job.done / job.total) if job.total else 0


# --- in the worker process -----------------------------------------------------------------------
Made = tuple[bytes, str, str]  # content, media type, file name


def run_round_forms(url: str, job_id: int, actor: Actor) -> None:
    _run(url, job_id, actor, _forms)


def run_report(url: str, job_id: int, actor: Actor) -> None:
    _run(url, job_id, actor, _report)


def _forms(session: Session, actor: Actor, job: Job, on_progress: Callable[[int, int], None]) -> Made:
    from workflow.reports import forms

    fmt = job.params["format"]
    content = forms.round_forms(session, actor, job.round_id, fmt=fmt, digits=job.params.get("digits", "arabic"),
                                on_progress=on_progress)
    return content, FORMATS[fmt], f"forms-round-{job.round_id}.{fmt}"


def _report(session: Session, actor: Actor, job: Job, on_progress: Callable[[int, int], None]) -> Made:
    from workflow.reports import load, writers

    name, fmt = job.params["name"], job.params["format"]
    built = load.build(session, actor, job.round_id, name, digits=job.params.get("digits", "arabic"))
    on_progress(1, 2)  # read; now written
    return writers.write(built, fmt), writers.MEDIA_TYPES[fmt], writers.filename(name, job.round_id, fmt)


def _run(url: str, job_id: int, actor: Actor, make: Callable[..., Made]) -> None:
    from db.session import make_engine, new_session

    engine = make_engine(url)
    try:
        with new_session(engine) as session:
            job = session.get(Job, job_id)
            job.state, job.updated_at = "running", utcnow()
            session.commit()

            def on_progress(done: int, total: int) -> None:
                # On the job's own session: SQLite has one writer, and that session holds it.
                j = session.get(Job, job_id)
                j.done, j.total, j.updated_at = done, total, utcnow()
                session.commit()

            try:
                content, media_type, name = make(session, actor, job, on_progress)
            except Exception as exc:  # the job says what went wrong; the server goes on
                session.rollback()
                job = session.get(Job, job_id)
                job.state, job.message = "failed", str(exc)[:2000]
                job.finished_at = job.updated_at = utcnow()
                session.commit()
                return
            job = session.get(Job, job_id)
            job.result, job.result_type, job.result_name = content, media_type, name
            job.state, job.done, job.total = "done", max(job.total, 1), max(job.total, 1)
            job.finished_at = job.updated_at = utcnow()
            session.commit()
    finally:
        engine.dispose()
