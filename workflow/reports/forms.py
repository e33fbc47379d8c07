"""Each person's appraisal summary form (แบบสรุปการประเมินผลการปฏิบัติราชการ, the standard OCSC
form) as a PDF to print, sign and file; and a round's forms in one download (a zip of one PDF
per person, or one PDF with a page group per person).

Parts: 1 the appraisee and the agreement; 2 the scores with their working; 3 the individual
development plan; 4 acknowledgment, or refusal before a witness; 5 the superiors' opinions.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from db.models import Appraisal, OrgUnit, Person, Round, Signature
from workflow import appraisals, queries, scoring
from workflow.access import Actor
from workflow.calendar import BANGKOK, thai_date
from workflow.errors import NotFound
from workflow.reports.load import round_for
from workflow.reports.writers import FONT, ThaiPDF
from workflow.rounds import policy_of_round

STAFF_TYPE_TH = {"civil_servant": "ข้าราชการ", "permanent_employee": "ลูกจ้างประจำ",
                 "government_employee": "พนักงานราชการ"}
BLANK = "........................................"


@dataclass
class SummaryForm:
    appraisal_id: int
    round_text: str
    person: dict[str, str]
    evaluator: str
    superior: str
    agreement_signed: list[str]
    kpis: list[dict[str, Any]]
    competencies: list[dict[str, Any]]
    results_percent: str | None
    competency_percent: str | None
    total_percent: str | None
    weights: tuple[int, int]
    bands: list[dict[str, Any]]
    rating_code: str | None
    working: list[str]
    development_plan: str
    acknowledged_on: str | None
    refusal: dict[str, str] | None
    superior_opinion: dict[str, str] | None
    superior_levels: int
    state: str
    extra: dict[str, Any] = field(default_factory=dict)
    superior2: str = ""  # where the policy has two levels of superiors
    superior2_opinion: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _local_date(at: datetime | None) -> date | None:
    if at is None:
        return None
    if at.tzinfo is None:
        from datetime import timezone
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(BANGKOK).date()


def summary_form(session: Session, actor: Actor, appraisal_id: int, *, digits: str = "arabic",
                 check_access: bool = True) -> SummaryForm:
    a = session.get(Appraisal, appraisal_id)
    if a is None or (check_access and not queries.visible_roles(session, "appraisal", actor, a)):
        raise NotFound("appraisal", appraisal_id)
    dt = lambda d: thai_date(d, digits=digits) if d else None  # noqa: E731
    rnd = session.get(Round, a.round_id)
    policy = policy_of_round(session, a.round_id)
    person = session.get(Person, a.person_id)
    unit = session.get(OrgUnit, a.org_unit_id)
    evaluator = session.get(Person, a.evaluator_id) if a.evaluator_id else None
    superior = session.get(Person, a.superior_id) if a.superior_id else None
    superior2 = session.get(Person, a.superior2_id) if a.superior2_id else None
    kpis, comps = appraisals.kpis_of(session, a.id), appraisals.competencies_of(session, a.id)
    sigs = list(session.execute(select(Signature).where(Signature.appraisal_id == a.id)
                                .order_by(Signature.id)).scalars())
    signed = [f"{'ผู้รับการประเมิน' if s.role == 'appraisee' else 'ผู้ประเมิน'} {s.name} ({dt(_local_date(s.signed_at))})"
              for s in sigs if s.kind == "agreement" and s.revision == a.agreement_revision]
    working: list[str] = []
    if kpis and comps and all(k.level for k in kpis) and all(c.score is not None for c in comps):
        working = list(scoring.score(policy, a.staff_type, [(k.weight, k.level) for k in kpis],
                                     [c.score for c in comps]).working)
    s = lambda v: None if v is None else str(v)  # noqa: E731

    def opinion(level: str) -> dict[str, str] | None:  # "superior" or "superior2": its three columns
        given = getattr(a, f"{level}_opinion")
        return {"opinion": given, "total_percent": s(getattr(a, f"{level}_total_percent")) or "",
                "reason": getattr(a, f"{level}_reason") or ""} if given else None

    return SummaryForm(
        appraisal_id=a.id,
        round_text=f"รอบที่ {rnd.number} ปีงบประมาณ {rnd.fiscal_year} ({dt(rnd.starts_on)} - {dt(rnd.ends_on)})",
        person={"code": person.code, "name_th": person.name_th, "position": person.position,
                "position_level": person.position_level, "staff_type": STAFF_TYPE_TH.get(a.staff_type, a.staff_type),
                "unit": unit.name_th if unit else ""},
        evaluator=evaluator.name_th if evaluator else "", superior=superior.name_th if superior else "",
        agreement_signed=signed,
        kpis=[{"title": k.title, "weight": k.weight, "level": k.level,
               "points": (k.weight * k.level) if k.level else None} for k in kpis],
        competencies=[{"name_th": c.name_th, "expected_level": c.expected_level, "score": c.score} for c in comps],
        results_percent=s(a.results_percent), competency_percent=s(a.competency_percent),
        total_percent=s(a.total_percent), weights=(policy.weights.results, policy.weights.competencies),
        bands=[{"code": b.code, "th": b.th, "min": str(b.min)} for b in policy.bands_of(a.staff_type)],
        rating_code=a.rating_code, working=working, development_plan=a.development_plan or "",
        acknowledged_on=dt(_local_date(a.acknowledged_at)),
        refusal=({"witness": a.refusal_witness, "on": dt(a.refused_on) or ""} if a.refusal_witness else None),
        superior_opinion=opinion("superior"),
        superior_levels=policy.superior_levels, state=a.state,
        superior2=superior2.name_th if superior2 else "",
        superior2_opinion=opinion("superior2"),
    )


# --- PDF -----------------------------------------------------------------------------------------
def _line(pdf: ThaiPDF, label: str, value: str, size: int = 10) -> None:
    pdf.set_font(FONT, "B", size)
    pdf.write(5.5, label + " ")
    pdf.set_font(FONT, "", size)
    pdf.write(5.5, value or BLANK)
    pdf.ln(6)


def _grid(pdf: ThaiPDF, widths: tuple[float, ...], head: list[str], rows: list[list[Any]], size: int = 9) -> None:
    from fpdf.fonts import FontFace

    pdf.set_font(FONT, "", size)
    with pdf.table(col_widths=widths, line_height=size * 0.55, text_align="LEFT",
                   headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230))) as t:
        r = t.row()
        for h in head:
            r.cell(h)
        for row in rows:
            r = t.row()
            for v in row:
                r.cell("" if v is None else str(v))
    pdf.ln(2)


def draw_form(pdf: ThaiPDF, f: SummaryForm) -> None:
    pdf.add_page()
    pdf.heading("แบบสรุปการประเมินผลการปฏิบัติราชการ", 15)
    pdf.para(f.round_text, 10)
    pdf.heading("ส่วนที่ 1 ข้อมูลของผู้รับการประเมิน และข้อตกลงการปฏิบัติราชการ", 11)
    _line(pdf, "ชื่อผู้รับการประเมิน", f"{f.person['name_th']} (รหัส {f.person['code']})")
    _line(pdf, "ตำแหน่ง", f"{f.person['position']} {f.person['position_level']}".strip())
    _line(pdf, "ประเภทบุคลากร", f.person["staff_type"])
    _line(pdf, "สังกัด", f.person["unit"])
    _line(pdf, "ชื่อผู้ประเมิน", f.evaluator)
    _line(pdf, "ลงนามข้อตกลง", "; ".join(f.agreement_signed) or "ยังไม่ได้ลงนาม")

    pdf.heading("ส่วนที่ 2 การสรุปผลการประเมิน", 11)
    wr, wc = f.weights
    _grid(pdf, (4, 1.3, 1.3, 1.6), ["องค์ประกอบการประเมิน", "คะแนน (ก)", "น้ำหนัก (ข)", "รวมคะแนน (ก)×(ข)/100"], [
        ["องค์ประกอบที่ 1: ผลสัมฤทธิ์ของงาน", f.results_percent, wr, _times(f.results_percent, wr)],
        ["องค์ประกอบที่ 2: พฤติกรรมการปฏิบัติราชการ (สมรรถนะ)", f.competency_percent, wc, _times(f.competency_percent, wc)],
        ["รวม", "", 100, f.total_percent],
    ])
    _grid(pdf, (5, 1.4, 1.4, 1.6), ["ตัวชี้วัด", "น้ำหนัก", "ระดับที่ได้", "น้ำหนัก×ระดับ"],
          [[k["title"], k["weight"], k["level"], k["points"]] for k in f.kpis] or [["-", "", "", ""]])
    _grid(pdf, (5, 2, 2), ["สมรรถนะ", "ระดับที่คาดหวัง", "คะแนน (0-5)"],
          [[c["name_th"], c["expected_level"], c["score"]] for c in f.competencies])
    if f.working:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(0, 5, "วิธีคำนวณ / working", new_x="LMARGIN", new_y="NEXT")
        for w in f.working:
            pdf.para(w, 8, 4.5)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 6, "ระดับผลการประเมิน", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for b in f.bands:
        mark = "[X]" if b["code"] == f.rating_code else "[  ]"
        pdf.cell(0, 5.5, f"   {mark} {b['th']} (ตั้งแต่ร้อยละ {b['min']})", new_x="LMARGIN", new_y="NEXT")

    pdf.heading("ส่วนที่ 3 แผนพัฒนาการปฏิบัติราชการรายบุคคล", 11)
    pdf.para(f.development_plan or BLANK)

    pdf.heading("ส่วนที่ 4 การรับทราบผลการประเมิน", 11)
    if f.acknowledged_on:
        pdf.para(f"ผู้รับการประเมิน: [X] ได้รับทราบผลการประเมินและแผนพัฒนาการปฏิบัติราชการรายบุคคลแล้ว "
                 f"ลงชื่อ {f.person['name_th']} วันที่ {f.acknowledged_on}")
    else:
        pdf.para(f"ผู้รับการประเมิน: [  ] ได้รับทราบผลการประเมินแล้ว  ลงชื่อ {BLANK} วันที่ {BLANK}")
    if f.refusal:
        pdf.para(f"ผู้ประเมิน: [X] ได้แจ้งผลการประเมินเมื่อวันที่ {f.refusal['on']} แต่ผู้รับการประเมินไม่ลงนามรับทราบ "
                 f"โดยมี {f.refusal['witness']} เป็นพยาน  ลงชื่อพยาน {BLANK}")
    pdf.para(f"ลงชื่อผู้ประเมิน {BLANK} ({f.evaluator or BLANK})")

    pdf.heading("ส่วนที่ 5 ความเห็นของผู้บังคับบัญชาเหนือขึ้นไป", 11)
    pdf.para(_opinion_marks(f.superior_opinion))
    pdf.para(f"ลงชื่อ {BLANK} ({f.superior or BLANK})  ผู้บังคับบัญชาเหนือขึ้นไป")
    if f.superior_levels >= 2:
        pdf.para(f"ผู้บังคับบัญชาเหนือขึ้นไปอีกชั้นหนึ่ง: {_opinion_marks(f.superior2_opinion)}  "
                 f"ลงชื่อ {BLANK} ({f.superior2 or BLANK})")


def _opinion_marks(op: dict[str, str] | None) -> str:
    """A superior's opinion as the form's two boxes, the differing total and reason filled in."""
    if op and op["opinion"] == "agree":
        return "[X] เห็นด้วยกับผลการประเมิน   [  ] มีความเห็นต่าง"
    if op:
        return (f"[  ] เห็นด้วยกับผลการประเมิน   [X] มีความเห็นต่าง: คะแนนรวม {op['total_percent']} "
                f"เหตุผล {op['reason']}")
    return "[  ] เห็นด้วยกับผลการประเมิน   [  ] มีความเห็นต่าง " + BLANK


def _times(value: str | None, weight: int) -> str | None:
    if value is None:
        return None
    from decimal import Decimal
    return str(scoring.round2(Decimal(value) * weight / 100))


def forms_pdf(forms: list[SummaryForm]) -> bytes:
    pdf = ThaiPDF("P", footer_text="แบบสรุปการประเมินผลการปฏิบัติราชการ")
    for f in forms:
        draw_form(pdf, f)
    if not forms:
        pdf.add_page()
        pdf.para("ไม่มีแบบประเมิน / no appraisals")
    return bytes(pdf.output())


def form_pdf(session: Session, actor: Actor, appraisal_id: int, *, digits: str = "arabic") -> bytes:
    return forms_pdf([summary_form(session, actor, appraisal_id, digits=digits)])


def round_forms(session: Session, actor: Actor, round_id: int, *, fmt: str = "zip",
                digits: str = "arabic") -> bytes:
    """Every form of a round (HR, the authority or an admin): a zip of PDFs or one PDF."""
    rnd, _ = round_for(session, actor, round_id)
    rows = session.execute(select(Appraisal.id, Person.code).join(Person, Person.id == Appraisal.person_id)
                           .where(Appraisal.round_id == rnd.id, Appraisal.state != "withdrawn")
                           .order_by(Person.code)).all()
    forms = [summary_form(session, actor, aid, digits=digits, check_access=False) for aid, _ in rows]
    if fmt == "pdf":
        return forms_pdf(forms)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f, (_, code) in zip(forms, rows):
            z.writestr(f"{rnd.fiscal_year}-{rnd.number}/{code}.pdf", forms_pdf([f]))
    return buf.getvalue()
