"""My tasks: what each person has waiting, read in a number of queries that does not grow with rows."""
from __future__ import annotations

from datetime import date

from tests.cases.helpers import announce_with_total, next_round
from tests.factories import person, world
from tests.querycount import counting
from workflow import tasks
from workflow.notifications import pending


def _measure(session, actor):
    session.expire_all()
    with counting(session) as statements:
        groups = tasks.my_tasks(session, actor, date(2026, 1, 15))
    return groups, len(statements)


def test_my_tasks_takes_the_same_queries_for_more_appraisals_and_cases(session):
    w = world(session, "udon_thani")
    announce_with_total(session, w, "other", "50.00")  # a low result: a case the evaluator supervises
    small, queries_small = _measure(session, w.actors["evaluator"])
    assert [t.subject for t in small[pending.CASE_MEASURE]] == ["other"]
    assert sorted(t.subject for t in small[pending.SIGN_AGREEMENT]) == ["appraisee", "evaluator"]  # and their own

    for i in range(6):
        person(session, w.unit, f"more{i}", evaluator=w.people["evaluator"], superior=w.people["superior"])
    session.commit()
    announce_with_total(session, w, "appraisee", "50.00")  # a second case
    next_round(session, w)  # every person gets a draft appraisal in the new round
    large, queries_large = _measure(session, w.actors["evaluator"])
    assert len(large[pending.CASE_MEASURE]) == 2
    signs = sorted(t.subject for t in large[pending.SIGN_AGREEMENT])
    # round 1: their own; round 2: their own, appraisee, other and the six new
    assert signs == sorted(["evaluator", "evaluator", "appraisee", "other", *[f"more{i}" for i in range(6)]])
    assert queries_large == queries_small


def test_tasks_carry_the_due_date_of_their_milestone_and_overdue_first(session):
    w = world(session, "udon_thani")
    groups = tasks.my_tasks(session, w.actors["appraisee"], date(2025, 11, 15))
    [sign] = groups[pending.SIGN_AGREEMENT]
    due = {m.code: m.due_on for m in w.opened.milestones}
    assert sign.due == due["agreement_signed"] and sign.overdue == (due["agreement_signed"] < date(2025, 11, 15))
    assert sign.link == f"/appraisals/{w.appraisal_of(session, 'appraisee').id}"
    assert tasks.my_tasks(session, w.actors["stranger"], date(2025, 11, 15)) == {}
