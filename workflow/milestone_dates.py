"""HR moves a milestone's due date for one round: validated, recorded with who and when.

The reminders follow the new date: the scheduler asks the data what is due at every tick, and
the outbox key carries the due date, so a reminder for the moved date is a new reminder.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import Session

from db.models import Milestone, MilestoneChange, OrgUnit, Round
from workflow.access import Actor
from workflow.errors import Conflict, InvalidInput, NotAllowed, NotFound, Problem

LATEST_AFTER_END = timedelta(days=366)  # a default: a due date may fall in the next round, not later


def check_due_date(rnd: Round, due_date: date) -> list[Problem]:
    """Pure: a milestone of this round may be due from the round's start to a year after its end."""
    latest = rnd.ends_on + LATEST_AFTER_END
    if not rnd.starts_on <= due_date <= latest:
        return [Problem("due_date", f"วันครบกำหนดต้องอยู่ระหว่าง {rnd.starts_on} ถึง {latest}",
                        f"the due date must fall from {rnd.starts_on} to {latest}")]
    return []


def move_due_date(session: Session, actor: Actor, round_id: int, code: str, due_date: date) -> Milestone:
    """Move milestone `code` of round `round_id` to `due_date` (HR of the round's organisation or
    an admin); every move is kept in `milestone_change`."""
    try:
        rnd = session.get(Round, round_id)
        if rnd is None:
            raise NotFound("round", round_id)
        org = session.get(OrgUnit, rnd.org_unit_id)
        if not (actor.is_hr_of(org.path)):
            raise NotAllowed("move_milestone", frozenset(r for r, _ in actor.scoped_roles))
        m = session.execute(select(Milestone).where(Milestone.round_id == round_id, Milestone.code == code)
                            .with_for_update()).scalar_one_or_none()
        if m is None:
            raise NotFound("milestone", code)
        if rnd.status != "open":
            raise Conflict("รอบการประเมินปิดแล้ว เลื่อนวันครบกำหนดไม่ได้",
                           "the round is closed; its due dates no longer move")
        problems = check_due_date(rnd, due_date)
        if problems:
            raise InvalidInput(problems)
        if m.due_on != due_date:
            session.add(MilestoneChange(milestone_id=m.id, from_date=m.due_on, to_date=due_date,
                                        account_id=actor.account_id, actor=actor.name))
            m.due_on = due_date
            session.add(m)
        session.commit()
        session.refresh(m)
        return m
    except BaseException:
        session.rollback()
        raise


def changes(session: Session, milestone_id: int) -> list[MilestoneChange]:
    return list(session.execute(select(MilestoneChange).where(MilestoneChange.milestone_id == milestone_id)
                                .order_by(MilestoneChange.id)).scalars())
