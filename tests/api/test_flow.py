"""A whole appraisal over HTTP, each step by the account whose role it is, every event
chosen from what the API says is available to that account."""
from __future__ import annotations

from tests.factories import KPIS
from tests.flows import STEPS


def test_draft_to_announced_over_http(client, w, as_, engine):
    from db.session import new_session

    with new_session(engine) as s:
        aid = w.appraisal_of(s, "appraisee").id
    for who, event, payload in STEPS:
        a = client.get(f"/api/v1/appraisals/{aid}", headers=as_(who)).json()
        assert event in a["available_events"], (who, event, a["state"], a["available_events"])
        r = client.post(f"/api/v1/appraisals/{aid}/events/{event}", json={"payload": payload},
                        headers={**as_(who), "If-Match": f'"{a["version"]}"'})
        assert r.status_code == 200, r.text
        assert r.json()["version"] == a["version"] + 1
    a = client.get(f"/api/v1/appraisals/{aid}", headers=as_("appraisee")).json()
    assert a["state"] == "announced" and a["total_percent"] == "85.60" and a["rating_code"] == "very_good"
    assert a["available_events"] == []
    assert [k["weight"] for k in a["kpis"]] == [k["weight"] for k in KPIS]
    assert {(s["kind"], s["role"]) for s in a["signatures"]} >= {("agreement", "appraisee"),
                                                                  ("agreement", "evaluator"),
                                                                  ("acknowledgment", "appraisee")}
    history = client.get(f"/api/v1/appraisals/{aid}/history", headers=as_("appraisee")).json()
    assert [h["seq"] for h in history] == list(range(1, a["version"] + 1))
    assert history[-1]["event"] == "announce" and history[-1]["to_state"] == "announced"
