"""The report owed upward: every low-performer case open at any time during a round.

A case counts for a round when it was opened before the round's end and not closed before its
start (carried in from earlier rounds, or still open), or when this round's results opened it.
Its opening and closing dates come from the case's own events. Each measure is listed with its
status (done / in progress / not started), how many pieces of evidence and their dates, and the
follow-up result once the next round's appraisal is announced. The builder is pure; `load`
reads the rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlmodel import Session

from db.models import Appraisal, CaseMeasure, Event, Evidence, LowPerformerCase, OrgUnit, Person, Round
from workflow.calendar import local_date
from workflow.labels import MEASURE_TH, STATE_TH
from workflow.machines.low_performer import FINAL_STATES
from workflow.reports.data import Band, Meta, Unit, _band_name
from workflow.reports.model import Column, Report, Table

STATUS = {"done": ("ดำเนินการแล้ว", "done"), "in_progress": ("ระหว่างดำเนินการ", "in progress"),
          "not_started": ("ยังไม่ดำเนินการ", "not started"), "skipped": ("ไม่ต้องดำเนินการ", "skipped")}


@dataclass(frozen=True)
class MeasureRow:
    kind: str
    status: str
    evidence_dates: tuple[date, ...] = ()


@dataclass(frozen=True)
class LowCase:
    id: int
    person_code: str
    person_name: str
    unit_id: int
    round_id: int  # the round whose result opened it
    round_label: str  # "1/2569"
    opened_on: date
    closed_on: date | None
    state: str
    total_percent: Decimal | None
    rating_code: str | None
    measures: tuple[MeasureRow, ...] = ()
    follow_up_percent: Decimal | None = None  # the next round's announced result, when known
    follow_up_rating: str | None = None
    flagged_for_action: bool = False
    consecutive_low_rounds: int = 1


def counts_in_round(opened_on: date, closed_on: date | None, starts_on: date, ends_on: date) -> bool:
    """Pure: was the case open at any time from the round's start to its end?"""
    return opened_on <= ends_on and (closed_on is None or closed_on >= starts_on)


def in_report(c: LowCase, round_id: int, starts_on: date, ends_on: date) -> bool:
    return c.round_id == round_id or counts_in_round(c.opened_on, c.closed_on, starts_on, ends_on)


# Two tables a clerk can read on paper: one row per case, then one row per measure of each case.
CASE_COLUMNS = [
    Column("no", "ลำดับ", "no.", "int"), Column("name", "ชื่อ-สกุล", "name", width=4),
    Column("unit", "หน่วยงาน", "unit", width=2), Column("from_round", "จากผลรอบ", "from round"),
    Column("carried", "ยกมาจากรอบก่อน", "carried in"), Column("opened_on", "เปิดกรณี", "opened", "date"),
    Column("total_percent", "ผลการประเมิน", "result %", "percent"), Column("rating", "ระดับ", "rating", width=2),
    Column("follow_up", "ผลการติดตามประเมิน", "follow-up result", width=2),
    Column("state", "สถานะกรณี", "case state", width=2), Column("closed_on", "ปิดกรณี", "closed", "date"),
]
COLUMNS = [
    Column("no", "ลำดับ", "no.", "int"), Column("name", "ชื่อ-สกุล", "name", width=4),
    Column("measure", "มาตรการ", "measure", width=4), Column("status", "สถานะ", "status", width=3),
    Column("evidence", "หลักฐาน (รายการ)", "evidence", "int"),
    Column("evidence_dates", "วันที่หลักฐาน", "evidence dates", width=3),
]


def low_performers(meta: Meta, bands: Sequence[Band], units: Sequence[Unit], cases: Sequence[LowCase],
                   round_id: int, covers: str = "") -> Report:
    """Pure: the report of the cases open during the round (see `in_report`): one row per case,
    then one row per measure (table `cases`, each row with its case's columns too)."""
    unit_name = {u.id: u.name for u in units}
    chosen = [c for c in cases if in_report(c, round_id, meta.starts_on, meta.ends_on)]
    rows: list[dict[str, Any]] = []
    case_rows: list[dict[str, Any]] = []
    for i, c in enumerate(sorted(chosen, key=lambda c: (c.opened_on, c.person_code, c.id)), start=1):
        follow = "-"
        if c.follow_up_percent is not None:
            follow = f"{c.follow_up_percent} ({_band_name(bands, c.follow_up_rating)})"
        base = {"no": i, "case_id": c.id, "name": f"{c.person_name} ({c.person_code})",
                "unit": unit_name.get(c.unit_id, ""), "from_round": c.round_label,
                "carried": "ใช่ / yes" if c.round_id != round_id else "-", "opened_on": c.opened_on,
                "total_percent": c.total_percent, "rating": _band_name(bands, c.rating_code), "follow_up": follow,
                "state": STATE_TH.get(c.state, c.state)
                + (f" (ต่ำ {c.consecutive_low_rounds} รอบติดต่อกัน)" if c.flagged_for_action else ""),
                "closed_on": c.closed_on}
        case_rows.append(base)
        for m in c.measures or (MeasureRow("-", "not_started"),):
            th, en = STATUS.get(m.status, (m.status, m.status))
            rows.append({**base, "measure": MEASURE_TH.get(m.kind, m.kind), "measure_code": m.kind,
                         "status": f"{th} / {en}", "status_code": m.status, "evidence": len(m.evidence_dates),
                         "evidence_dates": ", ".join(d.isoformat() for d in m.evidence_dates) or "-"})
    carried = sum(1 for c in chosen if c.round_id != round_id)
    summary = [Column("item", "รายการ", "item", width=4), Column("value", "จำนวน", "value", width=2)]
    summary_rows = [
        {"item": "กรณีที่เปิดอยู่ในรอบนี้ / cases open during the round", "value": len(chosen)},
        {"item": "ยกมาจากรอบก่อน / carried from earlier rounds", "value": carried},
        {"item": "จากผลการประเมินรอบนี้ / opened by this round's results", "value": len(chosen) - carried},
        {"item": "ปิดกรณีแล้ว / closed", "value": sum(1 for c in chosen if c.closed_on is not None)},
    ]
    lines = list(meta.lines()) + ([f"ช่วงที่รายงาน / covers: {covers}"] if covers else [])
    return Report("low_performers", "รายงานผู้มีผลการปฏิบัติงานต่ำและการดำเนินการตามมาตรการ",
                  "Low performers and the measures taken", lines,
                  [Table("summary", "สรุป", "summary", summary, summary_rows),
                   Table("case_list", "กรณีผู้มีผลการปฏิบัติงานต่ำที่เปิดอยู่ในรอบ", "cases open during the round",
                         CASE_COLUMNS, case_rows),
                   Table("cases", "มาตรการของแต่ละกรณี", "the measures of each case", COLUMNS, rows)])


# --- reading ---------------------------------------------------------------------------------



def load_cases(session: Session, rnd: Round, org: OrgUnit) -> list[LowCase]:
    """Every case of the organisation's subtree that may count for the round: opened before its
    end (by the case's first event), or opened by this round's results."""
    cases = list(session.execute(
        select(LowPerformerCase, Person, Appraisal, Round)
        .join(OrgUnit, OrgUnit.id == LowPerformerCase.org_unit_id)
        .join(Person, Person.id == LowPerformerCase.person_id)
        .join(Appraisal, Appraisal.id == LowPerformerCase.appraisal_id)
        .join(Round, Round.id == LowPerformerCase.round_id)
        .where(OrgUnit.path.startswith(org.path))).all())
    ids = [c.id for c, _, _, _ in cases]
    if not ids:
        return []
    opened = dict(session.execute(select(Event.entity_id, func.min(Event.at)).where(
        Event.entity_type == "case", Event.entity_id.in_(ids)).group_by(Event.entity_id)).all())
    closed = dict(session.execute(select(Event.entity_id, func.max(Event.at)).where(
        Event.entity_type == "case", Event.entity_id.in_(ids), Event.to_state.in_(FINAL_STATES))
        .group_by(Event.entity_id)).all())
    measures: dict[int, list[tuple[int, str, str]]] = {}
    for m in session.execute(select(CaseMeasure).where(CaseMeasure.case_id.in_(ids)).order_by(CaseMeasure.id)).scalars():
        measures.setdefault(m.case_id, []).append((m.id, m.kind, m.status))
    evidence: dict[int, list[date]] = {}
    for mid, at in session.execute(select(Evidence.measure_id, Evidence.uploaded_at).where(
            Evidence.case_id.in_(ids), Evidence.measure_id.is_not(None)).order_by(Evidence.uploaded_at)):
        evidence.setdefault(mid, []).append(local_date(at))
    follow_ids = [c.follow_up_appraisal_id for c, _, _, _ in cases if c.follow_up_appraisal_id]
    follow = {a.id: a for a in session.execute(select(Appraisal).where(
        Appraisal.id.in_(follow_ids or [-1]), Appraisal.state == "announced")).scalars()}
    out = []
    for c, p, a, r in cases:
        f = follow.get(c.follow_up_appraisal_id)
        out.append(LowCase(
            id=c.id, person_code=p.code, person_name=p.name_th, unit_id=c.org_unit_id, round_id=c.round_id,
            round_label=f"{r.number}/{r.fiscal_year}",
            opened_on=local_date(opened[c.id]) if c.id in opened else r.ends_on,
            closed_on=local_date(closed[c.id]) if c.id in closed and c.state in FINAL_STATES else None,
            state=c.state, total_percent=a.total_percent, rating_code=a.rating_code,
            measures=tuple(MeasureRow(kind, status, tuple(evidence.get(mid, ())))
                           for mid, kind, status in measures.get(c.id, [])),
            follow_up_percent=f.total_percent if f else None, follow_up_rating=f.rating_code if f else None,
            flagged_for_action=c.flagged_for_action, consecutive_low_rounds=c.consecutive_low_rounds))
    return out



