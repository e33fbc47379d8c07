"""The appraisal page: agreement, notes, scoring, signatures, history, diagram, and one form per
action the user may take. Every action is a form POST to /appraisals/{id}/events/{event} that
calls `workflow.engine.fire` (the one pattern); on an error the page comes back with each
problem next to its field and everything typed kept.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api import diagram, i18n
from api.deps import SessionDep
from api.pages.common import (
    FormDep,
    FormErrors,
    Viewer,
    ViewerDep,
    api_path,
    errors_from,
    form_dict,
    lang_of,
    not_found,
    render,
    status_of,
)
from api.routes.events import form_version, required_version
from workflow import appraisal_detail, engine, org_kpis, scoring
from workflow.appraisal_detail import AppraisalDetail, hand_over_candidates
from workflow.appraisals import competencies_of, kpis_of
from workflow.errors import NotFound, WorkflowError
from workflow.machines.appraisal import MACHINE
from workflow.queries import appraisal_for
from workflow.rounds import policy_of_round

router = APIRouter()
MAX_KPI_ROWS = 50
LEVELS = (1, 2, 3, 4, 5)
SOURCES = {"strategic": i18n.N_("Strategy (cascaded)"), "role": i18n.N_("Routine role work"),
           "assigned": i18n.N_("Other assigned work")}
COMPETENCY_SCALE = {0: i18n.N_("0 – not shown"), 1: i18n.N_("1 – much development needed"),
                    2: i18n.N_("2 – needs development"), 3: i18n.N_("3 – fair"), 4: i18n.N_("4 – good"),
                    5: i18n.N_("5 – excellent")}
# Events with a form of their own on the page; every other event is a single button.
FORM_EVENTS = {"edit_agreement", "change_kpis", "score", "review_progress", "add_progress_note",
               "record_refusal", "give_opinion", "return_to_evaluator", "hand_over", "withdraw"}


# --- form -> payload --------------------------------------------------------------------------
def _int_or_text(value: str) -> Any:
    value = value.strip()
    if re.fullmatch(r"-?\d{1,6}", value):
        return int(value)
    return value or None


def _kpi_rows(form: dict[str, str]) -> list[tuple[int, dict[str, Any]]]:
    """(form row index, KPI dict) for every row that is not blank or marked for removal."""
    try:
        count = min(int(form.get("kpi_rows", "0")), MAX_KPI_ROWS)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        get = lambda k, i=i: form.get(f"kpi-{i}-{k}", "").strip()
        if get("remove") or not (get("title") or get("weight")):
            continue
        levels = [get(f"level{n}") for n in LEVELS]
        kpi: dict[str, Any] = {"title": get("title"), "source": get("source") or "role",
                               "weight": _int_or_text(get("weight")), "evidence": get("evidence"),
                               "level_descriptions": levels if any(levels) else []}
        if get("org_kpi"):  # the organisation KPI it serves (checked by the engine: 422 if not offered)
            kpi["org_kpi_id"] = _int_or_text(get("org_kpi"))
        rows.append((i, kpi))
    return rows


def _agreement_payload(form: dict[str, str], a_comps: list[Any]) -> tuple[dict[str, Any], list[int]]:
    rows = _kpi_rows(form)
    comps = []
    for j, c in enumerate(a_comps):
        comps.append({"code": c.code, "name_th": c.name_th, "name_en": c.name_en,
                      "expected_level": _int_or_text(form.get(f"comp-{j}-expected", str(c.expected_level)))})
    payload: dict[str, Any] = {"kpis": [k for _, k in rows], "competencies": comps}
    if form.get("reason", "").strip():
        payload["reason"] = form["reason"].strip()
    return payload, [i for i, _ in rows]


def payload_for(event: str, form: dict[str, str], kpi_count: int, comps: list[Any]) -> tuple[dict[str, Any], list[int]]:
    """The engine payload a page form stands for, and the form indexes of the KPI rows sent."""
    text = lambda k: form.get(k, "").strip()
    if event in ("edit_agreement", "change_kpis"):
        return _agreement_payload(form, comps)
    if event == "score":
        payload = {"kpi_levels": [_int_or_text(form.get(f"kpi-{i}-level", "")) for i in range(kpi_count)],
                   "competency_scores": [_int_or_text(form.get(f"comp-{j}-score", "")) for j in range(len(comps))],
                   "development_plan": text("development_plan")}
        return payload, []
    fields = {"review_progress": ["note"], "add_progress_note": ["note"], "return_to_evaluator": ["comment"],
              "record_refusal": ["witness_name", "refused_on"], "withdraw": ["reason"],
              "give_opinion": ["opinion", "total_percent", "reason"], "hand_over": ["evaluator_id", "reason"]}
    payload = {k: text(k) for k in fields.get(event, []) if text(k)}
    if "evaluator_id" in payload:
        payload["evaluator_id"] = _int_or_text(payload["evaluator_id"])
    if text("comment") and event not in fields:
        payload["comment"] = text("comment")
    return payload, []


def field_mapper(kpi_index: list[int]) -> Callable[[str], str | None]:
    """A Problem's field (payload path or guard name) -> the name of the form field it is about."""
    def to_form(path: str) -> str | None:
        path = path.removeprefix("payload.")
        m = re.match(r"kpis\[(\d+)\]\.?(\w*)", path)
        if m:
            i = int(m.group(1))
            row = kpi_index[i] if i < len(kpi_index) else i
            name = {"level_descriptions": "levels", "org_kpi_id": "org_kpi", "": "title"}.get(m.group(2), m.group(2))
            return f"kpi-{row}-{name}"
        m = re.match(r"competencies\[(\d+)\]\.?(\w*)", path)
        if m:
            return f"comp-{m.group(1)}-expected"
        if path in ("kpis", "kpis.weight"):
            return "kpi-total"
        return {"kpi_levels": None, "kpis.level": None, "competency_scores": None,
                "competencies.score": None}.get(path, path)
    return to_form


# Buttons of the agreement form that save what is typed first, then do their own event.
THEN_EVENTS = ("sign_agreement", "agree")


def agreement_changed(payload: dict[str, Any], kpis: list[Any], comps: list[Any]) -> bool:
    """Whether the agreement form differs from what is recorded (saving an unchanged form would
    start a new revision and void the signatures already given)."""
    def kpi_key(k: Any) -> tuple:
        get = (lambda n, d=None: k.get(n, d)) if isinstance(k, dict) else (lambda n, d=None: getattr(k, n, d))
        return (str(get("title") or "").strip(), get("source") or "role", str(get("weight")),
                tuple(get("level_descriptions") or ()), str(get("evidence") or "").strip())
    if [kpi_key(k) for k in payload.get("kpis", [])] != [kpi_key(k) for k in kpis]:
        return True
    levels = [str(c.get("expected_level")) for c in payload.get("competencies", [])]
    return levels != [str(c.expected_level) for c in comps][:len(levels)]


# --- the page ---------------------------------------------------------------------------------
@dataclass
class KpiRow:
    title: str
    source: str
    weight: Any
    levels: list[str]
    evidence: str
    level: Any = None
    org_kpi_id: int | None = None


def _rows_for_editor(kpis: list[Any], form: dict[str, str] | None) -> list[KpiRow]:
    if form is not None:
        out = []
        try:
            count = min(int(form.get("kpi_rows", "0")), MAX_KPI_ROWS)
        except ValueError:
            count = 0
        for i in range(count):
            g = lambda k, i=i: form.get(f"kpi-{i}-{k}", "")
            out.append(KpiRow(g("title"), g("source") or "role", g("weight"),
                              [g(f"level{n}") for n in LEVELS], g("evidence"),
                              org_kpi_id=int(g("org_kpi")) if g("org_kpi").isdigit() else None))
        return out
    return [KpiRow(k.title, k.source, k.weight, list(k.level_descriptions or []) + [""] * (5 - len(k.level_descriptions or [])),
                   k.evidence, k.level, k.org_kpi_id) for k in kpis]


def page_context(session: Session, viewer: Viewer, v: AppraisalDetail, lang: str,
                 errors: FormErrors | None = None, form: dict[str, str] | None = None) -> dict[str, Any]:
    errors = errors or FormErrors()
    a, kpis, comps, events = v.appraisal, v.kpis, v.competencies, v.events
    policy = policy_of_round(session, a.round_id)
    editing = next((e for e in ("edit_agreement", "change_kpis") if e in events), None)
    kept = form if (form is not None and errors.form in ("edit_agreement", "change_kpis")) else None
    rows = _rows_for_editor(kpis, kept)
    if editing:
        rows.append(KpiRow("", "role", "", [""] * 5, ""))  # a blank row: works without JavaScript
    working = ()
    if kpis and comps and all(k.level for k in kpis) and all(c.score is not None for c in comps):
        working = scoring.score(policy, a.staff_type, [(k.weight, k.level) for k in kpis],
                                [c.score for c in comps]).working
    rating = next((b for b in policy.bands_of(a.staff_type) if b.code == a.rating_code), None)
    people = hand_over_candidates(session, a, v.unit) if "hand_over" in events else []
    score_form = form if (form is not None and errors.form == "score") else None
    returned = v.history[-1] if (v.history and a.state == "evaluated"
                                 and v.history[-1].event == "return_to_evaluator") else None
    return {
        "a": a, "person": v.person, "unit": v.unit, "rnd": v.round, "evaluator": v.evaluator, "superior": v.superior,
        "roles": sorted(v.roles), "kpis": kpis, "comps": comps, "rows": rows, "editing": editing, "events": events,
        "form_events": FORM_EVENTS, "signatures": v.signatures, "notes": v.notes, "history": v.history,
        "returned": returned, "open_case": v.open_case,
        "policy": policy, "bands": [{"min": str(b.min), "th": b.th, "en": b.en} for b in policy.bands_of(a.staff_type)],
        "rating": rating, "working": working, "weight_total": sum(_as_weight(r.weight) for r in rows), "sources": SOURCES, "scale": COMPETENCY_SCALE, "levels": LEVELS,
        "people": people, "errors": errors, "form": form or {}, "score_form": score_form,
        "org_kpis": org_kpis.offered(session, a.org_unit_id, v.round.fiscal_year) if editing else [],
        "final_events": [e for e in events if e not in FORM_EVENTS],
    }


def _as_weight(value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return 0


@router.get("/appraisals/{appraisal_id}")
def appraisal_page(request: Request, appraisal_id: int, viewer: ViewerDep, session: SessionDep,
                   done: str | None = None) -> Response:
    try:
        v = appraisal_detail.detail(session, viewer.actor, appraisal_id)
    except NotFound:
        return not_found(request, viewer)
    lang = lang_of(request, viewer)
    flash = (i18n.gettext(lang, "Done:") + " " + i18n.event_label(done, lang)) if done in MACHINE.events else None
    return render(request, "appraisal.html", viewer, flash=flash,
                  summary_form_pdf=api_path(request, "summary_form", appraisal_id=appraisal_id),
                  **page_context(session, viewer, v, lang))


@router.post("/appraisals/{appraisal_id}/events/{event}")
def appraisal_event(request: Request, appraisal_id: int, event: str, viewer: ViewerDep,
                    session: SessionDep, posted: FormDep) -> Response:
    form = form_dict(posted)
    try:
        a, roles = appraisal_for(session, viewer.actor, appraisal_id)
    except NotFound:
        return not_found(request, viewer)
    comps = competencies_of(session, a.id)
    kpis = kpis_of(session, a.id)
    payload, kpi_index = payload_for(event, form, len(kpis), comps)
    then = form.get("then") if event in ("edit_agreement", "change_kpis") else None
    then = then if then in THEN_EVENTS else None
    try:
        version = required_version(session, "appraisal", a.id, form_version(form), viewer.actor)
        if then is None or agreement_changed(payload, kpis, comps):
            # what is typed is saved first, whichever button was pressed
            fired = engine.fire(session, "appraisal", a.id, event, viewer.actor, expected_version=version,
                                payload=payload)
            version = fired.version
        if then is not None:
            event = then
            engine.fire(session, "appraisal", a.id, then, viewer.actor, expected_version=version)
    except WorkflowError as exc:
        session.rollback()
        errors = errors_from(exc, event, field_mapper(kpi_index))
        v = appraisal_detail.detail(session, viewer.actor, appraisal_id)
        lang = lang_of(request, viewer)
        return render(request, "appraisal.html", viewer, status_of(exc),
                      **page_context(session, viewer, v, lang, errors, form))
    return RedirectResponse(f"/appraisals/{a.id}?done={event}", status_code=303)


@router.get("/appraisals/{appraisal_id}/diagram.svg")
def appraisal_diagram(request: Request, appraisal_id: int, viewer: ViewerDep, session: SessionDep) -> Response:
    try:
        a, _ = appraisal_for(session, viewer.actor, appraisal_id)
    except NotFound:
        return Response("not found", status_code=404, media_type="text/plain")
    lang = lang_of(request, viewer)
    svg = diagram.render(MACHINE, a.state, state_label=lambda s: i18n.state_label(s, lang),
                         event_label=lambda e: i18n.event_label(e, lang),
                         title=i18n.gettext(lang, "The appraisal's states; current:") + " "
                         + i18n.state_label(a.state, lang))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
