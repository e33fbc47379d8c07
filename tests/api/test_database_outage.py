"""A database connection lost mid-request (a PostgreSQL restart, a terminated backend) answers a
clean 503 with Retry-After, writes nothing, and the next request is served without restarting."""
from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from db.session import new_session
from tests.api.conftest import login
from tests.factories import world
from workflow import queries


def test_a_lost_connection_is_a_clean_503_and_the_next_request_is_served(pg_engine, monkeypatch):
    with new_session(pg_engine) as s:
        w = world(s)
        round_id = w.opened.round.id
    original = queries.list_appraisals
    lost = []

    def drop_then_list(session, *args, **kwargs):
        if not lost:  # the first call only: what a restart does to a connection in use
            lost.append(True)
            session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return original(session, *args, **kwargs)

    monkeypatch.setattr(queries, "list_appraisals", drop_then_list)
    with TestClient(create_app(pg_engine), raise_server_exceptions=False) as client:
        auth = login(client, w, "hr")
        r = client.get(f"/api/v1/appraisals?round={round_id}", headers=auth)
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "5"
        assert r.json()["problems"][0]["field"] == "database"
        again = client.get(f"/api/v1/appraisals?round={round_id}", headers=auth)
        assert again.status_code == 200, again.text
        assert again.json()["total"] >= 2
