"""The in-app inbox (each person reads and marks their own messages) and, for HR, the
deliveries that failed or wait for a retry."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.deps import ActorDep, SessionDep, SettingsDep
from api.errors import responses
from api.schemas import Page
from db.models import InboxMessage, Outbox, Person
from workflow.notifications import inbox
from workflow.notifications.clock import SYSTEM

router = APIRouter(prefix="/api/v1", tags=["inbox"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
OrgCode = Annotated[str, Path(min_length=1, max_length=64)]


class InboxMessageOut(BaseModel):
    id: int
    subject: str = Field(examples=["[แจ้งเตือน] ส่งผลการประเมิน ครบกำหนด 21 มีนาคม 2569 (อีก 7 วัน)"])
    body: str
    link: str = Field(examples=["/appraisals/101"])
    created_at: datetime
    read_at: datetime | None


class InboxPage(Page[InboxMessageOut]):
    unread: int = Field(examples=[3], description="the caller's unread messages")


class Marked(BaseModel):
    marked: int


class DeliveryOut(BaseModel):
    id: int
    channel: str = Field(examples=["email"])
    status: str = Field(examples=["failed"])
    recipient_person_id: int
    recipient_name: str
    milestone_id: int
    offset_key: str = Field(examples=["-7@2026-04-10"])
    subject: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str = Field(examples=["ConnectionRefusedError: [Errno 111] Connection refused"])
    created_at: datetime
    sent_at: datetime | None


class WebhookIn(BaseModel):
    target: str = Field("", max_length=500, examples=["https://chat.example.go.th/hooks/pm"],
                        description="where reminders are posted (JSON, signed with HMAC-SHA256)")
    enabled: bool = True


class WebhookOut(BaseModel):
    org_code: str
    target: str
    enabled: bool


def _msg(m: InboxMessage) -> InboxMessageOut:
    return InboxMessageOut(id=m.id, subject=m.subject, body=m.body, link=m.link, created_at=m.created_at,
                           read_at=m.read_at)


def _delivery(o: Outbox, p: Person) -> DeliveryOut:
    return DeliveryOut(id=o.id, channel=o.channel, status=o.status, recipient_person_id=o.recipient_person_id,
                       recipient_name=p.name_th, milestone_id=o.milestone_id, offset_key=o.offset_key,
                       subject=o.subject, attempts=o.attempts, next_attempt_at=o.next_attempt_at,
                       last_error=o.last_error, created_at=o.created_at, sent_at=o.sent_at)


@router.get("/inbox", response_model=InboxPage, responses=responses(401, 422),
            summary="My messages, newest first / ข้อความแจ้งเตือนของฉัน")
def list_inbox(session: SessionDep, actor: ActorDep, unread_only: bool = False, limit: Limit = 50,
               offset: Offset = 0) -> InboxPage:
    rows, total, unread = inbox.messages(session, actor, unread_only=unread_only, limit=limit, offset=offset)
    return InboxPage(items=[_msg(m) for m in rows], total=total, limit=limit, offset=offset, unread=unread)


@router.post("/inbox/{message_id}/read", response_model=InboxMessageOut, responses=responses(401, 403, 404, 422),
             summary="Mark one of my messages read / ทำเครื่องหมายว่าอ่านแล้ว")
def read_message(message_id: Id, session: SessionDep, actor: ActorDep) -> InboxMessageOut:
    return _msg(inbox.mark_read(session, actor, message_id, now=SYSTEM.now()))


@router.post("/inbox/read-all", response_model=Marked, responses=responses(401, 403),
             summary="Mark all my messages read")
def read_all(session: SessionDep, actor: ActorDep) -> Marked:
    return Marked(marked=inbox.mark_all_read(session, actor, now=SYSTEM.now()))


@router.get("/notifications/deliveries", response_model=Page[DeliveryOut], responses=responses(401, 403, 422),
            summary="Deliveries that failed or wait for a retry (HR) / การส่งแจ้งเตือนที่ไม่สำเร็จ")
def list_deliveries(session: SessionDep, actor: ActorDep,
                    status: Literal["failed", "pending", "sending", "sent"] | None = None,
                    limit: Limit = 50, offset: Offset = 0) -> Page[DeliveryOut]:
    rows, total = inbox.troubled_deliveries(session, actor, status=status, limit=limit, offset=offset)
    return Page(items=[_delivery(o, p) for o, p in rows], total=total, limit=limit, offset=offset)


@router.post("/notifications/deliveries/{delivery_id}/retry", response_model=DeliveryOut,
             responses=responses(401, 403, 404, 422), summary="Try a failed delivery again (HR)")
def retry_delivery(delivery_id: Id, session: SessionDep, actor: ActorDep) -> DeliveryOut:
    row = inbox.retry_delivery(session, actor, delivery_id, now=SYSTEM.now())
    return _delivery(row, session.get(Person, row.recipient_person_id))


@router.get("/orgs/{code}/webhook", response_model=WebhookOut, responses=responses(401, 404),
            summary="The organisation's webhook for reminders (HR) / webhook แจ้งเตือนของหน่วยงาน")
def get_webhook(code: OrgCode, session: SessionDep, actor: ActorDep) -> WebhookOut:
    return WebhookOut(**vars(inbox.webhook_of(session, actor, code)))


@router.put("/orgs/{code}/webhook", response_model=WebhookOut, responses=responses(401, 404, 422),
            summary="Set where the organisation's reminders are posted (HR)")
def put_webhook(code: OrgCode, body: WebhookIn, session: SessionDep, actor: ActorDep,
                settings: SettingsDep) -> WebhookOut:
    found = inbox.set_webhook(session, actor, code, target=body.target, enabled=body.enabled,
                              secret=settings.webhook_secret)
    return WebhookOut(**vars(found))
