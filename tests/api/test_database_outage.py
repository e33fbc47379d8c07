"""A database connection lost mid-request (a PostgreSQL restart, a terminated backend) answers a
clean 503 with Retry-After, writes nothing, and the next request is served without restarting."""
from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from db.raw import Raw
from db.session import new_session
from tests.api.conftest import login
from tests.factories import world
from workflow import queries


def _world(engine):  # noqa: ANN001, ANN202
    """An organisation with its round opened, and the round's id."""
    with new_session(engine) as s:
        w = world(s)
        return w, w.opened.round.id


def test_a_lost_connection_is_a_clean_503_and_the_next_request_is_served(pg_engine, monkeypatch):
    w, round_id = _world(pg_engine)
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


def test_a_connection_lost_after_the_answer_is_ready_leaves_the_answer_whole(pg_engine, monkeypatch):
    """A restart may end the connection after a read's last query, before the request's session is
    closed; the close comes after the answer has been sent, where an error can only cut the
    client's connection. The answer stands, and the next request is served."""
    w, round_id = _world(pg_engine)
    original = queries.list_appraisals
    ended = []

    def list_then_lose_the_connection(session, *args, **kwargs):
        found = original(session, *args, **kwargs)
        if not ended:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with pg_engine.connect() as admin:  # waits until the backend is gone
                ended.append(admin.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar())
        return found

    monkeypatch.setattr(queries, "list_appraisals", list_then_lose_the_connection)
    with TestClient(create_app(pg_engine)) as client:  # a server error would be raised here
        auth = login(client, w, "hr")
        r = client.get(f"/api/v1/appraisals?round={round_id}", headers=auth)
        assert ended == [True]
        assert r.status_code == 200, r.text
        assert r.json()["total"] >= 2
        assert client.get(f"/api/v1/appraisals?round={round_id}", headers=auth).status_code == 200


def test_a_connection_lost_under_the_engines_own_statements_is_a_503_too(pg_engine, monkeypatch):
    """The engine reads and writes through psycopg itself (db/raw.py), so a lost connection there
    raises the driver's error, not SQLAlchemy's: it is the same outage and the same 503."""
    with new_session(pg_engine) as s:
        w = world(s)
        aid = w.appraisal_of(s, "appraisee").id
    original = Raw.within.__func__
    ended = []

    def lose_then_within(cls, session):
        raw = original(cls, session)
        if not ended:
            pid = raw.one("SELECT pg_backend_pid()", [])[0]
            with pg_engine.connect() as admin:  # waits until the backend is gone
                ended.append(admin.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar())
        return raw

    monkeypatch.setattr(Raw, "within", classmethod(lose_then_within))
    with TestClient(create_app(pg_engine), raise_server_exceptions=False) as client:
        auth = login(client, w, "evaluator")
        r = client.get(f"/api/v1/appraisals/{aid}", headers=auth)  # its next steps: the engine's snapshot
        assert ended == [True]
        assert r.status_code == 503, r.text
        assert r.json()["problems"][0]["field"] == "database"
        assert client.get(f"/api/v1/appraisals/{aid}", headers=auth).status_code == 200
