"""Signing in and out, and the language switch."""
from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api import i18n
from api.auth import _address, clear_session_cookie, login_cookie_session, too_many_from
from api.deps import SessionDep, SettingsDep
from api.pages.common import FormErrors, OptionalViewerDep, ViewerDep, render
from workflow import auth_service
from workflow.auth_service import Unauthenticated
from workflow.errors import Problem

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme) may follow a sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


LOGIN_CSRF = "pmflow_login_csrf"  # before a session exists: a double-submit token against login CSRF


def _login_form(request: Request, status_code: int = 200, **context: object) -> Response:
    token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status_code, login_csrf=token, **context)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path="/login")
    return response


@router.get("/login")
def login_page(request: Request, viewer: OptionalViewerDep, next: str = "/") -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, next=safe_next(next))


@router.post("/login")
def login(request: Request, session: SessionDep, settings: SettingsDep, username: str = Form(""),
          password: str = Form(""), next: str = Form("/"), login_csrf: str = Form("")) -> Response:
    errors = FormErrors(form="login")
    cookie = request.cookies.get(LOGIN_CSRF, "")
    if not (cookie and login_csrf and hmac.compare_digest(cookie, login_csrf)):
        errors.general.append(Problem("login_csrf", "แบบฟอร์มหมดอายุ กรุณาลงชื่อเข้าใช้อีกครั้ง",
                                      "the form expired; please sign in again"))
        return _login_form(request, 403, errors=errors, form={"username": username}, next=safe_next(next))
    if not username.strip():
        errors.by_field["username"] = [Problem("username", "กรุณากรอกชื่อผู้ใช้", "enter your username")]
    if not password:
        errors.by_field["password"] = [Problem("password", "กรุณากรอกรหัสผ่าน", "enter your password")]
    address = _address(request, settings)
    refused = too_many_from(address)
    if refused is not None:  # the same per-address limit as the API's sign-in
        errors.general.append(Problem("username", refused.th, refused.en))
        return _login_form(request, 429, errors=errors, form={"username": username}, next=safe_next(next))
    if not errors:
        response = RedirectResponse(safe_next(next), status_code=303)
        try:
            login_cookie_session(session, response, settings, username.strip(), password, address)
            return response
        except Unauthenticated as exc:
            errors.by_field["password"] = [Problem("password", exc.th, exc.en)]
    return _login_form(request, 401 if errors.by_field.get("password") else 422,
                       errors=errors, form={"username": username}, next=safe_next(next))


@router.post("/logout")
def logout(viewer: ViewerDep, session: SessionDep, settings: SettingsDep) -> Response:
    auth_service.revoke(session, viewer.token_id)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, settings)
    return response


@router.get("/digits/{style}")
def switch_digits(style: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if style in ("thai", "arabic"):
        response.set_cookie(i18n.DIGITS_COOKIE, style, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in i18n.LOCALES:
        response.set_cookie(i18n.COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
