"""Shared bits for the notification tests: moments on the Bangkok clock, outbox queries."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from db.models import InboxMessage, Milestone, Outbox
from workflow.notifications.fanout import overdue_moment, reminder_moment  # noqa: F401


def milestone(session: Session, w, code: str) -> Milestone:
    m = session.execute(select(Milestone).where(Milestone.round_id == w.opened.round.id,
                                                Milestone.code == code)).scalar_one()
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    return m


def at(m: Milestone, offset: int, later: timedelta = timedelta(0)) -> datetime:
    return reminder_moment(m.due_on, offset) + later


def recipients(session: Session, w, m: Milestone, key: str, channel: str = "inbox") -> set[str]:
    names = {p.id: n for n, p in w.people.items()}
    rows = session.execute(select(Outbox.recipient_person_id).where(
        Outbox.milestone_id == m.id, Outbox.offset_key == key, Outbox.channel == channel)).scalars()
    return {names[r] for r in rows}


def inbox_of(session: Session, w, who: str) -> list[InboxMessage]:
    return list(session.execute(select(InboxMessage).where(InboxMessage.person_id == w.people[who].id)
                                .order_by(InboxMessage.id)).scalars())


class Killed(Exception):
    """Stands for the process dying at that point."""


def kill_after(k: int):  # noqa: ANN201
    """A progress hook (after_batch, after_send) that "dies" once it has seen `k`."""
    def hook(n: int) -> None:
        if n >= k:
            raise Killed(n)
    return hook
