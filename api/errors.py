"""One HTTP status per domain error type, one body shape for every error:
{"message": "...", "problems": [{"field", "th", "en"}]} (+ "current_version" on a stale write).
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import InterfaceError as DriverInterfaceError
from psycopg import OperationalError as DriverOperationalError
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from db.models import utcnow
from workflow.auth_service import LoginLocked, Unauthenticated
from workflow.errors import (
    Conflict,
    GuardFailed,
    InvalidInput,
    NotAllowed,
    NotFound,
    Problem,
    VersionRequired,
    WorkflowError,
    problems_from_pydantic,
)


class ProblemOut(BaseModel):
    field: str = Field(examples=["kpis.weight"])
    th: str = Field(examples=["น้ำหนักตัวชี้วัดรวมต้องเท่ากับ 100 (ได้ 60)"])
    en: str = Field(examples=["KPI weights must sum to 100 (got 60)"])


class ErrorOut(BaseModel):
    message: str = Field(examples=["ข้อมูลไม่ถูกต้อง / invalid input"])
    problems: list[ProblemOut] = Field(default_factory=list)
    current_version: int | None = Field(None, description="on 409 and 428: the object's current version")


class ApiError(Exception):
    """An HTTP-only refusal (413, 401 on a missing token, 403 on a missing CSRF token)."""

    def __init__(self, status: int, th: str, en: str, field: str = "", headers: dict[str, str] | None = None):
        self.status, self.th, self.en, self.field, self.headers = status, th, en, field, headers or {}
        super().__init__(f"{th} / {en}")


def _out(message: str, problems: list[Problem] = (), **extra: Any) -> dict[str, Any]:
    return {"message": message, "problems": [{"field": p.field, "th": p.th, "en": p.en} for p in problems], **extra}


# What a 404 names, in Thai (the English is the name the code gives).
WHAT_TH = {
    "account": "บัญชีผู้ใช้", "appraisal": "แบบประเมิน", "case": "กรณีผู้มีผลการปฏิบัติงานต่ำ",
    "committee": "คณะกรรมการ", "delivery": "การส่งข้อความ", "evidence": "หลักฐาน",
    "inbox message": "ข้อความ", "org unit": "หน่วยงาน", "organisation": "ส่วนราชการ", "person": "บุคคล",
    "policy version": "ฉบับนโยบาย", "role assignment": "การมอบบทบาท", "round": "รอบการประเมิน",
    "appraisal event": "การดำเนินการของแบบประเมิน", "case event": "การดำเนินการของกรณี",
    "job": "งานเบื้องหลัง", "page": "หน้า", "machine": "ตารางสถานะ",
}


def language(request: Request | None) -> str | None:
    """'th' or 'en' when the request asks for one (Accept-Language, else the page cookie)."""
    if request is None:
        return None
    asked = (request.headers.get("accept-language") or request.cookies.get("pmflow_lang") or "").strip().lower()
    return "en" if asked.startswith("en") else "th" if asked.startswith("th") else None


def not_found_texts(what: str, key: object) -> tuple[str, str]:
    return f"ไม่พบ{WHAT_TH.get(what, what)} {key}", f"{what} {key} not found"


def error_body(exc: Exception, lang: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The status, body and headers for an error: the one mapping, also used to store
    idempotent replies. `lang` picks the message's language (both when None)."""
    if isinstance(exc, NotFound):
        th, en = not_found_texts(exc.what, exc.key)
        message = th if lang == "th" else en if lang == "en" else f"{th} / {en}"
        return 404, _out(message, [Problem(exc.what, th, en)]), {}
    if isinstance(exc, NotAllowed):
        return 403, _out(str(exc)), {}
    if isinstance(exc, GuardFailed):
        return 422, _out(f"ยังทำ '{exc.event}' ไม่ได้ / '{exc.event}' cannot be done yet", exc.problems), {}
    if isinstance(exc, InvalidInput):
        return 422, _out("ข้อมูลไม่ถูกต้อง / invalid input", exc.problems), {}
    if isinstance(exc, VersionRequired):
        return 428, _out(str(exc), [Problem("If-Match", exc.th, exc.en)], current_version=exc.current_version), {}
    if isinstance(exc, Conflict):
        return 409, _out(str(exc), current_version=exc.current_version), {}
    if isinstance(exc, LoginLocked):
        retry = max(1, int((exc.until - utcnow()).total_seconds()))
        return 429, _out(str(exc)), {"Retry-After": str(retry)}
    if isinstance(exc, Unauthenticated):
        return 401, _out(str(exc), [Problem("credentials", exc.th, exc.en)]), {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, ApiError):
        problems = [Problem(exc.field, exc.th, exc.en)] if exc.field else []
        return exc.status, _out(f"{exc.th} / {exc.en}", problems), exc.headers
    raise TypeError(exc)


# A page (not /api/, not /static/) answers an error as a page, in the page's language.
PAGE_TEXTS = {
    403: ("ไม่มีสิทธิ์", "Not allowed", "ท่านไม่มีสิทธิ์ดำเนินการนี้", "You may not do this."),
    404: ("ไม่พบหน้าที่ต้องการ", "Not found", "ไม่พบรายการนี้ หรือท่านไม่มีสิทธิ์เห็น",
          "This item does not exist, or it is not yours to see."),
    405: ("ไม่รองรับวิธีเรียกนี้", "Not supported", "หน้านี้ไม่รองรับการเรียกแบบนี้", "This page does not take this request."),
    409: ("ข้อมูลถูกแก้ไขแล้ว", "Changed meanwhile", "มีผู้แก้ไขข้อมูลนี้แล้ว กรุณาโหลดใหม่",
          "Someone changed this meanwhile: reload the page."),
    422: ("ข้อมูลไม่ถูกต้อง", "Invalid request", "ที่อยู่หรือข้อมูลที่ส่งมาไม่ถูกต้อง", "The address or the data sent is not valid."),
    503: ("ฐานข้อมูลไม่พร้อมชั่วคราว", "Unavailable for a moment", "กรุณาลองใหม่อีกครั้งในอีกสักครู่",
          "The database cannot answer for a moment: try again shortly."),
}

DATABASE_RETRY_SECONDS = 5  # a default: what Retry-After asks of a client while the database is away
# The database went away: SQLAlchemy's errors, and psycopg's own, which the engine's statements
# raise unwrapped (db/raw.py runs them on the driver's connection).
DATABASE_AWAY = (OperationalError, InterfaceError, DriverOperationalError, DriverInterfaceError)


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api/") or path.startswith("/static/") or path == "/health")


def _page(request: Request, status: int, headers: dict[str, str] | None = None):  # noqa: ANN202
    from api.pages.common import render  # the pages depend on this module, not the other way round

    th, en, text_th, text_en = PAGE_TEXTS.get(status, ("ผิดพลาด", "Error", "เกิดข้อผิดพลาด", "Something went wrong."))
    response = render(request, "error.html", None, status, code=status, title_th=th, title_en=en,
                      text_th=text_th, text_en=text_en)
    response.headers.update(headers or {})
    return response


def _respond(request: Request, exc: Exception) -> JSONResponse:
    status, body, headers = error_body(exc, language(request))
    if _is_page(request) and status in PAGE_TEXTS:
        return _page(request, status, headers)
    return JSONResponse(body, status_code=status, headers=headers)


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    if _is_page(request):
        return _page(request, 422)
    errors = [dict(e) for e in exc.errors()]
    unreadable = [e for e in errors if e.get("type") == "json_invalid"]
    if unreadable:  # the body is not JSON at all: one problem, on the body
        detail = str((unreadable[0].get("ctx") or {}).get("error", ""))
        return JSONResponse(_out("ข้อมูลไม่ถูกต้อง / invalid input", [Problem(
            "body", f"อ่านข้อมูล JSON ไม่ได้ {detail}".strip(), f"the body is not valid JSON {detail}".strip())]),
            status_code=422)
    problems = problems_from_pydantic(errors)
    return JSONResponse(_out("ข้อมูลไม่ถูกต้อง / invalid input", problems), status_code=422)


def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if _is_page(request) and exc.status_code in PAGE_TEXTS:
        return _page(request, exc.status_code, getattr(exc, "headers", None))
    th = {404: "ไม่พบ", 405: "ไม่รองรับวิธีเรียกนี้", 401: "ต้องลงชื่อเข้าใช้", 403: "ไม่มีสิทธิ์",
          413: "ข้อมูลใหญ่เกินไป"}.get(exc.status_code, "ผิดพลาด")
    en = str(exc.detail)
    problems = [Problem("body", "ขนาดข้อมูลเกินกำหนด", "the request body exceeds the limit")] if exc.status_code == 413 else []
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:  # every method the path answers, not only those of one route
        headers["Allow"] = ", ".join(_allowed_methods(request)) or headers.get("Allow", "")
    message = f"{th} / {en}"
    if exc.status_code == 404:
        th, en = not_found_texts("page", request.url.path)
        problems = [Problem("path", th, en)]
        lang = language(request)
        message = th if lang == "th" else en if lang == "en" else f"{th} / {en}"
    return JSONResponse(_out(message, problems), status_code=exc.status_code, headers=headers or None)


def _routes(routes: Any) -> Any:
    for route in routes:
        if hasattr(route, "original_router"):  # an included router, kept nested by newer FastAPI
            yield from _routes(route.original_router.routes)
        else:
            yield route


def _allowed_methods(request: Request) -> list[str]:
    path = request.url.path
    methods: set[str] = set()
    for route in _routes(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and getattr(route, "methods", None) and regex.match(path):
            methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database went away (a restart, a dropped connection, SQLite busy): nothing was
    written (the transaction did not commit), so a clean 503 the client may retry, not a 500.
    The pool's pre-ping replaces the dead connections on the next request."""
    headers = {"Retry-After": str(DATABASE_RETRY_SECONDS)}
    if _is_page(request):
        return _page(request, 503, headers)
    th, en = "ฐานข้อมูลไม่พร้อมชั่วคราว กรุณาลองใหม่", "the database is unavailable for a moment: try again"
    return JSONResponse(_out(f"{th} / {en}", [Problem("database", th, en)]), status_code=503, headers=headers)


def install(app: FastAPI) -> None:
    for kind in (WorkflowError, ApiError):
        app.add_exception_handler(kind, _respond)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    for kind in DATABASE_AWAY:
        app.add_exception_handler(kind, _database_unavailable)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of a route's error answers."""
    text = {
        401: "ต้องลงชื่อเข้าใช้ / not signed in",
        403: "ไม่มีสิทธิ์ / the caller's role may not do this (or a CSRF token is missing)",
        404: "ไม่พบ (หรือไม่มีสิทธิ์เห็น) / not found, or not visible to the caller",
        409: "ข้อมูลถูกแก้ไขแล้ว / stale version or already exists",
        413: "ข้อมูลใหญ่เกินไป / request body too large",
        422: "ข้อมูลไม่ถูกต้อง / every broken rule, by field, in Thai and English",
        428: 'ต้องส่ง If-Match / the event needs If-Match: "<version>" (current_version in the body)',
        429: "ลงชื่อเข้าใช้ผิดหลายครั้ง / too many failed logins",
    }
    return {c: {"model": ErrorOut, "description": text[c]} for c in codes}
