"""A round's summary forms, many at a time: the data read in this process, the PDFs compiled
in worker processes when the round is large enough for that to pay (a worker starts in about
half a second; one form compiles in a few milliseconds)."""
from __future__ import annotations

import io
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any, Callable, Iterator

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.models import Appraisal, Person, Round
from workflow.documents.render import render
from workflow.errors import NotFound

Progress = Callable[[int, int], None]  # (forms done, forms in all)
PARALLEL_FROM = 400  # forms; a default: below it, starting the workers (about a second each) costs more than they save
CHUNK = 100


def _render_chunk(kind: str, items: list[dict[str, Any]]) -> list[bytes]:
    return [render(kind, {"forms": [item]}) for item in items]


@contextmanager
def _session(session_or_engine: Session | Engine) -> Iterator[Session]:
    if isinstance(session_or_engine, Session):
        yield session_or_engine
    else:
        with Session(session_or_engine) as session:
            yield session


def workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def round_forms(session_or_engine: Session | Engine, round_id: int, *, fmt: str = "zip", digits: str = "arabic",
                on_progress: Progress | None = None, processes: int | None = None) -> bytes:
    """Every summary form of a round: a zip of one PDF per person (``<year>-<round>/<code>.pdf``)
    or, with ``fmt="pdf"``, one PDF with a page group per person. The caller has checked who
    asks; ``on_progress(done, total)`` is called as forms are finished (for a job's progress bar)."""
    from workflow.access import Actor
    from workflow.reports.forms import summary_form

    actor = Actor(account_id=None, person_id=None, name="pmflow documents", is_admin=True)
    with _session(session_or_engine) as session:
        rnd = session.get(Round, round_id)
        if rnd is None:
            raise NotFound("round", round_id)
        rows = session.execute(select(Appraisal.id, Person.code).join(Person, Person.id == Appraisal.person_id)
                               .where(Appraisal.round_id == rnd.id, Appraisal.state != "withdrawn")
                               .order_by(Person.code)).all()
        total = len(rows)
        forms = []
        for aid, _ in rows:
            forms.append(summary_form(session, actor, aid, digits=digits, check_access=False).as_dict())
        folder = f"{rnd.fiscal_year}-{rnd.number}"
    report = on_progress or (lambda done, total: None)
    if fmt == "pdf":
        content = forms_pdf_from_dicts(forms)
        report(total, total)
        return content
    pdfs = render_each("summary_form", forms, on_progress=report, processes=processes)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for (_, code), pdf in zip(rows, pdfs):
            z.writestr(f"{folder}/{code}.pdf", pdf)
    return buf.getvalue()


def forms_pdf_from_dicts(forms: list[dict[str, Any]]) -> bytes:
    return render("summary_form", {"forms": forms})


def render_each(kind: str, items: list[dict[str, Any]], *, on_progress: Progress | None = None,
                processes: int | None = None) -> list[bytes]:
    """One PDF per item (``{"forms": [item]}``), in worker processes when there are enough."""
    report = on_progress or (lambda done, total: None)
    total = len(items)
    n = processes if processes is not None else (workers() if total >= PARALLEL_FROM else 1)
    if n <= 1:
        out = []
        for i, item in enumerate(items, start=1):
            out.append(render(kind, {"forms": [item]}))
            if i % CHUNK == 0 or i == total:
                report(i, total)
        if not total:
            report(0, 0)
        return out
    chunks = [items[i:i + CHUNK] for i in range(0, total, CHUNK)]
    results: list[list[bytes]] = [[] for _ in chunks]
    done = 0
    # spawn, not fork: the API process runs threads (the scheduler, the server) a fork would copy mid-step
    with ProcessPoolExecutor(max_workers=n, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_render_chunk, kind, chunk): i for i, chunk in enumerate(chunks)}
        for fut in as_completed(futures):
            i = futures[fut]
            results[i] = fut.result()
            done += len(chunks[i])
            report(done, total)
    return [pdf for chunk in results for pdf in chunk]
