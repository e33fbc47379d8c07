"""Delivering outbox rows: email over SMTP, a webhook (JSON signed with HMAC-SHA256) for chat
tools; the in-app inbox is written when the send is decided (see fanout.py).

A row goes pending -> sending -> sent. "sending" is committed before the message leaves, so
two deliverers never take the same row (the update is conditional); its outcome is committed
as soon as the server has answered, so only a crash in the middle of one hand-over leaves a
row "sending". The lease is counted from that row's claim: past it, the row is marked failed
for HR to look at rather than sent again (a duplicate is worse than a visible gap). A failed
attempt goes back to pending with a growing delay (1, 2, 4 ... minutes, at most 6 hours);
after MAX_ATTEMPTS it stays failed. HR sees failed rows and errors (inbox.failed_deliveries).

Every delivery has a stable identity derived from its outbox key (milestone, offset key,
recipient, channel): the email's Message-ID `<pmflow-<id>@pmflow>` and the webhook's
`Idempotency-Key` header (and `delivery_id` in its body). A message sent again (a retry after
an error, or one HR retries) carries the same identity, so a receiver can drop the copy.

A run keeps one SMTP connection per delivery thread. When the server cannot be reached or
refuses the login OUTAGE_LIMIT times in a row, the run stops sending on that channel (the rows
not tried stay pending, untouched) and the channel waits (ChannelPause, 1, 2, 4 ... minutes, at
most 30) before a later run tries again. The SMTP timeout is PMFLOW_SMTP_TIMEOUT.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import smtplib
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.header import Header
from email.utils import formataddr, formatdate
from typing import Callable, Iterable, Iterator, Protocol

import httpx
from sqlalchemy import Connection, Engine, Row, or_, select, update
from sqlmodel import Session

from db.models import ChannelSetting, OrgUnit, Outbox, Person
from workflow.notifications.clock import to_utc
from workflow.settings import Settings, SmtpSettings, get_settings

log = logging.getLogger("pmflow.notifications")

CHANNELS = ("email", "inbox", "webhook")
DEFAULTS = {"email": True, "inbox": True, "webhook": False}
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=10)  # a row "sending" longer than this was interrupted
SIGNATURE_HEADER = "X-Pmflow-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
OUTAGE_LIMIT = 3  # connection or login failures in a row that stop a run on that channel
CRLF = "\r\n"


# --- which channels, for whom --------------------------------------------------------------------
@dataclass(frozen=True)
class ChannelRule:
    """A channel_setting row: for an organisation (subtree) or for one person."""

    org_unit_id: int | None
    person_id: int | None
    channel: str
    enabled: bool
    target: str = ""


def resolve_channels(person_id: int, org_path: str, rules: Iterable[ChannelRule]) -> dict[str, str]:
    """Channel -> target for the channels switched on for this person: the person's own
    setting wins, then the nearest organisation's, then the default (email and inbox on,
    webhook off). A webhook also needs a target URL (from the person or the organisation)."""
    ancestry = [int(x) for x in org_path.strip("/").split("/") if x]
    depth = {org_id: i for i, org_id in enumerate(ancestry)}
    out: dict[str, str] = {}
    rules = list(rules)
    for channel in CHANNELS:
        own = [r for r in rules if r.channel == channel and r.person_id == person_id]
        orgs = sorted((r for r in rules if r.channel == channel and r.person_id is None
                       and r.org_unit_id in depth), key=lambda r: -depth[r.org_unit_id])
        chosen = own[0] if own else (orgs[0] if orgs else None)
        enabled = chosen.enabled if chosen else DEFAULTS[channel]
        target = next((r.target for r in own + orgs if r.target), "")
        if enabled and (channel != "webhook" or target):
            out[channel] = target
    return out


def channel_rules(session: Session) -> tuple[list[ChannelRule], dict[int, str]]:
    """Every channel setting (a small table) and, if there are any, the organisation paths."""
    rules = [ChannelRule(r.org_unit_id, r.person_id, r.channel, r.enabled, r.target)
             for r in session.execute(select(ChannelSetting)).scalars()]
    paths = dict(session.execute(select(OrgUnit.id, OrgUnit.path)).all()) if rules else {}
    return rules, paths


def backoff(attempts: int) -> timedelta:
    """The wait before attempt `attempts + 1`: 1, 2, 4, ... minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


# --- senders -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outgoing:
    """One claimed outbox row with its recipient: what a sender needs."""

    id: int
    channel: str
    subject: str
    body: str
    body_html: str
    attempts: int
    milestone_id: int
    offset_key: str
    recipient_id: int
    name: str
    email: str
    org_unit_id: int | None


    @property
    def delivery_id(self) -> str:
        return delivery_id(self.milestone_id, self.offset_key, self.recipient_id, self.channel)


def delivery_id(milestone_id: int, offset_key: str, recipient_id: int, channel: str) -> str:
    """The stable identity of one delivery: the same for every attempt of the same outbox row."""
    key = f"{milestone_id}|{offset_key}|{recipient_id}|{channel}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class Sender(Protocol):
    def send(self, msg: Outgoing, target: str) -> None: ...
    def close(self) -> None: ...
    def is_outage(self, exc: BaseException) -> bool: ...


class ChannelDown(Exception):
    """The channel's server is out of reach for this run: no more rows are tried on it."""


class SmtpSender:
    """One SMTP connection reused for a delivery run (host, port, STARTTLS/SSL, login)."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if not s.configured:
            raise RuntimeError("SMTP is not configured (PMFLOW_SMTP_HOST)")
        if s.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                 context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if s.user:
            smtp.login(s.user, s.password)
        return smtp

    def message(self, msg: Outgoing) -> bytes:
        """A MIME message: text (and HTML when there is one) as multipart/alternative, UTF-8 in
        base64, CRLF line ends. Built directly: the email package's generator costs more per
        message than the rest of a delivery."""
        headers = [
            f"From: {self.settings.sender}",
            f"To: {formataddr((msg.name, msg.email), charset='utf-8')}",
            f"Subject: {Header(msg.subject, 'utf-8').encode(linesep=CRLF)}",
            f"Message-ID: <pmflow-{msg.delivery_id}@pmflow>",
            f"Date: {formatdate(localtime=False)}",
            "MIME-Version: 1.0",
        ]
        if msg.body_html:
            boundary = f"=_pmflow_{msg.id}_{uuid.uuid4().hex}"
            headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
            body = (f"{CRLF}--{boundary}{CRLF}{_part(msg.body, 'plain')}{CRLF}--{boundary}{CRLF}"
                    f"{_part(msg.body_html, 'html')}{CRLF}--{boundary}--{CRLF}")
        else:
            body = _part(msg.body, "plain")  # its own headers end the message's header block
        return (CRLF.join(headers) + CRLF + body).encode("ascii")

    def send(self, msg: Outgoing, target: str) -> None:
        if not msg.email:
            raise ValueError("no email address")
        data = self.message(msg)
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except BaseException:
                self.close()
                raise
        try:
            self._smtp.sendmail(self.settings.sender, [msg.email], data)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise

    def is_outage(self, exc: BaseException) -> bool:
        """The server, not this message: unreachable, hung, disconnected, or refusing our login."""
        return isinstance(exc, (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError,
                                smtplib.SMTPAuthenticationError, smtplib.SMTPHeloError, smtplib.SMTPNotSupportedError))

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self._smtp = None


def _part(text: str, subtype: str) -> str:
    encoded = base64.encodebytes(text.encode("utf-8")).decode("ascii").replace("\n", CRLF)
    return (f"Content-Type: text/{subtype}; charset=utf-8{CRLF}Content-Transfer-Encoding: base64{CRLF}{CRLF}"
            f"{encoded}")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """POST the message as JSON; the body's HMAC-SHA256 under the shared secret is in a header."""

    def __init__(self, secret: str, timeout: float = 10.0):
        self.secret = secret
        self._client = httpx.Client(timeout=timeout)

    def send(self, msg: Outgoing, target: str) -> None:
        if not self.secret:
            raise ValueError("PMFLOW_WEBHOOK_SECRET is empty: webhooks are never sent unsigned")
        if not target:
            raise ValueError("no webhook URL")
        body = json.dumps({"id": msg.id, "delivery_id": msg.delivery_id,
                           "recipient": {"id": msg.recipient_id, "name": msg.name},
                           "subject": msg.subject, "text": msg.body,
                           "milestone_id": msg.milestone_id, "offset": msg.offset_key},
                          ensure_ascii=False, sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8",
                   SIGNATURE_HEADER: sign(self.secret, body), IDEMPOTENCY_HEADER: msg.delivery_id}
        response = self._client.post(target, content=body, headers=headers)
        response.raise_for_status()

    def is_outage(self, exc: BaseException) -> bool:
        return isinstance(exc, httpx.TransportError)  # cannot connect, timed out: not this message

    def close(self) -> None:
        self._client.close()


# --- the delivery loop ---------------------------------------------------------------------------
@dataclass
class Delivered:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    interrupted: int = 0
    stopped: dict[str, str] = field(default_factory=dict)  # channel -> why this run stopped using it


class ChannelPause:
    """Channels whose server was out of reach, and until when the next runs leave them alone
    (1, 2, 4 ... minutes after each stopped run in a row, at most 30). The scheduler keeps one."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}
        self._stops: dict[str, int] = {}
        self._lock = threading.Lock()

    def paused(self, now: datetime) -> set[str]:
        with self._lock:
            return {c for c, until in self._until.items() if until > now}

    def stopped(self, channel: str, now: datetime) -> None:
        with self._lock:
            self._stops[channel] = n = self._stops.get(channel, 0) + 1
            self._until[channel] = now + min(timedelta(minutes=2 ** (n - 1)), timedelta(minutes=30))

    def worked(self, channel: str) -> None:
        with self._lock:
            self._stops.pop(channel, None)
            self._until.pop(channel, None)


class _Breaker:
    """Counts outages per channel across a run's threads; OUTAGE_LIMIT in a row stop the channel."""

    def __init__(self, down: set[str]):
        self.down = set(down)
        self.why: dict[str, str] = {}
        self._row: dict[str, int] = {}
        self._lock = threading.Lock()

    def is_down(self, channel: str) -> bool:
        return channel in self.down

    def outage(self, channel: str, error: str) -> None:
        with self._lock:
            self._row[channel] = n = self._row.get(channel, 0) + 1
            if n >= OUTAGE_LIMIT and channel not in self.down:
                self.down.add(channel)
                self.why[channel] = f"{n} connection or login failures in a row, the last: {error}"
                log.error("delivery on %s stopped for this run: %s", channel, self.why[channel])

    def fine(self, channel: str) -> None:
        with self._lock:
            self._row[channel] = 0


def deliver_due(session: Session, *, now: datetime, settings: Settings | None = None,
                milestone_id: int | None = None, limit: int | None = None,
                senders: dict[str, Sender] | None = None, workers: int = 1,
                after_send: Callable[[int], None] | None = None, pause: ChannelPause | None = None,
                clock: Callable[[], datetime] | None = None) -> Delivered:
    """Send the email and webhook rows that are due, each row claimed on its own and its outcome
    written as soon as it is known. With `workers` > 1, that many threads deliver side by side,
    each with its own database and SMTP connection (the claim is a conditional update: no row
    goes out twice). `clock` gives the moment of each claim (default: `now` plus the time the
    run has taken), from which the row's lease is counted. `after_send(n)` is called after each
    recorded outcome with the number sent so far (tests stop a run there)."""
    settings = settings or get_settings()
    now = to_utc(now)
    started, given = time.monotonic(), clock

    def clock() -> datetime:  # times are stored in UTC
        return to_utc(given()) if given else now + timedelta(seconds=time.monotonic() - started)

    result = Delivered(interrupted=_expire_interrupted(session, now))
    rules, paths = channel_rules(session)
    session.commit()
    engine = session.get_bind()
    breaker = _Breaker(pause.paused(now) if pause is not None else set())
    channels = [c for c in ("email", "webhook") if not breaker.is_down(c)]
    if channels:
        run = _Run(now, clock, rules, paths, result, breaker, after_send, limit)
        if workers > 1:
            _deliver_parallel(engine, run, settings, milestone_id, channels, workers)
        else:
            own = senders is None
            senders = senders or make_senders(settings)
            try:
                with engine.connect() as conn:
                    deliverer = _Deliverer(conn, run, senders)
                    for due in _due(conn, now, milestone_id, channels):
                        if run.full() or breaker.is_down(due.channel):
                            if run.full() or all(breaker.is_down(c) for c in channels):
                                break
                            continue
                        deliverer.handle(due)
            finally:
                if own:
                    for s in senders.values():
                        s.close()
    result.stopped = dict(breaker.why)
    if pause is not None:
        for channel in ("email", "webhook"):
            if channel in breaker.why:
                pause.stopped(channel, now)
            elif channel in channels:
                pause.worked(channel)
    return result


def make_senders(settings: Settings) -> dict[str, Sender]:
    return {"email": SmtpSender(settings.smtp), "webhook": WebhookSender(settings.webhook_secret)}


def _due(conn: Connection, now: datetime, milestone_id: int | None, channels: list[str]) -> Iterator[Row]:
    """Due rows with their recipient, page by page (each page read in a short transaction)."""
    last_id = 0
    while True:
        q = (select(Outbox.id, Outbox.channel, Person.name_th, Person.email, Person.org_unit_id)
             .join(Person, Person.id == Outbox.recipient_person_id)
             .where(Outbox.status == "pending", Outbox.channel.in_(channels),
                    or_(Outbox.next_attempt_at.is_(None), Outbox.next_attempt_at <= now), Outbox.id > last_id)
             .order_by(Outbox.id).limit(500))
        if milestone_id is not None:
            q = q.where(Outbox.milestone_id == milestone_id)
        with conn.begin():
            rows = conn.execute(q).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


@dataclass
class _Run:
    """What every deliverer of one run shares."""

    now: datetime
    clock: Callable[[], datetime]
    rules: list
    paths: dict[int, str]
    result: Delivered
    breaker: _Breaker
    after_send: Callable[[int], None] | None
    limit: int | None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def full(self) -> bool:
        r = self.result
        return self.limit is not None and r.sent + r.retried + r.failed >= self.limit

    def count(self, outcome: str) -> int:
        with self.lock:
            setattr(self.result, outcome, getattr(self.result, outcome) + 1)
            return self.result.sent


def _deliver_parallel(engine: Engine, run: _Run, settings: Settings, milestone_id: int | None,
                      channels: list[str], workers: int) -> None:
    todo: queue.Queue[Row | None] = queue.Queue(maxsize=workers * 50)
    errors: list[BaseException] = []

    def work() -> None:
        senders = make_senders(settings)
        try:
            with engine.connect() as conn:
                deliverer = _Deliverer(conn, run, senders)
                try:
                    while (due := todo.get()) is not None:
                        if not run.breaker.is_down(due.channel) and not run.full():
                            deliverer.handle(due)
                except BaseException as exc:  # noqa: BLE001 - reported after the join
                    errors.append(exc)
                    while todo.get() is not None:  # let the producer finish
                        pass
        finally:
            for sender in senders.values():
                sender.close()

    threads = [threading.Thread(target=work, name=f"deliver-{i}", daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    try:
        with engine.connect() as conn:
            for due in _due(conn, run.now, milestone_id, channels):
                if run.full() or all(run.breaker.is_down(c) for c in channels) or errors:
                    break
                if not run.breaker.is_down(due.channel):
                    todo.put(due)
    finally:
        for _ in threads:
            todo.put(None)
        for t in threads:
            t.join()
    if errors:
        raise errors[0]


class _Deliverer:
    """Delivers rows one by one on one connection: claim (one short transaction), send, record
    the outcome (another), so a row is "sending" only while its message is being handed over."""

    def __init__(self, conn: Connection, run: _Run, senders: dict[str, Sender]):
        self.conn, self.run, self.senders = conn, run, senders

    def handle(self, due: Row) -> None:
        oid, run = due.id, self.run
        claimed_at = run.clock()
        with self.conn.begin():
            claimed = self.conn.execute(
                update(Outbox).where(Outbox.id == oid, Outbox.status == "pending")
                .values(status="sending", attempts=Outbox.attempts + 1, next_attempt_at=claimed_at + LEASE)
                .returning(Outbox.channel, Outbox.subject, Outbox.body, Outbox.body_html, Outbox.attempts,
                           Outbox.milestone_id, Outbox.offset_key, Outbox.recipient_person_id)).first()
        if claimed is None:
            return  # another deliverer took it
        msg = Outgoing(oid, claimed.channel, claimed.subject, claimed.body, claimed.body_html, claimed.attempts,
                       claimed.milestone_id, claimed.offset_key, claimed.recipient_person_id, due.name_th,
                       due.email or "", due.org_unit_id)
        target = ""
        if msg.channel == "webhook":
            target = resolve_channels(msg.recipient_id, run.paths.get(msg.org_unit_id, "/"),
                                      run.rules).get("webhook", "")
        sender = self.senders[msg.channel]
        try:
            sender.send(msg, target)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
            error = f"{type(exc).__name__}: {exc}"[:2000]
            done_at = run.clock()
            if sender.is_outage(exc):
                run.breaker.outage(msg.channel, error)
            if msg.attempts >= MAX_ATTEMPTS:
                values, outcome = dict(status="failed", next_attempt_at=None, last_error=error), "failed"
            else:
                values = dict(status="pending", next_attempt_at=done_at + backoff(msg.attempts), last_error=error)
                outcome = "retried"
            log.warning("delivery %s (%s to person %s) attempt %d failed: %s", oid, msg.channel,
                        msg.recipient_id, msg.attempts, error)
        else:
            run.breaker.fine(msg.channel)
            values, outcome = dict(status="sent", sent_at=run.clock(), next_attempt_at=None), "sent"
        with self.conn.begin():
            self.conn.execute(update(Outbox).where(Outbox.id == oid, Outbox.status == "sending").values(**values))
        sent = run.count(outcome)
        if run.after_send is not None:
            run.after_send(sent)


def _expire_interrupted(session: Session, now: datetime) -> int:
    """Rows left "sending" past their lease were cut off mid-send: whether the message left is
    unknown, so they are not sent again but marked failed for HR to check and retry."""
    n = session.execute(
        update(Outbox).where(Outbox.status == "sending", Outbox.next_attempt_at < now)
        .values(status="failed", last_error="interrupted while sending; it may or may not have been "
                "delivered, so it is not resent automatically (HR can retry it)")
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return n


def retry(session: Session, outbox_id: int, *, now: datetime) -> bool:
    """HR asks for a failed delivery to be tried again."""
    now = to_utc(now)
    n = session.execute(update(Outbox).where(Outbox.id == outbox_id, Outbox.status == "failed",
                                             Outbox.channel.in_(("email", "webhook")))
                        .values(status="pending", next_attempt_at=now, attempts=0)
                        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return n == 1
