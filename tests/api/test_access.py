"""The access matrix: every route x every role x own/other object -> the status code.

Objects: A, the appraisee's appraisal in draft; B, "other"'s appraisal in committee review;
X, an appraisal in a second organisation. The list endpoint's SQL filter is checked against
the Python rule (`access.appraisal_roles`) for every role and every appraisal.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Appraisal, Committee
from db.session import new_session
from tests.factories import KPIS, world
from tests.flows import drive
from workflow import queries
from workflow.notifications.scheduler import schedule_round

ROLES = ["appraisee", "evaluator", "superior", "hr", "authority", "admin", "chair", "member", "other", "stranger"]


@pytest.fixture
def objs(engine, w):
    with new_session(engine) as s:
        a = w.appraisal_of(s, "appraisee").id
        b = drive(s, w, "other", until="committee_review")
        w2 = world(s)
        x = w2.appraisal_of(s, "appraisee").id
        drive(s, w2, "other", until="reviewed")  # more states for the list check
        committee = s.execute(select(Committee.id).where(Committee.round_id == w.opened.round.id)).scalar_one()
        committee2 = s.execute(select(Committee.id).where(Committee.round_id == w2.opened.round.id)).scalar_one()
    return dict(A=a, B=b, X=x, committee=committee, committee2=committee2)


def _status(client, as_, who, method, url, **kw):
    return client.request(method, url, headers=as_(who), **kw).status_code


SEE_A = {"appraisee", "evaluator", "superior", "hr", "authority", "admin"}
SEE_B = {"evaluator", "superior", "hr", "authority", "admin", "chair", "member", "other"}
SEE_PERSON = {"appraisee", "evaluator", "superior", "hr", "authority", "admin"}
SEE_COMMITTEE = {"chair", "member", "hr", "authority", "admin"}


def test_object_routes(client, as_, objs, w):
    A, B, X = objs["A"], objs["B"], objs["X"]
    person = w.people["appraisee"].id
    for who in ROLES:
        expect = {
            f"/api/v1/appraisals/{A}": 200 if who in SEE_A else 404,
            f"/api/v1/appraisals/{A}/history": 200 if who in SEE_A else 404,
            f"/api/v1/appraisals/{B}": 200 if who in SEE_B else 404,
            f"/api/v1/appraisals/{B}/history": 200 if who in SEE_B else 404,
            f"/api/v1/appraisals/{X}": 200 if who == "admin" else 404,
            f"/api/v1/people/{person}": 200 if who in SEE_PERSON else 404,
            f"/api/v1/committees/{objs['committee']}": 200 if who in SEE_COMMITTEE else 404,
            f"/api/v1/committees/{objs['committee2']}": 200 if who == "admin" else 404,
            "/api/v1/accounts": 200 if who == "admin" else 403,
            f"/api/v1/accounts/{w.actors['hr'].account_id}": 200 if who == "admin" else 403,
            # the stranger belongs to another organisation: its units and rounds are out of reach
            "/api/v1/appraisals": 200, "/api/v1/org-units": 200,
            f"/api/v1/org-units/{w.org.id}": 404 if who == "stranger" else 200,
            "/api/v1/people": 200, "/api/v1/rounds": 200,
            f"/api/v1/rounds/{w.opened.round.id}": 404 if who == "stranger" else 200,
            f"/api/v1/rounds/{w.opened.round.id}/milestones": 404 if who == "stranger" else 200,
            "/api/v1/committees": 200,
            "/api/v1/policies/presets": 200, "/api/v1/policies/versions": 200, "/api/v1/auth/me": 200,
        }
        got = {url: _status(client, as_, who, "GET", url) for url in expect}
        assert got == expect, who


def test_event_route(client, as_, objs):
    A, B, X = objs["A"], objs["B"], objs["X"]
    may_edit = {"appraisee", "evaluator"}
    for who in ROLES:
        version = client.get(f"/api/v1/appraisals/{A}", headers=as_("hr")).json()["version"]
        edit = {"payload": {"kpis": KPIS}, "version": version}
        r = _status(client, as_, who, "POST", f"/api/v1/appraisals/{A}/events/edit_agreement", json=edit)
        assert r == (200 if who in may_edit else 403 if who in SEE_A else 404), who
        r = _status(client, as_, who, "POST", f"/api/v1/appraisals/{X}/events/edit_agreement",
                    json={**edit, "version": 1})
        assert r == (403 if who == "admin" else 404), who
        # B is in committee review: only the committee may move it (the chair's endorse is tested elsewhere)
        r = _status(client, as_, who, "POST", f"/api/v1/appraisals/{B}/events/return_to_evaluator",
                    json={"comment": "ขอข้อมูลเพิ่ม", "version": 10**6})
        assert r == (409 if who in SEE_B else 404), who  # stale version is checked before the role


def test_admin_and_hr_routes(client, as_, w, engine):
    body = {"org_code": w.org.code, "fiscal_year": 2569, "number": 2}
    for who in ROLES:
        if who in ("hr", "admin"):
            continue
        assert _status(client, as_, who, "POST", "/api/v1/rounds", json=body) == 403, who
        assert _status(client, as_, who, "POST", "/api/v1/accounts",
                       json={"username": f"new-{who}", "password": "long enough pw"}) == 403, who
        assert _status(client, as_, who, "POST", f"/api/v1/accounts/{w.actors[who].account_id}/roles",
                       json={"role": "hr", "org_unit_id": w.org.id}) == 403, who
    r = client.post("/api/v1/rounds", json=body, headers=as_("hr"))
    assert r.status_code == 201 and r.json()["appraisals"] == 8 and len(r.json()["milestones"]) >= 5
    # nothing to schedule: the scheduler's periodic job finds the new round's reminders in its milestones
    plan = schedule_round(r.json()["id"], engine=engine)
    assert len(plan.added) + len(plan.skipped) == 4 * len(r.json()["milestones"])
    assert client.post("/api/v1/rounds", json=body, headers=as_("admin")).status_code == 409
    r = client.post("/api/v1/accounts", json={"username": "new-one", "password": "long enough pw",
                                              "person_id": w.people["stranger"].id}, headers=as_("admin"))
    assert r.status_code == 201
    acc = r.json()["id"]
    r = client.post(f"/api/v1/accounts/{acc}/roles", json={"role": "hr", "org_unit_id": w.org.id}, headers=as_("admin"))
    assert r.status_code == 201 and r.json()["roles"][0]["role"] == "hr"
    # the new HR account now sees the organisation's appraisals
    token = client.post("/api/v1/auth/login", json={"username": "new-one", "password": "long enough pw"}).json()
    client.cookies.clear()
    listed = client.get("/api/v1/appraisals", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert listed["total"] == 16  # two rounds of eight people
    rid = r.json()["roles"][0]["id"]
    r = client.delete(f"/api/v1/accounts/{acc}/roles/{rid}", headers=as_("admin"))
    assert r.status_code == 200 and r.json()["roles"] == []


def test_every_route_needs_sign_in(app, client):
    import re

    checked = 0
    for path, item in app.openapi()["paths"].items():
        if not path.startswith("/api/v1/") or path == "/api/v1/auth/login":
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method in item:
            r = client.request(method.upper(), url)
            assert r.status_code == 401, (method, path, r.status_code)
            checked += 1
    assert checked >= 24


def test_list_filter_in_sql_agrees_with_the_rule(client, as_, objs, w, engine):
    from workflow import appraisals

    pages = {who: client.get("/api/v1/appraisals", params={"limit": 200}, headers=as_(who)).json() for who in ROLES}
    with new_session(engine) as s:
        everything = list(s.execute(select(Appraisal)).scalars())
        for who in ROLES:
            actor, page = w.actors[who], pages[who]
            expected = {a.id for a in everything
                        if queries.seen_roles(appraisals.roles(s, actor, a), a.state)}
            assert {i["id"] for i in page["items"]} == expected, who
            assert page["total"] == len(expected)
            for item in page["items"]:
                a = s.get(Appraisal, item["id"])
                roles = queries.seen_roles(appraisals.roles(s, actor, a), a.state)
                assert item["roles"] == sorted(roles)
                assert item["available_events"] == appraisals.MACHINE.allowed(a.state, roles)
