"""Smoke test: the real server process (uvicorn, api.main:app) on a loopback port, a temp SQLite file."""
from __future__ import annotations

import httpx

from db.migrate import upgrade
from db.session import make_engine, new_session
from tests.api.conftest import username
from tests.api.server import process
from tests.factories import world


def test_real_server(tmp_path):
    url = f"sqlite:///{tmp_path / 'smoke.db'}"
    upgrade(url)
    engine = make_engine(url)
    with new_session(engine) as s:
        w = world(s)
        aid = w.appraisal_of(s, "appraisee").id
    engine.dispose()
    with process(url) as base:
        assert httpx.get(base + "/api/v1/openapi.json").json()["info"]["title"] == "pmflow"
        login = httpx.post(base + "/api/v1/auth/login",
                           json={"username": username(w, "evaluator"), "password": "pw-evaluator"})
        assert login.status_code == 200
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        a = httpx.get(f"{base}/api/v1/appraisals/{aid}", headers=auth)
        assert a.status_code == 200 and a.json()["state"] == "draft"
        assert "edit_agreement" in a.json()["available_events"]
