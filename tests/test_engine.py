"""The engine: one transaction per event, version checks, roles, guards, the audit chain."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text, update

from db.models import Appraisal, Event, Kpi
from db.session import new_session
from tests.factories import KPIS, world
from tests.flows import drive
from workflow import audit, engine
from workflow.errors import Conflict, GuardFailed, InvalidInput, NotAllowed, NotFound


def test_full_appraisal_from_draft_to_announced(session):
    w = world(session)
    aid = drive(session, w)
    a = session.get(Appraisal, aid)
    assert a.state == "announced"
    assert str(a.results_percent) == "88.00" and str(a.competency_percent) == "80.00"
    assert str(a.total_percent) == "85.60" and a.rating_code == "very_good"
    events = audit.history(session, "appraisal", aid)
    assert [e.seq for e in events] == list(range(1, a.version + 1))
    transitions = [(e.from_state, e.to_state) for e in events if e.from_state != e.to_state]
    assert transitions == [(None, "draft"), ("draft", "agreed"), ("agreed", "monitored"),
                           ("monitored", "evaluated"), ("evaluated", "committee_review"),
                           ("committee_review", "reviewed"), ("reviewed", "announced")]
    assert audit.verify(session) == []


def test_stale_version_is_refused_and_writes_nothing(session):
    w = world(session)
    a = w.appraisal_of(session, "appraisee")
    v = a.version
    engine.fire(session, "appraisal", a.id, "edit_agreement", w.actors["evaluator"],
                expected_version=v, payload={"kpis": KPIS})
    with pytest.raises(Conflict) as exc:
        engine.fire(session, "appraisal", a.id, "edit_agreement", w.actors["evaluator"],
                    expected_version=v, payload={"kpis": KPIS[:1]})
    assert exc.value.current_version == v + 1
    assert session.execute(select(func.count()).select_from(Kpi).where(Kpi.appraisal_id == a.id)).scalar() == 2


def test_failing_guards_are_all_listed_and_nothing_is_written(session):
    w = world(session)
    a = w.appraisal_of(session, "appraisee")
    before = session.execute(select(func.count()).select_from(Event)).scalar()
    # Half a draft: weights 60 only, nobody signed.
    engine.fire(session, "appraisal", a.id, "edit_agreement", w.actors["evaluator"],
                payload={"kpis": KPIS[:1]})
    with pytest.raises(GuardFailed) as exc:
        engine.fire(session, "appraisal", a.id, "agree", w.actors["evaluator"])
    fields = {p.field for p in exc.value.problems}
    assert fields == {"kpis.weight", "signatures"}
    session.refresh(a)
    assert a.state == "draft" and a.version == 2
    assert session.execute(select(func.count()).select_from(Event)).scalar() == before + 1


def test_effect_error_rolls_back_the_whole_event(session):
    w = world(session)
    aid = drive(session, w, until="monitored")
    a = session.get(Appraisal, aid)
    version = a.version
    with pytest.raises(InvalidInput) as exc:  # three levels for two KPIs
        engine.fire(session, "appraisal", aid, "score", w.actors["evaluator"],
                    payload={"kpi_levels": [5, 5, 5], "competency_scores": [5, 5, 5, 5, 5]})
    assert exc.value.problems[0].field == "payload.kpi_levels"
    session.refresh(a)
    assert a.version == version
    assert session.execute(select(Kpi.level).where(Kpi.appraisal_id == aid)).scalars().all() == [None, None]


def test_bad_payload_names_the_field(session):
    w = world(session)
    a = w.appraisal_of(session, "appraisee")
    bad = [{"title": "", "weight": 0}, {"title": "x", "weight": 50, "source": "moon"}]
    with pytest.raises(InvalidInput) as exc:
        engine.fire(session, "appraisal", a.id, "edit_agreement", w.actors["evaluator"], payload={"kpis": bad})
    fields = {p.field for p in exc.value.problems}
    assert {"payload.kpis[0].title", "payload.kpis[0].weight", "payload.kpis[1].source"} <= fields


def test_roles_unknown_events_and_strangers(session):
    w = world(session)
    a = w.appraisal_of(session, "appraisee")
    with pytest.raises(NotAllowed):
        engine.fire(session, "appraisal", a.id, "withdraw", w.actors["evaluator"], payload={"reason": "x"})
    with pytest.raises(NotFound):  # cannot see it at all
        engine.fire(session, "appraisal", a.id, "edit_agreement", w.actors["stranger"], payload={"kpis": KPIS})
    with pytest.raises(NotFound):
        engine.fire(session, "appraisal", a.id, "teleport", w.actors["evaluator"])
    with pytest.raises(NotFound):
        engine.fire(session, "appraisal", 999_999, "agree", w.actors["evaluator"])
    with pytest.raises(Conflict):  # a known event from the wrong state
        engine.fire(session, "appraisal", a.id, "announce", w.actors["authority"])


def test_committee_member_never_reviews_own_appraisal(session):
    w = world(session)
    a = w.appraisal_of(session, "chair")
    assert "committee" not in engine.kind_of("appraisal").roles(session, w.actors["chair"], a)
    b = w.appraisal_of(session, "appraisee")
    assert "committee" in engine.kind_of("appraisal").roles(session, w.actors["chair"], b)


def test_refusal_with_witness_and_differing_superior(session):
    w = world(session)
    aid = drive(session, w, until="evaluated")
    with pytest.raises(GuardFailed):
        engine.fire(session, "appraisal", aid, "record_refusal", w.actors["evaluator"], payload={})
    engine.fire(session, "appraisal", aid, "record_refusal", w.actors["evaluator"],
                payload={"witness_name": "นางสาวพยาน ลงนาม", "refused_on": "2026-04-02"})
    with pytest.raises(GuardFailed) as exc:
        engine.fire(session, "appraisal", aid, "give_opinion", w.actors["superior"], payload={"opinion": "differ"})
    assert exc.value.problems[0].field == "total_percent"
    engine.fire(session, "appraisal", aid, "give_opinion", w.actors["superior"],
                payload={"opinion": "differ", "total_percent": 80, "reason": "งานที่ 2 ยังไม่ครบ"})
    engine.fire(session, "appraisal", aid, "submit", w.actors["hr"])
    a = session.get(Appraisal, aid)
    assert a.state == "committee_review" and str(a.superior_total_percent) == "80.00"


def test_return_to_evaluator_needs_a_comment(session):
    w = world(session)
    aid = drive(session, w, until="committee_review")
    with pytest.raises(GuardFailed):
        engine.fire(session, "appraisal", aid, "return_to_evaluator", w.actors["member"])
    engine.fire(session, "appraisal", aid, "return_to_evaluator", w.actors["member"],
                payload={"comment": "คะแนนสมรรถนะสูงกว่าหลักฐาน"})
    a = session.get(Appraisal, aid)
    assert a.state == "evaluated"
    last = audit.history(session, "appraisal", aid)[-1]
    assert last.reason == "คะแนนสมรรถนะสูงกว่าหลักฐาน" and last.actor == "member"


def test_kpi_change_mid_round_needs_reason_and_signatures_again(session):
    w = world(session)
    aid = drive(session, w, until="monitored")
    with pytest.raises(InvalidInput):  # weights must still sum to 100
        engine.fire(session, "appraisal", aid, "change_kpis", w.actors["evaluator"],
                    payload={"kpis": KPIS[:1], "reason": "ภารกิจเปลี่ยน"})
    with pytest.raises(GuardFailed):
        engine.fire(session, "appraisal", aid, "change_kpis", w.actors["evaluator"], payload={"kpis": KPIS})
    engine.fire(session, "appraisal", aid, "change_kpis", w.actors["evaluator"],
                payload={"kpis": KPIS, "reason": "ภารกิจเปลี่ยน"})
    engine.fire(session, "appraisal", aid, "score", w.actors["evaluator"],
                payload={"kpi_levels": [3, 3], "competency_scores": [3] * 5, "development_plan": "แผน"})
    with pytest.raises(GuardFailed) as exc:
        engine.fire(session, "appraisal", aid, "evaluate", w.actors["evaluator"])
    assert [p.field for p in exc.value.problems] == ["signatures"]
    for who in ("appraisee", "evaluator"):
        engine.fire(session, "appraisal", aid, "sign_agreement", w.actors[who])
    engine.fire(session, "appraisal", aid, "evaluate", w.actors["evaluator"])


def test_withdraw_and_hand_over_keep_history(session):
    w = world(session)
    a = w.appraisal_of(session, "appraisee")
    engine.fire(session, "appraisal", a.id, "hand_over", w.actors["hr"],
                payload={"evaluator_id": w.people["superior"].id, "reason": "ผู้ประเมินย้าย"})
    session.refresh(a)
    assert a.evaluator_id == w.people["superior"].id
    engine.fire(session, "appraisal", a.id, "withdraw", w.actors["hr"], payload={"reason": "เกษียณ"})
    session.refresh(a)
    assert a.state == "withdrawn"
    assert [e.event for e in audit.history(session, "appraisal", a.id)] == ["open", "hand_over", "withdraw"]


@pytest.mark.parametrize("tamper", ["edit", "delete_last", "delete_middle"])
def test_tampering_with_the_log_is_detected(session, tamper):
    w = world(session)
    aid = drive(session, w, until="agreed")
    events = audit.history(session, "appraisal", aid)
    assert audit.verify(session) == []
    if tamper == "edit":
        session.execute(update(Event).where(Event.id == events[1].id).values(payload='{"kpis":[]}'))
    elif tamper == "delete_last":
        session.execute(text("DELETE FROM event WHERE id = :i"), {"i": events[-1].id})
    else:
        session.execute(text("DELETE FROM event WHERE id = :i"), {"i": events[2].id})
    session.commit()
    findings = audit.verify(session)
    assert findings and all(f.entity_id == aid for f in findings)


def test_twenty_threads_one_winner_on_postgresql(pg_engine):
    with new_session(pg_engine) as s:
        w = world(s)
        a = w.appraisal_of(s, "appraisee")
        aid, version = a.id, a.version
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        # Conflicting events: half try to withdraw, half to hand over, all at the same version.
        with new_session(pg_engine) as s:
            barrier.wait()
            try:
                if i % 2:
                    engine.fire(s, "appraisal", aid, "withdraw", w.actors["hr"], expected_version=version,
                                payload={"reason": f"thread {i}"})
                else:
                    engine.fire(s, "appraisal", aid, "hand_over", w.actors["hr"], expected_version=version,
                                payload={"evaluator_id": w.people["superior"].id, "reason": f"thread {i}"})
                result = "won"
            except Conflict:
                result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 19 + ["won"]
    with new_session(pg_engine) as s:
        row = s.get(Appraisal, aid)
        history = audit.history(s, "appraisal", aid)
        assert row.version == version + 1 == len(history)
        assert history[-1].to_state == row.state
        assert audit.verify(s) == []
