"""Committee review: the organisation's appraisals in review, the rating distribution per unit
and evaluator (chart and table), endorse many at once, return one with a comment.
The rules are `workflow.committees` (the same as the JSON API's)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from api import i18n
from api.deps import SessionDep
from api.pages.charts import stacked_bars
from api.pages.common import (
    FormDep,
    FormErrors,
    Viewer,
    ViewerDep,
    errors_from,
    forbidden,
    form_dict,
    lang_of,
    not_found,
    render,
    status_of,
)
from api.routes.events import form_version, required_version
from workflow import committees
from workflow.errors import NotFound, Problem, WorkflowError
from workflow.queries import committee_rounds
from workflow.rounds import rounds_by_id

router = APIRouter()


def _context(session: Session, viewer: Viewer, committee_id: int | None, lang: str) -> dict:
    visible = committees.list_committees(session, viewer.actor)
    # the committees the viewer sits on; HR and the authority see their organisation's (read only)
    sitting = committee_rounds(session, viewer.actor)
    mine = [c for c in visible if c.round_id in sitting] or visible
    if not mine:
        raise NotFound("committee", committee_id or "")
    chosen = next((c for c in mine if c.id == committee_id), None) if committee_id else mine[-1]
    if chosen is None:
        raise NotFound("committee", committee_id)
    review = committees.review_list(session, viewer.actor, chosen.id)
    pick = (lambda b: b["en"]) if lang == "en" else (lambda b: b["th"])
    charts = {
        "unit": Markup(stacked_bars(review.by_unit, review.bands, band_name=pick,
                                    title=i18n.gettext(lang, "Ratings per unit")))
        if review.by_unit else None,
        "evaluator": Markup(stacked_bars(review.by_evaluator, review.bands, band_name=pick,
                                         title=i18n.gettext(lang, "Ratings per evaluator")))
        if review.by_evaluator else None,
    }
    found = rounds_by_id(session, (c.round_id for c in mine))
    rounds = {c.id: found.get(c.round_id) for c in mine}
    band_names = {b["code"]: pick(b) for b in review.bands}
    return {"active": "committee", "committees": mine, "chosen": chosen, "review": review, "charts": charts,
                "rounds": rounds, "band_names": band_names}


@router.get("/committee")
def committee_page(request: Request, viewer: ViewerDep, session: SessionDep, committee: int | None = None,
                   endorsed: int | None = None, returned: int | None = None) -> Response:
    lang = lang_of(request, viewer)
    try:
        ctx = _context(session, viewer, committee, lang)
    except NotFound:
        return forbidden(request, viewer) if committee is None else not_found(request, viewer)
    flash = None
    if endorsed is not None:
        flash = i18n.gettext(lang, "Endorsed:") + f" {endorsed}"
    elif returned is not None:
        flash = i18n.gettext(lang, "Returned to the evaluator.")
    return render(request, "committee.html", viewer, flash=flash, **ctx)


@router.post("/committee/{committee_id}/endorse")
def endorse_many(request: Request, committee_id: int, viewer: ViewerDep, session: SessionDep,
                 form: FormDep) -> Response:
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()]
    lang = lang_of(request, viewer)
    if not ids:
        errors = FormErrors(form="endorse", general=[Problem("ids", "กรุณาเลือกอย่างน้อย 1 รายการ",
                                                             "select at least one appraisal")])
        return render(request, "committee.html", viewer, 422, errors=errors,
                      **_context(session, viewer, committee_id, lang))
    results = committees.bulk_endorse(session, viewer.actor, ids, comment=str(form.get("comment") or "") or None)
    failed = [r for r in results if not r["ok"]]
    if failed:
        errors = FormErrors(form="endorse", general=[
            Problem(str(r["appraisal_id"]), f"#{r['appraisal_id']}: {r['message'].split(' / ')[0]}",
                    f"#{r['appraisal_id']}: {r['message'].split(' / ')[-1]}") for r in failed])
        return render(request, "committee.html", viewer, 409, errors=errors,
                      flash=i18n.gettext(lang, "Endorsed:") + f" {len(results) - len(failed)}",
                      **_context(session, viewer, committee_id, lang))
    return RedirectResponse(f"/committee?committee={committee_id}&endorsed={len(results)}", status_code=303)


@router.post("/committee/{committee_id}/return/{appraisal_id}")
def return_one(request: Request, committee_id: int, appraisal_id: int, viewer: ViewerDep,
               session: SessionDep, posted: FormDep) -> Response:
    form = form_dict(posted)
    lang = lang_of(request, viewer)
    try:
        version = required_version(session, "appraisal", appraisal_id, form_version(form), viewer.actor)
        committees.return_to_evaluator(session, viewer.actor, appraisal_id, form.get("comment", ""),
                                       expected_version=version)
    except WorkflowError as exc:
        session.rollback()
        errors = errors_from(exc, f"return-{appraisal_id}")
        return render(request, "committee.html", viewer, status_of(exc), errors=errors, form=form,
                      **_context(session, viewer, committee_id, lang))
    return RedirectResponse(f"/committee?committee={committee_id}&returned={appraisal_id}", status_code=303)
