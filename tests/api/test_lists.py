"""The appraisal list: filters and pagination, all done by the database."""
from __future__ import annotations

from db.session import new_session
from tests.flows import drive


def _ids(client, headers, **params):
    page = client.get("/api/v1/appraisals", params={"limit": 200, **params}, headers=headers).json()
    assert page["total"] == len(page["items"])
    return {i["id"] for i in page["items"]}


def test_filters_and_pages(client, as_, w, engine):
    with new_session(engine) as s:
        mine = w.appraisal_of(s, "appraisee").id
        announced = drive(s, w, "other", until="announced")
        everyone = {w.appraisal_of(s, who).id for who in w.people if who != "stranger"}
        in_unit = {w.appraisal_of(s, who).id for who in ("superior", "evaluator", "appraisee", "other")}
    hr = as_("hr")
    assert _ids(client, hr) == everyone
    assert _ids(client, hr, round=w.opened.round.id) == everyone
    assert _ids(client, hr, round=10**6) == set()
    assert _ids(client, hr, state="announced") == {announced}
    assert _ids(client, hr, evaluator=w.people["evaluator"].id) == {mine, announced}
    assert _ids(client, hr, unit=w.unit.id) == in_unit
    # round 1 of fiscal 2569 is long past: every open appraisal is overdue, the announced one is not
    assert _ids(client, hr, overdue="true") == everyone - {announced}
    assert _ids(client, hr, overdue="false") == {announced}
    # filters combine with visibility: the evaluator sees only their two
    assert _ids(client, as_("evaluator"), evaluator=w.people["evaluator"].id) == {mine, announced}
    assert _ids(client, as_("appraisee")) == {mine}
    # pages
    first = client.get("/api/v1/appraisals", params={"limit": 3}, headers=hr).json()
    rest = client.get("/api/v1/appraisals", params={"limit": 200, "offset": 3}, headers=hr).json()
    assert first["total"] == rest["total"] == len(everyone) and len(first["items"]) == 3
    assert {i["id"] for i in first["items"]} | {i["id"] for i in rest["items"]} == everyone
    # keyset pages: follow next_after until it runs out; every appraisal once, in id order
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"after": cursor} if cursor is not None else {})}
        page = client.get("/api/v1/appraisals", params=params, headers=hr).json()
        assert page["total"] == len(everyone)
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_after"]
        if cursor is None:
            break
        assert cursor == seen[-1]
    assert seen == sorted(everyone)
    # bad filters name the parameter
    r = client.get("/api/v1/appraisals", params={"state": "flying", "limit": 0}, headers=hr)
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {"query.state", "query.limit"}
