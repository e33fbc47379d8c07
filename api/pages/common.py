"""What every page shares: the one template environment, the signed-in viewer, form errors.

Pages sign in with the session cookie of `api/auth.py`; every unsafe request carries the
session's CSRF token as the form field `csrf_token` (checked by `api.deps`). A page that needs
a signed-in user redirects to /login otherwise.
"""
from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from sqlalchemy import select
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.routing import NoMatchFound

from api import i18n
from api.deps import SAFE_METHODS, SessionDep, SettingsDep, _csrf_given
from db.models import Account, OrgUnit, Person, RoleAssignment
from workflow import auth_service, labels
from workflow.access import Actor
from workflow.calendar import BANGKOK, thai_digits
from workflow.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    Problem,
    WorkflowError,
)
from workflow.settings import Settings

HERE = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
env = templates.env
env.autoescape = True


@pass_context
def _gettext(ctx: Mapping[str, Any], text: str, **kw: Any) -> str:
    out = i18n.gettext(ctx.get("lang", i18n.DEFAULT_LOCALE), text)
    return out % kw if kw else out


@pass_context
def _date(ctx: Mapping[str, Any], day: date | None) -> str:
    return i18n.format_date(day, ctx.get("lang", i18n.DEFAULT_LOCALE), digits=ctx.get("digits", "arabic"))


@pass_context
def _state(ctx: Mapping[str, Any], state: str | None) -> str:
    return i18n.state_label(state, ctx.get("lang", i18n.DEFAULT_LOCALE))


@pass_context
def _event(ctx: Mapping[str, Any], event: str) -> str:
    return i18n.event_label(event, ctx.get("lang", i18n.DEFAULT_LOCALE))


@pass_context
def _role(ctx: Mapping[str, Any], role: str) -> str:
    return i18n.role_label(role, ctx.get("lang", i18n.DEFAULT_LOCALE))


@pass_context
def _pick(ctx: Mapping[str, Any], th: str, en: str) -> str:
    return i18n.bilingual(th or "", en or "", ctx.get("lang", i18n.DEFAULT_LOCALE))


@pass_context
def _when(ctx: Mapping[str, Any], at: datetime | None) -> str:
    """A stored UTC time as the reader's date and Bangkok time, e.g. 23 พฤศจิกายน 2569 18:41."""
    if at is None:
        return ""
    local = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(BANGKOK)
    digits = ctx.get("digits", "arabic")
    clock = f"{local:%H:%M}"
    day = i18n.format_date(local.date(), ctx.get("lang", i18n.DEFAULT_LOCALE), digits=digits)
    return f"{day} {thai_digits(clock) if digits == 'thai' and ctx.get('lang') == 'th' else clock}"


def _field(x: Any, key: str) -> Any:
    return x.get(key) if isinstance(x, Mapping) else getattr(x, key, None)


@pass_context
def _name(ctx: Mapping[str, Any], x: Any) -> str:
    """A person's, unit's, committee's or measure's name in the reader's language, where the
    data has it (Thai otherwise)."""
    if x is None:
        return ""
    lang = ctx.get("lang", i18n.DEFAULT_LOCALE)
    if _field(x, "kind") in labels.MEASURES:  # a measure: its words are in workflow.labels
        return labels.label(labels.MEASURES, _field(x, "kind"), lang)
    return i18n.bilingual(_field(x, "name_th") or "", _field(x, "name_en") or "", lang)


@pass_context
def _measure_status(ctx: Mapping[str, Any], m: Any) -> str:
    return labels.label(labels.MEASURE_STATUSES, _field(m, "status"), ctx.get("lang", i18n.DEFAULT_LOCALE))


@pass_context
def _fy(ctx: Mapping[str, Any], year: int | None) -> str:
    return i18n.fiscal_year(year, ctx.get("lang", i18n.DEFAULT_LOCALE))


env.globals.update(_=_gettext, gettext=_gettext, state_label=_state, event_label=_event,
                   role_label=_role, pick=_pick, measure_status=_measure_status)
env.filters.update(thaidate=_date, when=_when, name=_name, fy=_fy, tojson_attr=lambda v: json.dumps(v, ensure_ascii=False, default=str))


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as the pages show them."""

    actor: Actor
    csrf: str
    token_id: int
    username: str
    roles: tuple[tuple[str, str], ...]  # (role, organisation name), for the header
    org_name: str
    position: str = ""

    @property
    def person_id(self) -> int | None:
        return self.actor.person_id

    def has(self, role: str) -> bool:
        if role == "admin":
            return self.actor.is_admin
        return any(r == role for r, _ in self.actor.scoped_roles)


def _viewer(session: Session, auth: Any) -> Viewer:
    actor = auth.actor
    account = session.get(Account, actor.account_id) if actor.account_id else None
    rows = session.execute(
        select(RoleAssignment.role, OrgUnit.name_th).join(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
        .where(RoleAssignment.account_id == actor.account_id).order_by(RoleAssignment.id)).all()
    org_name, position = "", ""
    if actor.person_id:
        person = session.get(Person, actor.person_id)
        unit = session.get(OrgUnit, person.org_unit_id) if person else None
        org_name = unit.name_th if unit else ""
        position = person.position if person else ""
    elif rows:
        org_name = rows[0][1]
    return Viewer(actor, auth.csrf_token, auth.token_id, account.username if account else actor.name,
                  tuple((r, n) for r, n in rows), org_name, position)


async def optional_viewer(request: Request, session: SessionDep, settings: SettingsDep) -> Viewer | None:
    """The signed-in viewer (None: nobody). The database work runs in the thread pool: on SQLite
    a transaction takes the write lock, and waiting for it on the event loop would stall every
    other request, including the one holding the lock."""
    token = request.cookies.get(settings.cookie_name)
    if not token:
        return None
    given = await _csrf_given(request, settings) if request.method not in SAFE_METHODS else ""
    return await run_in_threadpool(_authenticate, session, settings, token, request.method, given)


def _authenticate(session: Session, settings: Settings, token: str, method: str, given: str) -> Viewer | None:
    try:
        found = auth_service.authenticate(session, token, kind="cookie", secret_key=settings.secret_key)
        if found is None:
            return None
        if method not in SAFE_METHODS and not (given and hmac.compare_digest(given, found.csrf_token)):
            raise HTTPException(403, "missing or wrong CSRF token")
        return _viewer(session, found)
    finally:
        session.commit()


async def required_viewer(request: Request, viewer: Annotated[Viewer | None, Depends(optional_viewer)]) -> Viewer:
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":  # a form posted after the session ended: come back to the page
            target = target.split("/events/")[0] if "/events/" in target else "/"
        raise HTTPException(303, "sign in first", headers={"Location": f"/login?next={quote(target)}"})
    return viewer


async def posted_form(request: Request) -> FormData:
    """The submitted form, read on the event loop so the route itself can be a plain (thread
    pool) function; Starlette caches it, so the CSRF check and the route read it once."""
    return await request.form()


ViewerDep = Annotated[Viewer, Depends(required_viewer)]
FormDep = Annotated[FormData, Depends(posted_form)]
OptionalViewerDep = Annotated[Viewer | None, Depends(optional_viewer)]


def lang_of(request: Request, viewer: Viewer | None) -> str:
    return i18n.pick_locale(request.cookies.get(i18n.COOKIE), viewer.actor.locale if viewer else None)


# --- form errors: every problem next to its field, in the reader's language ---------------------
@dataclass
class FormErrors:
    """Problems by form field name, plus the ones that belong to no field (shown on top)."""

    form: str = ""  # which form on the page failed (an event name, "login", ...)
    by_field: dict[str, list[Problem]] = field(default_factory=dict)
    general: list[Problem] = field(default_factory=list)
    message: str = ""

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general or self.message)

    def get(self, name: str) -> list[Problem]:
        return self.by_field.get(name, [])

    def all(self) -> list[Problem]:
        return [p for ps in self.by_field.values() for p in ps] + self.general


def errors_from(exc: WorkflowError, form: str, field_of: Any = None, known: Iterable[str] = ()) -> FormErrors:
    """Sort a domain error's problems onto form fields (``field_of`` maps a Problem.field to
    a form field name, or None for the top of the form)."""
    out = FormErrors(form=form)
    known = set(known)
    if isinstance(exc, InvalidInput):
        for p in exc.problems:
            name = field_of(p.field) if field_of else p.field.removeprefix("payload.")
            if name and (not known or name in known):
                out.by_field.setdefault(name, []).append(p)
            else:
                out.general.append(p)
    elif isinstance(exc, Conflict):
        out.general.append(Problem("version", *_split(str(exc))))
    elif isinstance(exc, NotAllowed):
        out.general.append(Problem("role", "ไม่มีสิทธิ์ดำเนินการนี้", "you may not do this"))
    elif isinstance(exc, NotFound):
        out.general.append(Problem(exc.what, f"ไม่พบ {exc.what} {exc.key}", f"{exc.what} {exc.key} not found"))
    else:
        out.general.append(Problem("", *_split(str(exc))))
    return out


def _split(text: str) -> tuple[str, str]:
    th, _, en = text.partition(" / ")
    return th, en or th


def status_of(exc: WorkflowError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, NotAllowed):
        return 403
    if isinstance(exc, Conflict):
        return 409
    return 422


# Every page: only our own scripts and styles, never framed, forms post only here.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def render(request: Request, name: str, viewer: Viewer | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    lang = lang_of(request, viewer)
    context.setdefault("errors", FormErrors())
    context.setdefault("form", {})
    digits = "thai" if request.cookies.get(i18n.DIGITS_COOKIE) == "thai" else "arabic"
    response = templates.TemplateResponse(request, name, {"viewer": viewer, "lang": lang, "digits": digits,
                                                          **context},
                                          status_code=status_code)
    if digits == "thai" and lang == "th":
        response.body = thai_digits_in_text(response.body.decode("utf-8")).encode("utf-8")
        response.headers["content-length"] = str(len(response.body))
    response.headers.update(SECURITY_HEADERS)
    if viewer is not None:
        response.headers["Cache-Control"] = "no-store"  # personal pages stay out of shared caches
    return response


_TEXT = re.compile(r"(<(script|style|textarea)\b.*?</\2>)|(<(\w+)[^>]*\bdata-keep-digits\b[^>]*>.*?</\4>)|>([^<]+)(?=<)",
                   re.S | re.I)
_ENTITY = re.compile(r"(&#?\w+;)")


def thai_digits_in_text(html: str) -> str:
    """Every number a reader sees in Thai digits (the Thai-digits choice): text between tags
    only, never attributes (form values stay as typed), character references, scripts, styles,
    text areas or an element marked `data-keep-digits`."""
    def swap(m: re.Match) -> str:
        if m.group(1) or m.group(3):
            return m.group(0)
        parts = _ENTITY.split(m.group(5))
        return ">" + "".join(p if _ENTITY.fullmatch(p) else thai_digits(p) for p in parts)
    return _TEXT.sub(swap, html)


def not_found(request: Request, viewer: Viewer | None) -> HTMLResponse:
    return render(request, "error.html", viewer, 404, code=404,
                  title_th="ไม่พบหน้าที่ต้องการ", title_en="Not found",
                  text_th="ไม่พบรายการนี้ หรือท่านไม่มีสิทธิ์เห็น",
                  text_en="This item does not exist, or it is not yours to see.")


def forbidden(request: Request, viewer: Viewer | None) -> HTMLResponse:
    return render(request, "error.html", viewer, 403, code=403, title_th="ไม่มีสิทธิ์", title_en="Not allowed",
                  text_th="หน้านี้สำหรับผู้มีบทบาทอื่น", text_en="This page is for another role.")


def form_dict(form: Any) -> dict[str, str]:
    """A submitted form as plain strings (files dropped), to keep what was typed on an error."""
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def api_path(request: Request, route_name: str, **params: object) -> str | None:
    """The path of a JSON API route by its name, or None if that route is not installed."""
    try:
        return str(request.app.url_path_for(route_name, **params))
    except NoMatchFound:
        return None
