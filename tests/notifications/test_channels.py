"""Delivery over real channels: an SMTP server on loopback (aiosmtpd), a webhook receiver on
loopback; retries with backoff; per-organisation and per-user switches; HR's view."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select, update

from db.models import ChannelSetting, Outbox
from tests.factories import world
from tests.notifications import smtp_sink
from tests.notifications.helpers import at, milestone
from workflow.notifications import inbox
from workflow.notifications.channels import (
    IDEMPOTENCY_HEADER,
    MAX_ATTEMPTS,
    OUTAGE_LIMIT,
    SIGNATURE_HEADER,
    WebhookSender,
    deliver_due,
    delivery_id,
)
from workflow.notifications.clock import to_utc
from workflow.notifications.fanout import run_reminder
from workflow.settings import Settings


@pytest.fixture
def smtp():
    controller, sink = smtp_sink.start(auth=True)
    yield controller, sink
    controller.stop()


def _settings(port: int, **kw) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="hr@pm.test",
                    **{f"smtp_{k}": v for k, v in kw.items()},
                    webhook_secret="hook-secret", base_url="https://pm.example.go.th")


def _utc(moment):
    """SQLite gives times back without an offset; they are stored in UTC."""
    return to_utc(moment).replace(tzinfo=None)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_email_reaches_a_real_smtp_server_with_thai_subject_and_body(session, smtp):
    controller, sink = smtp
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    now = at(m, 14)
    settings = _settings(controller.port, user="hr-mailer", password="s3cret")
    run_reminder(session, m.id, 14, now=now, settings=settings)  # links use the base URL
    done = deliver_due(session, now=now, settings=settings)
    assert done.sent == 8 and sink.logins == ["hr-mailer"]
    by_rcpt = {r.rcpt_tos[0]: r for r in sink.received}
    assert set(by_rcpt) == {f"{n}@test.local" for n in
                            ("authority", "superior", "evaluator", "appraisee", "other", "chair", "member", "hr")}
    got = by_rcpt["evaluator@test.local"]
    assert got.mail_from == "hr@pm.test"
    assert got.subject == "[แจ้งเตือน] ลงนามข้อตกลงการปฏิบัติราชการ ครบกำหนด 31 ตุลาคม 2568 (อีก 14 วัน)"
    assert "เรียน evaluator" in got.text and "ท่านยังมีงานค้าง 3 รายการ" in got.text
    aid = w.appraisal_of(session, "appraisee").id
    assert f"https://pm.example.go.th/appraisals/{aid}" in got.text
    assert f'href="https://pm.example.go.th/appraisals/{aid}"' in got.html
    # Delivered rows are done: running the delivery again sends nothing more.
    assert deliver_due(session, now=now + timedelta(minutes=1), settings=settings).sent == 0
    assert len(sink.received) == 8
    assert set(session.execute(select(Outbox.status).where(Outbox.channel == "email")).scalars()) == {"sent"}


def test_failed_deliveries_retry_with_backoff_and_hr_sees_them(session, smtp):
    controller, sink = smtp
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    now = at(m, 14)
    run_reminder(session, m.id, 14, now=now)
    down = _settings(_closed_port())
    first = deliver_due(session, now=now, settings=down, clock=lambda: now)
    # The server is down: the run stops after OUTAGE_LIMIT tries; the other rows are not touched.
    assert first.retried == OUTAGE_LIMIT and first.sent == 0 and "connection" in first.stopped["email"]
    attempts = Counter(session.execute(select(Outbox.attempts).where(Outbox.channel == "email")).scalars())
    assert attempts == {1: OUTAGE_LIMIT, 0: 8 - OUTAGE_LIMIT}
    row = session.execute(select(Outbox).where(Outbox.channel == "email").order_by(Outbox.id).limit(1)).scalar_one()
    session.refresh(row)
    assert row.status == "pending" and row.attempts == 1 and "refused" in row.last_error.lower()
    assert _utc(row.next_attempt_at) == _utc(now + timedelta(minutes=1))
    # Half a minute later: the rows tried wait for their back-off; the next untouched ones are tried.
    deliver_due(session, now=now + timedelta(seconds=30), settings=down)
    session.refresh(row)
    assert row.attempts == 1
    t = now
    for _ in range(40):  # later runs, each stopped by the outage, until every row has used its attempts
        t += timedelta(hours=6)
        deliver_due(session, now=t, settings=down)
    session.refresh(row)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    # HR sees them, nobody else does.
    rows, total = inbox.troubled_deliveries(session, w.actors["hr"], status="failed")
    assert total == 8 and {p.name_th for _, p in rows} >= {"evaluator", "appraisee"}
    with pytest.raises(Exception) as exc:
        inbox.troubled_deliveries(session, w.actors["evaluator"])
    assert type(exc.value).__name__ == "NotAllowed"
    # HR retries one once the server is back: it goes out.
    inbox.retry_delivery(session, w.actors["hr"], row.id, now=t)
    assert deliver_due(session, now=t, settings=_settings(controller.port, user="hr-mailer",
                                                           password="s3cret")).sent == 1
    assert len(sink.received) == 1


class _Hook(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # noqa: ANN002
        pass


def test_webhook_is_signed_and_channels_switch_per_org_and_user(session):
    _Hook.got = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        w = world(session)
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        # The organisation posts to its chat room and turns email off; the evaluator wants email.
        session.add_all([
            ChannelSetting(org_unit_id=w.org.id, channel="webhook", enabled=True, target=url),
            ChannelSetting(org_unit_id=w.org.id, channel="email", enabled=False),
            ChannelSetting(person_id=w.people["evaluator"].id, channel="email", enabled=True),
            ChannelSetting(person_id=w.people["appraisee"].id, channel="inbox", enabled=False),
        ])
        session.commit()
        m = milestone(session, w, "agreement_signed")
        now = at(m, 14)
        run_reminder(session, m.id, 14, now=now, settings=_settings(_closed_port()))
        chosen = {(p, c) for p, c in session.execute(select(Outbox.recipient_person_id, Outbox.channel))}
        ids = {n: p.id for n, p in w.people.items()}
        assert (ids["evaluator"], "email") in chosen and (ids["hr"], "email") not in chosen
        assert (ids["appraisee"], "inbox") not in chosen and (ids["appraisee"], "webhook") in chosen
        done = deliver_due(session, now=now, settings=_settings(_closed_port()))
        assert done.sent == 8  # the webhooks; the evaluator's email waits for a retry
        assert len(_Hook.got) == 8
        headers, body = _Hook.got[0]
        expected = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
        assert headers[SIGNATURE_HEADER] == expected
        payload = json.loads(body)
        assert payload["subject"].startswith("[แจ้งเตือน]") and payload["recipient"]["name"]
        # Each delivery's identity, from its outbox key: what a receiver drops duplicates by.
        row = session.get(Outbox, payload["id"])
        assert headers[IDEMPOTENCY_HEADER] == payload["delivery_id"] == delivery_id(
            row.milestone_id, row.offset_key, row.recipient_person_id, "webhook")
        assert len({h[IDEMPOTENCY_HEADER] for h, _ in _Hook.got}) == 8
    finally:
        server.shutdown()


def test_a_retried_message_carries_the_same_identity(session, smtp):
    """The email's Message-ID and the webhook's Idempotency-Key come from the outbox key: the
    same on every attempt, so a receiver that got the first copy can drop the second."""
    controller, sink = smtp
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    now = at(m, 14)
    run_reminder(session, m.id, 14, now=now)
    settings = _settings(controller.port, user="hr-mailer", password="s3cret")
    assert deliver_due(session, now=now, settings=settings, limit=1).sent == 1
    first = sink.received[0]
    row = session.execute(select(Outbox).where(Outbox.status == "sent", Outbox.channel == "email")).scalar_one()
    # sent again (as after an answer lost on the way back, which counts as an error)
    session.execute(update(Outbox).where(Outbox.id == row.id).values(status="pending", next_attempt_at=to_utc(now)))
    session.commit()
    deliver_due(session, now=now + timedelta(minutes=1), settings=settings, milestone_id=m.id)
    again = [r for r in sink.received[1:] if r.rcpt_tos == first.rcpt_tos]
    assert len(again) == 1 and again[0].message["Message-ID"] == first.message["Message-ID"]
    assert first.message["Message-ID"] == f"<pmflow-{delivery_id(m.id, row.offset_key, row.recipient_person_id, 'email')}@pmflow>"


def test_an_empty_webhook_secret_is_refused_not_used(session):
    w = world(session)
    session.add(ChannelSetting(org_unit_id=w.org.id, channel="webhook", enabled=True, target="http://127.0.0.1:9/h"))
    session.commit()
    m = milestone(session, w, "agreement_signed")
    result = run_reminder(session, m.id, 14, now=at(m, 14), settings=Settings(webhook_secret=""))
    assert "webhook" not in result.by_channel  # no unsigned message is even queued
    with pytest.raises(ValueError, match="never sent unsigned"):
        WebhookSender("").send(None, "http://127.0.0.1:9/h")  # type: ignore[arg-type]


def test_without_an_smtp_server_email_is_off(session, monkeypatch):
    monkeypatch.delenv("PMFLOW_SMTP_HOST")
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    result = run_reminder(session, m.id, 14, now=at(m, 14))
    assert result.by_channel == {"inbox": 8}
