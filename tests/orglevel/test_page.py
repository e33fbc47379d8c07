"""The HR page of the organisation level (/hr/kpis), and the agreement page's choice of
organisation KPIs."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from db.session import new_session


@pytest.fixture
def browse(app, w, other):
    """A signed-in browser session (cookie + CSRF token) for `who` of a world."""
    opened = []

    def signed_in(who, world_=None):
        world_ = world_ or w
        c = TestClient(app)
        opened.append(c)
        r = c.post("/api/v1/auth/login", json={"username": f"{who}-{world_.org.code}".lower(), "password": f"pw-{who}"})
        return c, r.json()["csrf_token"]

    yield signed_in
    for c in opened:
        c.close()


def test_hr_kpi_page_adds_lists_and_stays_in_its_organisation(browse, w, other):
    hr, csrf = browse("hr")
    page = hr.get(f"/hr/kpis?org={w.org.code}&fiscal_year=2570")
    assert page.status_code == 200 and 'data-testid="org-kpis"' in page.text
    assert 'href="/hr/kpis"' in hr.get("/hr").text  # linked from the HR dashboard
    form = {"csrf_token": csrf, "action": "add", "org": w.org.code, "fiscal_year": "2570", "code": "P1",
            "title": "ร้อยละโครงการแล้วเสร็จ", "weight": "60"}
    r = hr.post("/hr/kpis", data=form, follow_redirects=False)
    assert r.status_code == 303
    r = hr.post("/hr/kpis", data=form)  # the same code again: shown on the form
    assert r.status_code == 422 and "error-summary" in r.text
    r = hr.post("/hr/kpis", data={"csrf_token": csrf, "action": "open_agencies", "org": w.org.code,
                                  "fiscal_year": "2570"}, follow_redirects=False)
    assert r.status_code == 303
    page = hr.get(f"/hr/kpis?org={w.org.code}&fiscal_year=2570").text
    assert 'data-kpi="P1"' in page and f'data-agency="{w.unit.code}"' in page
    r = hr.post("/hr/kpis/import", data={"csrf_token": csrf, "org": w.org.code, "fiscal_year": "2570"},
                files={"file": ("k.csv", "code,title,weight\nP2,,150\n".encode(), "text/csv")})
    assert r.status_code == 422 and "แถวที่ 2" in r.text
    # another province's HR: our organisation is not among theirs, and posting to it finds nothing
    them, their_csrf = browse("hr", other)
    theirs = them.get(f"/hr/kpis?org={w.org.code}&fiscal_year=2570").text
    assert 'data-kpi="P1"' not in theirs and f"({w.org.code})" not in theirs
    r = them.post("/hr/kpis", data={**form, "csrf_token": their_csrf, "code": "X1"})
    assert r.status_code == 404
    evaluator, _ = browse("evaluator")
    assert evaluator.get("/hr/kpis").status_code == 403


def test_the_agreement_page_offers_the_units_kpis(client, as_, browse, w, other, engine):
    hr = as_("hr")
    client.post(f"/api/v1/orgs/{w.org.code}/kpis", json={"fiscal_year": 2570, "code": "P1", "title": "ตัวชี้วัดจังหวัด"},
                headers=hr)
    client.post(f"/api/v1/orgs/{other.org.code}/kpis", json={"fiscal_year": 2570, "code": "O1", "title": "ของที่อื่น"},
                headers=as_("hr", other))
    with new_session(engine) as s:
        aid = w.appraisal_of(s, "appraisee").id
    evaluator, _ = browse("evaluator")
    page = evaluator.get(f"/appraisals/{aid}").text
    assert 'name="kpi-0-org_kpi"' in page and "ตัวชี้วัดจังหวัด" in page and "ของที่อื่น" not in page
