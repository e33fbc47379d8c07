"""Signing in and out over HTTP, and the helpers the pages reuse.

`POST /api/v1/auth/login` answers a bearer token (for API clients) and, in the same answer,
sets the HttpOnly SameSite=Lax session cookie (for the browser) and returns its CSRF token.
"""
from __future__ import annotations


from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import ActorDep, RequiredAuthDep, SessionDep, SettingsDep
from api.errors import responses
from api.schemas import UtcDateTime
from api.settings import Settings
from workflow import auth_service
from workflow.access import Actor

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


class MeOut(BaseModel):
    account_id: int | None
    username: str = Field(examples=["hr-demo"])
    name: str = Field(examples=["สมหญิง รักงาน"])
    person_id: int | None
    person_code: str | None
    is_admin: bool
    roles: list[RoleOut]


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
    ok: bool = True


def me_out(session: Session, actor: Actor) -> MeOut:
    me = auth_service.whoami(session, actor)
    return MeOut(account_id=me.account_id, username=me.username, name=me.name, person_id=me.person_id,
                 person_code=me.person_code, is_admin=me.is_admin,
                 roles=[RoleOut(role=r, org_unit_id=i, org_code=c, org_name=n) for r, i, c, n in me.roles])


def set_session_cookie(response: Response, settings: Settings, issued: auth_service.Issued) -> None:
    response.set_cookie(settings.cookie_name, issued.token, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/", expires=issued.expires_at)


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(settings.cookie_name, path="/", httponly=True, samesite="lax",
                           secure=settings.cookie_secure)


def login_cookie_session(session: Session, response: Response, settings: Settings, username: str,
                         password: str) -> tuple[Actor, str]:
    """For the pages: check the password, set the session cookie; returns (actor, csrf token).
    Raises Unauthenticated / LoginLocked like the API login."""
    actor, issued = auth_service.login(session, username, password, secret_key=settings.secret_key,
                                       kinds=("cookie",))
    set_session_cookie(response, settings, issued["cookie"])
    return actor, issued["cookie"].csrf_token


@router.post("/login", response_model=LoginOut, responses=responses(401, 413, 422, 429),
             summary="Sign in / ลงชื่อเข้าใช้")
def login(body: LoginIn, response: Response, session: SessionDep, settings: SettingsDep) -> LoginOut:
    actor, issued = auth_service.login(session, body.username, body.password, secret_key=settings.secret_key)
    set_session_cookie(response, settings, issued["cookie"])
    bearer = issued["bearer"]
    return LoginOut(access_token=bearer.token, expires_at=bearer.expires_at,
                    csrf_token=issued["cookie"].csrf_token, me=me_out(session, actor))


@router.post("/logout", response_model=Done, responses=responses(401, 403),
             summary="Sign out: the token or session used is revoked")
def logout(auth: RequiredAuthDep, response: Response, session: SessionDep, settings: SettingsDep) -> Done:
    auth_service.revoke(session, auth.token_id)
    if auth.kind == "cookie":
        clear_session_cookie(response, settings)
    return Done()


@router.post("/password", response_model=Done, responses=responses(401, 403, 422),
             summary="Change your password; your other sessions are signed out")
def change_password(body: PasswordIn, auth: RequiredAuthDep, session: SessionDep) -> Done:
    auth_service.change_password(session, auth.actor, current=body.current_password, new=body.new_password,
                                 keep_token_id=auth.token_id)
    return Done()


@router.get("/me", response_model=MeOut, responses=responses(401), summary="Who am I / ข้อมูลผู้ใช้")
def whoami(actor: ActorDep, session: SessionDep) -> MeOut:
    return me_out(session, actor)
