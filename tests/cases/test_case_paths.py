"""A case through every path: improved, escalated, still low, and skipping only where allowed."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from db.models import Evidence, InboxMessage, LowPerformerCase
from tests.cases.helpers import PLAN, agree_plan_jointly, announce_with_total, case_of, next_round, verified
from tests.factories import world
from workflow import audit, cases, engine
from workflow.errors import GuardFailed, NotAllowed, NotFound
from workflow.policy import preset_text
from workflow.rounds import register_policy


def fire(session, c, event, who, w, **payload):
    return engine.fire(session, "case", c.id, event, w.actors[who], payload=payload)


def problems(exc) -> set[str]:
    return {p.field for p in exc.value.problems}


def test_improved_path_with_evidence_signatures_and_a_skipped_step(session):
    w = world(session, "udon_thani")
    c = case_of(session, announce_with_total(session, w, "appraisee", "58.00"))

    with pytest.raises(GuardFailed) as exc:
        fire(session, c, "agree_plan", "hr", w)
    assert problems(exc) == {"weakness_analysis", "signatures"}
    with pytest.raises(NotAllowed):  # the appraisee does not agree their own plan alone
        fire(session, c, "agree_plan", "appraisee", w, **PLAN)
    with pytest.raises(GuardFailed) as exc:  # nor HR alone: the supervisor and HR agree it jointly
        fire(session, c, "agree_plan", "hr", w, **PLAN)
    assert problems(exc) == {"signatures"}
    agree_plan_jointly(session, c.id, w)
    fire(session, c, "begin_coaching", "evaluator", w)  # the supervisor runs the coaching

    with pytest.raises(GuardFailed) as exc:  # done without evidence
        fire(session, c, "update_measure", "evaluator", w, measure="coaching", status="done")
    assert problems(exc) == {"evidence"}
    with pytest.raises(GuardFailed) as exc:  # training cannot start while coaching is open
        fire(session, c, "begin_training", "evaluator", w)
    assert problems(exc) == {"measures.coaching"}

    pdf = b"%PDF-1.4 coaching record"
    cases.add_evidence_file(session, c.id, w.actors["evaluator"], filename="coaching.pdf", content=pdf,
                            content_type="application/pdf", measure="coaching", note="บันทึกการสอนงาน")
    stored = session.execute(select(Evidence).where(Evidence.case_id == c.id)).scalar_one()
    assert stored.sha256 == hashlib.sha256(pdf).hexdigest() and stored.content == pdf
    fire(session, c, "update_measure", "evaluator", w, measure="coaching", status="done")

    fire(session, c, "skip_measure", "hr", w, measure="training", reason="ไม่มีหลักสูตรในรอบนี้")  # Udon allows
    fire(session, c, "begin_commitment", "hr", w)
    with pytest.raises(GuardFailed) as exc:
        fire(session, c, "update_measure", "hr", w, measure="commitment", status="done", note="ลงนามแล้ว")
    assert problems(exc) == {"signatures"}
    with pytest.raises(NotAllowed):  # HR does not sign for the appraisee
        fire(session, c, "sign_commitment", "hr", w)
    fire(session, c, "sign_commitment", "appraisee", w)
    fire(session, c, "sign_commitment", "evaluator", w)
    fire(session, c, "update_measure", "hr", w, measure="commitment", status="done", note="คำมั่นลงนามครบ")
    fire(session, c, "start_re_evaluation", "hr", w)
    fire(session, c, "record_follow_up", "evaluator", w, note="ส่งงานตรงเวลา 3 เดือนติดต่อกัน")

    out = cases.case_out(session, w.actors["hr"], session.get(LowPerformerCase, c.id))
    assert out["state"] == "re_evaluation"
    assert {m["kind"]: m["status"] for m in out["measures"]} == {
        "coaching": "done", "training": "skipped", "commitment": "done"}
    assert out["commitment_signed_by"] == ["appraisee", "supervisor"]
    next_round(session, w)
    assert out["follow_up_candidate_id"] is None
    follow = w.appraisal_of(session, "appraisee")
    assert cases.case_out(session, w.actors["hr"], c)["follow_up_candidate_id"] == follow.id

    next_id = announce_with_total(session, w, "appraisee", "75.00")
    session.expire_all()
    c = session.get(LowPerformerCase, c.id)
    assert c.state == "closed_improved" and c.follow_up_appraisal_id == next_id
    assert case_of(session, next_id) is None  # an improved result opens nothing new
    last = audit.history(session, "case", c.id)[-1]
    assert (last.event, last.actor, last.to_state) == ("close_improved", "system", "closed_improved")
    assert verified(session) == []


def test_low_again_escalates_flags_and_notifies_hr_and_the_authority(session):
    w = world(session, "nonthaburi")
    c = case_of(session, announce_with_total(session, w, "appraisee", "55.00"))
    agree_plan_jointly(session, c.id, w)
    next_round(session, w)
    second = announce_with_total(session, w, "appraisee", "57.50")
    session.expire_all()
    c = session.get(LowPerformerCase, c.id)
    assert c.state == "escalated" and c.flagged_for_action and c.consecutive_low_rounds == 2
    assert c.follow_up_appraisal_id == second
    assert case_of(session, second) is None  # the same case carries the second low round
    flagged = [m for m in session.execute(select(InboxMessage).where(
        InboxMessage.link == f"/cases/{c.id}")).scalars() if m.subject.startswith("เสนอพิจารณา")]
    assert {m.person_id for m in flagged} == {w.people["hr"].id, w.people["authority"].id}
    # The system flags; people decide and their decision is an event with its decider.
    with pytest.raises(NotAllowed):
        fire(session, c, "record_decision", "evaluator", w, note="x")
    fire(session, c, "record_decision", "authority", w, note="ส่งเรื่องให้คณะกรรมการสอบข้อเท็จจริง")
    assert audit.history(session, "case", c.id)[-1].actor == w.actors["authority"].name
    assert verified(session) == []
    # The SQL list filter and the role rule agree, for everyone.
    every = list(session.execute(select(LowPerformerCase)).scalars())
    for who, actor in w.actors.items():
        listed = {x.id for x in cases.list_cases(session, actor)}
        assert listed == {x.id for x in every if cases.roles(session, actor, x)}, who


def test_still_low_counts_rounds_until_the_policys_limit(session):
    text = preset_text("udon_thani").replace('code = "udon_thani"', 'code = "udon_three"') \
        .replace("escalate_after_rounds = 2", "escalate_after_rounds = 3")
    w = world(session, "udon_thani", open_now=False)
    w.org.policy_version_id = register_policy(session, text).id
    session.add(w.org)
    session.commit()
    next_round(session, w, 2569, 1)
    c = case_of(session, announce_with_total(session, w, "appraisee", "65.00"))
    next_round(session, w, 2569, 2)
    announce_with_total(session, w, "appraisee", "66.00")
    session.expire_all()
    c = session.get(LowPerformerCase, c.id)
    assert (c.state, c.consecutive_low_rounds, c.flagged_for_action, c.plan_revision) == ("opened", 2, False, 2)
    next_round(session, w, 2570, 1)
    announce_with_total(session, w, "appraisee", "50.00")
    session.expire_all()
    c = session.get(LowPerformerCase, c.id)
    assert (c.state, c.consecutive_low_rounds, c.flagged_for_action) == ("escalated", 3, True)
    assert [e.event for e in audit.history(session, "case", c.id)] == ["opened", "still_low", "escalate"]


def test_skipping_only_where_the_policy_allows(session):
    # Nonthaburi: the written commitment on the province's form is required; coaching and
    # training may be skipped.
    w = world(session, "nonthaburi")
    c = case_of(session, announce_with_total(session, w, "appraisee", "40.00"))
    agree_plan_jointly(session, c.id, w)
    fire(session, c, "skip_measure", "hr", w, measure="coaching", reason="สอนงานไม่เหมาะกับงานนี้")
    with pytest.raises(GuardFailed) as exc:
        fire(session, c, "skip_measure", "hr", w, measure="commitment", reason="x")
    assert problems(exc) == {"measure"}
    with pytest.raises(GuardFailed) as exc:  # a reason is required
        fire(session, c, "skip_measure", "hr", w, measure="training")
    assert problems(exc) == {"reason"}
    fire(session, c, "skip_measure", "hr", w, measure="training", reason="อบรมรอบหน้า")
    with pytest.raises(GuardFailed) as exc:  # nothing done yet: no follow-up evaluation
        fire(session, c, "start_re_evaluation", "hr", w)
    assert problems(exc) == {"measures.commitment", "measures"}
    fire(session, c, "begin_commitment", "hr", w)
    with pytest.raises(GuardFailed):  # a skipped measure cannot be reopened behind the policy's back
        fire(session, c, "update_measure", "hr", w, measure="training", status="in_progress")


def test_at_least_one_measure_remains_in_ubon(session):
    w = world(session, "ubon_ratchathani")
    c = case_of(session, announce_with_total(session, w, "appraisee", "45.00"))
    agree_plan_jointly(session, c.id, w)
    fire(session, c, "skip_measure", "hr", w, measure="coaching", reason="a")
    fire(session, c, "skip_measure", "hr", w, measure="training", reason="b")
    with pytest.raises(GuardFailed) as exc:  # Ubon: at least one of the three
        fire(session, c, "skip_measure", "hr", w, measure="commitment", reason="c")
    assert "at least 1" in exc.value.problems[0].en


def test_who_sees_a_case(session):
    w = world(session, "udon_thani")
    c = case_of(session, announce_with_total(session, w, "appraisee", "50.00"))
    for who in ("stranger", "other", "member"):
        with pytest.raises(NotFound):
            fire(session, c, "add_evidence", who, w, note="x")
        assert cases.list_cases(session, w.actors[who]) == []
    for who in ("hr", "authority", "evaluator", "appraisee", "admin"):
        assert [x.id for x in cases.list_cases(session, w.actors[who])] == [c.id]
    fire(session, c, "add_evidence", "appraisee", w, note="ใบประกาศผ่านการอบรมออนไลน์")
    assert cases.case_out(session, w.actors["appraisee"], c)["available_events"] == ["add_evidence"]
