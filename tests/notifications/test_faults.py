"""Delivery under faults: each outcome recorded as soon as it is known, the lease counted from
the row's claim, one SMTP login per run and a run stopped by a server that is down, hung or
refusing the login (it is tried again later, by itself)."""
from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import Outbox
from db.session import new_session
from tests.factories import person, world
from tests.notifications import smtp_sink
from tests.notifications.helpers import Killed, at, kill_after, milestone
from workflow.notifications.channels import LEASE, OUTAGE_LIMIT, ChannelPause, _expire_interrupted, deliver_due
from workflow.notifications.clock import to_utc
from workflow.notifications.fanout import run_reminder
from workflow.settings import Settings


def _statuses(session) -> Counter:
    found = Counter(session.execute(select(Outbox.status).where(Outbox.channel == "email")).scalars())
    session.commit()
    return found


def _naive_utc(moment):
    return to_utc(moment).replace(tzinfo=None)


def test_each_outcome_is_recorded_as_soon_as_it_is_known(session):
    controller, sink = smtp_sink.start()
    try:
        w = world(session)
        m = milestone(session, w, "agreement_signed")
        now = at(m, 3)
        run_reminder(session, m.id, 3, now=now)

        with pytest.raises(Killed):
            deliver_due(session, now=now, settings=Settings(smtp_host="127.0.0.1", smtp_port=controller.port),
                        after_send=kill_after(3))
        # what arrived is "sent" already: nothing left "sending" to turn into a failure later
        assert sink.count == 3 and _statuses(session) == {"sent": 3, "pending": 5}
    finally:
        controller.stop()


def test_the_lease_is_counted_from_the_rows_claim_not_the_runs_start(session):
    """A run longer than the lease: a job starting meanwhile must not fail the row in flight."""
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    start = at(m, 3)
    run_reminder(session, m.id, 3, now=start)
    moments = iter([start + timedelta(minutes=25 * i) for i in range(100)])  # each claim 25 min later
    seen = []

    class SlowSender:
        def send(self, msg, target):  # noqa: ANN001
            with new_session(session.get_bind()) as other:
                claimed_until = other.get(Outbox, msg.id).next_attempt_at
                seen.append(claimed_until)
                # another job starts now, 1 minute after this claim, and looks for interrupted rows
                assert _expire_interrupted(other, (claimed_until - LEASE) + timedelta(minutes=1)) == 0

        def close(self):
            pass

        def is_outage(self, exc):  # noqa: ANN001
            return False

    done = deliver_due(session, now=start, senders={"email": SlowSender(), "webhook": SlowSender()},
                       clock=lambda: next(moments))
    assert done.sent == 8 and done.interrupted == 0
    assert len(seen) == 8 and seen[-1].replace(tzinfo=None) > _naive_utc(start + LEASE * 2)


def test_a_wrong_password_costs_a_few_logins_per_run_not_one_per_message(session):
    controller, sink = smtp_sink.start(auth=True)
    try:
        w = world(session, open_now=False)
        for i in range(30):
            person(session, w.unit, f"staff{i}", evaluator=w.people["evaluator"], superior=w.people["superior"])
        session.commit()
        from workflow.access import Actor
        from workflow.rounds import open_round

        w.opened = open_round(session, org_code=w.org.code, fiscal_year=2569, number=1, actor=Actor.system())
        m = milestone(session, w, "agreement_signed")
        now = at(m, 3)
        run_reminder(session, m.id, 3, now=now)
        wrong = Settings(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_user="hr-mailer",
                         smtp_password="wrong", smtp_timeout=2)
        pause = ChannelPause()
        done = deliver_due(session, now=now, settings=wrong, workers=4, pause=pause)
        assert "login failures in a row" in done.stopped["email"]
        assert sink.login_attempts <= OUTAGE_LIMIT + 4  # not one per message (38 here)
        assert done.sent == 0 and _statuses(session)["pending"] > 30
        # the next runs leave the channel alone for a while, then try again by themselves
        attempts = sink.login_attempts
        assert deliver_due(session, now=now + timedelta(seconds=30), settings=wrong, pause=pause).retried == 0
        assert sink.login_attempts == attempts
        right = Settings(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_user="hr-mailer",
                         smtp_password="s3cret")
        later = now + timedelta(hours=7)  # past the pause and every back-off
        done = deliver_due(session, now=later, settings=right, workers=4, pause=pause)
        assert done.sent == _statuses(session)["sent"] and _statuses(session) == {"sent": done.sent}
        assert len(sink.logins) <= 4  # one login per delivery thread for the whole run
    finally:
        controller.stop()


def test_a_hung_smtp_server_stops_the_run_after_a_few_timeouts(session):
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(50)
    accepted = []

    def accept() -> None:
        while True:
            try:
                conn, _ = hung.accept()
            except OSError:
                return
            accepted.append(conn)  # never answers: no banner, ever

    threading.Thread(target=accept, daemon=True).start()
    try:
        w = world(session)
        m = milestone(session, w, "agreement_signed")
        now = at(m, 3)
        run_reminder(session, m.id, 3, now=now)
        settings = Settings(smtp_host="127.0.0.1", smtp_port=hung.getsockname()[1], smtp_timeout=0.5)
        t0 = time.monotonic()
        done = deliver_due(session, now=now, settings=settings)
        took = time.monotonic() - t0
        assert done.retried == OUTAGE_LIMIT and "timed out" in done.stopped["email"]
        assert len(accepted) == OUTAGE_LIMIT and took < OUTAGE_LIMIT * 0.5 + 5
        assert _statuses(session) == {"pending": 8}
    finally:
        hung.close()
        for c in accepted:
            c.close()
