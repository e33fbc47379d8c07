"""Reports: the figures, and the .xlsx, .csv and PDF files read back."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from db.models import Kpi, OrgKpi
from tests.documents.pdftext import flat, pages, pdf_flat
from tests.factories import world
from tests.flows import drive
from workflow import cases
from workflow.errors import InvalidInput, NotFound
from workflow.reports import forms, load, writers


@pytest.fixture
def round_done(session):
    """Udon Thani: the appraisee very good (85.60), 'other' low (58.80, a case), six in draft."""
    w = world(session, "udon_thani")
    org_kpi = OrgKpi(org_unit_id=w.org.id, fiscal_year=2569, code="P1", title="ร้อยละของโครงการที่แล้วเสร็จ")
    session.add(org_kpi)
    session.commit()
    first = w.appraisal_of(session, "appraisee").id
    drive(session, w)
    session.execute(update(Kpi).where(Kpi.appraisal_id == first, Kpi.position == 0).values(org_kpi_id=org_kpi.id))
    session.commit()
    low = drive(session, w, "other", levels=[3, 3], competency_scores=[3, 3, 3, 3, 2])
    case = cases.list_cases(session, w.actors["hr"])[0]
    from workflow import engine
    engine.fire(session, "case", case.id, "sign_plan", w.actors["evaluator"],
                payload={"weakness_analysis": "ล่าช้า", "development_plan": "สอนงาน"})
    engine.fire(session, "case", case.id, "agree_plan", w.actors["hr"])
    engine.fire(session, "case", case.id, "begin_coaching", w.actors["evaluator"])
    engine.fire(session, "case", case.id, "update_measure", w.actors["evaluator"],
                payload={"measure": "coaching", "status": "done", "note": "สอนงาน 4 ครั้ง"})
    return w, first, low


def _pdf_text(content: bytes) -> str:
    return pdf_flat(content)  # whitespace aside: compare with flat(...)


def test_round_report_xlsx_and_pdf_hold_the_steps_and_every_case(session, round_done):
    w, first, low = round_done
    report = load.build(session, w.actors["hr"], w.opened.round.id, "round_report", today=date(2026, 4, 1))
    steps = {r["step"]: r for r in report.table("steps").rows}
    assert (steps["ประกาศผลการประเมิน"]["done"], steps["ประกาศผลการประเมิน"]["of"]) == (2, 8)
    assert steps["ถ่ายทอดเป้าหมายองค์กรและหน่วยงาน"]["done"] == 1
    assert steps["ถ่ายทอดเป้าหมายองค์กรและหน่วยงาน"]["evidence"] == "ตัวชี้วัดรายบุคคลที่ถ่ายทอดจากองค์กร 1 ตัว"
    [case] = report.table("cases").rows
    assert case["m.coaching"] == "ดำเนินการแล้ว (หลักฐาน 1 รายการ)"
    assert case["m.training"] == "ยังไม่ได้ดำเนินการ" and str(case["total_percent"]) == "58.80"

    wb = load_workbook(io.BytesIO(writers.to_xlsx(report)))
    assert len(wb.sheetnames) == 7  # summary, steps, cases; KPI sources, competencies, HR criteria (Ubon);
    # and the low-performer cases open during the round
    sheet = wb[wb.sheetnames[2]]
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    data_row = next(r for r in values if r[1] and "other" in str(r[1]))
    assert data_row[3] == pytest.approx(58.8) and data_row[5] == "ดำเนินการแล้ว (หลักฐาน 1 รายการ)"
    # the headings stay in view (frozen above the first row of figures), percents show two places
    first_data = 1 + len(report.lines) + 4
    assert sheet.freeze_panes == f"A{first_data}" and values[first_data - 3][0] and sheet.cell(first_data - 2, 1).font.b
    percent = next(c for row in sheet.iter_rows(min_row=first_data) for c in row if c.value == pytest.approx(58.8))
    assert percent.number_format == "0.00"
    steps_sheet = wb[wb.sheetnames[1]]
    announced = next(r for r in steps_sheet.iter_rows(values_only=True) if r[1] == "ประกาศผลการประเมิน")
    assert announced[2:5] == (2, 8, 25.0)

    text = _pdf_text(writers.to_pdf(report))
    assert "ผู้มีผลสัมฤทธิ์การปฏิบัติงานต่ำ" in text and "other" in text and "58.80" in text
    assert flat("1 เมษายน 2569") in text  # the as-of date in the Thai form


def test_progress_counts_states_and_overdue_per_unit(session, round_done):
    w, _, _ = round_done
    # 15 Nov 2025: the agreement milestone (31 Oct) has passed, the mid-round one has not.
    report = load.build(session, w.actors["authority"], w.opened.round.id, "progress", today=date(2025, 11, 15))
    rows = {r["unit"].split()[0]: r for r in report.table("progress").rows}
    unit, org, total = rows[w.unit.code], rows[w.org.code], rows["รวม"]
    assert unit["total"] == 4 and unit["state.announced"] == 2 and unit["state.draft"] == 2
    assert unit["overdue.agreement_signed"] == 2 and unit["overdue.mid_round_review"] == 0
    assert org["state.draft"] == 4 and org["overdue.agreement_signed"] == 4
    assert total["total"] == 8 and total["overdue.agreement_signed"] == 6
    book = load_workbook(io.BytesIO(writers.to_xlsx(report)))
    ws = book.active
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "unit")
    col = header.index("overdue: agreement_signed")
    last = [r for r in ws.iter_rows(values_only=True) if r[0] == "รวม / all"][0]
    assert last[col] == 6


def test_distribution_announcement_ranking_and_cascade(session, round_done):
    w, first, low = round_done
    rid = w.opened.round.id
    dist = load.build(session, w.actors["hr"], rid, "distribution")
    unit_row = next(r for r in dist.table("by_unit").rows if r["group"].startswith(w.unit.code))
    assert unit_row["total"] == 2 and unit_row["n.very_good"] == 1 and unit_row["n.needs_improvement"] == 1
    assert str(unit_row["p.very_good"]) == "50.00"
    listed = load.build(session, w.actors["hr"], rid, "announcement").table("announcement").rows
    assert [r["name"] for r in listed] == ["appraisee"] and listed[0]["rating"] == "ดีมาก"
    ranking = load.build(session, w.actors["hr"], rid, "ranking")
    unit_rank = ranking.table(f"unit_{w.unit.id}").rows
    assert [(r["name"], r["rank"]) for r in unit_rank] == [("appraisee", 1), ("other", 2)]
    cascade = load.build(session, w.actors["hr"], rid, "kpi_cascade").table("cascade").rows
    assert cascade == [{"org_kpi": "P1 ร้อยละของโครงการที่แล้วเสร็จ", "person": f"appraisee ({w.people['appraisee'].code})",
                        "unit": "หน่วย", "kpi": "ร้อยละของงานที่แล้วเสร็จตามกำหนด", "weight": 60, "level": 4}]
    parsed = list(csv.reader(io.StringIO(writers.to_csv(dist).decode("utf-8-sig"))))
    assert parsed[0][0] == "การกระจายของผลการประเมิน"
    assert json.loads(writers.to_json(dist))["tables"][0]["rows"][0]["p.very_good"] in ("50.00", "0.00")


def test_summary_form_pdf_and_a_rounds_forms_in_one_download(session, round_done):
    w, first, _ = round_done
    text = _pdf_text(forms.form_pdf(session, w.actors["appraisee"], first, digits="thai"))
    assert "แบบสรุปการประเมินผลการปฏิบัติราชการ" in text
    for expected in ("88.00", "80.00", "85.60", "อบรมการเขียนรายงาน", "[X] ดีมาก", "[X] เห็นด้วยกับผลการประเมิน",
                     "๓๑ มีนาคม ๒๕๖๙"):
        assert flat(expected) in text, expected
    with pytest.raises(NotFound):
        forms.form_pdf(session, w.actors["stranger"], first)
    bundle = zipfile.ZipFile(io.BytesIO(forms.round_forms(session, w.actors["hr"], w.opened.round.id)))
    names = bundle.namelist()
    assert len(names) == 8 and f"2569-1/{w.people['appraisee'].code}.pdf" in names
    assert "85.60" in _pdf_text(bundle.read(f"2569-1/{w.people['appraisee'].code}.pdf"))
    assert pages(forms.round_forms(session, w.actors["hr"], w.opened.round.id, fmt="pdf")) >= 8


def test_only_hr_authority_and_admin_see_round_reports(session, round_done):
    w, _, _ = round_done
    for who in ("evaluator", "appraisee", "member", "stranger"):
        with pytest.raises(NotFound):
            load.build(session, w.actors[who], w.opened.round.id, "progress")
    with pytest.raises(InvalidInput):
        load.build(session, w.actors["hr"], w.opened.round.id, "salaries")
    assert load.build(session, w.actors["admin"], w.opened.round.id, "ranking").tables


def test_hr_attaches_evidence_to_a_step_and_the_round_report_cites_it(session, round_done):
    from workflow import audit
    from workflow.errors import NotAllowed
    from workflow.reports import evidence

    w, _, _ = round_done
    rid = w.opened.round.id
    minutes = "รายงานการประชุมถ่ายทอดตัวชี้วัด".encode("utf-8")
    ev = evidence.add(session, w.actors["hr"], rid, step="cascade", filename="minutes.pdf", content=minutes,
                      content_type="application/pdf")
    evidence.add(session, w.actors["hr"], rid, step="committee", note="คำสั่งแต่งตั้งคณะกรรมการ ที่ 12/2569")
    with pytest.raises(InvalidInput) as exc:
        evidence.add(session, w.actors["hr"], rid, step="lunch", note="x")
    assert exc.value.problems[0].field == "step"
    with pytest.raises(NotAllowed):
        evidence.add(session, w.actors["authority"], rid, step="cascade", note="x")
    with pytest.raises(NotFound):
        evidence.add(session, w.actors["evaluator"], rid, step="cascade", note="x")
    import hashlib
    assert ev.sha256 == hashlib.sha256(minutes).hexdigest()
    steps = {r["code"]: r for r in load.build(session, w.actors["hr"], rid, "round_report").table("steps").rows}
    assert steps["cascade"]["evidence"].endswith("แนบ: minutes.pdf")
    assert steps["committee"]["evidence"].endswith("แนบ: คำสั่งแต่งตั้งคณะกรรมการ ที่ 12/2569")
    assert [e.event for e in audit.history(session, "round", rid)] == ["open_round", "add_evidence", "add_evidence"]
    assert [e.id for e in evidence.of_round(session, w.actors["authority"], rid)][0] == ev.id


def test_summary_form_shows_a_refusal_before_a_witness_and_a_differing_superior(session):
    from workflow import engine

    w = world(session, "nonthaburi")
    aid = drive(session, w, until="evaluated")
    engine.fire(session, "appraisal", aid, "record_refusal", w.actors["evaluator"],
                payload={"witness_name": "นายพยาน ยืนยัน", "refused_on": "2026-03-20"})
    engine.fire(session, "appraisal", aid, "give_opinion", w.actors["superior"],
                payload={"opinion": "differ", "total_percent": "80.00", "reason": "ผลงานเชิงปริมาณสูงกว่าที่ประเมิน"})
    text = _pdf_text(forms.form_pdf(session, w.actors["hr"], aid))
    assert "ไม่ลงนามรับทราบ" in text and flat("นายพยาน ยืนยัน") in text and flat("20 มีนาคม 2569") in text
    assert flat("[X] มีความเห็นต่าง: คะแนนรวม 80.00") in text and "ผลงานเชิงปริมาณสูงกว่าที่ประเมิน" in text
    form = forms.summary_form(session, w.actors["appraisee"], aid)
    assert form.acknowledged_on is None and form.refusal == {"witness": "นายพยาน ยืนยัน", "on": "20 มีนาคม 2569"}
