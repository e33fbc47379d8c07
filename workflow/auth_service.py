"""Signing in: password checks with a lock after repeated failures, tokens and browser sessions.

Everything that must hold across worker processes lives in the database: failed-login counts
and locks on the account row (updated atomically), tokens as hashes in `auth_token`.
Nothing here knows HTTP; `api/auth.py` turns these results into headers and cookies.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlmodel import Session

from db.models import Account, AuthToken, OrgUnit, Person, RoleAssignment, utcnow
from workflow.access import Actor
from workflow.accounts import ORG_ROLES, actor_for, check_password, hash_password
from workflow.errors import InvalidInput, Problem, WorkflowError

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
BEARER_TTL = timedelta(hours=12)
COOKIE_TTL = timedelta(hours=8)
MIN_PASSWORD = 8
# A fixed hash to check against when the username is unknown, so both cases cost the same.
_DUMMY_HASH = hash_password("not-a-real-password")


class Unauthenticated(WorkflowError):
    """No valid credentials: wrong username or password, or a missing/expired/revoked token."""

    def __init__(self, th: str = "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", en: str = "wrong username or password"):
        self.th, self.en = th, en
        super().__init__(f"{th} / {en}")


class LoginLocked(WorkflowError):
    """Too many failed logins: the account is locked until `until`."""

    def __init__(self, until: datetime):
        self.until = until
        super().__init__(f"ลงชื่อเข้าใช้ผิดหลายครั้ง บัญชีถูกระงับถึง {until:%H:%M} UTC / "
                         f"too many failed logins; the account is locked until {until.isoformat()}")


@dataclass(frozen=True)
class Issued:
    token: str
    token_id: int
    kind: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class Authenticated:
    actor: Actor
    token_id: int
    kind: str
    csrf_token: str


def _aware(at: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return at.replace(tzinfo=timezone.utc) if at is not None and at.tzinfo is None else at


def token_hash(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def verify_password(session: Session, username: str, password: str, *, now: datetime | None = None) -> Account:
    """The account whose password this is; counts failures and locks after MAX_FAILURES.

    Commits its bookkeeping (a failure must be counted even though the caller gets an error)."""
    now = now or utcnow()
    account = session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
    if account is None or not account.active:
        check_password(_DUMMY_HASH, password)
        session.rollback()
        raise Unauthenticated()
    locked_until = _aware(account.locked_until)
    if locked_until is not None and locked_until > now:
        session.rollback()
        raise LoginLocked(locked_until)
    if not check_password(account.password_hash, password):
        # One atomic UPDATE: concurrent failures from several workers all count.
        failures = session.execute(
            update(Account).where(Account.id == account.id)
            .values(failed_logins=Account.failed_logins + 1).returning(Account.failed_logins)).scalar_one()
        if failures >= MAX_FAILURES:
            until = now + LOCK_FOR
            session.execute(update(Account).where(Account.id == account.id)
                            .values(failed_logins=0, locked_until=until))
            session.commit()
            raise LoginLocked(until)
        session.commit()
        raise Unauthenticated()
    if account.failed_logins or account.locked_until is not None:
        session.execute(update(Account).where(Account.id == account.id)
                        .values(failed_logins=0, locked_until=None))
    return account


def issue(session: Session, account: Account, *, kind: str, secret_key: str,
          now: datetime | None = None) -> Issued:
    """A new bearer token or cookie session for this account (only its hash is stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "cookie" else ""
    expires = now + (COOKIE_TTL if kind == "cookie" else BEARER_TTL)
    row = AuthToken(token_hash=token_hash(secret_key, token), account_id=account.id, kind=kind,
                    csrf_token=csrf, created_at=now, expires_at=expires)
    session.add(row)
    session.flush()
    return Issued(token, row.id, kind, csrf, expires)


def login(session: Session, username: str, password: str, *, secret_key: str,
          kinds: tuple[str, ...] = ("bearer", "cookie")) -> tuple[Actor, dict[str, Issued]]:
    """Check the password and issue one token per kind, in one transaction."""
    try:
        account = verify_password(session, username, password)
        issued = {kind: issue(session, account, kind=kind, secret_key=secret_key) for kind in kinds}
        actor = actor_for(session, account)
        session.commit()
        return actor, issued
    except BaseException:
        session.rollback()
        raise


def authenticate(session: Session, token: str, *, kind: str, secret_key: str,
                 now: datetime | None = None) -> Authenticated | None:
    """The signed-in caller for a token of this kind, or None if it is unknown, expired or revoked."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    # One round trip: the token, its account and person, and one row per role assignment.
    rows = session.execute(
        select(AuthToken.id, AuthToken.kind, AuthToken.csrf_token, AuthToken.revoked, AuthToken.expires_at,
               Account.id, Account.username, Account.is_admin, Account.active, Account.person_id,
               Person.name_th, Person.locale, RoleAssignment.role, OrgUnit.path)
        .join(Account, Account.id == AuthToken.account_id)
        .outerjoin(Person, Person.id == Account.person_id)
        .outerjoin(RoleAssignment, RoleAssignment.account_id == Account.id)
        .outerjoin(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
        .where(AuthToken.token_hash == token_hash(secret_key, token), AuthToken.kind == kind)
        .order_by(RoleAssignment.id)).all()
    if not rows:
        return None
    (token_id, tok_kind, csrf, revoked, expires, account_id, username, is_admin, active, person_id,
     person_name, locale, _, _) = rows[0]
    if revoked or not active or _aware(expires) <= now:
        return None
    scoped = tuple((r.role, r.path) for r in rows if r.role in ORG_ROLES)
    # The same Actor as accounts.actor_for (which takes three queries; this runs on every request).
    actor = Actor(account_id=account_id, person_id=person_id, name=person_name or username,
                  is_admin=is_admin, scoped_roles=scoped,
                  locale=locale or "th")
    return Authenticated(actor, token_id, tok_kind, csrf)


def revoke(session: Session, token_id: int) -> None:
    session.execute(update(AuthToken).where(AuthToken.id == token_id).values(revoked=True))
    session.commit()


def change_password(session: Session, actor: Actor, *, current: str, new: str, keep_token_id: int | None) -> None:
    """Change the caller's password; every other session of theirs is signed out."""
    problems = []
    account = session.get(Account, actor.account_id) if actor.account_id else None
    if account is None:
        raise Unauthenticated()
    if not check_password(account.password_hash, current):
        problems.append(Problem("current_password", "รหัสผ่านปัจจุบันไม่ถูกต้อง", "the current password is wrong"))
    if len(new) < MIN_PASSWORD:
        problems.append(Problem("new_password", f"รหัสผ่านใหม่ต้องยาวอย่างน้อย {MIN_PASSWORD} ตัวอักษร",
                                f"the new password needs at least {MIN_PASSWORD} characters"))
    elif new == current:
        problems.append(Problem("new_password", "รหัสผ่านใหม่ต้องไม่ซ้ำรหัสเดิม",
                                "the new password must differ from the current one"))
    if problems:
        session.rollback()
        raise InvalidInput(problems)
    account.password_hash = hash_password(new)
    session.add(account)
    session.execute(update(AuthToken).where(AuthToken.account_id == account.id, AuthToken.id != (keep_token_id or -1))
                    .values(revoked=True))
    session.commit()


@dataclass(frozen=True)
class Me:
    account_id: int | None
    username: str
    name: str
    person_id: int | None
    person_code: str | None
    is_admin: bool
    roles: list[tuple[str, int, str, str]]  # (role, org id, org code, org name)
    org_unit: tuple[int, str, str] | None = None  # the person's own unit: (id, code, name)


def whoami(session: Session, actor: Actor) -> Me:
    account = session.get(Account, actor.account_id) if actor.account_id else None
    person = session.get(Person, actor.person_id) if actor.person_id else None
    rows = session.execute(
        select(RoleAssignment.role, OrgUnit.id, OrgUnit.code, OrgUnit.name_th)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
        .where(RoleAssignment.account_id == actor.account_id).order_by(RoleAssignment.id)).all()
    unit = session.get(OrgUnit, person.org_unit_id) if person else None
    return Me(actor.account_id, account.username if account else actor.name, actor.name, actor.person_id,
              person.code if person else None, actor.is_admin, [tuple(r) for r in rows],
              (unit.id, unit.code, unit.name_th) if unit else None)
