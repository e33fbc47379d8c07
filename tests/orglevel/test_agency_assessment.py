"""The agency assessment: the machine's table against the text of the requirement, a full year
driven through the API with If-Match, and who may see and fire what."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from db.models import AgencyAssessment, AgencySar
from db.session import new_session
from workflow.access import Actor
from workflow.agency_assessments import AgencyItem, due_for_milestone, items_for, open_year
from workflow.machines.agency_assessment import MACHINE, NOT_YET, STATES
from workflow.policy import load_preset

# --- the table against the requirement ------------------------------------------------------------


def test_states_in_the_order_the_requirement_gives():
    assert STATES == ["draft", "plan_agreed", "sar_6", "sar_9", "sar_12", "evaluated", "reviewed", "announced"]
    forward = {r.sources[0]: r.dest for r in MACHINE.table if r.dest and r.event != "return_evaluation"}
    walk, state = ["draft"], "draft"
    while state in forward:
        state = forward[state]
        walk.append(state)
    assert walk == STATES


def test_who_moves_each_step():
    by_event = {r.event: r for r in MACHINE.table}
    assert by_event["agree_plan"].roles == {"hr"}  # the provincial office signs the plan (seed 004 step 7)
    for n in (6, 9, 12):  # the agency reports its own progress
        assert by_event[f"submit_sar_{n}"].roles == {"agency"}
    assert by_event["evaluate"].roles == {"hr"}
    assert by_event["review"].roles == {"committee"}  # the province's committee (a default)
    assert by_event["announce"].roles == {"authority"}
    assert by_event["return_evaluation"].dest == "sar_12" and by_event["return_evaluation"].guards


def test_rayong_dimensions_are_policy_data_weighted_50_20_10_20():
    agency = load_preset("rayong").agency
    assert [d.weight for d in agency.dimensions.values()] == [50, 20, 10, 20]
    assert set(agency.defaults) >= {"reviewer", "bands"}
    assert agency.sar_due_dates(2570) == {"sar_6": date(2027, 4, 15), "sar_9": date(2027, 7, 15),
                                          "sar_12": date(2027, 10, 15)}
    assert load_preset("udon_thani").agency is None


def test_dimension_weights_must_sum_to_100():
    import pytest

    from workflow.errors import InvalidInput
    from workflow.policy import parse, preset_text

    text = preset_text("rayong").replace("weight = 50", "weight = 40")
    with pytest.raises(InvalidInput) as exc:
        parse(text)
    assert any("agency.dimensions" in p.field for p in exc.value.problems)


def test_who_has_an_agency_item_due():
    items = [AgencyItem(1, "A", "a", "plan_agreed", "sar_6", date(2027, 4, 15), (10, 11)),
             AgencyItem(2, "B", "b", "sar_6", "sar_6", date(2027, 4, 15), (12,)),
             AgencyItem(3, "C", "c", "draft", "sar_6", date(2027, 4, 15), (10,))]
    due = due_for_milestone(items, "sar_6")
    assert {p: [i.assessment_id for i in v] for p, v in due.items()} == {10: [1, 3], 11: [1]}
    assert due_for_milestone(items, "sar_9") == {}  # those items are for sar_6
    assert NOT_YET["sar_12"] >= NOT_YET["sar_9"] >= NOT_YET["sar_6"]


# --- a full year through the API ---------------------------------------------------------------------
PLAN = [
    {"dimension": "effectiveness", "code": "E1", "title": "ร้อยละของโครงการที่แล้วเสร็จ", "weight": 60,
     "level_descriptions": ["60%", "70%", "80%", "90%", "100%"]},
    {"dimension": "effectiveness", "code": "E2", "title": "อัตราการเบิกจ่าย", "weight": 40},
    {"dimension": "service_quality", "code": "Q1", "title": "ความพึงพอใจของผู้รับบริการ", "weight": 100},
    {"dimension": "efficiency", "code": "F1", "title": "ระยะเวลาให้บริการ", "weight": 100},
    {"dimension": "organisation_development", "code": "D1", "title": "การพัฒนาบุคลากร", "weight": 100},
]


def _fire(client, headers, aid, event, version, **body):
    return client.post(f"/api/v1/agency-assessments/{aid}/events/{event}", json=body or None,
                       headers={**headers, "If-Match": f'"{version}"'})


def _sar(note):
    return {"progress": [{"kpi_id": k["code"], "progress": f"{note} {k['code']}", "level": 3,
                          "evidence": "รายงานการประชุม"} for k in PLAN]}


def test_a_full_year_through_the_api(client, as_, w, other, engine):
    hr = as_("hr")
    r = client.post("/api/v1/agency-assessments", json={"org_code": w.org.code, "fiscal_year": 2570}, headers=hr)
    assert r.status_code == 201, r.text
    (aid,) = r.json()["created"]
    again = client.post("/api/v1/agency-assessments", json={"org_code": w.org.code, "fiscal_year": 2570}, headers=hr)
    assert again.json()["created"] == [] and again.json()["existing"] == 1
    got = client.get(f"/api/v1/agency-assessments/{aid}", headers=hr)
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'
    body = got.json()
    assert body["state"] == "draft" and [d["weight"] for d in body["dimensions"]] == [50, 20, 10, 20]
    assert [m["code"] for m in body["milestones"]] == ["sar_6", "sar_9", "sar_12"]

    agency = as_("agency_hr")
    r = _fire(client, agency, aid, "edit_plan", 1, payload={"kpis": PLAN[:2]})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = _fire(client, hr, aid, "agree_plan", 2)  # a dimension without KPIs: every failing guard named
    assert r.status_code == 422 and {p["field"] for p in r.json()["problems"]} == {"plan.dimension"}
    r = _fire(client, agency, aid, "edit_plan", 2, payload={"kpis": [{**PLAN[0], "dimension": "luck"}]})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "payload.kpis.dimension"
    r = _fire(client, agency, aid, "edit_plan", 2, payload={"kpis": PLAN})
    assert r.status_code == 200
    assert _fire(client, agency, aid, "agree_plan", 3).status_code == 403  # the agency does not sign its own plan
    assert _fire(client, hr, aid, "agree_plan", 2).status_code == 409  # stale
    r = _fire(client, hr, aid, "agree_plan", 3)
    assert r.status_code == 200 and r.json()["state"] == "plan_agreed"

    version = 4
    for n, state in ((6, "sar_6"), (9, "sar_9"), (12, "sar_12")):
        short = {"progress": _sar("x")["progress"][:1]}
        r = _fire(client, agency, aid, f"submit_sar_{n}", version, payload=short)
        assert r.status_code == 422 and r.json()["problems"][0]["field"] == "payload.progress"
        assert _fire(client, hr, aid, f"submit_sar_{n}", version, payload=_sar("x")).status_code == 403
        r = _fire(client, agency, aid, f"submit_sar_{n}", version, payload=_sar(f"เดือน {n}"))
        assert r.status_code == 200 and r.json()["state"] == state, r.text
        version += 1

    levels = {"E1": 4, "E2": 3, "Q1": 5, "F1": 3, "D1": 2}
    r = _fire(client, hr, aid, "evaluate", version, payload={"levels": {**levels, "E2": 9}})
    assert r.status_code == 422
    r = _fire(client, hr, aid, "evaluate", version, payload={"levels": levels})
    assert r.status_code == 200 and r.json()["state"] == "evaluated"
    version += 1
    done = client.get(f"/api/v1/agency-assessments/{aid}", headers=hr).json()
    # effectiveness (60×4 + 40×3)/5 = 72; quality 100; efficiency 60; development 40;
    # total 72×50% + 100×20% + 60×10% + 40×20% = 70.00 -> ดี (the default bands)
    assert done["dimension_percents"] == {"effectiveness": "72.00", "service_quality": "100.00",
                                          "efficiency": "60.00", "organisation_development": "40.00"}
    assert Decimal(done["total_percent"]) == Decimal("70.00") and done["rating_code"] == "good"
    assert len(done["sars"]) == 15 and {s["milestone"] for s in done["sars"]} == {"sar_6", "sar_9", "sar_12"}

    chair = as_("chair")
    r = _fire(client, chair, aid, "return_evaluation", version)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "comment"
    r = _fire(client, chair, aid, "return_evaluation", version, comment="ทบทวนมิติที่ 4")
    assert r.status_code == 200 and r.json()["state"] == "sar_12"
    version += 1
    r = _fire(client, hr, aid, "evaluate", version, payload={"levels": {**levels, "D1": 3}})
    assert r.status_code == 200
    version += 1
    assert _fire(client, hr, aid, "review", version).status_code == 403
    r = _fire(client, chair, aid, "review", version)
    assert r.status_code == 200 and r.json()["state"] == "reviewed"
    version += 1
    r = _fire(client, as_("authority"), aid, "announce", version)
    assert r.status_code == 200 and r.json()["state"] == "announced" and r.json()["available_events"] == []

    final = client.get(f"/api/v1/agency-assessments/{aid}", headers=as_("agency_head")).json()
    assert final["state"] == "announced" and final["total_percent"] == "74.00"
    history = client.get(f"/api/v1/agency-assessments/{aid}/history", headers=hr).json()
    assert [h["event"] for h in history][:3] == ["open", "edit_plan", "edit_plan"]
    assert history[-1]["to_state"] == "announced" and len(history) == final["version"]
    report = client.get(f"/api/v1/rounds/{w.opened.round.id}/reports/agency_assessment", headers=hr).json()
    (row,) = report["tables"][0]["rows"]
    assert row["code"] == w.unit.code and row["total"] == "74.00" and row["d.effectiveness"] == "72.00"
    assert row["rating"] == "ดี" and row["state"] == "ประกาศผลแล้ว"
    for fmt, magic in (("csv", "\ufeff".encode()), ("xlsx", b"PK")):
        r = client.get(f"/api/v1/rounds/{w.opened.round.id}/reports/agency_assessment?format={fmt}", headers=hr)
        assert r.status_code == 200 and r.content.startswith(magic)
    listed = client.get("/api/v1/agency-assessments?fiscal_year=2570", headers=hr).json()
    assert [a["id"] for a in listed] == [aid]
    with new_session(engine) as s:
        from workflow.audit import verify

        assert verify(s) == []
        assert s.execute(select(AgencySar).where(AgencySar.assessment_id == aid)).scalars().first().evidence


def test_no_province_sees_anothers_assessments(client, as_, w, other):
    r = client.post("/api/v1/agency-assessments", json={"org_code": w.org.code, "fiscal_year": 2570},
                    headers=as_("hr"))
    (aid,) = r.json()["created"]
    stranger = as_("hr", other)
    # opening another province's assessments, reading or firing on one: it does not exist for them
    assert client.post("/api/v1/agency-assessments", json={"org_code": w.org.code, "fiscal_year": 2571},
                       headers=stranger).status_code == 404
    assert client.get(f"/api/v1/agency-assessments/{aid}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/agency-assessments/{aid}/history", headers=stranger).status_code == 404
    assert _fire(client, stranger, aid, "edit_plan", 1, payload={"kpis": PLAN}).status_code == 404
    assert client.get("/api/v1/agency-assessments", headers=stranger).json() == []
    # someone in the agency without a role on it sees nothing either
    assert client.get(f"/api/v1/agency-assessments/{aid}", headers=as_("appraisee")).status_code == 404
    # their own province, they open
    r = client.post("/api/v1/agency-assessments", json={"org_code": other.org.code, "fiscal_year": 2570},
                    headers=stranger)
    assert r.status_code == 201 and aid not in r.json()["created"]


def test_open_needs_an_agency_section_and_reminders_find_the_agency(session, w):
    opened = open_year(session, Actor.system(), org_code=w.org.code, fiscal_year=2570)
    (a,) = opened.created
    items = items_for(session, "sar_6")
    assert [(i.assessment_id, i.state) for i in items] == [(a.id, "draft")]
    # the agency's HR and head, and the province's HR
    assert set(items[0].recipients) == {w.people["agency_hr"].id, w.people["agency_head"].id, w.people["hr"].id}
    due = due_for_milestone(items, "sar_6")
    assert set(due) == {w.people["agency_hr"].id, w.people["agency_head"].id, w.people["hr"].id}
    assert session.get(AgencyAssessment, a.id).version == 1


def test_open_refuses_a_policy_without_agency_rules(session):
    import pytest

    from tests.factories import world
    from workflow.errors import InvalidInput

    u = world(session, "udon_thani", open_now=False)
    with pytest.raises(InvalidInput) as exc:
        open_year(session, Actor.system(), org_code=u.org.code, fiscal_year=2570)
    assert exc.value.problems[0].field == "policy.agency"
