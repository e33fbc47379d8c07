"""The screening committee: the review list with calibration, bulk endorse, return with comment."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update

from db.models import Appraisal
from tests.factories import world
from tests.flows import drive
from workflow import audit, committees
from workflow.access import Actor
from workflow.errors import Conflict, GuardFailed, NotAllowed, NotFound
from workflow.reports.distribution import Group, distribution, guideline_gap, rank
from workflow.rounds import open_round


def _three_in_review(session):
    """appraisee (85.60 very good), other (60.00 fair) and the committee member's own (85.60)."""
    w = world(session, "udon_thani")
    drive(session, w, until="committee_review")
    drive(session, w, "other", until="committee_review", levels=[3, 3], competency_scores=[3, 3, 3, 3, 3])
    own = w.appraisal_of(session, "member")
    # Give the member the same evaluator chain as the others so the standard flow can drive it.
    session.execute(update(Appraisal).where(Appraisal.id == own.id).values(
        evaluator_id=w.people["evaluator"].id, superior_id=w.people["superior"].id))
    session.commit()
    drive(session, w, "member", until="committee_review")
    committee = committees.list_committees(session, w.actors["chair"])[0]
    return w, committee, own.id


def test_review_list_hides_a_members_own_appraisal_and_shows_the_distribution(session):
    w, c, own_id = _three_in_review(session)
    mine = committees.review_list(session, w.actors["member"], c.id)
    ids = {i["appraisal_id"] for i in mine.items}
    assert own_id not in ids and len(ids) == 2
    chair = committees.review_list(session, w.actors["chair"], c.id)
    assert own_id in {i["appraisal_id"] for i in chair.items} and len(chair.items) == 3
    unit = next(g for g in chair.by_unit if g["key"] == w.unit.id)
    assert unit["total"] == 2 and unit["counts"]["very_good"] == 1 and unit["counts"]["fair"] == 1
    assert unit["percent"]["very_good"] == "50.00" and unit["percent"]["outstanding"] == "0.00"
    by_eval = {g["key"]: g for g in chair.by_evaluator}
    assert by_eval[w.people["evaluator"].id]["total"] == 3
    assert chair.overall["total"] == 3 and chair.overall["percent"]["very_good"] == "66.67"
    assert [b["code"] for b in chair.bands][:2] == ["outstanding", "very_good"]
    with pytest.raises(NotFound):  # not a member, not HR: not theirs to see
        committees.review_list(session, w.actors["evaluator"], c.id)


def test_bulk_endorse_records_each_decision_with_its_decider(session):
    w, c, own_id = _three_in_review(session)
    ids = [i["appraisal_id"] for i in committees.review_list(session, w.actors["chair"], c.id).items]
    results = committees.bulk_endorse(session, w.actors["member"], ids, comment="เห็นชอบตามที่เสนอ")
    by_id = {r["appraisal_id"]: r for r in results}
    assert [r["appraisal_id"] for r in results] == ids
    assert by_id[own_id]["ok"] is False and by_id[own_id]["error"] == "NotAllowed"
    endorsed = [i for i in ids if i != own_id]
    assert all(by_id[i]["ok"] and by_id[i]["state"] == "reviewed" for i in endorsed)
    for aid in endorsed:
        last = audit.history(session, "appraisal", aid)[-1]
        assert (last.event, last.actor, last.to_state) == ("endorse", w.actors["member"].name, "reviewed")
        assert last.actor_account_id == w.actors["member"].account_id
    session.expire_all()
    assert session.get(Appraisal, own_id).state == "committee_review"
    # A second bulk endorse of the same items fails per item, nothing else changes.
    again = committees.bulk_endorse(session, w.actors["chair"], endorsed)
    assert [r["error"] for r in again] == ["Conflict", "Conflict"]


def test_return_needs_a_comment_and_goes_back_to_the_evaluator(session):
    w, c, own_id = _three_in_review(session)
    aid = w.appraisal_of(session, "other").id
    with pytest.raises(GuardFailed) as exc:
        committees.return_to_evaluator(session, w.actors["chair"], aid, "   ")
    assert exc.value.problems[0].field == "comment"
    fired = committees.return_to_evaluator(session, w.actors["chair"], aid, "คะแนนสมรรถนะไม่สอดคล้องกับบันทึกพฤติกรรม")
    assert fired.state == "evaluated"
    last = audit.history(session, "appraisal", aid)[-1]
    assert last.reason == "คะแนนสมรรถนะไม่สอดคล้องกับบันทึกพฤติกรรม" and last.actor == w.actors["chair"].name
    with pytest.raises(NotAllowed):  # the member may not return their own
        committees.return_to_evaluator(session, w.actors["member"], own_id, "x")


def test_hr_sets_up_a_committee_per_round(session):
    w = world(session, "sesao12")
    with pytest.raises(Conflict):
        committees.create_committee(session, w.actors["hr"], round_id=w.opened.round.id,
                                    chair_person_id=w.people["chair"].id)
    r2 = open_round(session, org_code=w.org.code, fiscal_year=2569, number=2, actor=Actor.system()).round
    with pytest.raises(NotAllowed):
        committees.create_committee(session, w.actors["evaluator"], round_id=r2.id,
                                    chair_person_id=w.people["chair"].id)
    c = committees.create_committee(session, w.actors["hr"], round_id=r2.id, chair_person_id=w.people["chair"].id,
                                    member_person_ids=[w.people["member"].id, w.people["superior"].id])
    out = committees.committee_out(session, c)
    assert [m["is_chair"] for m in out["members"]] == [True, False, False]
    assert {m["person_id"] for m in out["members"]} == {w.people[n].id for n in ("chair", "member", "superior")}
    assert [x.id for x in committees.list_committees(session, w.actors["superior"], round_id=r2.id)] == [c.id]
    assert committees.list_committees(session, w.actors["stranger"]) == []


def test_distribution_rank_and_guideline_are_pure():
    bands = ["outstanding", "very_good", "good"]
    groups = distribution([(1, "u1", "good"), (1, "u1", "outstanding"), (2, "u2", "good"), (2, "u2", None)], bands)
    assert [(g.key, g.total, g.counts) for g in groups] == [(1, 2, {"good": 1, "outstanding": 1}), (2, 1, {"good": 1})]
    gap = guideline_gap(groups[0], {"outstanding": Decimal(10), "good": Decimal(50)}, bands)
    assert gap == {"outstanding": Decimal("40.00"), "good": Decimal("0.00")}
    ranked = rank([{"n": "a", "total_percent": "80"}, {"n": "b", "total_percent": "90"},
                   {"n": "c", "total_percent": "80.00"}, {"n": "d", "total_percent": "70"},
                   {"n": "e", "total_percent": None}])
    assert [(r["n"], r["rank"]) for r in ranked] == [("b", 1), ("a", 2), ("c", 2), ("d", 4)]
    assert isinstance(groups[0], Group)
