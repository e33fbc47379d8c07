"""Cases, committee work, reports and roster import over HTTP."""
from __future__ import annotations

import hashlib
import io

from openpyxl import load_workbook
from pypdf import PdfReader

from db.session import new_session
from tests.flows import drive


def _low(engine, w, who="appraisee", until="announced"):
    with new_session(engine) as s:
        return drive(s, w, who, until=until, levels=[2, 2], competency_scores=[2, 2, 2, 2, 2])


def test_a_case_over_http(client, w, as_, engine):
    aid = _low(engine, w)
    r = client.get("/api/v1/cases", headers=as_("hr"))
    assert r.status_code == 200 and r.json()["total"] == 1
    case = r.json()["items"][0]
    assert case["appraisal_id"] == aid and case["state"] == "opened" and case["version"] == 1
    assert "agree_plan" in case["available_events"]
    cid = case["id"]
    assert client.get(f"/api/v1/cases/{cid}", headers=as_("stranger")).status_code == 404
    assert client.get("/api/v1/cases", headers=as_("stranger")).json()["items"] == []

    plan = {"payload": {"weakness_analysis": "ขาดทักษะ", "development_plan": "สอนงาน"}}
    r = client.post(f"/api/v1/cases/{cid}/events/sign_plan", headers={**as_("evaluator"), "If-Match": '"1"'},
                    json=plan)  # the supervisor agrees first, then HR: the plan is joint
    assert r.status_code == 200 and r.json()["state"] == "opened"
    r = client.post(f"/api/v1/cases/{cid}/events/agree_plan", headers={**as_("hr"), "If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["state"] == "plan_agreed" and r.headers["ETag"] == '"3"'
    r = client.post(f"/api/v1/cases/{cid}/events/begin_coaching", headers={**as_("hr"), "If-Match": '"1"'})
    assert r.status_code == 409 and r.json()["current_version"] == 3
    r = client.post(f"/api/v1/cases/{cid}/events/begin_coaching", headers=as_("evaluator"))
    assert r.status_code == 428 and r.json()["current_version"] == 3  # no If-Match: nothing applied
    assert client.post(f"/api/v1/cases/{cid}/events/begin_coaching",
                       headers={**as_("evaluator"), "If-Match": '"3"'}).status_code == 200
    r = client.post(f"/api/v1/cases/{cid}/events/update_measure", headers={**as_("evaluator"), "If-Match": '"4"'},
                    json={"payload": {"measure": "coaching", "status": "done"}})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "evidence"
    assert client.post(f"/api/v1/cases/{cid}/events/agree_plan",
                       headers={**as_("appraisee"), "If-Match": '"3"'}).status_code in (403, 409)

    content = "บันทึกการสอนงาน ครั้งที่ 1".encode("utf-8")
    r = client.post(f"/api/v1/cases/{cid}/evidence", headers=as_("evaluator"),
                    files={"file": ("บันทึก.txt", b"x", "text/plain")}, data={"measure": "coaching"})
    assert r.status_code == 428 and r.json()["current_version"] == 4
    r = client.post(f"/api/v1/cases/{cid}/evidence", headers={**as_("evaluator"), "If-Match": '"4"'},
                    files={"file": ("บันทึก.txt", content, "text/plain")}, data={"measure": "coaching"})
    assert r.status_code == 200, r.text
    out = client.get(f"/api/v1/cases/{cid}", headers=as_("appraisee")).json()
    [ev] = next(m for m in out["measures"] if m["kind"] == "coaching")["evidence"]
    assert ev["sha256"] == hashlib.sha256(content).hexdigest() and ev["filename"] == "บันทึก.txt"
    assert ev["size"] == len(content)  # bytes, counted by the database (the file is not loaded)
    got = client.get(f"/api/v1/cases/{cid}/evidence/{ev['id']}", headers=as_("hr"))
    assert got.content == content and got.headers["X-Content-SHA256"] == ev["sha256"]
    assert client.post(f"/api/v1/cases/{cid}/events/update_measure", headers={**as_("evaluator"), "If-Match": '"5"'},
                       json={"payload": {"measure": "coaching", "status": "done"}}).status_code == 200
    history = client.get(f"/api/v1/cases/{cid}/history", headers=as_("hr")).json()
    assert [h["event"] for h in history] == ["opened", "sign_plan", "agree_plan", "begin_coaching", "add_evidence",
                                             "update_measure"]


def test_committee_review_and_bulk_endorse_over_http(client, w, as_, engine):
    with new_session(engine) as s:
        a1 = drive(s, w, until="committee_review")
        a2 = drive(s, w, "other", until="committee_review")
    cid = client.get("/api/v1/committees", headers=as_("member")).json()["items"][0]["id"]
    review = client.get(f"/api/v1/committees/{cid}/review", headers=as_("member")).json()
    assert {i["appraisal_id"] for i in review["items"]} == {a1, a2}
    assert review["by_unit"][0]["counts"]["very_good"] == 2
    version = client.get(f"/api/v1/appraisals/{a2}", headers=as_("chair")).json()["version"]
    seen = {**as_("chair"), "If-Match": f'"{version}"'}
    r = client.post(f"/api/v1/committees/{cid}/review/{a2}/return", headers=seen, json={"comment": ""})
    assert r.status_code == 422
    r = client.post(f"/api/v1/committees/{cid}/review/{a2}/return", headers=as_("chair"),
                    json={"comment": "ทบทวนคะแนนสมรรถนะ"})
    assert r.status_code == 428 and r.json()["current_version"] == version
    r = client.post(f"/api/v1/committees/{cid}/review/{a2}/return", headers=seen,
                    json={"comment": "ทบทวนคะแนนสมรรถนะ"})
    assert r.status_code == 200 and r.json()["state"] == "evaluated"
    r = client.post(f"/api/v1/committees/{cid}/endorse", headers=as_("member"), json={"appraisal_ids": [a1, a2]})
    assert [(x["appraisal_id"], x["ok"]) for x in r.json()] == [(a1, True), (a2, False)]


def test_reports_and_forms_download(client, w, as_, engine):
    _low(engine, w)
    rid = w.opened.round.id
    r = client.get(f"/api/v1/rounds/{rid}/reports/round_report", headers=as_("hr"))
    assert r.status_code == 200 and len(r.json()["tables"][2]["rows"]) == 1
    x = client.get(f"/api/v1/rounds/{rid}/reports/progress?format=xlsx", headers=as_("authority"))
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(x.content)).active
    assert [r for r in ws.iter_rows(values_only=True) if r[0] == "รวม / all"][0][1] == 8
    p = client.get(f"/api/v1/rounds/{rid}/reports/round_report?format=pdf&digits=thai", headers=as_("hr"))
    text = PdfReader(io.BytesIO(p.content)).pages[0].extract_text()
    assert "appraisee" in text and "๒๕๖๙" in text
    assert client.get(f"/api/v1/rounds/{rid}/reports/progress", headers=as_("evaluator")).status_code == 404
    aid = w_appraisal(engine, w)
    form = client.get(f"/api/v1/appraisals/{aid}/summary-form.pdf", headers=as_("appraisee"))
    assert form.status_code == 200 and form.content.startswith(b"%PDF")
    assert client.get(f"/api/v1/rounds/{rid}/forms", headers=as_("hr")).content[:2] == b"PK"


def w_appraisal(engine, w) -> int:
    with new_session(engine) as s:
        return w.appraisal_of(s, "appraisee").id


def test_roster_preview_and_import_over_http(client, w, as_):
    head = "code,name_th,position,position_level,staff_type,unit,evaluator,superior,email\n"
    good = head + f"N001,นายทดสอบ นำเข้า,นักจัดการงานทั่วไป,ปฏิบัติการ,ข้าราชการ,{w.unit.code},,,\n"
    bad = good + "N002,นางทดสอบ,x,,ข้าราชการ,NOPE,,,\n"
    r = client.post(f"/api/v1/orgs/{w.org.code}/roster/import", headers=as_("hr"),
                    files={"file": ("staff.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422 and [p["field"] for p in r.json()["problems"]] == ["row 3.unit"]
    r = client.post(f"/api/v1/orgs/{w.org.code}/roster/preview", headers=as_("hr"),
                    files={"file": ("staff.csv", good.encode(), "text/csv")})
    assert r.json()["counts"] == {"new": 1, "updated": 0, "unchanged": 0}
    r = client.post(f"/api/v1/orgs/{w.org.code}/roster/import", headers=as_("hr"),
                    files={"file": ("staff.csv", good.encode(), "text/csv")})
    assert r.status_code == 200 and r.json()["counts"]["new"] == 1
    assert client.post(f"/api/v1/orgs/{w.org.code}/roster/preview", headers=as_("evaluator"),
                       files={"file": ("staff.csv", good.encode(), "text/csv")}).status_code == 403


def test_round_evidence_over_http(client, w, as_):
    rid = w.opened.round.id
    r = client.post(f"/api/v1/rounds/{rid}/evidence", headers=as_("hr"), data={"step": "agreement"},
                    files={"file": ("kpi-meeting.pdf", b"%PDF-1.4 minutes", "application/pdf")})
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    assert client.post(f"/api/v1/rounds/{rid}/evidence", headers=as_("hr"), data={"step": "agreement"}).status_code == 422
    listed = client.get(f"/api/v1/rounds/{rid}/evidence", headers=as_("authority")).json()
    assert [(e["id"], e["step"], e["filename"]) for e in listed] == [(eid, "agreement", "kpi-meeting.pdf")]
    assert client.get(f"/api/v1/rounds/{rid}/evidence/{eid}", headers=as_("hr")).content == b"%PDF-1.4 minutes"
    assert client.get(f"/api/v1/rounds/{rid}/evidence/{eid}", headers=as_("evaluator")).status_code == 404
