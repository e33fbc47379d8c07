"""The authority's page: the reviewed appraisals with the committee's view; select many and
announce them with one confirmation (the rules: `workflow.announcing`)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api import i18n
from api.deps import SessionDep
from api.pages.common import FormDep, FormErrors, ViewerDep, forbidden, lang_of, render
from workflow import announcing
from workflow.errors import Problem

router = APIRouter()


def _allowed(viewer) -> bool:  # noqa: ANN001
    return viewer.has("authority") or viewer.has("admin")


@router.get("/announce")
def announce_page(request: Request, viewer: ViewerDep, session: SessionDep, announced: int | None = None) -> Response:
    if not _allowed(viewer):
        return forbidden(request, viewer)
    lang = lang_of(request, viewer)
    flash = i18n.gettext(lang, "Announced:") + f" {announced}" if announced is not None else None
    return render(request, "announce.html", viewer, flash=flash, active="announce",
                  items=announcing.reviewed(session, viewer.actor))


@router.post("/announce")
def announce_selected(request: Request, viewer: ViewerDep, session: SessionDep, form: FormDep) -> Response:
    if not _allowed(viewer):
        return forbidden(request, viewer)
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()]
    if not ids:
        errors = FormErrors(form="announce", general=[Problem("ids", "กรุณาเลือกอย่างน้อย 1 รายการ",
                                                              "select at least one appraisal")])
        return render(request, "announce.html", viewer, 422, errors=errors, active="announce",
                      items=announcing.reviewed(session, viewer.actor))
    results = announcing.announce_many(session, viewer.actor, ids)
    failed = [(aid, msg) for aid, msg in results if msg]
    if failed:
        errors = FormErrors(form="announce", general=[
            Problem(str(aid), f"#{aid}: {msg.split(' / ')[0]}", f"#{aid}: {msg.split(' / ')[-1]}") for aid, msg in failed])
        return render(request, "announce.html", viewer, 409, errors=errors, active="announce",
                      items=announcing.reviewed(session, viewer.actor))
    return RedirectResponse(f"/announce?announced={len(results)}", status_code=303)
