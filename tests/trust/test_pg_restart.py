"""A real PostgreSQL restart under a running pmflow: while the server is down every request is
answered 503 with Retry-After and a Thai and English text, never 500; once it is back the same
pmflow process serves again by itself, an event sent with If-Match lands once, and the audit
replay finds nothing wrong.

The server is a private cluster of this test's own (`tests.private_pg`), not the shared one; pmflow
runs as `uvicorn api.main:app` in its own process (`tests.api.server.process`), so its pool is the
one production has.
"""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from api.errors import DATABASE_RETRY_SECONDS, PAGE_TEXTS
from db.migrate import upgrade
from db.models import Event
from db.session import make_engine, new_session
from tests import private_pg
from tests.api import server
from tests.api.conftest import username
from tests.factories import KPIS, world
from workflow import audit

EDIT = {"payload": {"kpis": KPIS}}


@pytest.fixture(scope="module")
def cluster():
    if private_pg.binaries() is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed: "
                    "no private cluster to restart")
    with private_pg.private_cluster() as c:
        upgrade(c.url)
        yield c


def _sign_in(base: str, w, who: str) -> httpx.Client:
    """A client signed in as `who`: bearer for the API, and the session cookie for the pages."""
    client = httpx.Client(base_url=base, timeout=30)
    r = client.post("/api/v1/auth/login", json={"username": username(w, who), "password": f"pw-{who}"})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def _assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, (r.request.method, r.request.url, r.status_code, r.text[:300])
    assert r.headers["Retry-After"] == str(DATABASE_RETRY_SECONDS)


def test_a_postgresql_restart_is_503_while_down_and_served_again_by_the_same_process(cluster):
    engine = make_engine(cluster.url)
    with new_session(engine) as s:
        w = world(s)
        round_id = w.opened.round.id
        a = w.appraisal_of(s, "appraisee")
        aid, version = a.id, a.version
    engine.dispose()

    with server.process(cluster.url) as base:
        hr, evaluator = _sign_in(base, w, "hr"), _sign_in(base, w, "evaluator")
        listing = f"/api/v1/appraisals?round={round_id}"
        assert hr.get(listing).status_code == 200  # the pool now holds live connections

        cluster.stop()
        down = {
            "list": hr.get(listing),
            "one": hr.get(f"/api/v1/appraisals/{aid}"),
            "event": evaluator.post(f"/api/v1/appraisals/{aid}/events/edit_agreement",
                                    headers={"If-Match": f'"{version}"'}, json=EDIT),
            "sign in": httpx.post(base + "/api/v1/auth/login",
                                  json={"username": username(w, "hr"), "password": "pw-hr"}),
            "page": hr.get(f"/appraisals/{aid}"),
            "ready": hr.get("/ready"),
        }
        for r in down.values():
            _assert_unavailable(r)
        for name in ("list", "one", "event", "sign in"):
            problem = down[name].json()["problems"][0]
            assert problem["field"] == "database"
            assert "ฐานข้อมูล" in problem["th"] and "database" in problem["en"]
        assert PAGE_TEXTS[503][0] in down["page"].text  # the page, in its reader's language (Thai)

        cluster.start()
        assert hr.get(listing).status_code == 200
        r = evaluator.post(f"/api/v1/appraisals/{aid}/events/edit_agreement",
                           headers={"If-Match": f'"{version}"'}, json=EDIT)
        assert r.status_code == 200, r.text
        assert r.json()["version"] == version + 1
        again = evaluator.post(f"/api/v1/appraisals/{aid}/events/edit_agreement",
                               headers={"If-Match": f'"{version}"'}, json=EDIT)
        assert again.status_code == 409 and again.json()["current_version"] == version + 1

        # A quick restart while the pool holds connections the server has ended: the pool's
        # pre-ping replaces them, so not even the first request after it fails.
        cluster.restart()
        for who, path in ((hr, listing), (evaluator, f"/api/v1/appraisals/{aid}"), (hr, "/ready")):
            assert who.get(path).status_code == 200
        r = evaluator.post(f"/api/v1/appraisals/{aid}/events/sign_agreement",
                           headers={"If-Match": f'"{version + 1}"'}, json={})
        assert r.status_code == 200, r.text
        for c in (hr, evaluator):
            c.close()

    engine = make_engine(cluster.url)
    with new_session(engine) as s:
        # the event refused during the outage left nothing; each one sent afterwards landed once
        since = s.execute(select(Event.event).where(Event.entity_type == "appraisal", Event.entity_id == aid,
                                                    Event.seq > version).order_by(Event.seq)).scalars().all()
        assert since == ["edit_agreement", "sign_agreement"]
        assert audit.verify(s) == []
    engine.dispose()
