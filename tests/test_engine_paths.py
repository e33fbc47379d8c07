"""The engine's two ways of firing (direct and ORM) must be indistinguishable in what they write."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.models import Appraisal, Event, LowPerformerCase, ProgressNote, Signature
from db.raw import Raw
from tests.factories import world
from tests.flows import drive
from workflow import appraisals, audit, engine, rounds
from workflow.cases import KIND as CASE_KIND  # noqa: F401  (registers the announcement hook)

ROLE_HOLDERS = ["appraisee", "evaluator", "superior", "chair", "member", "hr", "authority", "admin",
                "stranger", "other"]


@pytest.fixture
def orm_only(monkeypatch):
    """Every appraisal event through the ORM path, as before the direct path existed."""
    monkeypatch.setattr(appraisals.KIND, "snapshot", None)


def _written(session, aid: int) -> dict:
    a = session.get(Appraisal, aid)
    session.refresh(a)
    events = audit.history(session, "appraisal", aid)
    signatures = session.execute(select(Signature.kind, Signature.role, Signature.revision)
                                 .where(Signature.appraisal_id == aid).order_by(Signature.id)).all()
    notes = session.execute(select(ProgressNote.text).where(ProgressNote.appraisal_id == aid)).scalars().all()
    return {
        "row": {c: getattr(a, c) for c in ("state", "version", "agreement_revision", "results_percent",
                                           "competency_percent", "total_percent", "rating_code",
                                           "development_plan", "superior_opinion", "superior_total_percent")},
        "acknowledged": a.acknowledged_at is not None,
        # ("open" records the ids of this world's people, which differ between the two worlds)
        "events": [(e.seq, e.event, e.from_state, e.to_state, e.actor,
                    json.loads(e.payload) if e.event != "open" else None, e.reason) for e in events],
        "signatures": [tuple(s) for s in signatures],
        "notes": list(notes),
    }


def _drive_and_read(session) -> dict:
    w = world(session)
    aid = drive(session, w)
    assert audit.verify(session) == []
    return _written(session, aid)


def test_both_paths_write_the_same_appraisal(session, monkeypatch):
    direct = _drive_and_read(session)
    monkeypatch.setattr(appraisals.KIND, "snapshot", None)
    orm = _drive_and_read(session)
    assert direct == orm
    assert direct["row"]["state"] == "announced"
    assert ("agreement", "appraisee", 2) in direct["signatures"] and direct["notes"]


def test_the_snapshot_sees_what_the_orm_path_sees(session):
    w = world(session)
    aid = drive(session, w, until="evaluated")
    a = session.get(Appraisal, aid)
    session.commit()
    for who in ROLE_HOLDERS:
        actor = w.actors[who]
        snap = appraisals.snapshot(Raw.within(session), aid, actor)
        session.rollback()
        assert snap.roles == appraisals.roles(session, actor, a), who
        assert snap.facts == appraisals.facts(session, a), who
        assert snap.row.state == a.state and snap.row.version == a.version
        assert snap.prev_hash == audit.last_hash(session, "appraisal", aid, a.version)
        session.rollback()


def test_a_policy_not_yet_parsed_takes_the_orm_path(session, monkeypatch):
    w = world(session)
    aid = drive(session, w, until="monitored")
    engine.fire(session, "appraisal", aid, "score", w.actors["evaluator"],
                payload={"kpi_levels": [4, 5], "competency_scores": [4, 4, 4, 5, 3], "development_plan": "อบรม"})
    monkeypatch.setattr(rounds, "_BY_VERSION", {})  # as in a freshly started worker
    engine.fire(session, "appraisal", aid, "evaluate", w.actors["evaluator"])
    a = session.get(Appraisal, aid)
    session.refresh(a)
    assert a.state == "evaluated" and a.total_percent is not None
    assert rounds._BY_VERSION  # parsed on the way, so the next event goes direct


def test_a_low_result_announced_on_the_direct_path_still_opens_its_case(session):
    # The announcement's hook is not quiet for a low result: the engine hands over to the ORM path.
    w = world(session)
    aid = drive(session, w, levels=[1, 1], competency_scores=[1, 1, 1, 1, 1])
    case = session.execute(select(LowPerformerCase).where(LowPerformerCase.appraisal_id == aid)).scalar_one()
    assert case.state == "opened"
    assert audit.verify(session) == []


def test_a_row_the_session_holds_is_fresh_after_a_direct_event(session):
    w = world(session)
    aid = drive(session, w, until="monitored")
    a = session.get(Appraisal, aid)
    session.commit()  # the session is idle and holds the row: fire() takes a connection of its own
    version = a.version
    engine.fire(session, "appraisal", aid, "add_progress_note", w.actors["evaluator"],
                payload={"note": "ก้าวหน้าตามแผน"})
    assert a.version == version + 1  # the held copy was expired, so this reads the new row


def test_a_direct_event_inside_a_caller_transaction_is_rolled_back_with_it(session):
    w = world(session)
    aid = drive(session, w, until="monitored")
    before = session.execute(select(Event.id).where(Event.entity_id == aid)).scalars().all()
    engine.fire_within(session, "appraisal", aid, "add_progress_note", w.actors["evaluator"],
                       payload={"note": "ยังไม่บันทึก"})
    session.rollback()
    assert session.execute(select(Event.id).where(Event.entity_id == aid)).scalars().all() == before
    assert not session.execute(select(ProgressNote).where(ProgressNote.text == "ยังไม่บันทึก")).all()
