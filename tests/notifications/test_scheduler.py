"""APScheduler jobs: a handful per round whatever the staff count, fixed ids, rescheduled and
removed with the round; one active scheduler on PostgreSQL, the second takes over."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from db.models import InboxMessage, Outbox, Round
from db.session import make_engine, new_session
from tests.factories import person, world
from tests.notifications.helpers import at, milestone
from workflow.access import Actor
from workflow.calendar import BANGKOK
from workflow.notifications import scheduler as sched
from workflow.notifications.clock import FixedClock
from workflow.notifications.digest import reminder_key
from workflow.notifications.fanout import reminder_moment
from workflow.rounds import open_round

OPENED = datetime(2025, 10, 1, 9, 0, tzinfo=BANGKOK)


@pytest.fixture(autouse=True)
def _fresh_runtime():
    yield
    sched.RUNTIME.engine = sched.RUNTIME.scheduler = sched.RUNTIME.settings = None
    sched.RUNTIME.clock = sched.SYSTEM


def _jobs(engine):
    s = sched.build_scheduler(engine)
    s.start(paused=True)
    try:
        return {j.id: j for j in s.get_jobs(jobstore="default")}
    finally:
        s.shutdown(wait=False)


def _job_count(engine) -> int:
    with engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM apscheduler_jobs")).scalar()


def test_jobs_per_round_do_not_grow_with_staff(engine, session):
    small = world(session)
    big = world(session, open_now=False)
    for i in range(60):
        person(session, big.unit, f"staff{i}", evaluator=big.people["evaluator"], superior=big.people["superior"])
    session.commit()
    big.opened = open_round(session, org_code=big.org.code, fiscal_year=2569, number=1, actor=Actor.system())
    assert big.opened.appraisals > 60

    first = sched.schedule_round(small.opened.round.id, engine=engine, now=OPENED)
    assert len(first.added) == 6 * 4 + 1 and not first.skipped
    assert _job_count(engine) == 25
    second = sched.schedule_round(big.opened.round.id, engine=engine, now=OPENED)
    assert len(second.added) == 25 and _job_count(engine) == 50
    # Scheduling again replaces, it does not add.
    sched.schedule_round(small.opened.round.id, engine=engine, now=OPENED)
    assert _job_count(engine) == 50

    m = milestone(session, small, "agreement_signed")
    jobs = _jobs(engine)
    job = jobs[f"reminder:{m.id}:14"]
    assert job.next_run_time == reminder_moment(m.due_on, 14)
    assert job.args == (m.id, 14) and job.misfire_grace_time == 12 * 3600 and job.coalesce is True
    assert job.func is sched.reminder_job
    daily = jobs[f"overdue:{small.opened.round.id}"]
    assert daily.func is sched.overdue_job and daily.misfire_grace_time == 12 * 3600


def test_reschedule_on_due_date_change_and_unschedule_on_close(engine, session):
    w = world(session)
    rid = w.opened.round.id
    sched.schedule_round(rid, engine=engine, now=OPENED)
    m = milestone(session, w, "evaluation_submitted")
    m.due_on = date(2026, 3, 25)
    session.add(m)
    session.commit()
    moved = sched.reschedule_milestone(m.id, engine=engine, now=OPENED)
    assert sorted(moved.added) == sorted(f"reminder:{m.id}:{d}" for d in (14, 7, 3, 1))
    assert _jobs(engine)[f"reminder:{m.id}:7"].next_run_time == reminder_moment(date(2026, 3, 25), 7)
    assert _job_count(engine) == 25

    gone = sched.unschedule_round(rid, engine=engine)
    assert len(gone.removed) == 25 and _job_count(engine) == 0


def test_moments_already_past_beyond_grace_are_not_scheduled(engine, session, caplog):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    # A round opened late: 5 days before the agreement is due.
    late = reminder_moment(m.due_on, 5)
    result = sched.schedule_round(w.opened.round.id, engine=engine, now=late)
    assert set(result.skipped) == {f"reminder:{m.id}:{d}" for d in (14, 7)}
    assert "passed beyond the grace" in caplog.text
    assert f"reminder:{m.id}:3" in result.added


def test_sync_readds_missing_future_jobs_and_drops_closed_rounds(engine, session):
    w = world(session)
    rid = w.opened.round.id
    assert len(sched.sync(engine=engine, now=OPENED).added) == 25  # the round-open hook was missed
    assert sched.sync(engine=engine, now=OPENED).added == []
    rnd = session.get(Round, rid)
    rnd.status = "closed"
    session.add(rnd)
    session.commit()
    assert len(sched.sync(engine=engine, now=OPENED).removed) == 25 and _job_count(engine) == 0


def test_in_process_scheduler_only_with_one_worker_and_not_switched_off():
    assert sched.in_process_enabled({})
    assert sched.in_process_enabled({"PMFLOW_WORKERS": "1"})
    assert not sched.in_process_enabled({"PMFLOW_WORKERS": "4"})
    assert not sched.in_process_enabled({"PMFLOW_SCHEDULER": "off"})


def _wait(cond, timeout: float = 30.0) -> None:
    """Wait for a condition (not a timing assertion: only a bound on a hung test)."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def _add_soon(engine, milestone_id: int, offset: int) -> str:
    """Another process (say the API) adds a job through a paused scheduler on the same store."""
    s = sched.build_scheduler(engine)
    s.start(paused=True)
    try:
        job = s.add_job(sched.reminder_job, "date", run_date=datetime.now(BANGKOK) + timedelta(seconds=0.5),
                        args=[milestone_id, offset], id=sched.reminder_job_id(milestone_id, offset),
                        replace_existing=True, misfire_grace_time=3600, coalesce=True)
        return job.id
    finally:
        s.shutdown(wait=False)


def test_two_schedulers_on_postgresql_one_runs_the_other_takes_over(pg_engine):
    with new_session(pg_engine) as s:
        w = world(s)
        m = milestone(s, w, "agreement_signed")
        rid = w.opened.round.id
        s.execute(text("UPDATE round SET status = 'closed' WHERE id = :r"), {"r": rid})  # no sync noise
        s.commit()
    url = pg_engine.url.render_as_string(hide_password=False)
    engine_a, engine_b, engine_api = make_engine(url), make_engine(url), make_engine(url)
    clock = FixedClock(at(m, 14))
    a = sched.SchedulerService(engine_a, clock=clock, poll=0.1, heartbeat=0.3, name="A").start()
    b = None
    try:
        _wait(a.active.is_set)
        b = sched.SchedulerService(engine_b, clock=clock, poll=0.1, heartbeat=0.3, name="B").start()
        _wait(lambda: b.lock_attempts >= 5)
        assert not b.active.is_set()  # B waits while A holds the lock

        with new_session(pg_engine) as s:  # reopen the round: jobs do their work again
            s.execute(text("UPDATE round SET status = 'open' WHERE id = :r"), {"r": rid})
            s.commit()
        first = _add_soon(engine_api, m.id, 14)
        _wait(lambda: first in a.executed)
        assert b.executed == []
        with new_session(pg_engine) as s:
            assert s.execute(select(func.count()).select_from(InboxMessage)).scalar() == 8

        a.kill()  # A dies: its lock connection drops
        _wait(b.active.is_set)
        clock.set(at(m, 7))
        second = _add_soon(engine_api, m.id, 7)
        _wait(lambda: second in b.executed)
        assert second not in a.executed
        with new_session(pg_engine) as s:
            keys = set(s.execute(select(Outbox.offset_key)).scalars())
            assert keys == {reminder_key(14, m.due_on), reminder_key(7, m.due_on)}
            per = s.execute(select(Outbox.recipient_person_id, Outbox.offset_key, Outbox.channel,
                                   func.count()).group_by(Outbox.recipient_person_id, Outbox.offset_key,
                                                          Outbox.channel)).all()
            assert {n for *_, n in per} == {1}
    finally:
        a.stop()
        if b is not None:
            b.stop()
        for e in (engine_a, engine_b, engine_api):
            e.dispose()


def test_after_downtime_a_missed_job_runs_once_within_grace_and_is_skipped_beyond(engine, session, caplog):
    """Jobs stored before the server went down: on its return APScheduler runs the one whose
    moment passed less than the grace time ago (once) and skips the other, with a log line."""
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    real_now = datetime.now(BANGKOK)
    writer = sched.build_scheduler(engine)
    writer.start(paused=True)
    try:
        for offset, passed in ((7, timedelta(minutes=10)), (14, timedelta(hours=2))):
            writer.add_job(sched.reminder_job, "date", run_date=real_now - passed, args=[m.id, offset],
                           id=sched.reminder_job_id(m.id, offset), replace_existing=True,
                           misfire_grace_time=3600, coalesce=True)
    finally:
        writer.shutdown(wait=False)
    clock = FixedClock(at(m, 7, timedelta(minutes=10)))  # what the job bodies see
    service = sched.SchedulerService(engine, clock=clock, poll=0.1, heartbeat=0.3, sync_every=3600, name="back")
    service.start()
    try:
        _wait(lambda: sched.reminder_job_id(m.id, 7) in service.executed
              and sched.reminder_job_id(m.id, 14) in service.missed)
    finally:
        service.stop()
    assert service.executed.count(sched.reminder_job_id(m.id, 7)) == 1
    assert sched.reminder_job_id(m.id, 14) not in service.executed
    assert "missed its run" in caplog.text
    keys = set(session.execute(select(Outbox.offset_key)).scalars())
    session.commit()
    assert keys == {reminder_key(7, m.due_on)}
    # Both one-shot jobs are gone from the store (the daily overdue job, added by the sync on
    # start, stays).
    assert [j for j in _jobs(engine) if j.startswith("reminder:")] == []


def test_the_daily_job_moves_agreed_appraisals_once_the_mid_round_date_passed(engine):
    from db.models import Appraisal
    from tests.flows import drive
    from workflow.notifications.settings import Settings

    with new_session(engine) as s:
        w = world(s)
        aid = drive(s, w, "appraisee", until="agreed")
        rid = w.opened.round.id
    sched.RUNTIME.engine, sched.RUNTIME.settings = engine, Settings()
    sched.RUNTIME.clock = FixedClock(datetime(2025, 12, 30, 8, 0, tzinfo=BANGKOK))  # the due day itself
    sched.overdue_job(rid)
    with new_session(engine) as s:
        assert s.get(Appraisal, aid).state == "agreed"
    sched.RUNTIME.clock = FixedClock(datetime(2025, 12, 31, 8, 0, tzinfo=BANGKOK))
    sched.overdue_job(rid)
    with new_session(engine) as s:
        assert s.get(Appraisal, aid).state == "monitored"
