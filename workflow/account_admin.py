"""Administering accounts and their organisation-scoped roles (admins only)."""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from db.models import Account, OrgUnit, Person, RoleAssignment
from workflow import accounts
from workflow.access import Actor
from workflow.auth_service import password_problems
from workflow.errors import Conflict, InvalidInput, NotFound, Problem
from workflow.queries import require_admin


def create(session: Session, actor: Actor, *, username: str, password: str, person_id: int | None,
           is_admin: bool) -> Account:
    require_admin(actor, "create_account")
    problems = password_problems(password, username=username, field="password")
    person = session.get(Person, person_id) if person_id is not None else None
    if person_id is not None and person is None:
        problems.append(Problem("person_id", "ไม่พบบุคลากรนี้", "no such person"))
    if problems:
        raise InvalidInput(problems)
    if session.execute(select(Account.id).where(Account.username == username)).first():
        raise Conflict(f"มีชื่อผู้ใช้ {username} แล้ว", f"the username {username} is taken")
    try:
        account = accounts.create_account(session, username=username, password=password, person=person,
                                          is_admin=is_admin)
        session.commit()
        return account
    except BaseException:
        session.rollback()
        raise


def grant(session: Session, actor: Actor, *, account_id: int, role: str, org_unit_id: int) -> RoleAssignment:
    require_admin(actor, "grant_role")
    if session.get(Account, account_id) is None:
        raise NotFound("account", account_id)
    problems = []
    if role not in accounts.ORG_ROLES:
        problems.append(Problem("role", "บทบาทต้องเป็น " + ", ".join(accounts.ORG_ROLES),
                                "role must be one of " + ", ".join(accounts.ORG_ROLES)))
    if session.get(OrgUnit, org_unit_id) is None:
        problems.append(Problem("org_unit_id", "ไม่พบหน่วยงานนี้", "no such organisation unit"))
    if problems:
        raise InvalidInput(problems)
    if session.execute(select(RoleAssignment.id).where(
            RoleAssignment.account_id == account_id, RoleAssignment.role == role,
            RoleAssignment.org_unit_id == org_unit_id)).first():
        raise Conflict("มีบทบาทนี้แล้ว", "the account already has this role there")
    row = RoleAssignment(account_id=account_id, role=role, org_unit_id=org_unit_id)
    session.add(row)
    session.commit()
    return row


def revoke(session: Session, actor: Actor, *, account_id: int, assignment_id: int) -> None:
    require_admin(actor, "revoke_role")
    row = session.get(RoleAssignment, assignment_id)
    if row is None or row.account_id != account_id:
        raise NotFound("role assignment", assignment_id)
    session.delete(row)
    session.commit()
