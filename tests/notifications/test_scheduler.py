"""The scheduler's periodic "what is due now?": reminders found from the milestones as they are,
each fan-out recorded once finished, a fan-out cut short finished by the next tick; one active
scheduler on PostgreSQL, the second takes over; bad settings are found before the lock."""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from db.models import Appraisal, ChannelSetting, InboxMessage, NotificationRun, Outbox, Round
from db.session import make_engine, new_session
from tests.factories import world
from tests.flows import drive
from tests.notifications.helpers import Killed, at, kill_after, milestone
from workflow.calendar import BANGKOK
from workflow.notifications import fanout
from workflow.notifications import scheduler as sched
from workflow.notifications.clock import FixedClock
from workflow.notifications.digest import reminder_key
from workflow.settings import Settings, SettingsError


def _keys(session) -> set[str]:
    keys = set(session.execute(select(NotificationRun.run_key)).scalars())
    session.commit()
    return keys


def test_what_is_due_comes_from_the_milestones_and_runs_once(session):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    assert [d for d in sched.due_runs(session, at(m, 14, -timedelta(minutes=1))) if d.kind == "reminder"] == []
    now = at(m, 14, timedelta(minutes=1))
    due = [d for d in sched.due_runs(session, now) if d.kind == "reminder"]
    assert [(d.milestone_id, d.offset_days) for d in due] == [(m.id, 14)]
    ran = sched.run_due(session, now=now)
    assert sched.run_key_reminder(m.id, 14, m.due_on) in {d.key for d in ran}
    assert sched.run_key_reminder(m.id, 14, m.due_on) in _keys(session)
    inbox = session.execute(select(func.count()).select_from(InboxMessage)).scalar()
    assert inbox == 8
    # the next ticks find nothing left to do
    assert [d for d in sched.due_runs(session, now + timedelta(minutes=1)) if d.kind == "reminder"] == []
    assert sched.run_due(session, now=now + timedelta(minutes=2)) == []
    assert session.execute(select(func.count()).select_from(InboxMessage)).scalar() == inbox


def test_a_milestone_moved_later_is_reminded_of_again_at_its_new_moment(session):
    w = world(session)
    m = milestone(session, w, "evaluation_submitted")
    sched.run_due(session, now=at(m, 7, timedelta(minutes=1)))
    first = reminder_key(7, m.due_on)
    m.due_on = m.due_on + timedelta(days=10)
    session.add(m)
    session.commit()
    assert [d for d in sched.due_runs(session, at(m, 7, -timedelta(hours=1))) if d.kind == "reminder"] == []
    sched.run_due(session, now=at(m, 7, timedelta(minutes=1)))
    keys = set(session.execute(select(Outbox.offset_key).where(Outbox.milestone_id == m.id)).scalars())
    session.commit()
    assert keys == {first, reminder_key(7, m.due_on)}


def test_moments_past_beyond_grace_never_run_and_the_plan_says_why(engine, session, caplog):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    late = at(m, 5)  # a round opened (or a scheduler back) 5 days before the agreement is due
    plan = sched.schedule_round(w.opened.round.id, engine=engine, now=late)
    assert set(plan.skipped) == {sched.run_key_reminder(m.id, d, m.due_on) for d in (14, 7)}
    assert "passed beyond the grace" in caplog.text
    assert sched.run_key_reminder(m.id, 3, m.due_on) in plan.added
    due = {(d.milestone_id, d.offset_days) for d in sched.due_runs(session, late) if d.kind == "reminder"}
    assert (m.id, 14) not in due and (m.id, 7) not in due


def test_after_downtime_a_missed_moment_runs_once_within_grace_and_is_skipped_beyond(session):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    back = at(m, 7, timedelta(hours=2))  # down over 08:00: back two hours later, grace 12 h
    sched.run_due(session, now=back)
    sched.run_due(session, now=back + timedelta(minutes=1))
    keys = Counter(session.execute(select(Outbox.offset_key).where(Outbox.channel == "inbox")).scalars())
    session.commit()
    assert keys == {reminder_key(7, m.due_on): 8}
    beyond = at(m, 3, timedelta(hours=13))
    sched.run_due(session, now=beyond)
    assert reminder_key(3, m.due_on) not in set(session.execute(select(Outbox.offset_key)).scalars())
    session.commit()


def test_a_fan_out_cut_short_is_finished_by_the_next_tick(session, monkeypatch):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    now = at(m, 7, timedelta(minutes=1))
    real = fanout.run_reminder

    def dies_after_two_batches(*args, **kw):
        return real(*args, **kw, batch=3, after_batch=kill_after(2))

    monkeypatch.setattr(sched, "run_reminder", dies_after_two_batches)
    with pytest.raises(Killed):
        sched.run_due(session, now=now)
    session.rollback()
    assert session.execute(select(func.count()).select_from(InboxMessage)).scalar() == 6
    assert sched.run_key_reminder(m.id, 7, m.due_on) not in _keys(session)
    monkeypatch.setattr(sched, "run_reminder", real)
    sched.run_due(session, now=now + timedelta(minutes=1))  # the next tick, here or on the standby
    per_person = Counter(session.execute(select(InboxMessage.person_id)).scalars())
    emails = Counter(session.execute(select(Outbox.recipient_person_id).where(Outbox.channel == "email")).scalars())
    session.commit()
    assert len(per_person) == 8 and set(per_person.values()) == {1}
    assert len(emails) == 8 and set(emails.values()) == {1}
    assert sched.run_key_reminder(m.id, 7, m.due_on) in _keys(session)


def test_the_days_run_moves_agreed_appraisals_once_the_mid_round_date_passed(session):
    w = world(session)
    aid = drive(session, w, "appraisee", until="agreed")
    sched.run_due(session, now=datetime(2025, 12, 30, 9, 0, tzinfo=BANGKOK))  # the due day itself
    assert session.get(Appraisal, aid).state == "agreed"
    session.commit()
    sched.run_due(session, now=datetime(2025, 12, 31, 9, 0, tzinfo=BANGKOK))
    session.expire_all()
    assert session.get(Appraisal, aid).state == "monitored"
    assert {"daily:2025-12-30", "daily:2025-12-31"} <= _keys(session)


def test_closed_rounds_are_left_alone(session):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    rnd = session.get(Round, w.opened.round.id)
    rnd.status = "closed"
    session.add(rnd)
    session.commit()
    assert sched.due_runs(session, at(m, 14, timedelta(minutes=1))) == []


def test_in_process_scheduler_only_with_one_worker_and_not_switched_off():
    assert sched.in_process_enabled(Settings(scheduler=True, workers=1))
    assert not sched.in_process_enabled(Settings(scheduler=True, workers=4))
    assert not sched.in_process_enabled(Settings(scheduler=False, workers=1))


def test_bad_settings_are_found_before_the_lock_is_taken(engine, session):
    w = world(session)
    session.add(ChannelSetting(org_unit_id=w.org.id, channel="webhook", enabled=True,
                               target="https://chat.example.go.th/hook"))
    session.commit()
    service = sched.SchedulerService(engine, settings=Settings(webhook_secret=""), poll=0.1, interval=0.3)
    with pytest.raises(SettingsError, match="PMFLOW_WEBHOOK_SECRET is empty"):
        service.run()
    assert service.lock_attempts == 0 and not service.active.is_set()
    sched.SchedulerService(engine, settings=Settings(webhook_secret="s"), poll=0.1).check()  # fine with one


def _wait(cond, timeout: float = 30.0) -> None:
    """Wait for a condition (not a timing assertion: only a bound on a hung test)."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def _inbox_count(engine) -> int:
    with new_session(engine) as s:
        return s.execute(select(func.count()).select_from(InboxMessage)).scalar()


def test_two_schedulers_on_postgresql_one_runs_the_other_takes_over(pg_engine):
    with new_session(pg_engine) as s:
        w = world(s)
        m = milestone(s, w, "agreement_signed")
    url = pg_engine.url.render_as_string(hide_password=False)
    engine_a, engine_b = make_engine(url), make_engine(url)
    clock = FixedClock(at(m, 14, timedelta(minutes=1)))
    settings = Settings(smtp_host="")  # inbox only here; delivery has its own tests
    a = sched.SchedulerService(engine_a, clock=clock, settings=settings, poll=0.1, interval=0.3, name="A").start()
    b = None
    try:
        _wait(a.active.is_set)
        b = sched.SchedulerService(engine_b, clock=clock, settings=settings, poll=0.1, interval=0.3,
                                   name="B").start()
        _wait(lambda: b.lock_attempts >= 5)
        assert not b.active.is_set()  # B waits while A holds the lock
        _wait(lambda: _inbox_count(pg_engine) == 8)
        assert "reminders" in a.executed and b.executed == []

        a.kill()  # A dies: its lock connection drops
        _wait(b.active.is_set)
        clock.set(at(m, 7, timedelta(minutes=1)))
        _wait(lambda: _inbox_count(pg_engine) == 16)
        with new_session(pg_engine) as s:
            keys = set(s.execute(select(Outbox.offset_key)).scalars())
            assert keys == {reminder_key(14, m.due_on), reminder_key(7, m.due_on)}
            per = s.execute(select(Outbox.recipient_person_id, Outbox.offset_key, Outbox.channel,
                                   func.count()).group_by(Outbox.recipient_person_id, Outbox.offset_key,
                                                          Outbox.channel)).all()
            assert {n for *_, n in per} == {1}
            assert s.execute(text("SELECT count(*) FROM notification_run WHERE run_key LIKE 'reminder:%'")
                             ).scalar() == 2
    finally:
        a.stop()
        if b is not None:
            b.stop()
        for e in (engine_a, engine_b):
            e.dispose()
