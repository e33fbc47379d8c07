"""The HR dashboard's services: units as their hierarchy, the overdue list filtered in SQL by
unit, milestone and evaluator, and "remind now" (HR of the organisation only, one message per
person who must act, never twice the same day)."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from db.models import InboxMessage, Outbox
from tests.factories import person, world
from tests.flows import drive
from workflow import dashboard, orgs
from workflow.access import Actor
from workflow.calendar import BANGKOK
from workflow.errors import InvalidInput, NotAllowed, NotFound
from workflow.rounds import open_round

LATE = date(2026, 12, 31)  # every milestone of the 2569/1 round has passed
NOW = datetime(2026, 12, 31, 9, 0, tzinfo=BANGKOK)


def _inbox(session, person_id: int) -> list[InboxMessage]:
    return list(session.execute(select(InboxMessage).where(InboxMessage.person_id == person_id)
                                .order_by(InboxMessage.id)).scalars())


def _overdue_names(board) -> set[str]:
    return {it.person_name for it in board.overdue}


def test_remind_now_refuses_another_organisations_appraisal_and_writes_nothing(session):
    w, elsewhere = world(session), world(session)
    mine = w.appraisal_of(session, "appraisee").id
    theirs = elsewhere.appraisal_of(session, "appraisee").id
    with pytest.raises(NotFound):
        dashboard.remind_now(session, w.actors["hr"], [mine, theirs], now=NOW)
    session.rollback()
    assert session.execute(select(func.count()).select_from(InboxMessage)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(Outbox)).scalar_one() == 0
    with pytest.raises(NotAllowed):  # not HR: the evaluator may not remind anyone
        dashboard.remind_now(session, w.actors["evaluator"], [mine], now=NOW)
    with pytest.raises(InvalidInput):
        dashboard.remind_now(session, w.actors["hr"], [], now=NOW)


def test_units_show_as_their_hierarchy_parents_before_children(session):
    w = world(session, open_now=False)
    branch = orgs.create_unit(session, code=f"{w.org.code}-B", name_th="กอง", parent=w.org)  # nobody of its own
    section = orgs.create_unit(session, code=f"{w.org.code}-B-1", name_th="ฝ่าย", parent=branch)
    person(session, section, "clerk", evaluator=w.people["evaluator"], superior=w.people["superior"])
    session.commit()
    w.opened = open_round(session, org_code=w.org.code, fiscal_year=2569, number=1, actor=Actor.system())
    board = dashboard.hr_dashboard(session, w.actors["hr"], w.opened.round.id, LATE)
    rows = [(r.unit.code, r.depth, r.progress is not None) for r in board.tree]
    assert rows[0] == (w.org.code, 0, True)
    assert (w.unit.code, 1, True) in rows
    assert rows.index((branch.code, 1, False)) + 1 == rows.index((section.code, 2, True))
    seen: set[int] = set()
    for r in board.tree:  # every unit's parent came before it
        assert r.unit.parent_id is None or r.unit.parent_id in seen
        seen.add(r.unit.id)
    assert w.people["stranger"].org_unit_id not in seen  # another organisation's unit is not in the tree


def test_the_overdue_list_filters_by_unit_milestone_and_evaluator(session):
    w = world(session)
    drive(session, w, "appraisee", until="agreed")  # late for the mid-round review; the rest for signing
    rid = w.opened.round.id
    hr = w.actors["hr"]
    everyone = dashboard.hr_dashboard(session, hr, rid, LATE)
    assert _overdue_names(everyone) == {"authority", "superior", "evaluator", "appraisee", "other", "chair",
                                        "member", "hr"}
    by_unit = dashboard.hr_dashboard(session, hr, rid, LATE, dashboard.OverdueFilter(unit_id=w.unit.id))
    assert _overdue_names(by_unit) == {"superior", "evaluator", "appraisee", "other"}
    assert by_unit.overdue_total == 4
    by_milestone = dashboard.hr_dashboard(session, hr, rid, LATE,
                                          dashboard.OverdueFilter(milestone="mid_round_review"))
    assert _overdue_names(by_milestone) == {"appraisee"}
    ev = w.people["evaluator"].id
    assert (ev, "evaluator") in everyone.evaluators
    by_evaluator = dashboard.hr_dashboard(session, hr, rid, LATE, dashboard.OverdueFilter(evaluator_id=ev))
    assert _overdue_names(by_evaluator) == {"appraisee", "other"}
    both = dashboard.hr_dashboard(session, hr, rid, LATE,
                                  dashboard.OverdueFilter(evaluator_id=ev, milestone="agreement_signed"))
    assert _overdue_names(both) == {"other"}
    # before any milestone has passed nothing is overdue, whatever the filter
    early = dashboard.hr_dashboard(session, hr, rid, date(2025, 10, 2), dashboard.OverdueFilter(evaluator_id=ev))
    assert early.overdue_total == 0
    with pytest.raises(InvalidInput) as bad:
        dashboard.hr_dashboard(session, hr, rid, LATE, dashboard.OverdueFilter(milestone="lunch"))
    assert bad.value.problems[0].field == "milestone"
    stranger_unit = w.people["stranger"].org_unit_id
    with pytest.raises(InvalidInput) as bad:
        dashboard.hr_dashboard(session, hr, rid, LATE, dashboard.OverdueFilter(unit_id=stranger_unit))
    assert bad.value.problems[0].field == "unit"


def test_remind_now_writes_one_message_per_person_who_must_act_once_a_day(session):
    w = world(session)
    picked = [w.appraisal_of(session, "appraisee").id, w.appraisal_of(session, "other").id]  # both unsigned drafts
    done = dashboard.remind_now(session, w.actors["hr"], picked, now=NOW)
    # each appraisee must sign their agreement, and their evaluator must sign both
    assert sorted(done.people) == ["appraisee", "evaluator", "other"] and done.already == []
    evaluator = _inbox(session, w.people["evaluator"].id)
    assert len(evaluator) == 1
    assert "2" in evaluator[0].subject and evaluator[0].body.count("ลงนามข้อตกลงการปฏิบัติราชการ") == 2
    assert [m.link for m in _inbox(session, w.people["appraisee"].id)] == [f"/appraisals/{picked[0]}"]
    assert _inbox(session, w.people["superior"].id) == []  # nothing of theirs to do on these two
    again = dashboard.remind_now(session, w.actors["hr"], picked, now=NOW.replace(hour=16))
    assert again.people == [] and sorted(again.already) == ["appraisee", "evaluator", "other"]
    assert len(_inbox(session, w.people["evaluator"].id)) == 1
    tomorrow = dashboard.remind_now(session, w.actors["hr"], picked[:1], now=datetime(2027, 1, 1, 9, tzinfo=BANGKOK))
    assert sorted(tomorrow.people) == ["appraisee", "evaluator"]
    assert len(_inbox(session, w.people["evaluator"].id)) == 2


def test_remind_now_speaks_the_persons_language(session):
    w = world(session)
    p = w.people["other"]
    p.locale = "en"
    session.add(p)
    session.commit()
    dashboard.remind_now(session, w.actors["hr"], [w.appraisal_of(session, "other").id], now=NOW)
    (msg,) = _inbox(session, p.id)
    assert msg.subject.startswith("1 overdue item:") and "Sign the performance agreement" in msg.body
