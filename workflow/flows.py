"""Orchestrations that span services, each written once and called by the CLI, the API and
the pages alike."""
from __future__ import annotations

from sqlmodel import Session

from workflow import queries, rounds
from workflow.access import Actor


def open_round(session: Session, *, org_code: str, fiscal_year: int, number: int,
               actor: Actor) -> rounds.RoundOpened:
    """Open a round: its organisation's HR, an admin or the system may (the scheduler's
    periodic jobs find its reminders when they are due)."""
    queries.require_may_open_round(session, actor, org_code)
    return rounds.open_round(session, org_code=org_code, fiscal_year=fiscal_year, number=number, actor=actor)
