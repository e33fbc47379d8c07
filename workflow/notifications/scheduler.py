"""The reminder scheduler: a few named periodic jobs that ask the data what is due now
(APScheduler 3.11, its jobs in memory; nothing about a round is copied into a job store).

  reminders     every `scheduler_interval_seconds` (settings): for every open round, each
                reminder whose moment (08:00 Bangkok, `offset` days before a milestone's due date)
                passed less than the policy's grace ago, and the day's run at 08:30 (the appraisals
                past the mid-round date move on; overdue reminders and escalations), unless a
                finished run of it is recorded in `notification_run`.
                The agency assessments' SAR milestones get their reminders in the same job, at the
                same offsets (the policy's `[reminders]`, the one the individual milestones use).
  deliver       every interval: the outbox rows due (`channels.deliver_due`), retries included.
  housekeeping  hourly: stored idempotent answers older than a day are forgotten.

Why this is right under faults: a run is recorded as finished only after its last batch is
committed, and every batch inserts with the outbox's unique key (ON CONFLICT DO NOTHING). So a
fan-out cut short (kill -9, a lost lock, a takeover by the standby) has no record, and the next
tick, in this process or the standby's, runs it again: whoever already has their row is
skipped, the rest get theirs. Nobody runs a command. Opening a round, moving a milestone or
closing a round needs no scheduler call: the next tick reads the milestones as they are (the
outbox key carries the due date, so a milestone moved to a later date is reminded of again).

Exactly one scheduler is active: the server runs it in-process in the single-worker default;
with more workers `pmflow scheduler` runs it alone, and a PostgreSQL advisory lock (held on a
dedicated connection) keeps a second one waiting until the first dies. On SQLite a lock file
beside the database does the same for processes on one machine. A standby checks its settings
and the database before it ever takes the lock: bad settings end it with a clear error.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

import workflow.kinds  # noqa: F401,E402  (the jobs fire events: the kinds and their hooks)
from db.models import ChannelSetting, Milestone, NotificationRun, PolicyVersion, Round
from db.session import default_engine, new_session
from workflow.calendar import BANGKOK
from workflow.housekeeping import purge_idempotency_records
from workflow.notifications.channels import ChannelPause, deliver_due
from workflow.notifications.clock import SYSTEM, Clock, to_utc
from workflow.notifications.digest import overdue_key, reminder_key
from workflow.notifications.fanout import (
    agency_anchors,
    overdue_moment,
    reminder_moment,
    run_agency_overdue,
    run_agency_reminder,
    run_overdue,
    run_reminder,
)
from workflow.rounds import pass_mid_round, policy_of_round, policy_of_version
from workflow.settings import Settings, SettingsError, get_settings, load_settings

log = logging.getLogger("pmflow.scheduler")

DELIVERY_WORKERS = 4  # threads, each with its own SMTP connection, in a delivery run
LOCK_KEY = 0x706D666C6F77  # "pmflow": the advisory lock only the active scheduler holds
JOBS = ("reminders", "deliver", "housekeeping")


# --- what is due now -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DueRun:
    """A fan-out whose moment has come and that has not finished."""

    round_id: int | None  # none: an agency SAR reminder
    key: str  # notification_run.run_key
    kind: str  # reminder | daily | agency | agency_overdue
    milestone_id: int | None = None  # an agency milestone for an agency SAR reminder
    offset_days: int | None = None
    moment: datetime | None = None


def run_key_reminder(milestone_id: int, offset_days: int, due_on: date) -> str:
    return f"reminder:{milestone_id}:{reminder_key(offset_days, due_on)}"


def run_key_agency(agency_milestone_id: int, offset_days: int, due_on: date) -> str:
    return f"agency:{agency_milestone_id}:{reminder_key(offset_days, due_on)}"


def run_key_daily(day: date) -> str:
    return f"daily:{day.isoformat()}"


def due_runs(session: Session, now: datetime) -> list[DueRun]:
    """Every reminder and daily run of the open rounds whose moment passed within the policy's
    grace and that has no finished record, oldest moment first."""
    now = to_utc(now)
    rounds = list(session.execute(select(Round).where(Round.status == "open").order_by(Round.id)).scalars())
    todo: list[DueRun] = []
    for rnd in rounds:
        rules = policy_of_round(session, rnd.id).reminders
        grace = timedelta(hours=rules.misfire_grace_hours)
        finished = set(session.execute(select(NotificationRun.run_key)
                                        .where(NotificationRun.round_id == rnd.id)).scalars())
        milestones = session.execute(select(Milestone.id, Milestone.due_on)
                                     .where(Milestone.round_id == rnd.id)).all()
        for mid, due_on in milestones:
            for offset in rules.offsets_days:
                moment = reminder_moment(due_on, offset)
                key = run_key_reminder(mid, offset, due_on)
                if moment <= now <= moment + grace and key not in finished:
                    todo.append(DueRun(rnd.id, key, "reminder", mid, offset, moment))
        daily = overdue_moment(now)
        key = run_key_daily(daily.date())
        if now - daily <= grace and daily.date() >= rnd.starts_on and key not in finished:
            todo.append(DueRun(rnd.id, key, "daily", moment=daily))
    todo += _due_agency_runs(session, now)
    return sorted(todo, key=lambda r: (r.moment, r.round_id or 0, r.key))


def _due_agency_runs(session: Session, now: datetime) -> list[DueRun]:
    """The SAR reminders of the agency assessments whose moment passed within the grace."""
    finished = set(session.execute(select(NotificationRun.run_key)
                                    .where(NotificationRun.round_id.is_(None))).scalars())
    todo = []
    for anchor in agency_anchors(session):
        if not anchor.pending:
            continue
        rules = policy_of_version(session.get(PolicyVersion, anchor.policy_version_id)).reminders
        for offset in rules.offsets_days:
            moment = reminder_moment(anchor.due_on, offset)
            key = run_key_agency(anchor.id, offset, anchor.due_on)
            if moment <= now <= moment + timedelta(hours=rules.misfire_grace_hours) and key not in finished:
                todo.append(DueRun(None, key, "agency", anchor.id, offset, moment))
        daily = overdue_moment(now)
        key = f"agency:{anchor.id}:{overdue_key(daily.date())}"
        if (rules.overdue_daily and anchor.due_on < daily.date() and now - daily <= timedelta(
                hours=rules.misfire_grace_hours) and key not in finished):
            todo.append(DueRun(None, key, "agency_overdue", anchor.id, moment=daily))
    return todo


def run_due(session: Session, *, now: datetime, settings: Settings | None = None) -> list[DueRun]:
    """Run every due fan-out to its end and record it as finished; returns what ran. A fan-out
    that raises is not recorded: the next tick tries it again."""
    done = []
    for due in due_runs(session, now):
        session.commit()  # end the read: on SQLite every transaction holds the write lock
        if due.kind in ("reminder", "agency"):
            run = run_reminder if due.kind == "reminder" else run_agency_reminder
            result = run(session, due.milestone_id, due.offset_days, now=now, settings=settings)
            outcome = result.skipped or f"{result.recipients} recipients, {result.decided} rows"
        elif due.kind == "agency_overdue":
            result = run_agency_overdue(session, due.milestone_id, now=now, settings=settings)
            outcome = result.skipped or f"{result.recipients} recipients, {result.decided} rows"
        else:
            # The day's run also moves agreed appraisals on once the mid-round date has passed.
            moved = pass_mid_round(session, due.round_id, today=to_utc(now).astimezone(BANGKOK).date())
            results = run_overdue(session, due.round_id, now=now, settings=settings)
            outcome = f"{moved} moved past mid-round; " + "; ".join(
                r.skipped or f"milestone {r.milestone_id}: {r.recipients} recipients, {r.decided} rows"
                for r in results)
        _finished(session, due, outcome, now)
        done.append(due)
    session.commit()
    return done


def _finished(session: Session, due: DueRun, outcome: str, now: datetime) -> None:
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)
    session.execute(insert(NotificationRun).values(round_id=due.round_id, run_key=due.key,
                                                   finished_at=to_utc(now), outcome=outcome[:500])
                    .on_conflict_do_nothing(index_elements=["round_id", "run_key"]))
    session.commit()
    log.info("finished %s of round %s: %s", due.key, due.round_id, outcome)


@dataclass
class Planned:
    """The reminders a round will get: nothing is stored, the `reminders` job finds them."""

    added: list[str] = field(default_factory=list)  # run keys still to come
    skipped: dict[str, str] = field(default_factory=dict)  # run key -> why it will not run


def schedule_round(round_id: int, *, engine: Engine | None = None, now: datetime | None = None) -> Planned:
    """The reminders of a round, as the periodic job will see them (nothing to store: the job
    reads the milestones); moments already past beyond the grace are named with the reason."""
    now = to_utc(now or SYSTEM.now())
    result = Planned()
    with new_session(engine or default_engine()) as session:
        rnd = session.get(Round, round_id)
        if rnd is None or rnd.status != "open":
            return result
        rules = policy_of_round(session, round_id).reminders
        grace = timedelta(hours=rules.misfire_grace_hours)
        for m in session.execute(select(Milestone).where(Milestone.round_id == round_id)
                                 .order_by(Milestone.due_on, Milestone.id)).scalars():
            for offset in rules.offsets_days:
                moment, key = reminder_moment(m.due_on, offset), run_key_reminder(m.id, offset, m.due_on)
                if moment + grace < now:
                    result.skipped[key] = f"moment {moment.isoformat()} passed beyond the grace period"
                    log.warning("reminder %s will not run: %s", key, result.skipped[key])
                else:
                    result.added.append(key)
    return result


def in_process_enabled(settings: Settings | None = None) -> bool:
    """Does the server run the scheduler itself? Only with one worker and unless switched off."""
    return (settings or get_settings()).runs_scheduler_in_process


def check_ready(engine: Engine, settings: Settings) -> None:
    """What a scheduler needs before it takes the lock: the database answers, and webhooks
    switched on anywhere have a signing secret. Raises SettingsError naming what is wrong."""
    try:
        with new_session(engine) as session:
            hooks = session.execute(select(ChannelSetting.id).where(
                ChannelSetting.channel == "webhook", ChannelSetting.enabled.is_(True),
                ChannelSetting.target != "").limit(1)).first()
    except Exception as exc:  # noqa: BLE001 - named in the error
        raise SettingsError(f"the database at PMFLOW_DATABASE_URL cannot be read: {exc}") from None
    if hooks is not None and not settings.webhook_secret:
        raise SettingsError("webhooks are switched on but PMFLOW_WEBHOOK_SECRET is empty: "
                            "webhooks are never sent unsigned")


# --- the one active scheduler --------------------------------------------------------------------
class PmflowScheduler(BackgroundScheduler):
    """APScheduler 3's background scheduler, minus one hazard: after shutdown() its loop wakes
    once more in the STOPPED state and processes due jobs. Only a running scheduler runs jobs."""

    def _process_jobs(self):  # noqa: ANN202
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()


class SchedulerService:
    """Checks its settings, waits for the scheduler lock, then runs the periodic jobs until
    stopped or the lock is lost."""

    def __init__(self, engine: Engine | None = None, *, clock: Clock = SYSTEM, settings: Settings | None = None,
                 poll: float = 5.0, interval: float | None = None, name: str = "scheduler",
                 workers: int = DELIVERY_WORKERS):
        self.engine = engine or default_engine()
        self.clock, self.settings = clock, settings
        self.poll, self.interval, self.name, self.workers = poll, interval, name, workers
        self.active = threading.Event()
        self.lock_attempts = 0
        self.executed: list[str] = []  # names of the jobs this service ran
        self.pause = ChannelPause()  # a channel whose server is down waits before the next try
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_conn = None
        self._lock_file = None
        self._scheduler: BackgroundScheduler | None = None

    # lifecycle
    def start(self) -> SchedulerService:
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def stop_soon(self) -> None:
        """Ask the loop to end (from a signal handler); `run` then steps down and releases the lock."""
        self._stop.set()

    def kill(self) -> None:
        """Die as a crashed process would: the lock's connection drops, jobs stop, no cleanup."""
        self._stop.set()
        if self._lock_conn is not None:
            with contextlib.suppress(Exception):
                self._lock_conn.invalidate()
        self._deactivate(wait=False)
        if self._thread is not None:
            self._thread.join(30)

    def check(self) -> Settings:
        """The settings this scheduler will use, read and checked now (SettingsError if bad)."""
        settings = self.settings or load_settings()
        check_ready(self.engine, settings)
        self.settings = settings
        if self.interval is None:
            self.interval = settings.scheduler_interval_seconds
        return settings

    def run(self) -> None:
        self.check()  # before the lock: a standby with bad settings never holds it
        while not self._stop.is_set():
            if not self._acquire():
                self._stop.wait(self.poll)
                continue
            log.info("%s: lock taken, scheduler active", self.name)
            try:
                self._activate()
                while not self._stop.wait(self.poll):
                    if not self._lock_alive():
                        log.error("%s: lost the scheduler lock; stepping down", self.name)
                        break
            finally:
                self._deactivate()
                self._release()

    # the jobs
    def reminders_job(self) -> None:
        with new_session(self.engine) as session:
            run_due(session, now=self.clock.now(), settings=self.settings)

    def deliver_job(self) -> None:
        with new_session(self.engine) as session:
            deliver_due(session, now=self.clock.now(), settings=self.settings, workers=self.workers,
                        pause=self.pause)

    def housekeeping_job(self) -> None:
        with new_session(self.engine) as session:
            purge_idempotency_records(session, self.clock.now())

    # the lock
    def _acquire(self) -> bool:
        self.lock_attempts += 1
        if self.engine.dialect.name == "postgresql":
            try:
                conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar():
                    self._lock_conn = conn
                    return True
                conn.close()
            except Exception as exc:  # noqa: BLE001 - the database is down: keep waiting
                log.warning("%s: cannot reach the database for the lock: %s", self.name, exc)
            return False
        return self._acquire_file_lock()

    def _acquire_file_lock(self) -> bool:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return True
        import fcntl  # noqa: PLC0415 - POSIX only, as is the rest of the deployment

        handle = open(Path(database).with_suffix(".scheduler.lock"), "a+")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        return True

    def _lock_alive(self) -> bool:
        if self._lock_conn is None:
            return True
        try:
            self._lock_conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001
            return False

    def _release(self) -> None:
        if self._lock_conn is not None:
            with contextlib.suppress(Exception):
                self._lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            with contextlib.suppress(Exception):
                self._lock_conn.close()
            self._lock_conn = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # the scheduler
    def _activate(self) -> None:
        sch = PmflowScheduler(jobstores={"default": MemoryJobStore()}, executors={"default": ThreadPoolExecutor(3)},
                              job_defaults={"coalesce": True, "max_instances": 1}, timezone=BANGKOK)
        sch.add_listener(self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        first = datetime.now(BANGKOK)  # at once: a takeover finishes what was cut short now
        every = self.interval
        for name, job, seconds in (("reminders", self.reminders_job, every), ("deliver", self.deliver_job, every),
                                   ("housekeeping", self.housekeeping_job, 3600)):
            sch.add_job(job, "interval", seconds=seconds, id=name, name=name, next_run_time=first,
                        misfire_grace_time=max(int(seconds), 1))
        sch.start()
        self._scheduler = sch
        self.active.set()

    def _deactivate(self, wait: bool = True) -> None:
        """Stop the scheduler; on an orderly stop, wait for the jobs running to finish."""
        self.active.clear()
        sch, self._scheduler = self._scheduler, None
        if sch is not None:
            with contextlib.suppress(Exception):
                sch.shutdown(wait=wait)

    def _on_event(self, event: JobExecutionEvent) -> None:
        self.executed.append(event.job_id)
        if event.exception is not None:
            log.error("%s: job %s failed (tried again next tick): %s", self.name, event.job_id, event.exception)
