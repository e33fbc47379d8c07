"""The API under test: the app on the test's engine, a world, and signed-in clients."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from db.session import new_session
from tests.factories import world


@pytest.fixture(autouse=True)
def _fresh_address_limits():
    """The per-address failed-login window lives in process memory: start each test clean."""
    from api.auth import FAILURES

    FAILURES._seen.clear()
    yield
    FAILURES._seen.clear()


@pytest.fixture
def app(engine):
    return create_app(engine)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def w(engine):
    with new_session(engine) as s:
        return world(s)


def username(w, who: str) -> str:
    return f"{who}-{w.org.code}".lower()


def login(client: TestClient, w, who: str) -> dict[str, str]:
    """Sign in as `who` of the world; the bearer header to send."""
    r = client.post("/api/v1/auth/login", json={"username": username(w, who), "password": f"pw-{who}"})
    assert r.status_code == 200, r.text
    client.cookies.clear()  # bearer only: tests of cookies sign in on their own
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def as_(client, w):
    cache: dict[str, dict[str, str]] = {}

    def headers(who: str) -> dict[str, str]:
        if who not in cache:
            cache[who] = login(client, w, who)
        return cache[who]

    return headers
