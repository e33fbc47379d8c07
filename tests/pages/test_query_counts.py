"""Every page takes the same number of SQL statements however many rows it shows: each is
rendered through the app, signed in as the role that uses it, on a small world, then again
after more of what it lists was added. Each test checks that the added rows are on the page,
so a statement per row could not hide."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from db.models import Committee, LowPerformerCase
from tests.cases.helpers import announce_with_total, next_round
from tests.factories import World, more_names, staff, world
from tests.flows import drive
from tests.querycount import counted_get
from workflow import agency_assessments, cases, engine, org_kpis, org_policy, orgs
from workflow.access import Actor
from workflow.policy import preset_text
from workflow.rounds import open_round

MORE = 6  # how many more rows each test adds
EXTRA = more_names(MORE)


@pytest.fixture
def sign_in(engine, session) -> Iterator:
    """sign_in(w, who) -> a client holding `who`'s session cookie, as a browser would."""
    app = create_app(engine)
    opened: list[TestClient] = []

    def signed_in(w: World, who: str) -> TestClient:
        username = f"{who}-{w.org.code}".lower()
        session.commit()  # signing in writes; on SQLite the test's open transaction would hold the lock
        c = TestClient(app)
        opened.append(c)
        r = c.post("/api/v1/auth/login", json={"username": username, "password": f"pw-{who}"})
        assert r.status_code == 200, r.text
        return c

    yield signed_in
    for c in opened:
        c.close()


def rendered(session, client: TestClient, path: str) -> tuple[str, int]:
    r, n = counted_get(session, client, path)
    return r.text, n


def _rows(page: str) -> int:
    """The appraisals listed in a page's table."""
    return page.count("<tr data-appraisal=")


def _case_of(session, appraisal_id: int) -> int:
    return session.execute(select(LowPerformerCase.id).where(LowPerformerCase.appraisal_id == appraisal_id)
                           ).scalar_one()


# --- my tasks ------------------------------------------------------------------------------------
def test_my_tasks_page_for_more_staff_cases_and_rounds(session, sign_in):
    w = world(session)
    first = announce_with_total(session, w, "other", "50.00")  # a case the evaluator supervises
    ev = sign_in(w, "evaluator")
    page, small = rendered(session, ev, "/")
    assert "more0" not in page

    for name in EXTRA:
        staff(session, w, name)
    session.commit()
    second = announce_with_total(session, w, "appraisee", "50.00")  # a second case
    next_round(session, w)  # a second round: a draft for everyone, the new staff too
    page, large = rendered(session, ev, "/")
    assert all(name in page for name in EXTRA)
    assert all(f'href="/cases/{_case_of(session, aid)}"' in page for aid in (first, second))
    assert large == small, (small, large)


# --- one appraisal -------------------------------------------------------------------------------
def _kpis(n: int) -> list[dict]:
    weights = [100 // n] * n
    weights[0] += 100 - sum(weights)
    return [{"title": f"ตัวชี้วัดที่ {i + 1}", "source": "role", "weight": wt} for i, wt in enumerate(weights)]


def test_appraisal_page_for_more_kpis_notes_and_history(session, sign_in):
    w = world(session)
    aid = drive(session, w, "appraisee", until="monitored")
    ev = sign_in(w, "evaluator")
    page, small = rendered(session, ev, f"/appraisals/{aid}")
    assert "ตัวชี้วัดที่ 8" not in page

    evaluator = w.actors["evaluator"]
    engine.fire(session, "appraisal", aid, "change_kpis", evaluator,
                payload={"kpis": _kpis(8), "reason": "ภารกิจใหม่กลางรอบ"})
    for i in range(MORE):
        engine.fire(session, "appraisal", aid, "add_progress_note", evaluator, payload={"note": f"บันทึกที่ {i}"})
    page, large = rendered(session, ev, f"/appraisals/{aid}")
    assert "ตัวชี้วัดที่ 8" in page and all(f"บันทึกที่ {i}" in page for i in range(MORE))
    assert large == small, (small, large)


def test_appraisal_page_for_hr_with_more_people_to_hand_over_to(session, sign_in):
    w = world(session)
    aid = w.appraisal_of(session, "appraisee").id
    hr = sign_in(w, "hr")
    page, small = rendered(session, hr, f"/appraisals/{aid}")
    assert "more0" not in page
    for name in EXTRA:
        staff(session, w, name)
    page, large = rendered(session, hr, f"/appraisals/{aid}")
    assert all(name in page for name in EXTRA)  # each a choice of the hand-over form
    assert large == small, (small, large)


# --- one case ------------------------------------------------------------------------------------
def test_case_page_for_more_evidence_signatures_and_history(session, sign_in):
    w = world(session)
    case_id = _case_of(session, announce_with_total(session, w, "other", "50.00"))
    hr = sign_in(w, "hr")
    page, small = rendered(session, hr, f"/cases/{case_id}")
    assert "evidence-0.pdf" not in page

    engine.fire(session, "case", case_id, "sign_plan", w.actors["evaluator"],
                payload={"weakness_analysis": "ส่งงานล่าช้า", "development_plan": "สอนงาน 4 สัปดาห์"})
    for i, measure in enumerate(["coaching", "training", "commitment"] * 2):
        cases.add_evidence_file(session, case_id, w.actors["evaluator"], filename=f"evidence-{i}.pdf",
                                content=f"หลักฐาน {i}".encode(), measure=measure, note=f"หลักฐานที่ {i}")
    page, large = rendered(session, hr, f"/cases/{case_id}")
    assert all(f"evidence-{i}.pdf" in page for i in range(MORE))
    assert large == small, (small, large)


# --- the committee -------------------------------------------------------------------------------
def test_committee_page_for_more_appraisals_in_review_and_more_committees(session, sign_in):
    w = world(session, more_staff=MORE)
    drive(session, w, "other", until="committee_review")
    committee = session.execute(select(Committee.id).where(Committee.round_id == w.opened.round.id)).scalar_one()
    chair = sign_in(w, "chair")
    path = f"/committee?committee={committee}"
    page, small = rendered(session, chair, path)
    assert _rows(page) == 1

    for who in ["appraisee", *EXTRA]:  # more people, units and evaluators' staff in review
        drive(session, w, who, until="committee_review")
    next_round(session, w)  # the chair sits on a second committee: one more to choose from
    page, large = rendered(session, chair, path)
    assert _rows(page) == 2 + MORE and '<select id="committee"' in page
    assert large == small, (small, large)


# --- the authority's announcement ----------------------------------------------------------------
def test_announce_page_for_more_reviewed_appraisals(session, sign_in):
    w = world(session, more_staff=MORE)
    drive(session, w, "other", until="reviewed")
    boss = sign_in(w, "authority")
    page, small = rendered(session, boss, "/announce")
    assert _rows(page) == 1
    for who in ["appraisee", *EXTRA]:
        drive(session, w, who, until="reviewed")
    page, large = rendered(session, boss, "/announce")
    assert _rows(page) == 2 + MORE and "more0" in page
    assert page.count(" chair</td>") == 2 + MORE  # who endorsed each for the committee
    assert large == small, (small, large)


# --- the HR dashboard ----------------------------------------------------------------------------
def test_hr_dashboard_for_a_bigger_round(session, sign_in):
    """More people, appraisals, overdue rows and units, a level deeper (two organisations:
    a round's appraisals are made when it opens)."""
    counts = {}
    for extra in (0, MORE):
        w = world(session, more_staff=extra)
        hr = sign_in(w, "hr")
        page, counts[extra] = rendered(session, hr, f"/hr?round={w.opened.round.id}")
        assert ("more0" in page) == bool(extra) and all(name in page for name in more_names(extra))
    assert counts[MORE] == counts[0], counts


def test_hr_dashboard_for_more_cases(session, sign_in):
    w = world(session, more_staff=MORE)
    announce_with_total(session, w, "other", "50.00")
    hr = sign_in(w, "hr")
    path = f"/hr?round={w.opened.round.id}"
    page, small = rendered(session, hr, path)
    assert page.count("data-case=") == 1
    for who in ["appraisee", *EXTRA[:3]]:
        announce_with_total(session, w, who, "50.00")
    page, large = rendered(session, hr, path)
    assert page.count("data-case=") == 5
    assert large == small, (small, large)


# --- the organisation level ----------------------------------------------------------------------
def test_org_kpis_page_for_more_kpis_and_agency_assessments(session, sign_in):
    w = world(session, "rayong", fiscal_year=2570)
    hr_actor = w.actors["hr"]
    org_kpis.create(session, hr_actor, w.org.code, {"fiscal_year": 2570, "code": "P0", "title": "ตัวชี้วัดจังหวัด 0"})
    agency_assessments.open_year(session, hr_actor, org_code=w.org.code, fiscal_year=2570)
    hr = sign_in(w, "hr")
    path = f"/hr/kpis?org={w.org.code}&fiscal_year=2570"
    page, small = rendered(session, hr, path)
    assert page.count("data-agency=") == 1

    for i in range(1, MORE + 1):
        org_kpis.create(session, hr_actor, w.org.code,
                        {"fiscal_year": 2570, "code": f"P{i}", "title": f"ตัวชี้วัดจังหวัด {i}"})
        orgs.create_unit(session, code=f"{w.org.code}-A{i}", name_th=f"ส่วนราชการ {i}", parent=w.org)
    session.commit()
    agency_assessments.open_year(session, hr_actor, org_code=w.org.code, fiscal_year=2570)
    page, large = rendered(session, hr, path)
    assert all(f'data-kpi="P{i}"' in page for i in range(MORE + 1))
    assert page.count("data-agency=") == MORE + 1
    assert large == small, (small, large)


# --- the policy page -----------------------------------------------------------------------------
def test_policy_page_for_more_open_rounds_and_policy_versions(session, sign_in):
    w = world(session)
    hr = sign_in(w, "hr")
    path = f"/hr/policy?org={w.org.code}"
    page, small = rendered(session, hr, path)
    assert page.count("data-round=") == 1

    text = preset_text("udon_thani")
    for i in range(1, 4):  # three more texts attached: the history lists each
        org_policy.attach(session, w.actors["hr"], w.org.code, text + f"\n# ฉบับแก้ไข {i}\n")
    for year, number in ((2569, 2), (2570, 1), (2570, 2)):  # three more open rounds, each with its milestones
        open_round(session, org_code=w.org.code, fiscal_year=year, number=number, actor=Actor.system())
    page, large = rendered(session, hr, path)
    assert page.count("data-round=") == 4
    assert re.search(r'data-testid="history">(.*?)</ul>', page, re.S).group(1).count("<li>") == 3
    assert large == small, (small, large)
