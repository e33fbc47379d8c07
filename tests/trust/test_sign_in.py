"""Sign-in abuse: nobody can lock an account for others, a lock reveals nothing, the page form
and password changes count failures, X-Forwarded-For only from trusted proxies, a sign-out
ends both halves of a sign-in."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import login, username


@pytest.fixture
def behind_proxy(engine, monkeypatch):
    """The app with the test client's peer ("testclient") named as a trusted proxy."""
    from workflow.settings import reset_settings

    monkeypatch.setenv("PMFLOW_TRUSTED_PROXIES", "testclient,10.0.0.0/8")
    reset_settings()
    with TestClient(create_app(engine)) as c:
        yield c
    reset_settings()


def _login(client, w, who, password=None, ip=None):
    headers = {"X-Forwarded-For": ip} if ip else {}
    return client.post("/api/v1/auth/login", headers=headers,
                       json={"username": username(w, who), "password": password or f"pw-{who}"})


def test_an_attacker_cannot_lock_an_account_for_everyone(behind_proxy, w):
    for _ in range(8):
        assert _login(behind_proxy, w, "hr", "wrong", ip="203.0.113.9").status_code == 401
    assert _login(behind_proxy, w, "hr", ip="203.0.113.9").status_code == 401  # locked for the attacker
    assert _login(behind_proxy, w, "hr", ip="198.51.100.7").status_code == 200  # the owner signs in


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(client, w):
    for i in range(5):  # a forged header per try: all count against the real peer
        assert _login(client, w, "hr", "wrong", ip=f"203.0.113.{i}").status_code == 401
    assert _login(client, w, "hr", ip="198.51.100.7").status_code == 401


def test_a_locked_account_answers_like_a_wrong_password(client, w):
    wrong = _login(client, w, "hr", "wrong")
    for _ in range(5):
        _login(client, w, "hr", "wrong")
    locked = _login(client, w, "hr")
    nobody = client.post("/api/v1/auth/login", json={"username": "no-such-user", "password": "x"})
    assert locked.status_code == wrong.status_code == nobody.status_code == 401
    assert locked.json() == wrong.json() == nobody.json()
    assert "retry-after" not in {k.lower() for k in locked.headers}


def test_the_login_page_counts_failures_like_the_api(client, w):
    from api.auth import FAILURES

    page = client.get("/login")
    token = page.cookies.get("pmflow_login_csrf") or client.cookies.get("pmflow_login_csrf")
    for _ in range(5):
        r = client.post("/login", data={"username": username(w, "hr"), "password": "wrong", "login_csrf": token},
                        follow_redirects=False)
        assert r.status_code == 401
    r = client.post("/login", data={"username": username(w, "hr"), "password": "pw-hr", "login_csrf": token},
                    follow_redirects=False)
    assert r.status_code == 401  # locked for this source, by the page form's failures
    assert len(FAILURES._seen.get("testclient", ())) >= 5


def test_a_wrong_current_password_counts_as_a_failed_sign_in(client, w):
    h = login(client, w, "member")
    for _ in range(5):
        r = client.post("/api/v1/auth/password", headers=h,
                        json={"current_password": "guess", "new_password": "a much longer one"})
        assert r.status_code == 422
    # locked now: the right current password is refused too, and so is signing in from here
    r = client.post("/api/v1/auth/password", headers=h,
                    json={"current_password": "pw-member", "new_password": "a much longer one"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "current_password"
    assert _login(client, w, "member").status_code == 401


def test_signing_out_a_bearer_token_ends_the_cookie_session_of_the_same_sign_in(client, w):
    r = _login(client, w, "hr")
    bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/v1/auth/me").status_code == 200  # the cookie of the same sign-in
    assert client.post("/api/v1/auth/logout", headers=bearer).status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_new_passwords_follow_the_policy(client, w, as_):
    for bad in ("short-one", "new-account-x", "qwerty123456"):
        r = client.post("/api/v1/accounts", headers=as_("admin"),
                        json={"username": "new-account-x", "password": bad})
        assert r.status_code == 422 and r.json()["problems"][0]["field"] == "password", bad
    r = client.post("/api/v1/accounts", headers=as_("admin"),
                    json={"username": "new-account-x", "password": "ช้างเผือก ยืนบนสะพาน"})
    assert r.status_code == 201
