"""The inbox over HTTP: each person lists and marks their own messages; HR sees failed
deliveries; the server's lifespan runs the scheduler only when asked to."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.main import create_app
from db.models import Outbox
from db.session import new_session
from tests.factories import world
from tests.notifications.helpers import at, milestone
from workflow.notifications.fanout import run_reminder


@pytest.fixture
def setup(engine):
    with new_session(engine) as s:
        w = world(s)
        m = milestone(s, w, "agreement_signed")
        run_reminder(s, m.id, 14, now=at(m, 14))
        run_reminder(s, m.id, 7, now=at(m, 7))
        s.execute(update(Outbox).where(Outbox.channel == "email", Outbox.recipient_person_id == w.people["other"].id)
                  .values(status="failed", last_error="SMTPRecipientsRefused: other@test.local"))
        s.commit()
    with TestClient(create_app(engine)) as client:
        yield client, w


def _login(client: TestClient, w, who: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": f"{who}-{w.org.code}".lower(), "password": f"pw-{who}"})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_list_and_mark_read_own_messages_only(setup):
    client, w = setup
    me, other = _login(client, w, "evaluator"), _login(client, w, "appraisee")
    page = client.get("/api/v1/inbox", headers=me).json()
    assert page["total"] == 2 and page["unread"] == 2
    newest = page["items"][0]
    assert newest["subject"].startswith("[แจ้งเตือน]") and "(อีก 7 วัน)" in newest["subject"]
    assert newest["link"] == "/appraisals" and newest["read_at"] is None
    # Someone else's message is not found; one's own is marked read, once.
    assert client.post(f"/api/v1/inbox/{newest['id']}/read", headers=other).status_code == 404
    r = client.post(f"/api/v1/inbox/{newest['id']}/read", headers=me)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    page = client.get("/api/v1/inbox", params={"unread_only": True}, headers=me).json()
    assert page["total"] == 1 and page["unread"] == 1
    assert client.post("/api/v1/inbox/read-all", headers=me).json() == {"marked": 1}
    assert client.get("/api/v1/inbox", headers=me).json()["unread"] == 0
    assert client.get("/api/v1/inbox").status_code == 401


def test_hr_sees_failed_deliveries_others_may_not(setup):
    client, w = setup
    hr = _login(client, w, "hr")
    page = client.get("/api/v1/notifications/deliveries", headers=hr).json()
    assert page["total"] == 2
    assert {d["recipient_name"] for d in page["items"]} == {"other"}
    assert all("SMTPRecipientsRefused" in d["last_error"] for d in page["items"])
    r = client.post(f"/api/v1/notifications/deliveries/{page['items'][0]['id']}/retry", headers=hr)
    assert r.status_code == 200 and r.json()["status"] == "pending"
    r = client.get("/api/v1/notifications/deliveries", headers=_login(client, w, "evaluator"))
    assert r.status_code == 403


def test_the_server_runs_the_scheduler_only_in_the_single_process_default(engine, monkeypatch):
    monkeypatch.setenv("PMFLOW_SCHEDULER", "off")
    with TestClient(create_app(engine)) as client:
        assert client.app.state.scheduler is None
    monkeypatch.setenv("PMFLOW_SCHEDULER", "on")
    monkeypatch.setenv("PMFLOW_WORKERS", "4")
    with TestClient(create_app(engine)) as client:
        assert client.app.state.scheduler is None
    monkeypatch.setenv("PMFLOW_WORKERS", "1")
    with TestClient(create_app(engine)) as client:
        service = client.app.state.scheduler
        service.active.wait(30)
        assert service.active.is_set()
    assert not service.active.is_set()  # stopped with the server
