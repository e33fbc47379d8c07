"""The forms of a low-performer case, to print and sign: the written commitment to improve
(คำมั่นในการพัฒนาปรับปรุงตนเอง: Nonthaburi's notice ¶3, seed 002; Ubon's notice 8.3, seed 001) and the
individual development plan (แผนพัฒนาการปฏิบัติราชการรายบุคคล: knowledge, skills and competencies to
develop, how and by when: seed 002 ¶2.2)."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from db.models import Appraisal, LowPerformerCase, OrgUnit, Person, Round, Signature
from workflow import cases
from workflow.access import Actor
from workflow.calendar import local_date, thai_date, today
from workflow.documents.render import render
from workflow.reports.forms import STAFF_TYPE_TH

AREA_TH = {"knowledge": "ความรู้", "skill": "ทักษะ", "competency": "สมรรถนะ"}


def _day(at: datetime | date | None, digits: str) -> str:
    if at is None:
        return ""
    if isinstance(at, datetime):
        at = local_date(at)
    return thai_date(at, digits=digits)


def plan_items(c: LowPerformerCase) -> list[dict[str, Any]]:
    """The case's structured plan (``development_plan_items``: area, topic, method, due_on) when the
    case has one; an empty list while the plan is free text."""
    items = getattr(c, "development_plan_items", None)
    if isinstance(items, str):
        items = json.loads(items or "[]")
    return [dict(i) if isinstance(i, dict) else dict(i.__dict__) for i in (items or [])]


def case_data(session: Session, actor: Actor, case_id: int, *, digits: str = "arabic") -> dict[str, Any]:
    """What both case forms show (the caller must be one of the case's people, HR or the authority)."""
    c = cases.get_case(session, actor, case_id)
    person = session.get(Person, c.person_id)
    a = session.get(Appraisal, c.appraisal_id)
    rnd = session.get(Round, c.round_id)
    unit = session.get(OrgUnit, c.org_unit_id)
    org = session.get(OrgUnit, rnd.org_unit_id) if rnd else None
    evaluator = session.get(Person, a.evaluator_id) if a and a.evaluator_id else None
    sigs = session.execute(select(Signature).where(Signature.case_id == c.id, Signature.kind == "commitment")
                           .order_by(Signature.id)).scalars()
    signed = {s.role: {"name": s.name, "on": _day(s.signed_at, digits)} for s in sigs}
    items = [{"area": i.get("area", ""), "area_th": AREA_TH.get(i.get("area", ""), i.get("area", "")),
              "topic": i.get("topic", ""), "method": i.get("method", ""),
              "due_on": _day(date.fromisoformat(str(i["due_on"])), digits) if i.get("due_on") else ""}
             for i in plan_items(c)]
    return {
        "case_id": c.id,
        "org": org.name_th if org else "",
        "unit": unit.name_th if unit else "",
        "person": {"code": person.code, "name_th": person.name_th, "position": person.position or "",
                   "position_level": person.position_level or "",
                   "staff_type": STAFF_TYPE_TH.get(a.staff_type, a.staff_type) if a else ""},
        "supervisor": evaluator.name_th if evaluator else "",
        "round_text": f"รอบที่ {rnd.number} ปีงบประมาณ {rnd.fiscal_year}" if rnd else "",
        "total_percent": str(a.total_percent) if a and a.total_percent is not None else "",
        "weakness_analysis": c.weakness_analysis or "",
        "development_plan": c.development_plan or "",
        "plan_items": items,
        "signed": signed,
        "today": _day(today(), digits),
    }


def commitment_pdf(session: Session, actor: Actor, case_id: int, *, digits: str = "arabic") -> bytes:
    return render("commitment", case_data(session, actor, case_id, digits=digits))


def development_plan_pdf(session: Session, actor: Actor, case_id: int, *, digits: str = "arabic") -> bytes:
    return render("development_plan", case_data(session, actor, case_id, digits=digits))
