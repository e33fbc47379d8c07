"""The HR policy page: the policy in force with where each value comes from, start from a
preset, edit the TOML, see the differences and what the new bands and trigger would have done
to the last announced round before saving; and move a milestone's due date for one round."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from api.deps import SessionDep
from api.pages.common import FormDep, Viewer, ViewerDep, errors_from, forbidden, form_dict, render, status_of
from api.pages.hr import _may_use
from db.models import Round
from workflow import milestone_dates, org_policy
from workflow.dashboard import openable_orgs
from workflow.errors import InvalidInput, Problem, WorkflowError
from workflow.policy import preset_names, preset_text
from workflow.rounds import milestones_by_round

router = APIRouter()


def _context(session: Session, viewer: Viewer, org_code: str | None, text: str | None = None,
             preset: str | None = None) -> dict:
    orgs = openable_orgs(session, viewer.actor)
    chosen = next((o for o in orgs if o.code == org_code), orgs[0] if orgs else None)
    ctx: dict = {"active": "hr", "orgs": orgs, "chosen": chosen, "presets": preset_names(), "preset": preset}
    if chosen is None:
        return ctx
    now = org_policy.in_force(session, viewer.actor, chosen.code)
    if text is None:
        text = preset_text(preset) if preset in ctx["presets"] else now.version.content
    rounds = list(session.execute(select(Round).where(Round.org_unit_id == chosen.id, Round.status == "open")
                                  .order_by(Round.starts_on.desc())).scalars())
    milestones = milestones_by_round(session, [r.id for r in rounds])
    ctx.update(now=now, text=text, provenance=now.policy.provenance(),
               history=org_policy.history(session, viewer.actor, chosen.code), rounds=rounds,
               milestones=milestones)
    return ctx


@router.get("/hr/policy")
def policy_page(request: Request, viewer: ViewerDep, session: SessionDep, org: str | None = None,
                preset: str | None = None, saved: int | None = None, moved: int | None = None) -> Response:
    if not _may_use(viewer):
        return forbidden(request, viewer)
    try:
        ctx = _context(session, viewer, org, preset=preset)
    except WorkflowError as exc:
        return render(request, "policy.html", viewer, status_of(exc), errors=errors_from(exc, "policy"),
                      **{"active": "hr", "orgs": [], "chosen": None, "presets": preset_names()})
    return render(request, "policy.html", viewer, saved=saved, moved=moved, **ctx)


@router.post("/hr/policy")
def policy_submit(request: Request, viewer: ViewerDep, session: SessionDep, posted: FormDep) -> Response:
    """`action=preview` shows the diff and the impact; `action=save` attaches the text."""
    if not _may_use(viewer):
        return forbidden(request, viewer)
    form = form_dict(posted)
    code, text = form.get("org", ""), form.get("text", "").replace("\r\n", "\n")
    try:
        if form.get("action") == "save":
            result = org_policy.attach(session, viewer.actor, code, text)
            return RedirectResponse(f"/hr/policy?org={code}&saved={1 if result.changed else 0}", status_code=303)
        preview = org_policy.preview(session, viewer.actor, code, text)
    except WorkflowError as exc:
        session.rollback()
        errors = errors_from(exc, "policy")
        try:
            ctx = _context(session, viewer, code, text=text)
        except WorkflowError:
            return forbidden(request, viewer)
        return render(request, "policy.html", viewer, status_of(exc), errors=errors, **ctx)
    return render(request, "policy.html", viewer, preview=preview, proposed=preview.policy.provenance(),
                  **_context(session, viewer, code, text=text))


@router.post("/hr/policy/milestones")
def move_milestone_form(request: Request, viewer: ViewerDep, session: SessionDep, posted: FormDep) -> Response:
    if not _may_use(viewer):
        return forbidden(request, viewer)
    form = form_dict(posted)
    code = form.get("org", "")
    try:
        try:
            due = date.fromisoformat(form.get("due_date", ""))
            round_id = int(form.get("round_id", ""))
        except ValueError:
            raise InvalidInput([Problem("due_date", "วันที่ต้องอยู่ในรูป ปปปป-ดด-วว (ค.ศ.)",
                                        "the date must be YYYY-MM-DD")]) from None
        milestone_dates.move_due_date(session, viewer.actor, round_id, form.get("code", ""), due)
    except WorkflowError as exc:
        session.rollback()
        try:
            ctx = _context(session, viewer, code)
        except WorkflowError:
            return forbidden(request, viewer)
        return render(request, "policy.html", viewer, status_of(exc), errors=errors_from(exc, "milestone"), **ctx)
    return RedirectResponse(f"/hr/policy?org={code}&moved=1", status_code=303)



