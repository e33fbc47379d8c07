"""What a route may ask for: a database session, the signed-in caller, the settings.

Two ways to be signed in: `Authorization: Bearer <token>` (API clients; no CSRF check: a
browser never adds that header by itself), or the session cookie (the pages), for which every
unsafe request must also carry the session's CSRF token (header X-CSRF-Token, or the form
field csrf_token).
"""
from __future__ import annotations

import hmac
from typing import Annotated, AsyncIterator

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from api.errors import ApiError
from workflow import auth_service
from workflow.access import Actor
from workflow.settings import Settings, get_settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_engine(request: Request) -> Engine:
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        from db.session import default_engine

        engine = request.app.state.engine = default_engine()
    return engine


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request. Async on purpose: opening and closing run on the event loop, so
    a request never needs a worker thread to give its connection back (with a sync generator,
    threads waiting for a pooled connection could starve the teardowns that free one)."""
    session = Session(get_engine(request), expire_on_commit=False)
    try:
        yield session
    finally:
        try:
            session.close()
        except DBAPIError as exc:
            # Closing rolls back, after the answer has been sent; when the server has just ended
            # the connection (a restart), that rollback fails. The server has already rolled back
            # and SQLAlchemy has discarded the connection: raising could only cut the client's
            # connection under an answer it has received.
            if not exc.connection_invalidated:
                raise


SessionDep = Annotated[Session, Depends(get_session)]


def _trusted(address: str, proxies: tuple[str, ...]) -> bool:
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address in proxies  # a name (e.g. a test client), trusted only when named exactly
    for p in proxies:
        try:
            if ip in ipaddress.ip_network(p, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: Request, settings: "Settings") -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy
    (PMFLOW_TRUSTED_PROXIES), the nearest address in X-Forwarded-For that is not a trusted proxy."""
    peer = request.client.host if request.client else "?"
    if not settings.proxies or not _trusted(peer, settings.proxies):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, settings.proxies):
            return hop[:64]
    return peer
async def settings() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings)]

# Declared for the OpenAPI document (the "Authorize" button); the checks are ours below.
bearer_scheme = HTTPBearer(auto_error=False, description="token from POST /api/v1/auth/login")
cookie_scheme = APIKeyCookie(name="pmflow_session", auto_error=False,
                             description="browser session; unsafe requests need X-CSRF-Token")


async def _csrf_given(request: Request, settings: Settings) -> str:
    given = request.headers.get(settings.csrf_header, "")
    if not given and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached by Starlette: the route can still read it
        value = form.get(settings.csrf_field)
        given = value if isinstance(value, str) else ""
    return given


async def submitted_csrf(request: Request, settings: SettingsDep) -> str:
    """The CSRF token an unsafe cookie-authenticated request carries (async: it may read the form)."""
    if request.method in SAFE_METHODS or settings.cookie_name not in request.cookies:
        return ""
    return await _csrf_given(request, settings)


CsrfDep = Annotated[str, Depends(submitted_csrf)]


def _from_cookie(request: Request, session: Session, settings: Settings, given: str) -> auth_service.Authenticated | None:
    token = request.cookies.get(settings.cookie_name)
    if not token:
        return None
    found = auth_service.authenticate(session, token, kind="cookie", secret_key=settings.secret_key)
    if found is None:
        return None
    if request.method not in SAFE_METHODS and not (given and hmac.compare_digest(given, found.csrf_token)):
        raise ApiError(403, "ไม่มีรหัสป้องกันการปลอมแปลงคำขอ (CSRF) หรือรหัสไม่ถูกต้อง",
                       "missing or wrong CSRF token", field=settings.csrf_header)
    return found


def authentication(request: Request, session: SessionDep, settings: SettingsDep, csrf: CsrfDep,
                   bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
                   _cookie: Annotated[str | None, Depends(cookie_scheme)] = None,
                   ) -> auth_service.Authenticated | None:
    """Who is calling (None: nobody signed in). Sync: the database work runs in a worker thread,
    never on the event loop."""
    try:
        if bearer is not None:
            found = auth_service.authenticate(session, bearer.credentials, kind="bearer",
                                              secret_key=settings.secret_key)
            if found is None:
                raise ApiError(401, "โทเค็นไม่ถูกต้องหรือหมดอายุ", "invalid or expired token",
                               field="Authorization", headers={"WWW-Authenticate": "Bearer"})
            return found
        return _from_cookie(request, session, settings, csrf)
    finally:
        _end_read(session)


def _end_read(session: Session) -> None:
    # SQLite's BEGIN IMMEDIATE takes the write lock even to read: let it go before the route
    # works. PostgreSQL reads take no lock; the route goes on in the same transaction.
    if session.get_bind().dialect.name == "sqlite":
        session.commit()


AuthDep = Annotated[auth_service.Authenticated | None, Depends(authentication)]


async def required_auth(auth: AuthDep) -> auth_service.Authenticated:
    if auth is None:
        raise ApiError(401, "ต้องลงชื่อเข้าใช้", "sign in first", field="Authorization",
                       headers={"WWW-Authenticate": "Bearer"})
    return auth


async def required_actor(auth: Annotated[auth_service.Authenticated, Depends(required_auth)]) -> Actor:
    return auth.actor


ActorDep = Annotated[Actor, Depends(required_actor)]
RequiredAuthDep = Annotated[auth_service.Authenticated, Depends(required_auth)]


MAX_ID = 2**31 - 1  # the database's integer: no row has a larger id


async def reject_huge_ids(request: Request) -> None:
    """An id in a page's path beyond the database's integer names nothing: 404, never a database
    error (app-wide dependency; the API's routes bound their ids themselves, with a 422)."""
    if request.url.path.startswith("/api/"):
        return
    for key, value in request.path_params.items():
        if (key == "id" or key.endswith("_id")) and isinstance(value, str) and value.isdigit() \
                and (len(value) > 10 or int(value) > MAX_ID):
            from starlette.exceptions import HTTPException

            raise HTTPException(404, f"{key} {value[:20]} not found")


async def reject_nul(request: Request) -> None:
    """No NUL characters anywhere in the input: PostgreSQL text cannot hold them, so they are a
    422 naming the field rather than a database error (app-wide dependency)."""
    from workflow.errors import InvalidInput, Problem

    def refuse(field: str) -> InvalidInput:
        return InvalidInput([Problem(field, "ข้อความต้องไม่มีอักขระ NUL (\\u0000)",
                                     "text may not contain the NUL (\\u0000) character")])

    for key, value in request.query_params.multi_items():
        if "\x00" in key or "\x00" in value:
            raise refuse(f"query.{key.replace(chr(0), '')}")
    for key, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            raise refuse(f"path.{key}")
    if request.method in SAFE_METHODS:
        return
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key, value in form.multi_items():
            if "\x00" in key or (isinstance(value, str) and "\x00" in value):
                raise refuse(f"body.{key.replace(chr(0), '')}")
    else:
        body = await request.body()
        if b"\\u0000" in body or b"\x00" in body:
            raise refuse("body")
