"""The commitment and the development plan of a case over HTTP: who may fetch them, and what
the printed text says (names full of marks, read back with pdftotext)."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import update

from db.models import LowPerformerCase, Person
from db.session import new_session
from tests.documents.pdftext import flat, pdf_flat
from tests.flows import drive
from workflow.documents.cases import plan_items

NAMES = {"appraisee": "นายศักดิ์สิทธิ์ ปิ่นแก้ว", "evaluator": "นายกิตติ์ธนัท ฤทธิ์เดช", "superior": "นางสาวฐิติพร เอื้อเฟื้อ"}


def rename(engine, w) -> None:
    with new_session(engine) as s:
        for who, name in NAMES.items():
            s.execute(update(Person).where(Person.id == w.people[who].id).values(name_th=name))
        s.commit()


def low_case(client, engine, w, as_) -> int:
    rename(engine, w)
    with new_session(engine) as s:
        drive(s, w, "appraisee", levels=[2, 2], competency_scores=[2, 2, 2, 2, 2])
    [case] = client.get("/api/v1/cases", headers=as_("hr")).json()["items"]
    r = client.post(f"/api/v1/cases/{case['id']}/events/sign_plan", headers={**as_("evaluator"), "If-Match": '"1"'},
                    json={"payload": {"weakness_analysis": "ขาดทักษะการวางแผนงาน",
                                      "development_plan": "อบรมหลักสูตรการบริหารโครงการ ภายในไตรมาสที่ 3"}})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/cases/{case['id']}/events/agree_plan", headers={**as_("hr"), "If-Match": '"2"'})
    assert r.status_code == 200, r.text
    return case["id"]


def test_commitment_and_plan_print_the_case_and_stay_inside_the_organisation(client, engine, w, as_):
    cid = low_case(client, engine, w, as_)
    for path in (f"/api/v1/cases/{cid}/commitment.pdf", f"/api/v1/cases/{cid}/development-plan.pdf"):
        assert client.get(path, headers=as_("stranger")).status_code == 404
        r = client.get(path, headers=as_("appraisee"))
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        text = pdf_flat(r.content)
        for shown in (NAMES["appraisee"], NAMES["evaluator"], "ขาดทักษะการวางแผนงาน",
                      "อบรมหลักสูตรการบริหารโครงการ ภายในไตรมาสที่ 3", "รอบที่ 1 ปีงบประมาณ 2569"):
            assert flat(shown) in text, (path, shown)
        assert client.get(path, headers=as_("hr")).status_code == 200
    assert flat("คำมั่นในการพัฒนาปรับปรุงตนเอง") in pdf_flat(
        client.get(f"/api/v1/cases/{cid}/commitment.pdf", headers=as_("evaluator")).content)


def test_the_plan_shows_structured_items_when_the_case_has_them():
    case = SimpleNamespace(development_plan_items=[
        {"area": "skill", "topic": "การวางแผนงาน", "method": "การสอนงาน", "due_on": "2026-06-30"}])
    assert plan_items(case)[0]["topic"] == "การวางแผนงาน"
    assert plan_items(LowPerformerCase(person_id=1, appraisal_id=1, round_id=1, org_unit_id=1)) == []
