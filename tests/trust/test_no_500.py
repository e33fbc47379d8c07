"""No 500 from bad input: ids beyond the database's integer, If-Match that is not a version."""
from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

HUGE = [str(2**31), str(2**63 + 7), "99999999999999999999999"]


@pytest.fixture
def loose(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _flat(routes):
    for route in routes:
        if hasattr(route, "original_router"):  # an included router (newer FastAPI keeps them nested)
            yield from _flat(route.original_router.routes)
        else:
            yield route


def _routes(app):
    for route in _flat(app.routes):
        if isinstance(route, APIRoute) and "{" in route.path:
            for method in route.methods - {"HEAD"}:
                yield method, route.path


def test_ids_beyond_the_integer_range_never_answer_500(app, loose, w):
    r = loose.post("/api/v1/auth/login", json={"username": f"hr-{w.org.code}".lower(), "password": "pw-hr"})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}", "X-CSRF-Token": r.json()["csrf_token"],
               "If-Match": '"1"'}
    seen = 0
    for method, path in _routes(app):
        for huge in HUGE:
            url = re.sub(r"\{(\w*id)\}", huge, path)
            url = re.sub(r"\{[^}]+\}", "1", url)
            r = loose.request(method, url, headers=headers)
            assert r.status_code < 500, (method, url, r.status_code, r.text[:200])
            seen += 1
    assert seen > 60


def test_if_match_that_is_not_a_version_is_a_422_everywhere(app, loose, w, engine):
    from db.session import new_session

    with new_session(engine) as s:
        aid = w.appraisal_of(s, "appraisee").id
    r = loose.post("/api/v1/auth/login", json={"username": f"hr-{w.org.code}".lower(), "password": "pw-hr"})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    for value in ("abc", '"abc"', "W/", '"99999999999"', "*", ""):
        for url in (f"/api/v1/appraisals/{aid}/events/withdraw", "/api/v1/cases/1/events/agree_plan",
                    "/api/v1/cases/1/evidence", f"/api/v1/committees/1/review/{aid}/return"):
            r = loose.post(url, headers={**headers, "If-Match": value}, json={"comment": "x"})
            assert r.status_code < 500, (url, value, r.text[:200])


def test_an_org_kpi_that_does_not_exist_or_belongs_elsewhere_is_a_422(client, as_, w, engine):
    from db.models import OrgKpi
    from db.session import new_session
    from tests.factories import KPIS, world

    with new_session(engine) as s:
        aid = w.appraisal_of(s, "appraisee").id
        other = world(s, open_now=False)
        theirs = OrgKpi(org_unit_id=other.org.id, fiscal_year=2569, code="K1", title="ของคนอื่น")
        ours = OrgKpi(org_unit_id=w.org.id, fiscal_year=2569, code="K1", title="ของเรา")
        s.add_all([theirs, ours])
        s.commit()
        theirs_id, ours_id = theirs.id, ours.id
    url = f"/api/v1/appraisals/{aid}/events/edit_agreement"
    for bad in (10**6, theirs_id, 2**31 + 1):
        kpis = [dict(KPIS[0], org_kpi_id=bad), KPIS[1]]
        r = client.post(url, headers={**as_("evaluator"), "If-Match": '"1"'}, json={"payload": {"kpis": kpis}})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["problems"][0]["field"] == "payload.kpis[0].org_kpi_id"
    kpis = [dict(KPIS[0], org_kpi_id=ours_id), KPIS[1]]
    r = client.post(url, headers={**as_("evaluator"), "If-Match": '"1"'}, json={"payload": {"kpis": kpis}})
    assert r.status_code == 200, r.text
