"""The organisation level for HR (/hr/kpis): an organisation's KPIs for a fiscal year (add, retire,
import a file, copy last year's) and the agency assessments of the year with their results."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from api.deps import SessionDep
from api.pages.common import FormDep, Viewer, ViewerDep, errors_from, forbidden, form_dict, render, status_of
from db.models import OrgUnit
from workflow import agency_assessments, org_kpis, orgs
from workflow.calendar import fiscal_year_of, today
from workflow.errors import InvalidInput, Problem, WorkflowError

router = APIRouter()


def _orgs(session: Session, viewer: Viewer) -> list[OrgUnit]:
    paths = ["/"] if viewer.actor.is_admin else viewer.actor.scopes("hr")
    if not paths:
        return []
    return list(session.execute(select(OrgUnit).where(orgs.within(paths))
                                .order_by(OrgUnit.path).limit(300)).scalars())


def _context(session: Session, viewer: Viewer, org_code: str | None, fiscal_year: int | None) -> dict:
    orgs = _orgs(session, viewer)
    chosen = next((o for o in orgs if o.code == org_code), orgs[0] if orgs else None)
    year = fiscal_year or fiscal_year_of(today())
    ctx: dict = {"active": "hr", "orgs": orgs, "chosen": chosen, "year": year, "kpis": [], "assessments": []}
    if chosen is not None:
        kpis = org_kpis.list_kpis(session, viewer.actor, chosen.code, year, include_retired=True)
        refs = org_kpis.refs(session, [k.parent_id for k in kpis])
        owners = {o.id: o.code for o in session.execute(select(OrgUnit).where(
            OrgUnit.id.in_({r.org_unit_id for r in refs.values()}))).scalars()} if refs else {}
        parents = {k.id: f"{owners.get(refs[k.parent_id].org_unit_id, '')} {refs[k.parent_id].code}"
                   for k in kpis if k.parent_id in refs}
        ctx.update(kpis=kpis, parents=parents,
                   assessments=agency_assessments.views(session, agency_assessments.list_visible(
                       session, viewer.actor, fiscal_year=year, province_id=chosen.id)))
    return ctx


def _page(request: Request, session: Session, viewer: Viewer, org: str | None, year: int | None,
          status: int = 200, **extra) -> Response:
    return render(request, "org_kpis.html", viewer, status, **_context(session, viewer, org, year), **extra)


@router.get("/hr/kpis")
def kpis_page(request: Request, viewer: ViewerDep, session: SessionDep, org: str | None = None,
              fiscal_year: int | None = None) -> Response:
    if not (viewer.actor.is_admin or viewer.actor.scopes("hr")):
        return forbidden(request, viewer)
    return _page(request, session, viewer, org, fiscal_year if fiscal_year and 2400 <= fiscal_year <= 2700 else None)


def _year(form: dict[str, str]) -> int:
    text = form.get("fiscal_year", "").strip()
    if not (text.isdigit() and 2400 <= int(text) <= 2700):
        raise InvalidInput([Problem("fiscal_year", "ปีงบประมาณต้องเป็นปีพุทธศักราช เช่น 2570",
                                    "the fiscal year must be a Buddhist-era year, e.g. 2570")])
    return int(text)


def _done(form: dict[str, str], year: int) -> Response:
    return RedirectResponse(f"/hr/kpis?org={form.get('org', '')}&fiscal_year={year}", status_code=303)


@router.post("/hr/kpis")
def kpi_action(request: Request, viewer: ViewerDep, session: SessionDep, posted: FormDep) -> Response:
    """One form per action: add (code, title, weight, parent code), retire (kpi id), copy last year,
    open the year's agency assessments."""
    if not (viewer.actor.is_admin or viewer.actor.scopes("hr")):
        return forbidden(request, viewer)
    form = form_dict(posted)
    action = form.get("action", "")
    try:
        year = _year(form)
        org = form.get("org", "")
        if action == "add":
            levels = [form.get(f"level{n}", "").strip() for n in range(1, 6)]
            weight = form.get("weight", "").strip() or "0"
            org_kpis.create(session, viewer.actor, org, {
                "fiscal_year": year, "code": form.get("code", ""), "title": form.get("title", ""),
                "weight": int(weight) if weight.isdigit() else weight,
                "level_descriptions": levels if any(levels) else [],
                "parent_code": form.get("parent_code", "").strip() or None})
        elif action == "retire":
            kpi_id = form.get("kpi_id", "")
            org_kpis.retire(session, viewer.actor, org, int(kpi_id) if kpi_id.isdigit() else 0)
        elif action == "copy":
            org_kpis.copy_year(session, viewer.actor, org, year - 1, year)
        elif action == "open_agencies":
            agency_assessments.open_year(session, viewer.actor, org_code=org, fiscal_year=year)
        else:
            raise InvalidInput([Problem("action", "ไม่รู้จักคำสั่งนี้", "unknown action")])
    except WorkflowError as exc:
        session.rollback()
        errors = errors_from(exc, action or "kpis", known=("code", "title", "weight", "parent_id", "fiscal_year"))
        return _page(request, session, viewer, form.get("org"), None, status_of(exc), errors=errors, form=form)
    return _done(form, year)


@router.post("/hr/kpis/import")
async def kpi_import(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """Import a KPI file: every problem by row is shown, and nothing is written until it is clean."""
    if not (viewer.actor.is_admin or viewer.actor.scopes("hr")):
        return forbidden(request, viewer)
    posted = await request.form()
    form = {k: v for k, v in posted.items() if isinstance(v, str)}
    upload = posted.get("file")
    try:
        year = _year(form)
        if upload is None or isinstance(upload, str):
            raise InvalidInput([Problem("file", "ต้องเลือกไฟล์ .xlsx หรือ .csv", "choose an .xlsx or .csv file")])
        org_kpis.apply_import(session, viewer.actor, org_code=form.get("org", ""), fiscal_year=year,
                              filename=upload.filename or "", content=await upload.read())
    except WorkflowError as exc:
        session.rollback()
        errors = errors_from(exc, "import")
        return _page(request, session, viewer, form.get("org"), None, status_of(exc), errors=errors, form=form)
    return _done(form, year)
