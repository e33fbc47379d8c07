"""Helpers for case tests: announce an appraisal with an exact total, open the next round."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update
from sqlmodel import Session

from db.models import Appraisal, Committee, CommitteeMember, LowPerformerCase
from tests.factories import World
from tests.flows import drive
from workflow import engine
from workflow.access import Actor
from workflow.rounds import open_round, policy_of_round


def announce_with_total(session: Session, w: World, who: str, total: str,
                        staff_type: str | None = None) -> int:
    """Drive `who`'s appraisal to `reviewed`, set an exact total (and its rating), announce it."""
    a = w.appraisal_of(session, who)
    if staff_type:
        session.execute(update(Appraisal).where(Appraisal.id == a.id).values(staff_type=staff_type))
        session.commit()
    aid = drive(session, w, who, until="reviewed")
    a = session.get(Appraisal, aid)
    band = policy_of_round(session, a.round_id).band_for(a.staff_type, Decimal(total))
    session.execute(update(Appraisal).where(Appraisal.id == aid)
                    .values(total_percent=Decimal(total), rating_code=band.code))
    session.commit()
    engine.fire(session, "appraisal", aid, "announce", w.actors["authority"])
    return aid


def verified(session: Session) -> list:
    """`audit.verify`'s findings, less the results `announce_with_total` set with SQL (no event
    can set an exact total; verify rightly names such a row, and these tests know why)."""
    from workflow import audit

    return [f for f in audit.verify(session) if not f.problem.startswith("result is")]


def case_of(session: Session, appraisal_id: int) -> LowPerformerCase | None:
    session.expire_all()
    return session.execute(select(LowPerformerCase).where(
        LowPerformerCase.appraisal_id == appraisal_id)).scalar_one_or_none()


def next_round(session: Session, w: World, fiscal_year: int = 2569, number: int = 2) -> None:
    """Open the next round for the same organisation, with the same committee."""
    w.opened = open_round(session, org_code=w.org.code, fiscal_year=fiscal_year, number=number,
                          actor=Actor.system())
    committee = Committee(org_unit_id=w.org.id, round_id=w.opened.round.id)
    session.add(committee)
    session.flush()
    session.add(CommitteeMember(committee_id=committee.id, person_id=w.people["chair"].id, is_chair=True))
    session.add(CommitteeMember(committee_id=committee.id, person_id=w.people["member"].id))
    session.commit()


PLAN = {"weakness_analysis": "ส่งงานล่าช้า ขาดทักษะการวางแผน",
        "development_plan": "สอนงานการวางแผน 4 สัปดาห์ อบรมการบริหารเวลา ทำคำมั่น"}


def agree_plan_jointly(session: Session, case_id: int, w: World, plan: dict | None = None) -> None:
    """The supervisor signs the plan, then HR agrees it: the joint plan of seeds 000/003 3.1."""
    engine.fire(session, "case", case_id, "sign_plan", w.actors["evaluator"], payload=plan or PLAN)
    engine.fire(session, "case", case_id, "agree_plan", w.actors["hr"])
