"""Each seed organisation's low-performer rule, end to end: who gets a case, at the boundaries."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.models import Appraisal, CaseMeasure, Event, InboxMessage, LowPerformerCase
from tests.cases.helpers import announce_with_total, case_of, verified
from tests.factories import world
from tests.flows import drive
from workflow import audit
from workflow.rounds import policy_of_round

# (preset, staff type, a total that opens a case, the lowest total that does not)
BOUNDARIES = [
    ("udon_thani", "civil_servant", "69.99", "70.00"),        # fair (พอใช้) is low; good is not
    ("sesao12", "civil_servant", "69.99", "70.00"),           # area office 12: same rule as Udon
    ("ubon_ratchathani", "civil_servant", "59.99", "60.00"),  # the preset's chosen criterion: < 60
    ("nonthaburi", "civil_servant", "59.99", "60.00"),
    ("nonthaburi", "permanent_employee", "59.99", "60.00"),
    ("nonthaburi", "government_employee", "63.99", "64.00"),  # government employees: < 64
]


@pytest.mark.parametrize("preset,staff_type,low,not_low", BOUNDARIES)
def test_who_gets_a_case_at_the_boundary(session, preset, staff_type, low, not_low):
    w = world(session, preset)
    low_id = announce_with_total(session, w, "appraisee", low, staff_type)
    ok_id = announce_with_total(session, w, "other", not_low, staff_type)
    case = case_of(session, low_id)
    assert case is not None and case.state == "opened" and case.version == 1
    assert case.person_id == w.people["appraisee"].id and case.consecutive_low_rounds == 1
    assert case_of(session, ok_id) is None
    # The opening is an event of the case's own chain, recorded by the system.
    history = audit.history(session, "case", case.id)
    assert [(e.event, e.from_state, e.to_state, e.actor) for e in history] == [("opened", None, "opened", "system")]
    measures = session.execute(select(CaseMeasure.kind, CaseMeasure.status)
                               .where(CaseMeasure.case_id == case.id)).all()
    # The measures the policy lists (Nonthaburi adds job assignment and rotation, seed 002 2.2).
    listed = policy_of_round(session, w.opened.round.id).low_performer.measures
    assert sorted(measures) == sorted((m, "not_started") for m in listed)
    assert {"coaching", "training", "commitment"} <= set(listed)
    # HR and the evaluator hear of it.
    told = set(session.execute(select(InboxMessage.person_id)
                               .where(InboxMessage.link == f"/cases/{case.id}")).scalars())
    assert told == {w.people["hr"].id, w.people["evaluator"].id}
    assert verified(session) == []


def test_driven_scores_fair_opens_a_case_in_udon_but_not_in_ubon(session):
    # KPI levels 3/3 and competencies all 3: results 60.00, competencies 60.00, total 60.00.
    udon = world(session, "udon_thani")
    aid = drive(session, udon, levels=[3, 3], competency_scores=[3, 3, 3, 3, 3])
    a = session.get(Appraisal, aid)
    assert str(a.total_percent) == "60.00" and a.rating_code == "fair"
    assert case_of(session, aid) is not None
    ubon = world(session, "ubon_ratchathani")
    bid = drive(session, ubon, levels=[3, 3], competency_scores=[3, 3, 3, 3, 3])
    assert str(session.get(Appraisal, bid).total_percent) == "60.00"
    assert case_of(session, bid) is None


def test_a_good_result_opens_nothing_and_a_case_opens_only_on_announcement(session):
    w = world(session, "udon_thani")
    drive(session, w)  # 85.60, very good
    aid = drive(session, w, "other", until="reviewed", levels=[1, 1], competency_scores=[1, 1, 1, 1, 1])
    assert session.execute(select(func.count()).select_from(LowPerformerCase)).scalar() == 0
    from workflow import engine
    engine.fire(session, "appraisal", aid, "announce", w.actors["authority"])
    assert case_of(session, aid) is not None
    assert session.execute(select(func.count()).select_from(LowPerformerCase)).scalar() == 1


def test_a_failing_case_opening_rolls_back_the_announcement(session, monkeypatch):
    """Opening the case is part of the announcing transaction: if it fails, nothing is announced."""
    import workflow.cases as cases

    w = world(session, "udon_thani")
    aid = drive(session, w, until="reviewed", levels=[1, 1], competency_scores=[1, 1, 1, 1, 1])
    events_before = session.execute(select(func.count()).select_from(Event)).scalar()

    def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(cases, "open_case", broken)
    from workflow import engine
    with pytest.raises(RuntimeError):
        engine.fire(session, "appraisal", aid, "announce", w.actors["authority"])
    session.expire_all()
    assert session.get(Appraisal, aid).state == "reviewed"
    assert session.execute(select(func.count()).select_from(Event)).scalar() == events_before
