"""The in-app inbox (each person reads their own) and the deliveries HR must look at."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from db.models import ChannelSetting, InboxMessage, OrgUnit, Outbox, Person
from workflow import orgs
from workflow.access import Actor
from workflow.errors import InvalidInput, NotAllowed, NotFound, Problem
from workflow.notifications import channels
from workflow.notifications.clock import to_utc


def messages(session: Session, actor: Actor, *, unread_only: bool = False, limit: int = 50,
             offset: int = 0) -> tuple[list[InboxMessage], int, int]:
    """(page of the caller's messages, newest first; how many match; how many are unread)."""
    if actor.person_id is None:
        return [], 0, 0
    mine = InboxMessage.person_id == actor.person_id
    where = [mine, InboxMessage.read_at.is_(None)] if unread_only else [mine]
    total = session.execute(select(func.count()).select_from(InboxMessage).where(*where)).scalar_one()
    unread = session.execute(select(func.count()).select_from(InboxMessage)
                             .where(mine, InboxMessage.read_at.is_(None))).scalar_one()
    rows = list(session.execute(select(InboxMessage).where(*where)
                                .order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc())
                                .limit(limit).offset(offset)).scalars())
    return rows, total, unread


def mark_read(session: Session, actor: Actor, message_id: int, *, now: datetime) -> InboxMessage:
    """Mark one of the caller's own messages read (someone else's is "not found")."""
    msg = session.get(InboxMessage, message_id)
    if msg is None or actor.person_id is None or msg.person_id != actor.person_id:
        raise NotFound("inbox message", message_id)
    if msg.read_at is None:
        msg.read_at = to_utc(now)
        session.add(msg)
        session.commit()
    return msg


def mark_all_read(session: Session, actor: Actor, *, now: datetime) -> int:
    if actor.person_id is None:
        return 0
    n = session.execute(update(InboxMessage).where(InboxMessage.person_id == actor.person_id,
                                                   InboxMessage.read_at.is_(None))
                        .values(read_at=to_utc(now)).execution_options(synchronize_session=False)).rowcount
    session.commit()
    return n


def _hr_scope(actor: Actor) -> list[str] | None:
    """Org paths whose deliveries the caller may see (None: all, for an admin)."""
    if actor.is_admin:
        return None
    scopes = actor.scopes("hr")
    if not scopes:
        raise NotAllowed("list_deliveries", frozenset())
    return scopes


def troubled_deliveries(session: Session, actor: Actor, *, status: str | None = None, limit: int = 50,
                        offset: int = 0) -> tuple[list[tuple[Outbox, Person]], int]:
    """Deliveries that failed, or are waiting to be retried after an error, for HR: the
    recipients in the caller's HR scope, newest first."""
    scopes = _hr_scope(actor)
    where = [or_(Outbox.status == "failed", Outbox.last_error != "")] if status is None \
        else [Outbox.status == status]
    stmt = (select(Outbox, Person).join(Person, Person.id == Outbox.recipient_person_id)
            .join(OrgUnit, OrgUnit.id == Person.org_unit_id).where(*where))
    if scopes is not None:
        stmt = stmt.where(orgs.within(scopes))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(Outbox.id.desc()).limit(limit).offset(offset)).all()
    return [(o, p) for o, p in rows], total


def retry_delivery(session: Session, actor: Actor, outbox_id: int, *, now: datetime) -> Outbox:
    scopes = _hr_scope(actor)
    row = session.get(Outbox, outbox_id)
    person = session.get(Person, row.recipient_person_id) if row else None
    org = session.get(OrgUnit, person.org_unit_id) if person else None
    if row is None or (scopes is not None and not any(org.path.startswith(p) for p in scopes)):
        raise NotFound("delivery", outbox_id)
    channels.retry(session, outbox_id, now=now)
    session.refresh(row)
    return row


# --- an organisation's webhook (HR) --------------------------------------------------------------
@dataclass(frozen=True)
class Webhook:
    org_code: str
    target: str
    enabled: bool


def _org_for_hr(session: Session, actor: Actor, org_code: str) -> OrgUnit:
    org = session.execute(select(OrgUnit).where(OrgUnit.code == org_code)).scalar_one_or_none()
    if org is None or not (actor.is_admin or actor.has_scope("hr", org.path)):
        raise NotFound("org", org_code)  # another organisation's is not yours to see
    return org


def webhook_of(session: Session, actor: Actor, org_code: str) -> Webhook:
    org = _org_for_hr(session, actor, org_code)
    row = session.execute(select(ChannelSetting).where(
        ChannelSetting.org_unit_id == org.id, ChannelSetting.person_id.is_(None),
        ChannelSetting.channel == "webhook")).scalar_one_or_none()
    return Webhook(org.code, row.target if row else "", bool(row and row.enabled and row.target))


def set_webhook(session: Session, actor: Actor, org_code: str, *, target: str, enabled: bool,
                secret: str) -> Webhook:
    """HR sets where the organisation's reminders are posted (a chat tool's incoming webhook),
    for the whole organisation below it; an empty target with enabled=False switches it off."""
    org = _org_for_hr(session, actor, org_code)
    target = target.strip()
    problems = []
    if enabled and not target:
        problems.append(Problem("target", "ต้องระบุที่อยู่ webhook", "a webhook address is required"))
    elif target and (urlsplit(target).scheme not in ("http", "https") or not urlsplit(target).netloc):
        problems.append(Problem("target", "ที่อยู่ต้องขึ้นต้นด้วย https:// หรือ http://",
                                "the address must be an http:// or https:// URL"))
    elif len(target) > 500:
        problems.append(Problem("target", "ที่อยู่ยาวเกิน 500 ตัวอักษร", "the address is longer than 500 characters"))
    if enabled and not secret:
        problems.append(Problem("enabled", "เซิร์ฟเวอร์ยังไม่ได้ตั้งรหัสลงนาม webhook (PMFLOW_WEBHOOK_SECRET)",
                                "the server has no webhook signing secret (PMFLOW_WEBHOOK_SECRET): "
                                "webhooks are never sent unsigned"))
    if problems:
        raise InvalidInput(problems)
    row = session.execute(select(ChannelSetting).where(
        ChannelSetting.org_unit_id == org.id, ChannelSetting.person_id.is_(None),
        ChannelSetting.channel == "webhook")).scalar_one_or_none()
    if row is None:
        row = ChannelSetting(org_unit_id=org.id, person_id=None, channel="webhook")
    row.target, row.enabled = target, enabled
    session.add(row)
    session.commit()
    return Webhook(org.code, target, enabled and bool(target))
