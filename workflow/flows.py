"""Orchestrations that span services, each written once and called by the CLI, the API and
the pages alike."""
from __future__ import annotations

from sqlmodel import Session

from workflow import queries, rounds
from workflow.access import Actor
from workflow.notifications.scheduler import schedule_round


def open_round(session: Session, *, org_code: str, fiscal_year: int, number: int,
               actor: Actor) -> rounds.RoundOpened:
    """Open a round (its organisation's HR, an admin or the system may), then schedule its
    reminders now rather than at the scheduler's next sync."""
    queries.require_may_open_round(session, actor, org_code)
    opened = rounds.open_round(session, org_code=org_code, fiscal_year=fiscal_year, number=number, actor=actor)
    schedule_round(opened.round.id, engine=session.get_bind())
    return opened
