"""Each person's appraisal summary form (แบบสรุปการประเมินผลการปฏิบัติราชการ, the standard OCSC
form) as a PDF to print, sign and file; and a round's forms in one download (a zip of one PDF
per person, or one PDF with a page group per person), laid out by the Typst template
``workflow/documents/templates/summary_form.typ``.

Parts: 1 the appraisee and the agreement; 2 the scores with their working; 3 the individual
development plan; 4 acknowledgment, or refusal before a witness; 5 the superiors' opinions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlmodel import Session

from db.models import Appraisal, OrgUnit, Person, Round, Signature
from workflow import appraisals, queries, scoring
from workflow.access import Actor
from workflow.calendar import local_date, thai_date
from workflow.documents.render import render
from workflow.errors import NotFound
from workflow.reports.load import round_for
from workflow.rounds import policy_of_round

STAFF_TYPE_TH = {"civil_servant": "ข้าราชการ", "permanent_employee": "ลูกจ้างประจำ",
                 "government_employee": "พนักงานราชการ"}


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
    return None if at is None else local_date(at)


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
        extra={"results_points": _times(s(a.results_percent), policy.weights.results),
               "competency_points": _times(s(a.competency_percent), policy.weights.competencies)},
    )


def _times(value: str | None, weight: int) -> str | None:
    if value is None:
        return None
    from decimal import Decimal
    return str(scoring.round2(Decimal(value) * weight / 100))


def forms_pdf(forms: list[SummaryForm]) -> bytes:
    """The forms in one PDF, a page group per person (``templates/summary_form.typ``)."""
    return render("summary_form", forms_data(forms))


def forms_data(forms: list[SummaryForm]) -> dict[str, Any]:
    return {"forms": [f.as_dict() for f in forms]}


def form_pdf(session: Session, actor: Actor, appraisal_id: int, *, digits: str = "arabic") -> bytes:
    return forms_pdf([summary_form(session, actor, appraisal_id, digits=digits)])


def round_forms(session: Session, actor: Actor, round_id: int, *, fmt: str = "zip",
                digits: str = "arabic", on_progress: Callable[[int, int], None] | None = None) -> bytes:
    """Every form of a round (HR, the authority or an admin): a zip of PDFs or one PDF;
    `on_progress(done, total)` as forms are finished (a background job's progress bar)."""
    from workflow.documents import round_forms as render_round_forms

    rnd, _ = round_for(session, actor, round_id)
    return render_round_forms(session, rnd.id, fmt=fmt, digits=digits, on_progress=on_progress)
