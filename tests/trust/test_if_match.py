"""Every event names the version its sender saw: the API answers 428 without it, and the page
forms carry it in a hidden field that the page handler passes on."""
from __future__ import annotations

from sqlalchemy import select

from db.models import Appraisal
from db.session import new_session
from tests.api.conftest import username


def _cookie_login(client, w, who):
    r = client.post("/api/v1/auth/login", json={"username": username(w, who), "password": f"pw-{who}"})
    assert r.status_code == 200
    return r.json()["csrf_token"]


def test_a_page_event_without_its_version_is_refused_and_nothing_changes(client, w, engine):
    with new_session(engine) as s:
        a = w.appraisal_of(s, "appraisee")
        aid, version = a.id, a.version
    csrf = _cookie_login(client, w, "hr")
    form = {"csrf_token": csrf, "evaluator_id": str(w.people["superior"].id), "reason": "ย้ายงาน"}
    r = client.post(f"/appraisals/{aid}/events/hand_over", data=form, follow_redirects=False)
    assert r.status_code == 409 and "โหลด" in r.text
    with new_session(engine) as s:
        assert s.execute(select(Appraisal.version).where(Appraisal.id == aid)).scalar_one() == version
    r = client.post(f"/appraisals/{aid}/events/hand_over", data={**form, "version": str(version)},
                    follow_redirects=False)
    assert r.status_code == 303
    with new_session(engine) as s:
        assert s.execute(select(Appraisal.version).where(Appraisal.id == aid)).scalar_one() == version + 1


def test_the_api_answers_428_with_the_current_version_and_hides_what_it_must(client, w, as_, engine):
    with new_session(engine) as s:
        aid = w.appraisal_of(s, "appraisee").id
    r = client.post(f"/api/v1/appraisals/{aid}/events/sign_agreement", headers=as_("evaluator"))
    assert r.status_code == 428 and r.json()["current_version"] == 1
    assert {"th", "en"} <= set(r.json()["problems"][0]) and r.json()["problems"][0]["field"] == "If-Match"
    assert client.post(f"/api/v1/appraisals/{aid}/events/sign_agreement", headers=as_("stranger")).status_code == 404
    r = client.post(f"/api/v1/appraisals/{aid}/events/sign_agreement", headers={**as_("evaluator"), "If-Match": "abc"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "If-Match"
