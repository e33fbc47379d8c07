"""Accounts and their organisation-scoped roles: for admins only (others get 403)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.schemas import Page, UtcDateTime
from db.models import Account, RoleAssignment
from workflow import account_admin, queries
from workflow.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["accounts"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class RoleAssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    role: str = Field(examples=["hr"])
    org_unit_id: int


class AccountOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 3, "username": "hr-demo", "person_id": 8, "is_admin": False, "active": True,
        "locked_until": None, "created_at": "2026-10-01T08:00:00Z",
        "roles": [{"id": 1, "role": "hr", "org_unit_id": 1}]}]})
    id: int
    username: str
    person_id: int | None
    is_admin: bool
    active: bool
    locked_until: UtcDateTime | None
    created_at: UtcDateTime
    roles: list[RoleAssignmentOut]


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"username": "hr-udn", "password": "a long passphrase", "person_id": 8, "is_admin": False}]})
    username: str = Field(min_length=1, max_length=150, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=1, max_length=500)
    person_id: int | None = Field(None, ge=1, le=2**31 - 1)
    is_admin: bool = False


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "hr", "org_unit_id": 1}]})
    role: Literal["hr", "authority", "committee"]  # administrators are global: Account.is_admin
    org_unit_id: int = Field(ge=1, le=2**31 - 1)


def _out(a: Account, roles: list[RoleAssignment]) -> AccountOut:
    return AccountOut(id=a.id, username=a.username, person_id=a.person_id, is_admin=a.is_admin, active=a.active,
                      locked_until=a.locked_until, created_at=a.created_at,
                      roles=[RoleAssignmentOut.model_validate(r) for r in roles])


@router.get("/accounts", response_model=Page[AccountOut], responses=responses(401, 403, 422),
            summary="Accounts (admin) / บัญชีผู้ใช้")
def list_accounts(session: SessionDep, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                  offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Page[AccountOut]:
    queries.require_admin(actor, "list_accounts")
    total, rows = queries.accounts_page(session, limit=limit, offset=offset)
    roles = queries.roles_of_accounts(session, [a.id for a in rows])
    return Page[AccountOut](items=[_out(a, roles[a.id]) for a in rows], total=total, limit=limit, offset=offset)


@router.get("/accounts/{account_id}", response_model=AccountOut, responses=responses(401, 403, 404, 422))
def get_account(account_id: Id, session: SessionDep, actor: ActorDep) -> AccountOut:
    queries.require_admin(actor, "get_account")
    a = session.get(Account, account_id)
    if a is None:
        raise NotFound("account", account_id)
    return _out(a, queries.roles_of_accounts(session, [a.id])[a.id])


@router.post("/accounts", response_model=AccountOut, status_code=201, responses=responses(401, 403, 409, 413, 422),
             summary="Create an account (admin)")
def create_account(body: AccountIn, session: SessionDep, actor: ActorDep) -> AccountOut:
    a = account_admin.create(session, actor, username=body.username, password=body.password,
                             person_id=body.person_id, is_admin=body.is_admin)
    return _out(a, [])


@router.post("/accounts/{account_id}/roles", response_model=AccountOut, status_code=201,
             responses=responses(401, 403, 404, 409, 413, 422), summary="Grant an organisation-scoped role (admin)")
def grant_role(account_id: Id, body: RoleIn, session: SessionDep, actor: ActorDep) -> AccountOut:
    account_admin.grant(session, actor, account_id=account_id, role=body.role, org_unit_id=body.org_unit_id)
    return get_account(account_id, session, actor)


@router.delete("/accounts/{account_id}/roles/{assignment_id}", response_model=AccountOut,
               responses=responses(401, 403, 404, 422), summary="Take a role away (admin)")
def revoke_role(account_id: Id, assignment_id: Id, session: SessionDep, actor: ActorDep) -> AccountOut:
    account_admin.revoke(session, actor, account_id=account_id, assignment_id=assignment_id)
    return get_account(account_id, session, actor)
