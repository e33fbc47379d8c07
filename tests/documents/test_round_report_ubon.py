"""Ubon's round report complete: the two-way communication step beside the others, results by
KPI source and per competency, and the HR-criteria form as HR filled it in (stored per
organisation and fiscal year)."""
from __future__ import annotations

from tests.documents.pdftext import flat, pdf_flat
from tests.documents.test_case_forms import NAMES, low_case

CRITERIA = {"recruitment": {"has": True, "text": "สอบแข่งขันตามหนังสือสำนักงาน ก.พ. ที่ นร 1006/ว 10",
                            "evidence": "ประกาศรับสมัครสอบ"},
            "reward_discipline": {"has": True, "text": "กฎ ก.พ. ว่าด้วยการดำเนินการทางวินัย พ.ศ. 2556"}}


def test_hr_criteria_stay_inside_the_organisation_and_refuse_bad_input(client, w, as_):
    path = f"/api/v1/orgs/{w.org.code}/hr-criteria?fiscal_year=2569"
    for who in ("stranger", "appraisee", "authority"):
        assert client.put(path, headers=as_(who), json=CRITERIA).status_code == 404, who
        assert client.get(path, headers=as_(who)).status_code == 404, who
    r = client.put(path, headers=as_("hr"), json={"recruitment": {"has": "perhaps"}, "payroll": {}})
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} >= {"recruitment.has", "payroll"}
    assert client.get(path, headers=as_("hr")).json()["items"]["recruitment"]["has"] is False  # nothing half-written
    r = client.put(path, headers=as_("hr"), json=CRITERIA)
    assert r.status_code == 200 and r.json()["items"]["recruitment"]["text"].startswith("สอบแข่งขัน")
    assert client.get(path, headers=as_("admin")).json()["items"]["development"] == {"has": False, "text": "",
                                                                                     "evidence": ""}


def test_the_round_report_shows_two_way_sources_competencies_and_criteria(client, engine, w, as_):
    low_case(client, engine, w, as_)
    client.put(f"/api/v1/orgs/{w.org.code}/hr-criteria?fiscal_year=2569", headers=as_("hr"), json=CRITERIA)
    rid = w.opened.round.id
    report = client.get(f"/api/v1/rounds/{rid}/reports/round_report", headers=as_("hr")).json()
    tables = {t["key"]: t for t in report["tables"]}
    steps = [r["step"] for r in tables["steps"]["rows"]]
    assert steps.index("การสื่อสารสองทางเพื่อสร้างความผูกพันต่อเป้าหมาย") == steps.index(
        "ตกลงร่วมกันเกี่ยวกับเป้าหมายและตัวชี้วัดผลงาน") + 1
    two_way = next(r for r in tables["steps"]["rows"] if r["code"] == "two_way")
    assert two_way["done"] == 1 and "ร่วมลงนาม" in two_way["evidence"]
    sources = {r["source"]: r for r in tables["kpi_sources"]["rows"]}
    strategic = next(v for k, v in sources.items() if k.startswith("เป้าหมายเชิงยุทธศาสตร์"))
    role = next(v for k, v in sources.items() if k.startswith("เป้าหมายตามบทบาท"))
    assert strategic["kpis"] >= 1 and role["kpis"] >= 1 and strategic["mean_level"] == "2.00"
    assert next(v for k, v in sources.items() if k.startswith("เป้าหมายอื่น"))["status"] == "ไม่มี"
    comps = tables["competencies"]["rows"]
    assert len(comps) == 5 and all(c["scored"] >= 1 and c["mean_score"] == "2.00" for c in comps)
    crit = {r["item"]: r for r in tables["hr_criteria"]["rows"]}
    assert crit["หลักเกณฑ์การสรรหาและคัดเลือกบุคลากร"]["status"] == "มี"
    assert crit["หลักเกณฑ์การพัฒนาบุคลากร"]["status"] == "ไม่มี"

    pdf = client.get(f"/api/v1/rounds/{rid}/reports/round_report?format=pdf", headers=as_("hr"))
    text = pdf_flat(pdf.content)
    for shown in ("การสื่อสารสองทางเพื่อสร้างความผูกพันต่อเป้าหมาย", "ผลสัมฤทธิ์ของงาน ตามแหล่งที่มาของตัวชี้วัด",
                  "สมรรถนะ รายสมรรถนะ", comps[0]["name"], "หลักเกณฑ์การให้คุณให้โทษและสร้างขวัญและกำลังใจ",
                  "กฎ ก.พ. ว่าด้วยการดำเนินการทางวินัย พ.ศ. 2556", NAMES["appraisee"]):
        assert flat(shown) in text, shown
