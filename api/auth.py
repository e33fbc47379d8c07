"""Signing in and out over HTTP, and the helpers the pages reuse.

`POST /api/v1/auth/login` answers a bearer token (for API clients) and, in the same answer,
sets the HttpOnly SameSite=Lax session cookie (for the browser) and returns its CSRF token.
"""
from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import ActorDep, RequiredAuthDep, SessionDep, SettingsDep
from api.errors import ApiError, responses
from api.schemas import UtcDateTime
from workflow import auth_service
from workflow.access import Actor
from workflow.errors import InvalidInput
from workflow.settings import Settings

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"username": "evaluator-demo", "password": "correct horse battery"}]})
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=500)


class RoleOut(BaseModel):
    role: str = Field(examples=["hr"])
    org_unit_id: int
    org_code: str
    org_name: str


class OrgRef(BaseModel):
    id: int
    code: str = Field(examples=["UDN-EDU"])
    name: str = Field(examples=["กองการศึกษา"])


class MeOut(BaseModel):
    account_id: int | None
    username: str = Field(examples=["hr-demo"])
    name: str = Field(examples=["สมหญิง รักงาน"])
    person_id: int | None
    person_code: str | None
    is_admin: bool
    org_unit: "OrgRef | None" = Field(description="the person's own organisation unit")
    roles: list[RoleOut] = Field(description="organisation-scoped roles (hr, authority, committee, admin)")


class LoginOut(BaseModel):
    access_token: str = Field(description="send as `Authorization: Bearer <token>`")
    token_type: str = Field("bearer", examples=["bearer"])
    expires_at: UtcDateTime
    csrf_token: str = Field(description="for cookie sessions: send as X-CSRF-Token on unsafe requests")
    me: MeOut


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=500)
    new_password: str = Field(min_length=1, max_length=500)


class Done(BaseModel):
    ok: bool = Field(True, examples=[True])


class FailuresByAddress:
    """Failed logins per client address in a sliding window, in this process's memory. The
    account lock (in the database) is what holds across workers; this only slows down one
    address trying many usernames, and being per process it errs on the lenient side."""

    def __init__(self, limit: int = 20, window_s: float = 600.0):
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        q = self._seen.setdefault(address, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def blocked(self, address: str) -> float:
        """Seconds until this address may try again (0: now)."""
        now = time.monotonic()
        with self._lock:
            q = self._recent(address, now)
            return q[0] + self.window_s - now if len(q) >= self.limit else 0.0

    def failed(self, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(address, now).append(now)
            if len(self._seen) > 100_000:  # bounded memory: forget the quiet addresses
                for key in [k for k, q in self._seen.items() if not q or q[-1] <= now - self.window_s]:
                    del self._seen[key]


FAILURES = FailuresByAddress()


def _address(request: Request, settings: Settings) -> str:
    from api.deps import client_address

    return client_address(request, settings)


def me_out(session: Session, actor: Actor) -> MeOut:
    me = auth_service.whoami(session, actor)
    return MeOut(account_id=me.account_id, username=me.username, name=me.name, person_id=me.person_id,
                 person_code=me.person_code, is_admin=me.is_admin,
                 org_unit=OrgRef(id=me.org_unit[0], code=me.org_unit[1], name=me.org_unit[2]) if me.org_unit else None,
                 roles=[RoleOut(role=r, org_unit_id=i, org_code=c, org_name=n) for r, i, c, n in me.roles])


def set_session_cookie(response: Response, settings: Settings, issued: auth_service.Issued) -> None:
    response.set_cookie(settings.cookie_name, issued.token, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/", expires=issued.expires_at)


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(settings.cookie_name, path="/", httponly=True, samesite="lax",
                           secure=settings.cookie_secure)


def too_many_from(address: str) -> ApiError | None:
    """The refusal for an address that failed too often lately (None: it may try)."""
    wait = FAILURES.blocked(address)
    if not wait:
        return None
    return ApiError(429, "ลงชื่อเข้าใช้ผิดหลายครั้งจากที่อยู่นี้ กรุณารอสักครู่",
                    "too many failed logins from this address; wait a while", field="username",
                    headers={"Retry-After": str(int(wait) + 1)})


def login_cookie_session(session: Session, response: Response, settings: Settings, username: str,
                         password: str, address: str) -> tuple[Actor, str]:
    """For the pages: check the password, set the session cookie; returns (actor, csrf token).
    Raises Unauthenticated like the API login, and counts failures from `address` alike."""
    try:
        actor, issued = auth_service.login(session, username, password, secret_key=settings.secret_key,
                                           kinds=("cookie",), source=address)
    except auth_service.Unauthenticated:
        FAILURES.failed(address)
        raise
    set_session_cookie(response, settings, issued["cookie"])
    return actor, issued["cookie"].csrf_token


@router.post("/login", response_model=LoginOut, responses=responses(401, 413, 422, 429),
             summary="Sign in / ลงชื่อเข้าใช้")
def login(body: LoginIn, request: Request, response: Response, session: SessionDep,
          settings: SettingsDep) -> LoginOut:
    address = _address(request, settings)
    refused = too_many_from(address)
    if refused:
        raise refused
    try:
        actor, issued = auth_service.login(session, body.username, body.password, secret_key=settings.secret_key,
                                           source=address)
    except auth_service.Unauthenticated:
        FAILURES.failed(address)
        raise
    set_session_cookie(response, settings, issued["cookie"])
    bearer = issued["bearer"]
    return LoginOut(access_token=bearer.token, expires_at=bearer.expires_at,
                    csrf_token=issued["cookie"].csrf_token, me=me_out(session, actor))


@router.post("/logout", response_model=Done, responses=responses(401, 403),
             summary="Sign out: the token or session used, and the others of the same sign-in, are revoked")
def logout(auth: RequiredAuthDep, response: Response, session: SessionDep, settings: SettingsDep) -> Done:
    auth_service.revoke(session, auth.token_id)
    if auth.kind == "cookie":
        clear_session_cookie(response, settings)
    return Done()


@router.post("/password", response_model=Done, responses=responses(401, 403, 422),
             summary="Change your password; your other sessions are signed out")
def change_password(body: PasswordIn, request: Request, auth: RequiredAuthDep, session: SessionDep,
                    settings: SettingsDep) -> Done:
    address = _address(request, settings)
    try:
        auth_service.change_password(session, auth.actor, current=body.current_password, new=body.new_password,
                                     keep_token_id=auth.token_id, source=address)
    except InvalidInput as exc:
        if any(p.field == "current_password" for p in exc.problems):
            FAILURES.failed(address)
        raise
    return Done()


@router.get("/me", response_model=MeOut, responses=responses(401), summary="Who am I / ข้อมูลผู้ใช้")
def whoami(actor: ActorDep, session: SessionDep) -> MeOut:
    return me_out(session, actor)
