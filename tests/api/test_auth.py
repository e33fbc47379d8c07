"""Signing in: bearer tokens, the session cookie and its CSRF token, lockout, password change."""
from __future__ import annotations

from sqlalchemy import delete, select

from db.models import Account, LoginThrottle
from db.session import new_session
from tests.api.conftest import username
from tests.factories import KPIS


def _login(client, w, who, password=None):
    return client.post("/api/v1/auth/login", json={"username": username(w, who), "password": password or f"pw-{who}"})


def test_login_me_logout(client, w):
    r = _login(client, w, "hr")
    assert r.status_code == 200
    body = r.json()
    cookie = r.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and "secure" not in cookie.lower()
    assert body["me"]["roles"][0]["role"] == "hr" and body["me"]["person_id"] == w.people["hr"].id
    client.cookies.clear()
    h = {"Authorization": f"Bearer {body['access_token']}"}
    me = client.get("/api/v1/auth/me", headers=h).json()
    assert me["username"] == username(w, "hr") and me["roles"][0]["org_code"] == w.org.code
    assert me["org_unit"]["id"] == w.people["hr"].org_unit_id and me["name"] == "hr"
    assert client.post("/api/v1/auth/logout", headers=h).status_code == 200
    r = client.get("/api/v1/auth/me", headers=h)
    assert r.status_code == 401 and r.json()["problems"][0]["field"] == "Authorization"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_cookie_session_needs_csrf_for_unsafe_requests(client, w, engine):
    with new_session(engine) as s:
        aid = w.appraisal_of(s, "appraisee").id
    r = _login(client, w, "evaluator")
    csrf = r.json()["csrf_token"]
    assert client.get(f"/api/v1/appraisals/{aid}").status_code == 200  # the cookie alone reads
    url = f"/api/v1/appraisals/{aid}/events/edit_agreement"
    r = client.post(url, json={"payload": {"kpis": KPIS}}, headers={"If-Match": '"1"'})
    assert r.status_code == 403 and r.json()["problems"][0]["field"] == "X-CSRF-Token"
    assert client.post(url, json={"payload": {"kpis": KPIS}},
                       headers={"X-CSRF-Token": "forged", "If-Match": '"1"'}).status_code == 403
    assert client.post(url, json={"payload": {"kpis": KPIS}},
                       headers={"X-CSRF-Token": csrf, "If-Match": '"1"'}).status_code == 200
    # a form post may carry it as a field
    r = client.post("/api/v1/auth/logout", data={"csrf_token": csrf})
    assert r.status_code == 200
    assert client.get(f"/api/v1/appraisals/{aid}").status_code == 401


def test_secure_cookie_from_environment(engine, w, monkeypatch):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from workflow.settings import reset_settings

    monkeypatch.setenv("PMFLOW_COOKIE_SECURE", "1")
    reset_settings()
    try:
        with TestClient(create_app(engine), base_url="https://testserver") as c:
            r = _login(c, w, "hr")
            assert "secure" in r.headers["set-cookie"].lower()
    finally:
        reset_settings()


def test_failed_logins_lock_the_account_for_that_source_only(client, w, engine):
    for _ in range(5):
        assert _login(client, w, "hr", "wrong").status_code == 401
    # locked for this source: even the right password gets the wrong-password answer
    r = _login(client, w, "hr")
    assert r.status_code == 401 and r.json() == _login(client, w, "hr", "wrong").json()
    with new_session(engine) as s:
        acc = s.execute(select(Account).where(Account.username == username(w, "hr"))).scalar_one()
        assert s.execute(select(LoginThrottle).where(LoginThrottle.account_id == acc.id)).scalar_one().locked_until
        s.execute(delete(LoginThrottle))
        s.commit()
    assert _login(client, w, "hr").status_code == 200
    # unknown users get the same answer as a wrong password
    r = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    assert r.status_code == 401


def test_password_change(client, w):
    token = _login(client, w, "member").json()["access_token"]
    other = _login(client, w, "member").json()["access_token"]
    client.cookies.clear()
    h = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/v1/auth/password", json={"current_password": "bad", "new_password": "short"}, headers=h)
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {"current_password", "new_password"}
    for weak in ("short", username(w, "member"), "Password1234"):
        r = client.post("/api/v1/auth/password", json={"current_password": "pw-member", "new_password": weak},
                        headers=h)
        assert r.status_code == 422 and [p["field"] for p in r.json()["problems"]] == ["new_password"], weak
    r = client.post("/api/v1/auth/password", json={"current_password": "pw-member",
                                                   "new_password": "a much longer one"}, headers=h)
    assert r.status_code == 200
    assert client.get("/api/v1/auth/me", headers=h).status_code == 200  # this session stays
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert _login(client, w, "member").status_code == 401
    assert _login(client, w, "member", "a much longer one").status_code == 200


def test_many_failures_from_one_address_are_slowed_down(client, w):
    from api.auth import FAILURES

    FAILURES._seen.clear()
    try:
        for i in range(FAILURES.limit):
            r = client.post("/api/v1/auth/login", json={"username": f"guess-{i}", "password": "x"})
            assert r.status_code == 401
        r = _login(client, w, "hr")  # even a right password waits
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    finally:
        FAILURES._seen.clear()
    assert _login(client, w, "hr").status_code == 200


def test_the_signed_in_actor_is_the_one_the_rules_know(client, w, engine):
    """authenticate() builds the Actor in one query; it must equal accounts.actor_for's."""
    from workflow import accounts, auth_service
    from workflow.settings import get_settings

    for who in ("hr", "authority", "chair", "appraisee", "admin"):
        token = _login(client, w, who).json()["access_token"]
        with new_session(engine) as s:
            found = auth_service.authenticate(s, token, kind="bearer", secret_key=get_settings().secret_key)
            account = s.execute(select(Account).where(Account.username == username(w, who))).scalar_one()
            assert found.actor == accounts.actor_for(s, account), who
