"""Firing events over HTTP: every answer the contract names, and idempotent retries."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.models import Event, IdempotencyRecord
from db.session import new_session
from tests.factories import KPIS


@pytest.fixture
def aid(w, engine):
    with new_session(engine) as s:
        return w.appraisal_of(s, "appraisee").id


def _fire(client, headers, aid, event, *, if_match=None, **body):
    h = dict(headers)
    if if_match is not None:
        h["If-Match"] = f'"{if_match}"'
    return client.post(f"/api/v1/appraisals/{aid}/events/{event}", json=body or None, headers=h)


def test_answers(client, as_, aid):
    ev = as_("evaluator")
    r = _fire(client, ev, aid, "edit_agreement", if_match=1, payload={"kpis": KPIS[:1]})
    assert r.status_code == 200 and r.json()["state"] == "draft" and r.json()["version"] == 2
    assert "agree" in r.json()["available_events"]
    # stale version: 409 with the current version
    r = _fire(client, ev, aid, "edit_agreement", if_match=1, payload={"kpis": KPIS})
    assert r.status_code == 409 and r.json()["current_version"] == 2
    # version in the body works too, and must agree with If-Match when both are given
    r = _fire(client, ev, aid, "sign_agreement", if_match=2, version=1)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "version"
    # every failing guard is listed
    r = _fire(client, ev, aid, "agree", if_match=2)
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {"kpis.weight", "signatures"}
    assert all(p["th"] and p["en"] for p in r.json()["problems"])
    # the wrong role, on an appraisal the caller may see
    r = _fire(client, as_("superior"), aid, "edit_agreement", if_match=2, payload={"kpis": KPIS})
    assert r.status_code == 403
    # an event the machine does not have; an unknown id; someone who may not see it
    assert _fire(client, ev, aid, "fly_to_the_moon").status_code == 404
    assert _fire(client, ev, 10**6, "agree").status_code == 404
    assert _fire(client, as_("stranger"), aid, "edit_agreement", payload={"kpis": KPIS}).status_code == 404
    # the committee does not see a draft, even to be told it may not act
    assert _fire(client, as_("chair"), aid, "endorse").status_code == 404
    # payload validation names the field
    r = _fire(client, ev, aid, "edit_agreement", if_match=2, payload={"kpis": [{"title": "", "weight": 500}]})
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} >= {"payload.kpis[0].title", "payload.kpis[0].weight"}
    # comment goes into the payload
    # no If-Match (nor a version in the body): 428 with the current version, nothing applied
    r = _fire(client, ev, aid, "edit_agreement", payload={"kpis": KPIS})
    assert r.status_code == 428 and r.json()["current_version"] == 2
    assert r.json()["problems"][0]["field"] == "If-Match" and r.json()["problems"][0]["th"]
    assert _fire(client, ev, aid, "edit_agreement", payload={"kpis": KPIS}, **{}).json()["current_version"] == 2
    r = _fire(client, ev, aid, "edit_agreement", comment="ลงนามแล้ว", if_match=2, payload={"kpis": KPIS})
    assert r.status_code == 200
    history = client.get(f"/api/v1/appraisals/{aid}/history", headers=ev).json()
    assert history[-1]["payload"]["comment"] == "ลงนามแล้ว" and history[-1]["reason"] == "ลงนามแล้ว"


def test_bad_if_match_and_bad_body(client, as_, aid):
    ev = as_("evaluator")
    r = client.post(f"/api/v1/appraisals/{aid}/events/sign_agreement", headers={**ev, "If-Match": "soon"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "If-Match"
    r = client.post(f"/api/v1/appraisals/{aid}/events/sign_agreement", json={"version": "x", "extra": 1},
                    headers=ev)
    assert r.status_code == 422
    fields = {p["field"] for p in r.json()["problems"]}
    assert fields == {"body.version", "body.extra"}
    assert all(p["th"] and p["en"] for p in r.json()["problems"])


def test_idempotent_retry_replays_and_fires_once(client, as_, aid, engine):
    ev = {**as_("evaluator"), "Idempotency-Key": "k-1"}
    body = {"payload": {"kpis": KPIS}}
    first = client.post(f"/api/v1/appraisals/{aid}/events/edit_agreement", json=body,
                        headers={**ev, "If-Match": "1"})
    again = client.post(f"/api/v1/appraisals/{aid}/events/edit_agreement", json=body,
                        headers={**ev, "If-Match": "1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again.headers.get("Idempotent-Replay") == "true"
    with new_session(engine) as s:
        n = s.execute(select(func.count()).select_from(Event).where(
            Event.entity_type == "appraisal", Event.entity_id == aid)).scalar()
        assert n == 2  # "open" and one edit
    # the same key for another request is refused
    other = client.post(f"/api/v1/appraisals/{aid}/events/edit_agreement", json={"payload": {"kpis": KPIS[:1]}},
                        headers={**ev, "If-Match": "2"})
    assert other.status_code == 422 and other.json()["problems"][0]["field"] == "Idempotency-Key"
    # an error answer is stored too: the retry gets the same 409, nothing fires
    stale = {**as_("evaluator"), "Idempotency-Key": "k-2", "If-Match": "1"}
    r1 = client.post(f"/api/v1/appraisals/{aid}/events/sign_agreement", headers=stale)
    r2 = client.post(f"/api/v1/appraisals/{aid}/events/sign_agreement", headers=stale)
    assert r1.status_code == r2.status_code == 409 and r1.json() == r2.json()
    # keys belong to one account: another account's same key is a new request
    r = client.post(f"/api/v1/appraisals/{aid}/events/sign_agreement",
                    headers={**as_("appraisee"), "Idempotency-Key": "k-1", "If-Match": '"2"'})
    assert r.status_code == 200
    with new_session(engine) as s:
        assert s.execute(select(func.count()).select_from(IdempotencyRecord)).scalar() == 3


def test_oversized_body_is_refused(client, as_, aid):
    big = {"payload": {"kpis": [{"title": "x" * 400, "weight": 1}] * 3000}}
    r = client.post(f"/api/v1/appraisals/{aid}/events/edit_agreement", json=big, headers=as_("evaluator"))
    assert r.status_code == 413 and r.json()["problems"][0]["field"] == "body"

    def chunks():  # no Content-Length: the streamed size is counted
        for _ in range(40):
            yield b"x" * 50_000
    r = client.post(f"/api/v1/appraisals/{aid}/events/edit_agreement", content=chunks(),
                    headers={**as_("evaluator"), "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["problems"][0]["field"] == "body"


def test_nul_characters_are_a_422_not_a_database_error(client, as_, aid):
    ev = as_("evaluator")
    r = client.post(f"/api/v1/appraisals/{aid}/events/edit_agreement",
                    json={"payload": {"kpis": [{"title": "a\x00b", "weight": 100}]}}, headers=ev)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "body"
    r = client.get("/api/v1/policies/versions", params={"code": "x\x00"}, headers=ev)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "query.code"
    r = client.post("/api/v1/auth/login", json={"username": "\x00", "password": "x"})
    assert r.status_code == 422
