"""What a program needs to drive the API blind: each event's payload in the OpenAPI document,
the machine tables as data, next steps that say whether they can succeed, one list shape,
timestamps in UTC with Z, Thai validation texts and 404s in the language asked."""
from __future__ import annotations

import re

from db.session import new_session
from tests.factories import KPIS
from tests.flows import drive
from workflow import appraisals, cases
from workflow.guard_texts import GUARD_TEXTS, guard_name
from workflow.machines import appraisal as appraisal_machine
from workflow.machines import low_performer

THAI = re.compile(r"[\u0e00-\u0e7f]")
Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _aid(engine, w, who="appraisee"):
    with new_session(engine) as s:
        return w.appraisal_of(s, who).id


def test_every_event_has_its_own_documented_payload(client):
    doc = client.get("/api/v1/openapi.json").json()
    comps = doc["components"]["schemas"]
    for kind, prefix, machine, payloads in (
            ("appraisal", "/api/v1/appraisals/{appraisal_id}/events/", appraisal_machine.MACHINE, appraisals.PAYLOADS),
            ("case", "/api/v1/cases/{case_id}/events/", low_performer.MACHINE, cases.PAYLOADS)):
        for event in machine.events:
            op = doc["paths"][prefix + event]["post"]
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            body = comps[ref]
            assert body["examples"], (kind, event)
            payload_ref = next(x["$ref"] for x in body["properties"]["payload"]["anyOf"] if "$ref" in x)
            shape = comps[payload_ref.rsplit("/", 1)[-1]]
            if event in payloads:  # the document's keys are the model's keys, read from the model
                assert set(shape["properties"]) == set(payloads[event].model_fields), (kind, event)
                example = body["examples"][0]["payload"]
                assert example and set(example) <= set(shape["properties"]), (kind, event)
            assert {"409", "422", "403"} <= set(op["responses"])
    score = comps["ScoreIn"]["properties"]
    assert {"kpi_levels", "competency_scores", "development_plan"} <= set(score)


def test_the_machine_table_as_data(client, as_):
    r = client.get("/api/v1/machines/appraisal", headers=as_("evaluator"))
    assert r.status_code == 200
    m = r.json()
    assert m["states"] == appraisal_machine.STATES and m["initial"] == "draft"
    agree = next(t for t in m["transitions"] if t["event"] == "agree")
    assert agree["sources"] == ["draft"] and agree["dest"] == "agreed"
    assert {g["name"] for g in agree["guards"]} >= {"weights_sum_100", "signed_by_both"}
    assert all(THAI.search(g["th"]) and g["en"] != g["name"] for t in m["transitions"] for g in t["guards"])
    c = client.get("/api/v1/machines/case", headers=as_("hr")).json()
    assert c["states"] == low_performer.STATES and "system" in c["roles"]
    assert client.get("/api/v1/machines/nothing", headers=as_("hr")).status_code == 422
    assert client.get("/api/v1/machines/case").status_code == 401


def test_every_guard_of_every_machine_has_its_texts():
    for machine in (appraisal_machine.MACHINE, low_performer.MACHINE):
        for row in machine.table:
            for g in row.guards:
                assert guard_name(g) in GUARD_TEXTS, (machine.name, row.event, guard_name(g))


def test_an_unknown_payload_key_names_the_keys_allowed_and_texts_are_thai(client, w, as_, engine):
    aid = _aid(engine, w)
    h = {**as_("evaluator"), "If-Match": '"1"'}
    r = client.post(f"/api/v1/appraisals/{aid}/events/edit_agreement", headers=h,
                    json={"payload": {"kpis": KPIS, "kpi": 1}})
    assert r.status_code == 422
    [p] = r.json()["problems"]
    assert p["field"] == "payload.kpi" and "kpis" in p["en"] and "competencies" in p["th"]
    r = client.post(f"/api/v1/appraisals/{aid}/events/edit_agreement", headers=h,
                    json={"payload": {"kpis": [{"title": "x", "weight": "heavy", "colour": 1}]}})
    problems = {p["field"]: p for p in r.json()["problems"]}
    assert "source" in problems["payload.kpis[0].colour"]["en"]  # the nested model's keys
    weight = problems["payload.kpis[0].weight"]
    assert weight["th"] == "ต้องเป็นจำนวนเต็ม" and not re.search("[A-Za-z]", weight["th"])
    r = client.get("/api/v1/appraisals?limit=0", headers=as_("evaluator"))
    assert r.status_code == 422 and r.json()["problems"][0]["th"] == "ต้องไม่น้อยกว่า 1"


def test_score_with_an_empty_payload_is_refused(client, w, as_, engine):
    with new_session(engine) as s:
        aid = drive(s, w, until="monitored")
    a = client.get(f"/api/v1/appraisals/{aid}", headers=as_("evaluator")).json()
    r = client.post(f"/api/v1/appraisals/{aid}/events/score", json={"payload": {}},
                    headers={**as_("evaluator"), "If-Match": f'"{a["version"]}"'})
    assert r.status_code == 422 and "kpi_levels" in r.json()["problems"][0]["en"]
    assert THAI.search(r.json()["problems"][0]["th"])
    assert client.get(f"/api/v1/appraisals/{aid}", headers=as_("evaluator")).json()["version"] == a["version"]


def test_next_steps_say_what_is_missing(client, w, as_, engine):
    aid = _aid(engine, w)
    a = client.get(f"/api/v1/appraisals/{aid}", headers=as_("evaluator")).json()
    steps = {s["event"]: s for s in a["next_steps"]}
    assert set(steps) == set(a["available_events"])
    assert steps["edit_agreement"]["ready"] is True
    agree = steps["agree"]
    assert agree["ready"] is False and {"kpis", "signatures"} <= {p["field"] for p in agree["problems"]}
    with new_session(engine) as s:
        aid = drive(s, w, until="agreed")
    a = client.get(f"/api/v1/appraisals/{aid}", headers=as_("evaluator")).json()
    review = next(s for s in a["next_steps"] if s["event"] == "review_progress")
    # a note is what the caller sends, not something that must happen first
    assert review["ready"] is True and [p["field"] for p in review["inputs"]] == ["note"]
    theirs = client.get(f"/api/v1/appraisals/{aid}", headers=as_("appraisee")).json()["next_steps"]
    assert "review_progress" not in {s["event"] for s in theirs}  # not the appraisee's to fire


def test_lists_are_pages_and_times_end_in_z(client, w, as_, engine):
    with new_session(engine) as s:
        drive(s, w, until="announced", levels=[2, 2], competency_scores=[2, 2, 2, 2, 2])
    for url in ("/api/v1/cases", "/api/v1/appraisals"):
        page = client.get(url, headers=as_("hr")).json()
        assert set(page) >= {"items", "total", "limit", "offset"} and page["total"] >= 1
    case = client.get("/api/v1/cases?limit=1", headers=as_("hr")).json()["items"][0]
    assert Z.match(case["updated_at"]) and case["next_steps"]
    a = client.get(f"/api/v1/appraisals/{case['appraisal_id']}", headers=as_("hr")).json()
    assert Z.match(a["updated_at"]) and Z.match(a["signatures"][0]["signed_at"])
    for h in client.get(f"/api/v1/cases/{case['id']}/history", headers=as_("hr")).json():
        assert Z.match(h["at"])


def test_a_404_names_what_was_not_found_in_the_language_asked(client, as_):
    h = as_("evaluator")
    r = client.get("/api/v1/appraisals/999999", headers={**h, "Accept-Language": "en"})
    assert r.status_code == 404 and r.json()["message"] == "appraisal 999999 not found"
    r = client.get("/api/v1/appraisals/999999", headers={**h, "Accept-Language": "th-TH,th;q=0.9"})
    assert r.json()["message"] == "ไม่พบแบบประเมิน 999999"
    r = client.get("/api/v1/no-such-thing", headers={**h, "Accept-Language": "en"})
    assert r.status_code == 404 and "/api/v1/no-such-thing" in r.json()["message"]


# Data the walk sends with an event that takes some (the walk never picks an event by name).
WALK_PAYLOADS = {
    "edit_agreement": {"kpis": KPIS},
    "review_progress": {"note": "ครึ่งรอบ: เป็นไปตามแผน"},
    "score": {"kpi_levels": [4, 5], "competency_scores": [4, 4, 4, 5, 3], "development_plan": "อบรม"},
    "give_opinion": {"opinion": "agree"},
}
NOT_ON_THE_WAY = {"withdraw", "hand_over", "return_to_evaluator", "change_kpis", "add_progress_note"}


def test_walk_to_announced_using_only_ready_next_steps(client, w, as_, engine):
    """Each step chosen from next_steps with ready: true: a step that moves the state first,
    else a recorded action not yet done in this state (signing: once by each signer)."""
    aid = _aid(engine, w)
    table = client.get("/api/v1/machines/appraisal", headers=as_("hr")).json()["transitions"]
    moves = {t["event"] for t in table if t["dest"] is not None}
    done: set[tuple[str, str, str]] = set()
    fired = []
    for _ in range(40):
        views = {who: client.get(f"/api/v1/appraisals/{aid}", headers=as_(who)).json()
                 for who in ("evaluator", "appraisee", "superior", "chair", "authority")}
        state = client.get(f"/api/v1/appraisals/{aid}", headers=as_("hr")).json()["state"]
        if state == "announced":
            break
        ready = [(who, s["event"], v["version"]) for who, v in views.items() for s in v.get("next_steps", [])
                 if s["ready"] and s["event"] not in NOT_ON_THE_WAY
                 and (not s["inputs"] or s["event"] in WALK_PAYLOADS)]
        key = lambda who, event: (who if event == "sign_agreement" else "", event, state)  # noqa: E731
        choice = next((c for c in ready if c[1] in moves), None) or \
            next((c for c in ready if key(c[0], c[1]) not in done), None)
        assert choice, (state, fired)
        who, event, version = choice
        r = client.post(f"/api/v1/appraisals/{aid}/events/{event}", json={"payload": WALK_PAYLOADS.get(event, {})},
                        headers={**as_(who), "If-Match": f'"{version}"'})
        assert r.status_code == 200, (event, r.text)
        done.add(key(who, event))
        fired.append(event)
    assert client.get(f"/api/v1/appraisals/{aid}", headers=as_("hr")).json()["state"] == "announced", fired
    assert {"agree", "evaluate", "submit", "endorse", "announce"} <= set(fired)
