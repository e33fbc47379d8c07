"""The low-performer cycle as seeds 000/003 write it: a plan agreed jointly by the supervisor
and HR (3.1), structured (what to develop, how, by when), reviewed after a still-low follow-up
(3.5), and an escalation that cites the rule of the person's staff type."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import CaseMeasure, InboxMessage, LowPerformerCase
from tests.cases.helpers import PLAN, agree_plan_jointly, announce_with_total, case_of, next_round, verified
from tests.factories import world
from workflow import audit, cases, engine
from workflow.errors import GuardFailed, InvalidInput
from workflow.policy import preset_text
from workflow.rounds import register_policy

ITEMS = [{"area": "skill", "topic": "การวางแผนงาน", "method": "สอนงานโดยหัวหน้า 4 สัปดาห์", "due_on": "2026-06-30"},
         {"area": "knowledge", "topic": "ระเบียบพัสดุ", "method": "อบรมออนไลน์", "due_on": "2026-07-31"}]


def _fire(session, c, event, who, w, **payload):
    return engine.fire(session, "case", c.id, event, w.actors[who], payload=payload)


def test_the_plan_is_structured_and_agreed_by_both_parties(session):
    w = world(session, "udon_thani")
    c = case_of(session, announce_with_total(session, w, "appraisee", "55.00"))
    with pytest.raises(InvalidInput) as exc:  # an item names what to develop from a known list
        _fire(session, c, "sign_plan", "evaluator", w, weakness_analysis="x",
              development_plan_items=[{**ITEMS[0], "area": "attitude"}])
    assert exc.value.problems[0].field.startswith("payload.development_plan_items[0].area")
    _fire(session, c, "sign_plan", "evaluator", w, weakness_analysis="ขาดทักษะการวางแผน",
          development_plan_items=ITEMS)
    with pytest.raises(GuardFailed) as exc:  # signing twice changes nothing: refused
        _fire(session, c, "sign_plan", "evaluator", w)
    assert [p.field for p in exc.value.problems] == ["signatures"]
    _fire(session, c, "agree_plan", "hr", w)
    session.expire_all()
    out = cases.case_out(session, w.actors["hr"], session.get(LowPerformerCase, c.id))
    assert out["state"] == "plan_agreed" and out["plan_agreed_by"] == ["hr", "supervisor"]
    assert [(i["area"], i["due_on"]) for i in out["development_plan_items"]] == [
        ("skill", "2026-06-30"), ("knowledge", "2026-07-31")]


def test_still_low_opens_a_new_revision_of_the_plan(session):
    text = preset_text("udon_thani").replace('code = "udon_thani"', 'code = "udon_three"') \
        .replace("escalate_after_rounds = 2", "escalate_after_rounds = 3")
    w = world(session, "udon_thani", open_now=False)
    w.org.policy_version_id = register_policy(session, text).id
    session.add(w.org)
    session.commit()
    next_round(session, w, 2569, 1)
    c = case_of(session, announce_with_total(session, w, "appraisee", "60.00"))
    agree_plan_jointly(session, c.id, w)
    _fire(session, c, "begin_coaching", "evaluator", w, note="สอนงานครั้งที่ 1")
    next_round(session, w, 2569, 2)
    announce_with_total(session, w, "appraisee", "62.00")  # still low, below the limit of 3
    session.expire_all()
    c = session.get(LowPerformerCase, c.id)
    assert (c.state, c.plan_revision, c.consecutive_low_rounds) == ("opened", 2, 2)
    measures = {m.kind: m.status for m in session.execute(
        select(CaseMeasure).where(CaseMeasure.case_id == c.id)).scalars()}
    assert measures["coaching"] == "not_started"  # the revised plan starts its measures again
    with pytest.raises(GuardFailed) as exc:  # the revised plan is agreed jointly again
        _fire(session, c, "agree_plan", "hr", w, **PLAN)
    assert [p.field for p in exc.value.problems] == ["signatures"]
    agree_plan_jointly(session, c.id, w)
    assert session.get(LowPerformerCase, c.id).state == "plan_agreed"
    assert verified(session) == []


def test_escalation_cites_the_rule_and_notifies_from_a_template(session):
    w = world(session, "nonthaburi")
    c = case_of(session, announce_with_total(session, w, "appraisee", "55.00"))
    next_round(session, w)
    announce_with_total(session, w, "appraisee", "50.00")
    last = audit.history(session, "case", c.id)[-1]
    assert last.event == "escalate" and "2552" in last.payload  # the OCSC rule of 2009 (B.E. 2552)
    flagged = session.execute(select(InboxMessage).where(InboxMessage.link == f"/cases/{c.id}",
                                                         InboxMessage.subject.like("เสนอพิจารณา%"))).scalars().all()
    assert flagged and all("2552" in m.body and "{{" not in m.body for m in flagged)


def test_the_next_appraisal_shows_the_open_case(session):
    w = world(session, "udon_thani")
    c = case_of(session, announce_with_total(session, w, "appraisee", "55.00"))
    next_round(session, w)
    nxt = w.appraisal_of(session, "appraisee")
    from db.models import Round
    starts = session.get(Round, nxt.round_id).starts_on
    assert cases.open_case_of(session, nxt.person_id, starts).id == c.id


def test_the_next_appraisal_shows_the_open_case_and_its_plan_to_its_evaluator(session):
    from api.routes.appraisals import appraisal_out
    from workflow import appraisal_detail
    w = world(session, "udon_thani")
    c = case_of(session, announce_with_total(session, w, "appraisee", "55.00"))
    agree_plan_jointly(session, c.id, w, {**PLAN, "development_plan_items": ITEMS})
    next_round(session, w)
    nxt = w.appraisal_of(session, "appraisee")
    seen = appraisal_detail.detail(session, w.actors["evaluator"], nxt.id)
    assert seen.open_case is not None and seen.open_case.id == c.id
    out = appraisal_out(seen).model_dump(mode="json")["open_case"]  # what GET /api/v1/appraisals/{id} answers
    assert out["id"] == c.id and [i["topic"] for i in out["development_plan_items"]] == [i["topic"] for i in ITEMS]
    first = w.appraisal_of(session, "evaluator")  # the evaluator's own appraisal: nobody's case
    assert appraisal_detail.detail(session, w.actors["evaluator"], first.id).open_case is None
