"""Exactly once across restarts and concurrent runs: a fan-out or a delivery killed half way
and run again sends to everybody once; two processes fanning out at once never duplicate."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from db.models import InboxMessage, Outbox
from db.session import new_session
from tests.factories import world
from tests.notifications import smtp_sink
from tests.notifications.helpers import Killed, at, kill_after, milestone
from workflow.notifications import inbox
from workflow.notifications.channels import LEASE, deliver_due
from workflow.notifications.clock import to_utc
from workflow.notifications.fanout import run_reminder
from workflow.settings import Settings


def test_fan_out_killed_after_k_batches_then_rerun(session):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    now = at(m, 7)
    with pytest.raises(Killed):
        run_reminder(session, m.id, 7, now=now, batch=3, after_batch=kill_after(2))
    decided = session.execute(select(func.count()).select_from(InboxMessage)).scalar()
    assert decided == 6  # two batches of three recipients were committed, then the crash
    # The restarted process runs the same fan-out again, a little later.
    again = run_reminder(session, m.id, 7, now=now + timedelta(minutes=3), batch=3)
    assert again.recipients == 8 and again.by_channel == {"inbox": 2, "email": 2}
    per_person = Counter(session.execute(select(InboxMessage.person_id)).scalars())
    assert len(per_person) == 8 and set(per_person.values()) == {1}
    emails = Counter(session.execute(select(Outbox.recipient_person_id).where(Outbox.channel == "email")).scalars())
    assert len(emails) == 8 and set(emails.values()) == {1}


def test_delivery_killed_after_k_sends_then_rerun(session):
    controller, sink = smtp_sink.start()
    try:
        w = world(session)
        m = milestone(session, w, "agreement_signed")
        now = at(m, 3)
        run_reminder(session, m.id, 3, now=now)
        settings = Settings(smtp_host="127.0.0.1", smtp_port=controller.port)
        with pytest.raises(Killed):
            deliver_due(session, now=now, settings=settings, after_send=kill_after(3))
        assert sink.count == 3
        deliver_due(session, now=now + timedelta(minutes=1), settings=settings)
        got = Counter(r.rcpt_tos[0] for r in sink.received)
        assert len(got) == 8 and set(got.values()) == {1}  # nobody twice, nobody skipped
    finally:
        controller.stop()


def test_a_message_cut_off_in_flight_is_not_resent_but_shown_to_hr(session):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    now = at(m, 1)
    run_reminder(session, m.id, 1, now=now)
    # The process died while one message was being handed to the SMTP server.
    row_id = session.execute(select(Outbox.id).where(Outbox.channel == "email").limit(1)).scalar_one()
    session.execute(update(Outbox).where(Outbox.id == row_id).values(status="sending", attempts=1,
                                                                     next_attempt_at=to_utc(now + LEASE)))
    session.commit()
    controller, sink = smtp_sink.start()
    try:
        later = now + LEASE + timedelta(minutes=1)
        done = deliver_due(session, now=later, settings=Settings(smtp_host="127.0.0.1", smtp_port=controller.port))
        assert done.interrupted == 1 and done.sent == 7 and sink.count == 7
    finally:
        controller.stop()
    rows, total = inbox.troubled_deliveries(session, w.actors["hr"])
    assert total == 1 and rows[0][0].id == row_id and "interrupted" in rows[0][0].last_error


def test_two_processes_fanning_out_at_once_never_duplicate(pg_engine):
    with new_session(pg_engine) as s:
        w = world(s)
        m = milestone(s, w, "agreement_signed")
    now = at(m, 14)
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            with new_session(pg_engine) as s:
                barrier.wait()
                run_reminder(s, m.id, 14, now=now, batch=2)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with new_session(pg_engine) as s:
        rows = Counter(s.execute(select(Outbox.recipient_person_id, Outbox.channel)).all())
        assert len(rows) == 16 and set(rows.values()) == {1}
        assert s.execute(select(func.count()).select_from(InboxMessage)).scalar() == 8
