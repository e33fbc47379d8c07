"""Many clients over real HTTP on PostgreSQL: exactly one wins per version."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from api.main import create_app
from db.models import Event
from db.session import new_session
from tests.api.conftest import username
from tests.api.server import running
from tests.factories import KPIS, world

CLIENTS = 16


def _race(base: str, headers: dict[str, str], url: str, body: dict) -> list[int]:
    barrier = threading.Barrier(CLIENTS)

    def one(_: int) -> int:
        with httpx.Client(base_url=base, timeout=30) as c:
            barrier.wait()
            return c.post(url, json=body, headers=headers).status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(one, range(CLIENTS)))


def _events(engine, aid: int) -> int:
    with new_session(engine) as s:
        return s.execute(select(func.count()).select_from(Event).where(
            Event.entity_type == "appraisal", Event.entity_id == aid)).scalar()


def test_one_winner_per_version_over_http(pg_engine):
    with new_session(pg_engine) as s:
        w = world(s)
        aid = w.appraisal_of(s, "appraisee").id
    with running(create_app(pg_engine)) as base:
        token = httpx.post(base + "/api/v1/auth/login", json={
            "username": username(w, "evaluator"), "password": "pw-evaluator"}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/appraisals/{aid}/events/edit_agreement"
        codes = _race(base, {**auth, "If-Match": '"1"'}, url, {"payload": {"kpis": KPIS}})
        assert sorted(codes) == [200] + [409] * (CLIENTS - 1)
        assert _events(pg_engine, aid) == 2
        # the same Idempotency-Key from every client: fired once, every client gets its answer
        codes = _race(base, {**auth, "If-Match": '"2"', "Idempotency-Key": "same"}, url, {"payload": {"kpis": KPIS}})
        assert codes == [200] * CLIENTS
        assert _events(pg_engine, aid) == 3
        # and a later retry gets the stored answer
        r = httpx.post(base + url, json={"payload": {"kpis": KPIS}},
                       headers={**auth, "If-Match": '"2"', "Idempotency-Key": "same"})
        assert r.status_code == 200 and r.json()["version"] == 3 and r.headers["idempotent-replay"] == "true"


def test_several_worker_processes_share_every_rule(pg_engine):
    """`pmflow serve --workers N`: version races, idempotency keys and login locks hold across
    processes, because all of that state is in the database."""
    from tests.api.server import process

    with new_session(pg_engine) as s:
        w = world(s)
        aid = w.appraisal_of(s, "appraisee").id
    url = pg_engine.url.render_as_string(hide_password=False)
    with process(url, workers=2) as base:
        token = httpx.post(base + "/api/v1/auth/login", json={
            "username": username(w, "evaluator"), "password": "pw-evaluator"}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        url_ = f"/api/v1/appraisals/{aid}/events/edit_agreement"
        codes = _race(base, {**auth, "If-Match": '"1"'}, url_, {"payload": {"kpis": KPIS}})
        assert sorted(codes) == [200] + [409] * (CLIENTS - 1)
        codes = _race(base, {**auth, "If-Match": '"2"', "Idempotency-Key": "k"}, url_, {"payload": {"kpis": KPIS}})
        assert codes == [200] * CLIENTS
        assert _events(pg_engine, aid) == 3
        # five failures, on fresh connections (so spread over the workers), lock the account for
        # this source: then even the right password gets the wrong-password answer
        for _ in range(5):
            assert httpx.post(base + "/api/v1/auth/login", json={
                "username": username(w, "hr"), "password": "wrong"}).status_code == 401
        assert httpx.post(base + "/api/v1/auth/login", json={
            "username": username(w, "hr"), "password": "pw-hr"}).status_code == 401
