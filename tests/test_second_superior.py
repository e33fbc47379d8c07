"""Two levels of superiors (policy superior_levels = 2): "the superior above (and the one above
that, where the policy says) agrees, or differs" (DOMAIN.md, the appraisal)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Appraisal
from tests.factories import world
from tests.flows import drive
from workflow import appraisals, engine, queries
from workflow.errors import GuardFailed
from workflow.notifications import pending
from workflow.rounds import second_superior


def _evaluated_and_acknowledged(session, w) -> Appraisal:
    aid = drive(session, w, until="evaluated")
    engine.fire(session, "appraisal", aid, "acknowledge", w.actors["appraisee"])
    engine.fire(session, "appraisal", aid, "give_opinion", w.actors["superior"], payload={"opinion": "agree"})
    return session.get(Appraisal, aid)


def test_opening_takes_the_superior_above_the_superior_above(session):
    w = world(session, superior_levels=2, above_superior="member")
    a = w.appraisal_of(session, "appraisee")
    assert (a.superior_id, a.superior2_id) == (w.people["superior"].id, w.people["member"].id)
    # The evaluator's superior above is the authority, who has nobody above: no second opinion.
    top = w.appraisal_of(session, "evaluator")
    assert top.superior_id == w.people["authority"].id and top.superior2_id is None


def test_one_level_policies_ask_for_no_second_opinion(session):
    w = world(session)  # udon_thani: superior_levels = 1
    assert w.appraisal_of(session, "appraisee").superior2_id is None


@pytest.mark.parametrize("levels, above, expected", [
    (1, 9, None), (2, 9, 9), (2, None, None), (2, 4, None), (2, 1, None)])
def test_who_gives_the_second_opinion(levels, above, expected):
    # person 1, whose superior is 4: the one above 4 is `above`
    assert second_superior(levels, 1, 4, above) == expected


def test_submit_waits_for_the_second_opinion_then_records_both(session):
    w = world(session, superior_levels=2, above_superior="member")
    a = _evaluated_and_acknowledged(session, w)
    with pytest.raises(GuardFailed) as exc:
        engine.fire(session, "appraisal", a.id, "submit", w.actors["evaluator"])
    assert [p.field for p in exc.value.problems] == ["superior2_opinion"]

    engine.fire(session, "appraisal", a.id, "give_opinion", w.actors["member"],
                payload={"opinion": "differ", "total_percent": "80.5", "reason": "ผลงานเชิงคุณภาพต่ำกว่าที่ประเมิน"})
    session.refresh(a)
    assert a.superior_opinion == "agree" and a.superior_total_percent is None  # the first level's stays
    assert a.superior2_opinion == "differ" and str(a.superior2_total_percent) == "80.50"
    assert a.superior2_reason.startswith("ผลงาน")
    fired = engine.fire(session, "appraisal", a.id, "submit", w.actors["evaluator"])
    assert fired.state == "committee_review"


def test_a_new_score_lapses_both_opinions(session):
    w = world(session, superior_levels=2, above_superior="member")
    a = _evaluated_and_acknowledged(session, w)
    engine.fire(session, "appraisal", a.id, "give_opinion", w.actors["member"], payload={"opinion": "agree"})
    engine.fire(session, "appraisal", a.id, "score", w.actors["evaluator"], payload={"kpi_levels": [3, 3]})
    session.refresh(a)
    assert a.superior_opinion is None and a.superior2_opinion is None


def test_the_second_superior_sees_the_appraisal_and_is_reminded(session):
    w = world(session, superior_levels=2, above_superior="member")
    a = _evaluated_and_acknowledged(session, w)
    member = w.actors["member"]
    assert queries.seen("appraisal", appraisals.roles(session, member, a), a.state) == {"superior"}
    visible = session.execute(select(Appraisal.id).where(queries.visible_appraisals(member))).scalars().all()
    assert a.id in visible
    fact = pending.AppraisalFact(a.id, a.person_id, "x", "evaluated", a.evaluator_id, a.superior_id,
                                 acknowledged=True, superior_opinion_given=True,
                                 superior2_id=a.superior2_id, superior2_opinion_given=False)
    items = pending.next_actions(fact, committee_ids=frozenset(), hr_ids=frozenset(), authority_ids=frozenset())
    assert [(who, i.action) for who, i in items] == [(w.people["member"].id, pending.GIVE_OPINION)]


def test_the_summary_form_carries_the_second_opinion(session):
    from workflow.reports import forms

    w = world(session, superior_levels=2, above_superior="member")
    a = _evaluated_and_acknowledged(session, w)
    engine.fire(session, "appraisal", a.id, "give_opinion", w.actors["member"],
                payload={"opinion": "differ", "total_percent": 79, "reason": "ต่ำกว่า"})
    form = forms.summary_form(session, w.actors["hr"], a.id)
    assert form.superior_levels == 2 and form.superior2 == w.people["member"].name_th
    assert form.superior2_opinion == {"opinion": "differ", "total_percent": "79.00", "reason": "ต่ำกว่า"}
    assert forms.form_pdf(session, w.actors["hr"], a.id).startswith(b"%PDF")
