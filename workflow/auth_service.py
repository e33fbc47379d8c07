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
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlmodel import Session

from db.models import Account, AuthToken, LoginThrottle, OrgUnit, Person, RoleAssignment, utcnow
from workflow.access import Actor
from workflow.accounts import ORG_ROLES, actor_for, check_password, hash_password
from workflow.errors import InvalidInput, Problem, WorkflowError

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
BEARER_TTL = timedelta(hours=12)
COOKIE_TTL = timedelta(hours=8)
MIN_PASSWORD = 12  # a default we chose (NIST SP 800-63B asks at least 8; we ask more)
_COMMON = Path(__file__).with_name("common_passwords.txt")
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


def _throttle(session: Session, account_id: int, source: str) -> LoginThrottle | None:
    return session.get(LoginThrottle, (account_id, source))


def _locked(session: Session, account_id: int, source: str, now: datetime) -> bool:
    row = _throttle(session, account_id, source)
    until = _aware(row.locked_until) if row is not None else None
    return until is not None and until > now


def record_failure(session: Session, account_id: int, source: str, *, now: datetime | None = None) -> None:
    """Count one failed password for this account from this source; lock the pair after
    MAX_FAILURES. One atomic upsert: concurrent failures from several workers all count.
    Commits (a failure must be counted even though the caller gets an error)."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = LoginThrottle.__table__
    stmt = insert(table).values(account_id=account_id, source=source[:64], failures=1)
    stmt = stmt.on_conflict_do_update(index_elements=["account_id", "source"],
                                      set_={"failures": table.c.failures + 1}).returning(table.c.failures)
    failures = session.execute(stmt).scalar_one()
    if failures >= MAX_FAILURES:
        session.execute(update(table).where(table.c.account_id == account_id, table.c.source == source[:64])
                        .values(failures=0, locked_until=now + LOCK_FOR))
    session.commit()


def verify_password(session: Session, username: str, password: str, *, source: str = "?",
                    now: datetime | None = None) -> Account:
    """The account whose password this is. Failures are counted per account AND source
    (`source`: the client's address), locking that pair for LOCK_FOR after MAX_FAILURES. A
    locked pair, an unknown user and a wrong password all get the same answer (Unauthenticated)
    at the same cost, so nobody learns whether an account exists or is locked, and nobody can
    lock an account for the people signing in from elsewhere."""
    now = now or utcnow()
    account = session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
    if account is None or not account.active:
        check_password(_DUMMY_HASH, password)
        session.rollback()
        raise Unauthenticated()
    if _locked(session, account.id, source, now):
        check_password(_DUMMY_HASH, password)
        session.rollback()
        raise Unauthenticated()
    if not check_password(account.password_hash, password):
        record_failure(session, account.id, source, now=now)
        raise Unauthenticated()
    session.execute(delete(LoginThrottle).where(LoginThrottle.account_id == account.id,
                                                LoginThrottle.source == source[:64]))
    return account


def issue(session: Session, account: Account, *, kind: str, secret_key: str,
          now: datetime | None = None, sign_in: str = "") -> Issued:
    """A new bearer token or cookie session for this account (only its hash is stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "cookie" else ""
    expires = now + (COOKIE_TTL if kind == "cookie" else BEARER_TTL)
    row = AuthToken(token_hash=token_hash(secret_key, token), account_id=account.id, kind=kind,
                    csrf_token=csrf, created_at=now, expires_at=expires, sign_in=sign_in)
    session.add(row)
    session.flush()
    return Issued(token, row.id, kind, csrf, expires)


def login(session: Session, username: str, password: str, *, secret_key: str,
          kinds: tuple[str, ...] = ("bearer", "cookie"), source: str = "?") -> tuple[Actor, dict[str, Issued]]:
    """Check the password and issue one token per kind, in one transaction; the tokens of one
    sign-in share a `sign_in` id, so signing out with one ends them all."""
    try:
        account = verify_password(session, username, password, source=source)
        sign_in = secrets.token_hex(16)
        issued = {kind: issue(session, account, kind=kind, secret_key=secret_key, sign_in=sign_in) for kind in kinds}
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
    """Sign out: this token and every token issued by the same sign-in (bearer and cookie)."""
    sign_in = session.execute(select(AuthToken.sign_in).where(AuthToken.id == token_id)).scalar_one_or_none()
    same = AuthToken.id == token_id
    if sign_in:
        same = same | (AuthToken.sign_in == sign_in)
    session.execute(update(AuthToken).where(same).values(revoked=True))
    session.commit()


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def password_problems(password: str, *, username: str, field: str) -> list[Problem]:
    """What is wrong with a new password: shorter than MIN_PASSWORD, the username, or a
    password everybody tries first. Applies to new and changed passwords only."""
    if len(password) < MIN_PASSWORD:
        return [Problem(field, f"รหัสผ่านต้องยาวอย่างน้อย {MIN_PASSWORD} ตัวอักษร",
                        f"the password needs at least {MIN_PASSWORD} characters")]
    lowered = password.strip().lower()
    if username and lowered == username.strip().lower():
        return [Problem(field, "รหัสผ่านต้องไม่ใช่ชื่อผู้ใช้", "the password must not be the username")]
    if lowered in common_passwords():
        return [Problem(field, "รหัสผ่านนี้ถูกใช้กันทั่วไป เดาได้ง่าย กรุณาเลือกรหัสอื่น",
                        "this password is too common and easily guessed; choose another")]
    return []


def change_password(session: Session, actor: Actor, *, current: str, new: str, keep_token_id: int | None,
                    source: str = "?") -> None:
    """Change the caller's password; every other session of theirs is signed out. A wrong
    current password counts as a failed sign-in from `source` (and a locked pair is refused)."""
    problems = []
    account = session.get(Account, actor.account_id) if actor.account_id else None
    if account is None:
        raise Unauthenticated()
    now = utcnow()
    locked = _locked(session, account.id, source, now)
    if locked or not check_password(account.password_hash, current):
        if not locked:
            record_failure(session, account.id, source, now=now)
        problems.append(Problem("current_password", "รหัสผ่านปัจจุบันไม่ถูกต้อง", "the current password is wrong"))
    problems += password_problems(new, username=account.username, field="new_password")
    if not problems and new == current:
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
