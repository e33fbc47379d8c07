"""Local accounts and role assignments; passwords hashed with argon2."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlmodel import Session

from db.models import Account, OrgUnit, Person, RoleAssignment
from workflow.access import Actor

_hasher = PasswordHasher()
# Administrators are global (Account.is_admin); an organisation-scoped "admin" role is refused
# when granted and confers nothing if an old row holds one.
ORG_ROLES = ("hr", "authority", "committee")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def create_account(session: Session, *, username: str, password: str, person: Person | None = None,
                   is_admin: bool = False, roles: list[tuple[str, OrgUnit]] = (),
                   password_hash: str | None = None) -> Account:
    """Create an account; `password_hash` lets bulk callers (demo, tests) hash once and reuse."""
    account = Account(username=username, password_hash=password_hash or hash_password(password),
                      person_id=person.id if person else None, is_admin=is_admin)
    session.add(account)
    session.flush()
    for role, org in roles:
        session.add(RoleAssignment(account_id=account.id, role=role, org_unit_id=org.id))
    session.flush()
    return account


def actor_for(session: Session, account: Account) -> Actor:
    """The caller as the rules see them: person, admin flag, and scoped roles with org paths."""
    scoped = session.execute(
        select(RoleAssignment.role, OrgUnit.path).join(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
        .where(RoleAssignment.account_id == account.id)).all()
    person = session.get(Person, account.person_id) if account.person_id else None
    return Actor(account_id=account.id, person_id=account.person_id,
                 name=person.name_th if person else account.username,
                 is_admin=account.is_admin,
                 scoped_roles=tuple((r, p) for r, p in scoped if r in ORG_ROLES),
                 locale=person.locale if person else "th")
