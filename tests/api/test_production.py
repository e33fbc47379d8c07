"""What production needs from the app: a request id on every answer and log line, JSON logs
without personal data, `/health`, and `/ready` that answers 503 when the database cannot."""
from __future__ import annotations

import json
import logging

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from api.main import create_app
from tests.api.conftest import username
from workflow.logs import JsonFormatter


def test_every_answer_has_a_request_id_and_a_sane_one_is_kept(client):
    r = client.get("/health")
    assert r.status_code == 200 and len(r.headers["x-request-id"]) == 32
    assert client.get("/health", headers={"X-Request-ID": "lb-7f3a.9"}).headers["x-request-id"] == "lb-7f3a.9"
    forged = client.get("/health", headers={"X-Request-ID": "x\" injected=1 " + "a" * 80})
    assert forged.headers["x-request-id"] != "x\" injected=1 " + "a" * 80  # replaced, not echoed
    big = client.post("/api/v1/auth/login", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.headers["x-request-id"]


def test_ready_checks_the_database(client, tmp_path):
    r = client.get("/ready")
    assert r.status_code == 200 and r.json()["database"] == "ok"
    gone = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    with TestClient(create_app(gone)) as down:
        r = down.get("/ready")
        assert r.status_code == 503 and r.json()["status"] == "unavailable" and r.headers["retry-after"]
        assert down.get("/health").status_code == 200  # alive, just not ready


def test_log_lines_are_json_with_the_request_id_and_no_personal_data(client, w, caplog):
    caplog.set_level(logging.INFO)
    rid = "req-123"
    r = client.post("/api/v1/auth/login", json={"username": username(w, "hr"), "password": "wrong"},
                    headers={"X-Request-ID": rid, "X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 401
    lines = [json.loads(JsonFormatter().format(rec)) for rec in caplog.records]
    access = [x for x in lines if x["logger"] == "pmflow.access"]
    assert access and access[-1]["request_id"] == rid and access[-1]["status"] == 401
    assert access[-1]["path"] == "/api/v1/auth/login" and access[-1]["method"] == "POST"
    text = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
    for personal in (username(w, "hr"), "203.0.113.9", "testclient", "wrong", w.people["hr"].name_th):
        assert personal not in text
