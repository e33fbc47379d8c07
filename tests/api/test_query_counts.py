"""The list routes take the same number of SQL statements however many rows they return: each
is asked for as the role that uses it on a small world, then again after more rows were added
(and the added rows must be in the answer, so a statement per row could not hide)."""
from __future__ import annotations

from sqlalchemy import select

from db.models import Committee, CommitteeMember
from tests.api.conftest import login, username
from tests.cases.helpers import announce_with_total, next_round
from tests.factories import World, more_names, staff, world
from tests.flows import drive
from tests.querycount import counted_get
from workflow import agency_assessments, orgs

MORE = 6  # how many more rows each test adds
EXTRA = more_names(MORE)


def answered(session, client, w: World, who: str, path: str) -> tuple[object, int]:
    """The JSON answer to GET `path` as `who`, and how many statements it took."""
    username(w, who)  # reads the organisation's code if the session let it expire, before the commit
    session.commit()  # signing in writes; on SQLite the test's open transaction would hold the lock
    headers = login(client, w, who)
    r, n = counted_get(session, client, path, headers=headers)
    return r.json(), n


def test_appraisal_list(session, client):
    w = world(session)
    body, small = answered(session, client, w, "hr", "/api/v1/appraisals?limit=200")
    assert body["total"] == 8
    for name in EXTRA:
        staff(session, w, name)
    session.commit()
    next_round(session, w)  # everyone again, and the new staff
    body, large = answered(session, client, w, "hr", "/api/v1/appraisals?limit=200")
    assert body["total"] == len(body["items"]) == 2 * 8 + MORE
    assert large == small, (small, large)


def test_case_list(session, client):
    w = world(session, more_staff=MORE)
    announce_with_total(session, w, "other", "50.00")
    body, small = answered(session, client, w, "hr", "/api/v1/cases")
    assert body["total"] == 1
    for who in ["appraisee", *EXTRA[:3]]:
        announce_with_total(session, w, who, "50.00")
    body, large = answered(session, client, w, "hr", "/api/v1/cases")
    assert body["total"] == len(body["items"]) == 5 and all(c["next_steps"] for c in body["items"])
    assert large == small, (small, large)


def test_task_list(session, client):
    w = world(session)
    announce_with_total(session, w, "other", "50.00")
    body, small = answered(session, client, w, "evaluator", "/api/v1/tasks")
    for name in EXTRA:
        staff(session, w, name)
    session.commit()
    announce_with_total(session, w, "appraisee", "50.00")
    next_round(session, w)
    body, large = answered(session, client, w, "evaluator", "/api/v1/tasks")
    subjects = {t["subject"] for g in body for t in g["tasks"]}
    assert set(EXTRA) <= subjects
    assert large == small, (small, large)


def test_committee_list_and_review_list(session, client):
    w = world(session, more_staff=MORE)
    drive(session, w, "other", until="committee_review")
    committee = session.execute(select(Committee.id).where(Committee.round_id == w.opened.round.id)).scalar_one()
    review = f"/api/v1/committees/{committee}/review"
    listed, small_list = answered(session, client, w, "hr", "/api/v1/committees")
    body, small_review = answered(session, client, w, "chair", review)
    assert listed["total"] == 1 and len(body["items"]) == 1

    for who in ["appraisee", *EXTRA]:
        drive(session, w, who, until="committee_review")
    for name in EXTRA:  # the first committee grows to eight
        session.add(CommitteeMember(committee_id=committee, person_id=w.people[name].id))
    for year, number in ((2569, 2), (2570, 1)):  # two more rounds, each with a committee of two
        next_round(session, w, year, number)
    listed, large_list = answered(session, client, w, "hr", "/api/v1/committees")
    body, large_review = answered(session, client, w, "chair", review)
    assert listed["total"] == 3 and sorted(len(c["members"]) for c in listed["items"]) == [2, 2, 2 + MORE]
    assert len(body["items"]) == 2 + MORE
    assert (large_list, large_review) == (small_list, small_review), (small_list, large_list, small_review,
                                                                      large_review)


def test_round_list(session, client):
    w = world(session)
    body, small = answered(session, client, w, "hr", "/api/v1/rounds")
    for year, number in ((2569, 2), (2570, 1), (2570, 2)):
        next_round(session, w, year, number)
    body, large = answered(session, client, w, "hr", "/api/v1/rounds")
    assert body["total"] == 4 and all(r["milestones"] for r in body["items"])
    assert large == small, (small, large)


def test_agency_assessment_list(session, client):
    w = world(session, "rayong", fiscal_year=2570)
    agency_assessments.open_year(session, w.actors["hr"], org_code=w.org.code, fiscal_year=2570)
    body, small = answered(session, client, w, "hr", "/api/v1/agency-assessments")
    assert len(body) == 1
    for i in range(MORE):
        orgs.create_unit(session, code=f"{w.org.code}-A{i}", name_th=f"ส่วนราชการ {i}", parent=w.org)
    session.commit()
    agency_assessments.open_year(session, w.actors["hr"], org_code=w.org.code, fiscal_year=2570)
    body, large = answered(session, client, w, "hr", "/api/v1/agency-assessments")
    assert len(body) == 1 + MORE and all(a["milestones"] for a in body)
    assert large == small, (small, large)
