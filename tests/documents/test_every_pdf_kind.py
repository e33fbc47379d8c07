"""Every kind of PDF pmflow makes, read back with pdftotext: the names (full of marks), the
headings and the figures it shows are all there, whitespace aside."""
from __future__ import annotations

import io
import zipfile

from sqlalchemy import select, update

from db.models import Appraisal, Person
from db.session import new_session
from tests.documents.pdftext import flat, pages, pdf_flat
from tests.documents.test_case_forms import NAMES, rename
from tests.flows import drive
from workflow.documents import round_forms
from workflow.documents.render import render, sample
from workflow.reports.load import REPORTS

OTHER = "นางสาวปิ่นแก้ว ศักดิ์สิทธิ์"


def _cells(report: dict) -> list[str]:
    """The names and figures a report's JSON shows (what its PDF must show too)."""
    out = [report["title_th"]] + [t["title_th"] for t in report["tables"]]
    for t in report["tables"]:
        for row in t["rows"][:20]:
            for c in t["columns"]:
                v = row.get(c["key"])
                if v not in (None, "") and len(str(v)) < 120:
                    out.append(str(v))
    return out


def test_every_report_and_form_shows_its_names_headings_and_figures(client, engine, w, as_):
    rename(engine, w)
    with new_session(engine) as s:
        s.execute(update(Person).where(Person.id == w.people["other"].id).values(name_th=OTHER))
        s.commit()
        aid = drive(s, w, "appraisee")  # 85.60, very good
        drive(s, w, "other", levels=[2, 2], competency_scores=[2, 2, 2, 2, 2])  # a low performer
    rid = w.opened.round.id
    hr = as_("hr")

    form = client.get(f"/api/v1/appraisals/{aid}/summary-form.pdf", headers=as_("appraisee"))
    text = pdf_flat(form.content)
    for shown in (NAMES["appraisee"], NAMES["evaluator"], NAMES["superior"], "แบบสรุปการประเมินผลการปฏิบัติราชการ",
                  "ส่วนที่ 5 ความเห็นของผู้บังคับบัญชาเหนือขึ้นไป", "85.60", "อบรมการเขียนรายงาน",
                  "ร้อยละของงานที่แล้วเสร็จตามกำหนด"):
        assert flat(shown) in text, shown

    for name in REPORTS:
        data = client.get(f"/api/v1/rounds/{rid}/reports/{name}", headers=hr).json()
        pdf = client.get(f"/api/v1/rounds/{rid}/reports/{name}?format=pdf", headers=hr)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", name
        text = pdf_flat(pdf.content)
        missing = [c for c in _cells(data) if flat(c) not in text]
        assert not missing, (name, missing[:5])
    ranking = pdf_flat(client.get(f"/api/v1/rounds/{rid}/reports/ranking?format=pdf", headers=hr).content)
    assert flat(NAMES["appraisee"]) in ranking and flat(OTHER) in ranking and "คะแนนรวม" in ranking

    bundle = zipfile.ZipFile(io.BytesIO(client.get(f"/api/v1/rounds/{rid}/forms?format=zip", headers=hr).content))
    code = w.people["other"].code
    other_form = pdf_flat(bundle.read(f"2569-1/{code}.pdf"))
    assert flat(OTHER) in other_form and "40.00" in other_form
    one = client.get(f"/api/v1/rounds/{rid}/forms?format=pdf", headers=hr).content
    assert pages(one) >= len(bundle.namelist()) and flat(NAMES["appraisee"]) in pdf_flat(one)


def test_round_forms_in_worker_processes_report_progress(engine, w):
    with new_session(engine) as s:
        drive(s, w, "appraisee")
        count = s.execute(select(Appraisal).where(Appraisal.round_id == w.opened.round.id)).all()
    seen: list[tuple[int, int]] = []
    content = round_forms(engine, w.opened.round.id, on_progress=lambda done, total: seen.append((done, total)))
    names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert len(names) == len(count) and seen[-1] == (len(names), len(names))
    from workflow.documents.rounds import render_each
    items = [dict(sample("summary_form")["forms"][0], round_text=f"รอบที่ {i}") for i in range(3)]
    progress: list[tuple[int, int]] = []
    pdfs = render_each("summary_form", items, processes=2, on_progress=lambda d, t: progress.append((d, t)))
    assert [flat(f"รอบที่ {i}") in pdf_flat(p) for i, p in enumerate(pdfs)] == [True] * 3
    assert progress[-1] == (3, 3)


def test_the_development_plan_lists_structured_items():
    data = sample("development_plan")
    data["plan_items"] = [{"area": "knowledge", "area_th": "ความรู้", "topic": "ระเบียบพัสดุ",
                           "method": "อบรมหลักสูตรกรมบัญชีกลาง", "due_on": "30 มิถุนายน 2569"},
                          {"area": "competency", "area_th": "สมรรถนะ", "topic": "การมุ่งผลสัมฤทธิ์",
                           "method": "การสอนงาน", "due_on": "31 กรกฎาคม 2569"}]
    text = pdf_flat(render("development_plan", data))
    for shown in ("ระเบียบพัสดุ", "อบรมหลักสูตรกรมบัญชีกลาง", "30 มิถุนายน 2569", "การมุ่งผลสัมฤทธิ์", "31 กรกฎาคม 2569",
                  NAMES["appraisee"], "นางสาวฐิติพร เอื้อเฟื้อ"):
        assert flat(shown) in text, shown
