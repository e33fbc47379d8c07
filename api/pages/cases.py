"""The low-performer case page: plan, measures with status and evidence, the commitment,
history and diagram. Every action is a form POST that goes through `workflow.engine.fire`
(evidence files through `workflow.cases.add_evidence_file`, which fires `add_evidence`)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from api import diagram, i18n
from api.deps import SessionDep
from api.pages.common import (
    FormDep,
    FormErrors,
    Viewer,
    ViewerDep,
    errors_from,
    form_dict,
    lang_of,
    not_found,
    render,
    status_of,
)
from api.routes.events import form_version, required_version
from workflow import audit, cases, engine, labels
from workflow.errors import NotFound, WorkflowError
from workflow.machines.low_performer import MEASURES

router = APIRouter()
SYSTEM_EVENTS = {"close_improved", "still_low", "escalate"}  # fired by the next round's result
FIELDS = {"edit_plan": ["weakness_analysis", "development_plan"], "agree_plan": ["weakness_analysis", "development_plan"],
          "sign_plan": ["weakness_analysis", "development_plan"],
          "begin_coaching": ["note"], "begin_training": ["note"], "begin_commitment": ["note"],
          "update_measure": ["measure", "status", "note"], "skip_measure": ["measure", "reason"],
          "add_evidence": ["measure", "note"], "record_follow_up": ["note"], "record_decision": ["note"]}


def _context(session: Session, viewer: Viewer, case_id: int, errors: FormErrors | None = None,
             form: dict[str, str] | None = None) -> dict[str, Any]:
    c = cases.get_case(session, viewer.actor, case_id)
    out = cases.case_out(session, viewer.actor, c)
    events = [e for e in out["available_events"] if e not in SYSTEM_EVENTS]
    statuses = {m["kind"]: m["status"] for m in out["measures"]}
    current = c.state if c.state in statuses else next(
        (m for m in MEASURES if statuses.get(m) in ("not_started", "in_progress")), MEASURES[0])
    return {"c": out, "row": c, "events": events, "history": audit.history(session, "case", c.id),
                "trigger": _trigger(session, c.appraisal_id), "current_measure": current,
                "measure_statuses": statuses,
                "errors": errors or FormErrors(), "form": form or {},
                "statuses": ("not_started", "in_progress", "done"),
                "measure_kinds": MEASURES}


def _trigger(session: Session, appraisal_id: int) -> dict[str, Any] | None:
    """The appraisal that opened the case: whose, which round, its result and rating."""
    from db.models import Appraisal, Person, Round
    from workflow.rounds import policy_of_round

    a = session.get(Appraisal, appraisal_id)
    if a is None:
        return None
    person, rnd = session.get(Person, a.person_id), session.get(Round, a.round_id)
    band = next((b for b in policy_of_round(session, a.round_id).bands_of(a.staff_type) if b.code == a.rating_code),
                None)
    return {"id": a.id, "name_th": person.name_th, "name_en": person.name_en or person.name_th,
            "round": f"{rnd.number}/{rnd.fiscal_year}",
            "total": None if a.total_percent is None else f"{a.total_percent:.2f}",
            "rating_th": band.th if band else (a.rating_code or ""), "rating_en": band.en if band else (a.rating_code or "")}


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int, viewer: ViewerDep, session: SessionDep, done: str | None = None) -> Response:
    try:
        ctx = _context(session, viewer, case_id)
    except NotFound:
        return not_found(request, viewer)
    lang = lang_of(request, viewer)
    flash = (i18n.gettext(lang, "Done:") + " " + i18n.event_label(done, lang)) if done in labels.EVENTS else None
    return render(request, "case.html", viewer, flash=flash, **ctx)


@router.post("/cases/{case_id}/events/{event}")
def case_event(request: Request, case_id: int, event: str, viewer: ViewerDep, session: SessionDep,
               raw: FormDep) -> Response:
    form = form_dict(raw)
    try:
        cases.get_case(session, viewer.actor, case_id)
    except NotFound:
        return not_found(request, viewer)
    payload = {k: form[k].strip() for k in FIELDS.get(event, []) if form.get(k, "").strip()}
    try:
        version = required_version(session, "case", case_id, form_version(form), viewer.actor)
        upload = raw.get("file")
        if event == "add_evidence" and isinstance(upload, UploadFile) and upload.filename:
            content = upload.file.read()
            cases.add_evidence_file(session, case_id, viewer.actor, filename=upload.filename, content=content,
                                    content_type=upload.content_type or "application/octet-stream",
                                    measure=payload.get("measure"), note=payload.get("note", ""),
                                    expected_version=version)
        else:
            engine.fire(session, "case", case_id, event, viewer.actor, expected_version=version, payload=payload)
    except WorkflowError as exc:
        session.rollback()
        errors = errors_from(exc, event)
        return render(request, "case.html", viewer, status_of(exc),
                      **_context(session, viewer, case_id, errors, form))
    return RedirectResponse(f"/cases/{case_id}?done={event}", status_code=303)


@router.get("/cases/{case_id}/evidence/{evidence_id}")
def case_evidence(request: Request, case_id: int, evidence_id: int, viewer: ViewerDep, session: SessionDep) -> Response:
    try:
        ev = cases.evidence_file(session, viewer.actor, case_id, evidence_id)
    except NotFound:
        return not_found(request, viewer)
    from api.downloads import attachment

    return Response(ev.content, media_type="application/octet-stream",
                    headers={"Content-Disposition": attachment(ev.filename or "evidence"),
                             "X-Content-Type-Options": "nosniff"})


@router.get("/cases/{case_id}/diagram.svg")
def case_diagram(request: Request, case_id: int, viewer: ViewerDep, session: SessionDep) -> Response:
    try:
        c = cases.get_case(session, viewer.actor, case_id)
    except NotFound:
        return Response("not found", status_code=404, media_type="text/plain")
    lang = lang_of(request, viewer)
    svg = diagram.render(engine.kind_of("case").machine, c.state,
                         state_label=lambda s: i18n.state_label(s, lang),
                         event_label=lambda e: i18n.event_label(e, lang),
                         title=i18n.gettext(lang, "The case's states; current:") + " " + i18n.state_label(c.state, lang))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
