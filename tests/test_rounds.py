"""Opening a round: milestones from the policy, a draft appraisal for every active person."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.models import Appraisal, Competency, Milestone, Person
from tests.factories import person, world
from workflow import audit
from workflow.access import Actor
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.rounds import open_round


def test_open_round_creates_milestones_and_appraisals(session):
    w = world(session, "ubon_ratchathani", open_now=False)
    inactive = person(session, w.unit, "retired", evaluator=w.people["evaluator"])
    inactive.active = False
    session.commit()
    opened = open_round(session, org_code=w.org.code, fiscal_year=2569, number=2, actor=Actor.system())
    r = opened.round
    assert (r.starts_on.isoformat(), r.ends_on.isoformat()) == ("2026-04-01", "2026-09-30")
    due = {m.code: m.due_on.isoformat() for m in session.execute(
        select(Milestone).where(Milestone.round_id == r.id)).scalars()}
    assert due["low_performer_report"] == "2026-09-30" and due["agreement_signed"] == "2026-05-01"
    # Everybody active in the subtree (not the other organisation's stranger, not the retired).
    people = session.execute(select(Person.id).where(Person.active.is_(True),
                                                     Person.id != w.people["stranger"].id)).scalars().all()
    got = session.execute(select(Appraisal.person_id).where(Appraisal.round_id == r.id)).scalars().all()
    assert sorted(got) == sorted(people) and opened.appraisals == len(people)
    assert inactive.id not in got
    n_comp = session.execute(select(func.count()).select_from(Competency).join(
        Appraisal, Appraisal.id == Competency.appraisal_id).where(Appraisal.round_id == r.id)).scalar()
    assert n_comp == 5 * len(people)
    assert all(s == "draft" for s in session.execute(
        select(Appraisal.state).where(Appraisal.round_id == r.id)).scalars())
    assert audit.verify(session) == []


def test_person_without_evaluator_is_reported(session):
    w = world(session, open_now=False)
    opened = open_round(session, org_code=w.org.code, fiscal_year=2569, number=1, actor=Actor.system())
    assert [name for _, _, name in opened.without_evaluator] == ["authority"]
    # ... and still has an appraisal, waiting for HR to hand it to an evaluator.
    a = session.execute(select(Appraisal).where(Appraisal.person_id == w.people["authority"].id)).scalar_one()
    assert a.state == "draft" and a.evaluator_id is None


def test_opening_the_same_round_twice_is_refused(session):
    w = world(session)
    with pytest.raises(Conflict):
        open_round(session, org_code=w.org.code, fiscal_year=2569, number=1, actor=Actor.system())
    assert session.execute(select(func.count()).select_from(Appraisal)).scalar() == w.opened.appraisals


def test_bad_round_arguments(session):
    w = world(session, open_now=False)
    with pytest.raises(NotFound):
        open_round(session, org_code="NOPE", fiscal_year=2569, number=1, actor=Actor.system())
    with pytest.raises(InvalidInput):
        open_round(session, org_code=w.org.code, fiscal_year=2569, number=3, actor=Actor.system())
    with pytest.raises(InvalidInput):  # an organisation with no policy anywhere above it
        open_round(session, org_code=f"{w.org.code}-X", fiscal_year=2569, number=1, actor=Actor.system())


def test_a_round_keeps_the_policy_version_it_was_opened_with(session):
    from workflow.policy import preset_text
    from workflow.rounds import policy_of_round, register_policy

    w = world(session, "udon_thani")
    changed = preset_text("udon_thani").replace("results = 70", "results = 80").replace(
        "competencies = 30", "competencies = 20")
    pv2 = register_policy(session, changed)
    w.org.policy_version_id = pv2.id
    session.commit()
    assert pv2.version == 2
    assert policy_of_round(session, w.opened.round.id).weights.results == 70
    later = open_round(session, org_code=w.org.code, fiscal_year=2569, number=2, actor=Actor.system())
    assert policy_of_round(session, later.round.id).weights.results == 80


def test_mid_round_milestone_passing_moves_agreed_appraisals(session):
    from datetime import date

    from tests.flows import drive
    from workflow.rounds import pass_mid_round

    w = world(session)
    agreed = drive(session, w, "appraisee", until="agreed")
    draft = w.appraisal_of(session, "other").id
    rid = w.opened.round.id
    assert pass_mid_round(session, rid, today=date(2025, 12, 30)) == 0  # due 30 Dec 2025 (start + 90)
    assert pass_mid_round(session, rid, today=date(2025, 12, 31)) == 1
    assert session.get(Appraisal, agreed).state == "monitored"
    assert session.get(Appraisal, draft).state == "draft"
    assert audit.history(session, "appraisal", agreed)[-1].actor == "system"


def test_a_large_opening_leaves_the_planner_counting_its_rows(pg_engine):
    """PostgreSQL plans from statistics autovacuum refreshes only later; a round of thousands
    opened without them sent the HR list down slow plans for its first minutes."""
    from sqlalchemy import insert, text

    from db.session import new_session
    from workflow.rounds import ANALYZE_FROM

    with new_session(pg_engine) as s:
        w = world(s, open_now=False)
        s.execute(insert(Person), [dict(code=f"B{i}", name_th=f"บุคลากร {i}", staff_type="civil_servant",
                                        org_unit_id=w.unit.id, evaluator_id=w.people["evaluator"].id)
                                   for i in range(ANALYZE_FROM)])
        s.commit()
        opened = open_round(s, org_code=w.org.code, fiscal_year=2569, number=1, actor=Actor.system())
        assert opened.appraisals > ANALYZE_FROM
        counted = s.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'appraisal'")).scalar_one()
        assert counted >= opened.appraisals  # the planner knows the rows just written
