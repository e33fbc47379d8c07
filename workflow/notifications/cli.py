"""`pmflow scheduler` and `pmflow notify ...`: thin commands over the notification services."""
from __future__ import annotations

import logging
import signal
from datetime import date, datetime
from typing import Optional

import typer

notify_app = typer.Typer(help="Reminders and notifications (แจ้งเตือน).", no_args_is_help=True)


def scheduler_command(poll: float = typer.Option(5.0, help="seconds between lock attempts / checks"),
                      interval: Optional[float] = typer.Option(
                          None, help="seconds between 'what is due now?' runs (PMFLOW_SCHEDULER_INTERVAL_SECONDS)"),
                      ) -> None:
    """Run the reminder scheduler as its own process (with several API workers). Only one is
    active: on PostgreSQL an advisory lock makes a second one wait and take over if the first dies.
    Its settings and the database are checked before it waits for the lock: bad ones end it here."""
    from db.session import default_engine
    from workflow.logs import configure_logging
    from workflow.notifications.scheduler import SchedulerService
    from workflow.settings import SettingsError, load_settings

    try:
        settings = load_settings()
        configure_logging(settings)
        service = SchedulerService(default_engine(), settings=settings, poll=poll, interval=interval)
        service.check()
    except SettingsError as exc:
        typer.secho(f"pmflow scheduler will not start: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: service.stop_soon())
    logging.getLogger("pmflow.scheduler").info("waiting for the scheduler lock (Ctrl-C stops)")
    service.run()
    typer.echo("scheduler stopped")


def _sample(kind: str, locale: str):  # noqa: ANN202
    from workflow.notifications.digest import Digest, MilestoneInfo, Recipient
    from workflow.notifications.pending import Item

    m = MilestoneInfo(1, "evaluation_submitted", "ส่งผลการประเมิน", "Evaluation submitted", date(2026, 3, 21),
                      1, 2569, 1)
    me = Recipient(10, "นางสาวสมใจ ใจดี", "somjai@example.go.th", locale)
    items = [Item("score", "appraisal", 101, "นายสมชาย รักงาน"), Item("submit", "appraisal", 102, "นางมาลี ศรีสุข")]
    if kind == "escalation":
        return Digest(me, "escalation", m, "escalate:2026-03-25", [], days_overdue=4,
                      late={11: items}, late_names={11: "นายประเสริฐ ตั้งใจ"})
    if kind == "overdue":
        return Digest(me, "overdue", m, "overdue:2026-03-25", items, days_overdue=4)
    return Digest(me, "reminder", m, "-7@2026-03-21", items, days_before=7)


PREVIEW_KINDS = ("reminder", "overdue", "escalation")


@notify_app.command("preview")
def preview(kind: str = typer.Option("reminder", help="reminder | overdue | escalation"),
            locale: str = typer.Option("th", help="th | en"),
            html: bool = typer.Option(False, "--html", help="print the HTML part instead of the text"),
            milestone: Optional[int] = typer.Option(None, help="a real milestone id (with --person)"),
            person: Optional[int] = typer.Option(None, help="a real person id: their pending items now"),
            digits: str = typer.Option("arabic", help="arabic | thai (๑๒๓)")) -> None:
    """Render a message template, with sample data or a person's real pending items."""
    from workflow.notifications.render import render
    from workflow.settings import get_settings

    for option, value, allowed in (("--kind", kind, PREVIEW_KINDS), ("--locale", locale, ("th", "en")),
                                   ("--digits", digits, ("arabic", "thai"))):
        if value not in allowed:
            typer.secho(f"{option} ต้องเป็น {' | '.join(allowed)} / {option} must be one of {', '.join(allowed)}"
                        f" (got {value!r})", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=2)
    if milestone is not None and person is not None:
        digest = _real(milestone, person, kind)
        if digest is None:
            typer.echo("nothing pending for this person before this milestone (ไม่มีงานค้าง)")
            return
    else:
        digest = _sample(kind, locale)
    out = render(digest, base_url=get_settings().base_url, digits=digits)
    typer.echo(out.html if html else f"Subject: {out.subject}\n\n{out.text}")


def _real(milestone_id: int, person_id: int, kind: str):  # noqa: ANN202
    from db.models import Milestone, Round
    from db.session import new_session
    from workflow.calendar import today as calendar_today
    from workflow.milestones import LOW_PERFORMER_REPORT, not_done
    from workflow.notifications import digest as digests
    from workflow.notifications.fanout import load_recipients, load_round_facts, milestone_info
    from workflow.notifications.pending import pending_for

    with new_session() as session:
        m = session.get(Milestone, milestone_id)
        if m is None:
            raise typer.BadParameter(f"no milestone {milestone_id}")
        rnd = session.get(Round, m.round_id)
        facts = load_round_facts(session, rnd, not_done(m.code), cases=m.code == LOW_PERFORMER_REPORT)
        items = pending_for(m.code, facts).get(person_id)
        people = load_recipients(session, [person_id])
        if not items or person_id not in people:
            return None
        info = milestone_info(m, rnd)
        today = calendar_today()
        if kind == "overdue":
            return digests.overdue(info, today, {person_id: items}, people)[0]
        days = max((m.due_on - today).days, 0)
        return digests.reminders(info, days, {person_id: items}, people)[0]


@notify_app.command("run")
def run(milestone: int = typer.Option(..., help="milestone id"),
        offset: int = typer.Option(..., help="days before the due date"),
        at: Optional[datetime] = typer.Option(None, help="pretend it is this moment (ISO, UTC if no offset)")) -> None:
    """Fire one reminder by hand (what its job does), then deliver. Safe to repeat: sent once."""
    from db.session import new_session
    from workflow.notifications.channels import deliver_due
    from workflow.notifications.clock import SYSTEM, to_utc
    from workflow.notifications.fanout import run_reminder

    now = to_utc(at) if at else SYSTEM.now()
    with new_session() as session:
        result = run_reminder(session, milestone, offset, now=now)
        delivered = deliver_due(session, now=now, milestone_id=milestone)
    if result.skipped:
        typer.echo(f"skipped: {result.skipped}")
    typer.echo(f"{result.recipients} recipients, {result.decided} new messages {result.by_channel}; "
               f"delivered {delivered.sent}, to retry {delivered.retried}, failed {delivered.failed}")


@notify_app.command("schedule")
def schedule(round_id: int = typer.Option(..., "--round", help="round id")) -> None:
    """A round's reminders as the scheduler will find them (nothing to create: it reads the milestones)."""
    from workflow.notifications.scheduler import schedule_round

    result = schedule_round(round_id)
    typer.echo(f"{len(result.added)} reminders to come, {len(result.skipped)} past beyond the grace")
    for key, why in result.skipped.items():
        typer.echo(f"  {key}: {why}")


@notify_app.command("jobs")
def jobs() -> None:
    """The scheduler's periodic jobs, and the fan-outs due now that have not finished."""
    from db.session import new_session
    from workflow.notifications.clock import SYSTEM
    from workflow.notifications.scheduler import JOBS, due_runs
    from workflow.settings import get_settings

    typer.echo(f"jobs: {', '.join(JOBS)} (every {get_settings().scheduler_interval_seconds:g} s; housekeeping hourly)")
    with new_session() as session:
        todo = due_runs(session, SYSTEM.now())
    typer.echo(f"due now and not finished: {len(todo)}")
    for due in todo:
        typer.echo(f"  round {due.round_id} {due.key} (since {due.moment.isoformat()})")
