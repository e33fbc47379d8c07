"""kill -9 of a real scheduler process in the middle of a fan-out (deciding) or of the deliveries
(delivering), then another scheduler process: afterwards every due reminder has reached every
recipient once (a real SMTP server counts), without anyone running a command. PostgreSQL."""
from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import InboxMessage, NotificationRun, Outbox, Round
from db.session import new_session
from tests.factories import person, world
from tests.notifications import smtp_sink
from tests.notifications.helpers import at, milestone
from tests.notifications.scheduler_process import Proc
from workflow.access import Actor
from workflow.milestones import LOW_PERFORMER_REPORT, NOT_DONE
from workflow.notifications.fanout import load_recipients, load_round_facts
from workflow.notifications.pending import pending_for
from workflow.rounds import open_round

ROOT = Path(__file__).resolve().parents[2]
STAFF = 60


def _wait(cond, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.2)


@pytest.mark.parametrize("kill_at", ["decide:2", "deliver:25"])
def test_kill_9_mid_fan_out_then_another_scheduler_finishes_it_once(pg_engine, kill_at):
    with new_session(pg_engine) as s:
        w = world(s, open_now=False)
        for i in range(STAFF):
            person(s, w.unit, f"staff{i}", evaluator=w.people["evaluator"], superior=w.people["superior"])
        s.commit()
        w.opened = open_round(s, org_code=w.org.code, fiscal_year=2569, number=1, actor=Actor.system())
        m = milestone(s, w, "agreement_signed")
        rnd = s.get(Round, m.round_id)
        facts = load_round_facts(s, rnd, NOT_DONE.get(m.code, ()), cases=m.code == LOW_PERFORMER_REPORT)
        expected = load_recipients(s, pending_for(m.code, facts))
        s.commit()
    assert len(expected) > STAFF
    moment = at(m, 7, timedelta(minutes=1))
    controller, sink = smtp_sink.start()
    url = pg_engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PMFLOW_DATABASE_URL": url, "PMFLOW_SMTP_HOST": "127.0.0.1",
           "PMFLOW_SMTP_PORT": str(controller.port), "PMFLOW_LOG_FORMAT": "text", "PYTHONPATH": str(ROOT)}
    first = second = None
    try:
        first = Proc(env, moment.isoformat(), kill_at)
        first.wait_for("AT")
        first.kill9()
        with new_session(pg_engine) as s:
            decided = s.execute(select(func.count()).select_from(InboxMessage)).scalar()
            finished = s.execute(select(func.count()).select_from(NotificationRun)
                                 .where(NotificationRun.run_key.like("reminder:%"))).scalar()
        sent_before = sink.count
        if kill_at.startswith("decide"):
            assert 0 < decided < len(expected) and finished == 0 and sent_before == 0
        else:
            assert decided == len(expected) and 0 < sent_before < len(expected)

        second = Proc(env, (moment + timedelta(minutes=2)).isoformat(), "none")  # the standby, or a restart

        def all_sent() -> bool:
            with new_session(pg_engine) as s:
                return s.execute(select(func.count()).select_from(Outbox).where(
                    Outbox.channel == "email", Outbox.status == "sent")).scalar() == len(expected)

        _wait(all_sent)
        time.sleep(1.5)  # a few more ticks: nothing more may go out
    finally:
        for proc in (first, second):
            if proc is not None:
                proc.stop()
        controller.stop()
    emails = {p.email for p in expected.values()}
    got = Counter(r.rcpt_tos[0] for r in sink.received)
    assert set(got) == emails and set(got.values()) == {1}  # everyone, once
    with new_session(pg_engine) as s:
        inbox = Counter(s.execute(select(InboxMessage.person_id)).scalars())
        assert set(inbox) == set(expected) and set(inbox.values()) == {1}
        statuses = Counter(s.execute(select(Outbox.status).where(Outbox.channel == "email")).scalars())
        assert statuses == {"sent": len(expected)}
