"""APScheduler 3.11: one job per milestone and reminder offset, one daily overdue job per round;
jobs kept in the application's database (SQLAlchemyJobStore, table apscheduler_jobs).

APScheduler 3 cannot share a job store between running schedulers, so exactly one scheduler
is active at a time: the server runs it in-process in the single-worker default; with more
workers `pmflow scheduler` runs it alone, and a PostgreSQL advisory lock (held on a dedicated
connection) keeps a second one waiting until the first dies. On SQLite a lock file beside the
database does the same for processes on one machine.

Other processes (the CLI opening a round, API workers) change jobs through a *paused*
scheduler on the same store: it writes jobs but never runs them; the active scheduler wakes
at least every `heartbeat` seconds and picks them up. A periodic sync also re-adds future jobs
of open rounds whose hook was missed, and drops the jobs of closed rounds.

Job moments: a reminder at 08:00 Bangkok time `offset` days before the due date; the overdue
run daily at 08:30. Each job has a fixed id (replace_existing=True), coalesce=True and the
policy's misfire grace time; the job bodies check the grace again against the injectable
clock, so a reminder missed while the server was down is sent once within the grace period
and otherwise skipped with a logged reason.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine, select, text
from sqlmodel import Session

from db.models import Milestone, Round
from db.session import default_engine, new_session
from workflow.calendar import BANGKOK
from workflow.housekeeping import purge_idempotency_records
from workflow.notifications.channels import deliver_due
from workflow.notifications.clock import SYSTEM, Clock
from workflow.notifications.fanout import (
    OVERDUE_TIME,
    reminder_moment,
    run_overdue,
    run_reminder,
)
from workflow.rounds import pass_mid_round, policy_of_round
from workflow.settings import Settings, get_settings

log = logging.getLogger("pmflow.scheduler")

JOBSTORE_TABLE = "apscheduler_jobs"
DELIVERY_WORKERS = 4  # threads, each with its own SMTP connection, when a job delivers
LOCK_KEY = 0x706D666C6F77  # "pmflow": the advisory lock only the active scheduler holds


def reminder_job_id(milestone_id: int, offset_days: int) -> str:
    return f"reminder:{milestone_id}:{offset_days}"


def overdue_job_id(round_id: int) -> str:
    return f"overdue:{round_id}"


# --- what the jobs run (module-level functions: the job store keeps a reference by name) --------
@dataclass
class Runtime:
    """What jobs use when they run: the active scheduler sets it."""

    engine: Engine | None = None
    clock: Clock = SYSTEM
    settings: Settings | None = None
    scheduler: BackgroundScheduler | None = None


RUNTIME = Runtime()


def _engine() -> Engine:
    return RUNTIME.engine or default_engine()


def reminder_job(milestone_id: int, offset_days: int) -> None:
    now = RUNTIME.clock.now()
    with new_session(_engine()) as session:
        run_reminder(session, milestone_id, offset_days, now=now, settings=RUNTIME.settings)
        deliver_due(session, now=now, settings=RUNTIME.settings, milestone_id=milestone_id,
                    workers=DELIVERY_WORKERS)


def overdue_job(round_id: int) -> None:
    now = RUNTIME.clock.now()
    with new_session(_engine()) as session:
        # The daily job also moves agreed appraisals on once the mid-round date has passed.
        pass_mid_round(session, round_id, today=now.astimezone(BANGKOK).date())
        run_overdue(session, round_id, now=now, settings=RUNTIME.settings)
        deliver_due(session, now=now, settings=RUNTIME.settings, workers=DELIVERY_WORKERS)


def deliver_job() -> None:
    """Due deliveries and retries; also the heartbeat that makes the scheduler re-read the store."""
    with new_session(_engine()) as session:
        deliver_due(session, now=RUNTIME.clock.now(), settings=RUNTIME.settings, workers=DELIVERY_WORKERS)


def sync_job() -> None:
    sync(scheduler=RUNTIME.scheduler, engine=_engine(), now=RUNTIME.clock.now())


def housekeeping_job() -> None:
    with new_session(_engine()) as session:
        purge_idempotency_records(session, RUNTIME.clock.now())


# --- building schedulers -------------------------------------------------------------------------
class AppJobStore(SQLAlchemyJobStore):
    """The job store on the application's engine, which it must not dispose of on shutdown."""

    def shutdown(self) -> None:
        pass


class PmflowScheduler(BackgroundScheduler):
    """APScheduler 3's background scheduler, minus one hazard: after shutdown() its loop wakes
    once more in the STOPPED state and processes due jobs (failing to submit them, and then
    removing one-shot jobs from the shared store). Only a running scheduler processes jobs."""

    def _process_jobs(self):  # noqa: ANN202
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    return PmflowScheduler(
        jobstores={"default": AppJobStore(engine=engine, tablename=JOBSTORE_TABLE),
                   "local": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=BANGKOK)


@contextlib.contextmanager
def _store(engine: Engine | None, scheduler: BackgroundScheduler | None) -> Iterator[BackgroundScheduler]:
    """The scheduler to change jobs with: the one given, the active one of this process, or a
    paused one that only writes to the job store."""
    if scheduler is None and RUNTIME.scheduler is not None and (engine is None or engine is RUNTIME.engine):
        scheduler = RUNTIME.scheduler
    if scheduler is not None:
        yield scheduler
        return
    temp = build_scheduler(engine or default_engine())
    temp.start(paused=True)
    try:
        yield temp
    finally:
        temp.shutdown(wait=False)


@dataclass(frozen=True)
class JobSpec:
    id: str
    kind: str  # reminder | overdue
    args: tuple[int, ...]
    moment: datetime | None  # reminders: the one run; overdue: None (daily)
    grace: timedelta


@dataclass
class Scheduled:
    added: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # job id -> reason
    removed: list[str] = field(default_factory=list)


def round_jobs(session: Session, round_id: int) -> list[JobSpec]:
    """A handful per round: milestones x offsets + one overdue job, whatever the staff count."""
    policy = policy_of_round(session, round_id)
    grace = timedelta(hours=policy.reminders.misfire_grace_hours)
    milestones = session.execute(select(Milestone).where(Milestone.round_id == round_id)
                                 .order_by(Milestone.due_on, Milestone.id)).scalars()
    specs = [JobSpec(reminder_job_id(m.id, off), "reminder", (m.id, off), reminder_moment(m.due_on, off), grace)
             for m in milestones for off in policy.reminders.offsets_days]
    if policy.reminders.overdue_daily:
        specs.append(JobSpec(overdue_job_id(round_id), "overdue", (round_id,), None, grace))
    return specs


def _add(sch: BackgroundScheduler, spec: JobSpec, rnd: Round, now: datetime, result: Scheduled) -> None:
    grace_s = int(spec.grace.total_seconds()) or 1
    if spec.kind == "reminder":
        if spec.moment + spec.grace < now:
            result.skipped[spec.id] = f"moment {spec.moment.isoformat()} passed beyond the grace period"
            log.warning("job %s not scheduled: %s", spec.id, result.skipped[spec.id])
            return
        sch.add_job(reminder_job, DateTrigger(run_date=spec.moment, timezone=BANGKOK), args=list(spec.args),
                    id=spec.id, name=spec.id, replace_existing=True, misfire_grace_time=grace_s,
                    coalesce=True, jobstore="default")
    else:
        sch.add_job(overdue_job, CronTrigger(hour=OVERDUE_TIME.hour, minute=OVERDUE_TIME.minute, timezone=BANGKOK,
                                             start_date=rnd.starts_on, end_date=None),
                    args=list(spec.args), id=spec.id, name=spec.id, replace_existing=True,
                    misfire_grace_time=grace_s, coalesce=True, jobstore="default")
    result.added.append(spec.id)


def schedule_round(round_id: int, *, engine: Engine | None = None, scheduler: BackgroundScheduler | None = None,
                   now: datetime | None = None) -> Scheduled:
    """Add (or replace) the jobs of an open round. Called when a round opens."""
    now = now or RUNTIME.clock.now()
    result = Scheduled()
    with new_session(engine or _engine()) as session:
        rnd = session.get(Round, round_id)
        if rnd is None or rnd.status != "open":
            return result
        specs = round_jobs(session, round_id)
    with _store(engine, scheduler) as sch:
        for spec in specs:
            _add(sch, spec, rnd, now, result)
    return result


def reschedule_milestone(milestone_id: int, *, engine: Engine | None = None,
                         scheduler: BackgroundScheduler | None = None, now: datetime | None = None) -> Scheduled:
    """Replace a milestone's reminder jobs after its due date changed."""
    now = now or RUNTIME.clock.now()
    result = Scheduled()
    with new_session(engine or _engine()) as session:
        m = session.get(Milestone, milestone_id)
        rnd = session.get(Round, m.round_id) if m else None
        specs = [s for s in round_jobs(session, rnd.id) if s.kind == "reminder" and s.args[0] == milestone_id] \
            if rnd is not None and rnd.status == "open" else []
    with _store(engine, scheduler) as sch:
        prefix = f"reminder:{milestone_id}:"
        for job in sch.get_jobs(jobstore="default"):
            if job.id.startswith(prefix):
                sch.remove_job(job.id, jobstore="default")
                result.removed.append(job.id)
        for spec in specs:
            _add(sch, spec, rnd, now, result)
    return result


def unschedule_round(round_id: int, *, engine: Engine | None = None,
                     scheduler: BackgroundScheduler | None = None) -> Scheduled:
    """Remove every job of a round. Called when a round closes."""
    result = Scheduled()
    with new_session(engine or _engine()) as session:
        ids = set(session.execute(select(Milestone.id).where(Milestone.round_id == round_id)).scalars())
    with _store(engine, scheduler) as sch:
        for job in sch.get_jobs(jobstore="default"):
            kind, _, rest = job.id.partition(":")
            if (kind == "reminder" and int(rest.split(":")[0]) in ids) or job.id == overdue_job_id(round_id):
                sch.remove_job(job.id, jobstore="default")
                result.removed.append(job.id)
    return result


def sync(*, scheduler: BackgroundScheduler | None = None, engine: Engine | None = None,
         now: datetime | None = None) -> Scheduled:
    """Make the store match the data: future jobs of open rounds present at the right moment,
    no jobs for closed rounds. Cheap: a handful of jobs per round."""
    now = now or RUNTIME.clock.now()
    result = Scheduled()
    with new_session(engine or _engine()) as session:
        rounds = list(session.execute(select(Round)).scalars())
        wanted = {r.id: round_jobs(session, r.id) for r in rounds if r.status == "open"}
    by_id = {r.id: r for r in rounds}
    with _store(engine, scheduler) as sch:
        existing = {j.id: j for j in sch.get_jobs(jobstore="default")}
        keep = set()
        for rid, specs in wanted.items():
            for spec in specs:
                keep.add(spec.id)
                job = existing.get(spec.id)
                if spec.kind == "overdue":
                    if job is None:
                        _add(sch, spec, by_id[rid], now, result)
                elif spec.moment > now and (job is None or job.next_run_time != spec.moment):
                    _add(sch, spec, by_id[rid], now, result)
        for job_id in existing:
            if job_id.startswith(("reminder:", "overdue:")) and job_id not in keep:
                sch.remove_job(job_id, jobstore="default")
                result.removed.append(job_id)
    return result


def in_process_enabled(settings: Settings | None = None) -> bool:
    """Does the server run the scheduler itself? Only with one worker and unless switched off."""
    return (settings or get_settings()).runs_scheduler_in_process


# --- the one active scheduler --------------------------------------------------------------------
class SchedulerService:
    """Waits for the scheduler lock, then runs the scheduler until stopped or the lock is lost."""

    def __init__(self, engine: Engine | None = None, *, clock: Clock = SYSTEM, settings: Settings | None = None,
                 poll: float = 5.0, heartbeat: float = 60.0, sync_every: float = 300.0, name: str = "scheduler"):
        self.engine = engine or default_engine()
        self.clock, self.settings = clock, settings
        self.poll, self.heartbeat, self.sync_every, self.name = poll, heartbeat, sync_every, name
        self.active = threading.Event()
        self.lock_attempts = 0
        self.executed: list[str] = []  # ids of jobs this service ran
        self.missed: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_conn = None
        self._lock_file = None
        self._scheduler: BackgroundScheduler | None = None

    # lifecycle
    def start(self) -> "SchedulerService":
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

    def run(self) -> None:
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
        sch = build_scheduler(self.engine)
        sch.add_listener(self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        RUNTIME.engine, RUNTIME.clock, RUNTIME.settings = self.engine, self.clock, self.settings or get_settings()
        sch.start()
        RUNTIME.scheduler = sch
        self._scheduler = sch
        sync(scheduler=sch, engine=self.engine, now=self.clock.now())
        sch.add_job(deliver_job, "interval", seconds=self.heartbeat, id="deliver", jobstore="local",
                    replace_existing=True, coalesce=True, misfire_grace_time=int(self.heartbeat) or 1)
        sch.add_job(sync_job, "interval", seconds=self.sync_every, id="sync", jobstore="local",
                    replace_existing=True, coalesce=True, misfire_grace_time=int(self.sync_every) or 1)
        sch.add_job(housekeeping_job, "interval", hours=1, id="housekeeping", jobstore="local",
                    replace_existing=True, coalesce=True, misfire_grace_time=3600)
        self.active.set()

    def _deactivate(self, wait: bool = True) -> None:
        """Stop the scheduler; on an orderly stop, wait for the jobs running to finish."""
        self.active.clear()
        sch, self._scheduler = self._scheduler, None
        if sch is not None:
            if RUNTIME.scheduler is sch:
                RUNTIME.scheduler = None
            with contextlib.suppress(Exception):
                sch.shutdown(wait=wait)

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            self.missed.append(event.job_id)
            log.warning("%s: job %s missed its run at %s beyond its grace time; skipped",
                        self.name, event.job_id, event.scheduled_run_time)
        elif event.job_id not in ("deliver", "sync"):
            self.executed.append(event.job_id)
            if event.exception is not None:
                log.error("%s: job %s failed: %s", self.name, event.job_id, event.exception)
