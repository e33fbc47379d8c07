"""The ITA evidence pack: one zip per organisation and fiscal year that an HR office hands to the
Integrity and Transparency Assessment, with an index page saying what each file is and which
item of the assessment it answers.

Inside: the policy versions (the PM notices as pmflow holds them) in force that year and the
evidence attached to the rounds' PM steps; the announced lists of outstanding and very good
staff; the low-performer measures and what was done per case with evidence counts (no names or
codes: a case number, the unit and staff type are all the assessment needs); the round reports
sent upward; and the audit log's verification with the head of every chain of the year's
appraisals and cases, so an assessor can see the record was not edited afterwards.
"""
from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from db.models import Appraisal, Event, Evidence, LowPerformerCase, OrgUnit, PolicyVersion, Round
from workflow import orgs
from workflow.access import Actor
from workflow.audit import verify
from workflow.calendar import BANGKOK, thai_date
from workflow.documents.render import render
from workflow.reports import load, writers
from workflow.reports.model import Column, Report, Table

# Which part of the assessment each kind of file answers. The ITA's open-data (OIT) items on
# human-resource management as we read them; their numbers change from year to year, so the
# index names the item by what it asks for (a default we chose, not a figure from a notice).
ITEMS = {
    "policy": "OIT การบริหารและพัฒนาทรัพยากรบุคคล: นโยบายและหลักเกณฑ์การบริหารผลการปฏิบัติงาน",
    "announcement": "OIT การบริหารและพัฒนาทรัพยากรบุคคล: การเปิดเผยผลการประเมิน (ผู้มีผลการประเมินดีเด่นและดีมาก)",
    "low_performers": "OIT การบริหารและพัฒนาทรัพยากรบุคคล: การดำเนินการกับผู้มีผลสัมฤทธิ์การปฏิบัติงานต่ำ",
    "round_report": "OIT รายงานผลการบริหารและพัฒนาทรัพยากรบุคคลประจำปี (รายงานต่อหน่วยงานต้นสังกัด)",
    "evidence": "หลักฐานประกอบขั้นตอนการบริหารผลการปฏิบัติงาน",
    "audit": "ความถูกต้องของข้อมูล: บันทึกเหตุการณ์ที่ตรวจสอบได้ว่าไม่ถูกแก้ไข",
}


@dataclass
class Entry:
    path: str
    title: str
    item: str
    content: bytes


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _low_performer_report(org: OrgUnit, fiscal_year: int, rounds: list[Round], built: dict[int, Report]) -> Report:
    """Per case: the measures and what was done, with evidence counts; personal details removed."""
    cols: list[Column] = []
    rows: list[dict[str, Any]] = []
    for rnd in rounds:
        cases = built[rnd.id].table("cases")
        keep = [c for c in cases.columns if c.key not in ("name",)]
        if not cols:
            cols = [Column("round", "รอบ", "round", "int"), Column("case", "กรณีที่", "case", "int"), *keep[1:]]
        for row in cases.rows:
            rows.append({"round": rnd.number, "case": row["no"], **{c.key: row.get(c.key) for c in keep[1:]}})
    if not cols:
        cols = [Column("round", "รอบ", "round", "int"), Column("case", "กรณีที่", "case", "int")]
    return Report("ita_low_performers", "การดำเนินการกับเจ้าหน้าที่ผู้มีผลสัมฤทธิ์การปฏิบัติงานต่ำ (ไม่ระบุชื่อ)",
                  "Low-performer measures per case, without names",
                  [f"หน่วยงาน / organisation: {org.name_th} ({org.code})", f"ปีงบประมาณ {fiscal_year}"],
                  [Table("cases", "มาตรการและผลการดำเนินการรายกรณี", "measures per case", cols, rows,
                         notes=["ไม่แสดงชื่อและรหัสบุคลากร / names and codes removed"])])


def chain_heads(session: Session, org: OrgUnit, rounds: list[Round]) -> list[tuple[str, int, int, str]]:
    """The last event of each appraisal's and case's chain in these rounds: (kind, id, seq, hash)."""
    ids = [r.id for r in rounds]
    if not ids:
        return []
    appraisal_ids = select(Appraisal.id).where(Appraisal.round_id.in_(ids))
    case_ids = select(LowPerformerCase.id).where(LowPerformerCase.round_id.in_(ids))
    last = (select(Event.entity_type, Event.entity_id, func.max(Event.seq).label("seq"))
            .where(((Event.entity_type == "appraisal") & Event.entity_id.in_(appraisal_ids))
                   | ((Event.entity_type == "case") & Event.entity_id.in_(case_ids)))
            .group_by(Event.entity_type, Event.entity_id).subquery())
    rows = session.execute(
        select(Event.entity_type, Event.entity_id, Event.seq, Event.hash)
        .join(last, (last.c.entity_type == Event.entity_type) & (last.c.entity_id == Event.entity_id)
              & (last.c.seq == Event.seq))
        .order_by(Event.entity_type, Event.entity_id)).all()
    return [tuple(r) for r in rows]


def ita_pack(session: Session, actor: Actor, org_code: str, fiscal_year: int, *,
             now: datetime | None = None) -> bytes:
    org = orgs.managed_by(session, actor, org_code)
    now = now or datetime.now(BANGKOK)
    rounds = list(session.execute(select(Round).where(Round.org_unit_id == org.id, Round.fiscal_year == fiscal_year)
                                  .order_by(Round.number)).scalars())
    entries: list[Entry] = []
    y = fiscal_year

    policy_ids = {r.policy_version_id for r in rounds} | ({org.policy_version_id} if org.policy_version_id else set())
    for pv in session.execute(select(PolicyVersion).where(PolicyVersion.id.in_(policy_ids))
                              .order_by(PolicyVersion.code, PolicyVersion.version)).scalars():
        entries.append(Entry(f"1-policy/{pv.code}-v{pv.version}.toml",
                             f"นโยบาย {pv.code} ฉบับที่ {pv.version} (SHA-256 {pv.content_hash[:12]}…)",
                             ITEMS["policy"], pv.content.encode("utf-8")))

    built: dict[int, Report] = {}
    for rnd in rounds:
        report = load.build(session, actor, rnd.id, "round_report")
        built[rnd.id] = report
        announced = load.build(session, actor, rnd.id, "announcement")
        entries.append(Entry(f"2-announced/{y}-{rnd.number}-outstanding-and-very-good.pdf",
                             f"{announced.title_th} รอบที่ {rnd.number}", ITEMS["announcement"],
                             writers.to_pdf(announced)))
        entries.append(Entry(f"4-round-reports/{y}-{rnd.number}-round-report.pdf",
                             f"รายงานผลการดำเนินการ รอบที่ {rnd.number}", ITEMS["round_report"], writers.to_pdf(report)))
        entries.append(Entry(f"4-round-reports/{y}-{rnd.number}-round-report.xlsx",
                             f"รายงานผลการดำเนินการ รอบที่ {rnd.number} (ตาราง)", ITEMS["round_report"],
                             writers.to_xlsx(report)))
        for ev in session.execute(select(Evidence).where(Evidence.round_id == rnd.id, Evidence.case_id.is_(None))
                                  .order_by(Evidence.id)).scalars():
            name = f"4-round-reports/evidence/{y}-{rnd.number}-{ev.id}-{ev.filename or 'note.txt'}"
            entries.append(Entry(name, f"หลักฐานขั้นตอน {ev.step} รอบที่ {rnd.number} (SHA-256 {ev.sha256[:12]}…)",
                                 ITEMS["evidence"], ev.content or ev.note.encode("utf-8")))

    low = _low_performer_report(org, y, rounds, built)
    entries.append(Entry(f"3-low-performers/{y}-measures-per-case.pdf", low.title_th, ITEMS["low_performers"],
                         writers.to_pdf(low)))
    entries.append(Entry(f"3-low-performers/{y}-measures-per-case.csv", low.title_th + " (CSV)",
                         ITEMS["low_performers"], writers.to_csv(low)))

    heads = chain_heads(session, org, rounds)
    ours = {(kind, eid) for kind, eid, _, _ in heads}
    findings = [f for f in verify(session) if (f.entity_type, f.entity_id) in ours]
    digest = hashlib.sha256("\n".join(f"{k} {i} {s} {h}" for k, i, s, h in heads).encode()).hexdigest()
    verdict = ("audit log intact (ประวัติครบถ้วน ไม่ถูกแก้ไข)" if not findings
               else f"TAMPERED: {len(findings)} problem(s) (พบการแก้ไขประวัติ)")
    entries.append(Entry("5-audit/verify.txt", f"ผลการตรวจสอบบันทึกเหตุการณ์ (pmflow audit verify): {verdict}",
                         ITEMS["audit"], "\n".join([verdict, *map(str, findings),
                                                    f"chains: {len(heads)}", f"heads sha256: {digest}", ""]).encode()))
    entries.append(Entry("5-audit/chain-heads.csv", f"หัวของสายบันทึกเหตุการณ์ {len(heads)} สาย", ITEMS["audit"],
                         _csv(["entity_type", "entity_id", "seq", "hash"], [list(h) for h in heads])))

    index = {
        "org": org.name_th, "org_code": org.code, "fiscal_year": y,
        "made_on": thai_date(now.date()), "rounds": [r.number for r in rounds],
        "verdict": verdict, "heads_digest": digest, "chains": len(heads),
        "files": [{"path": e.path, "title": e.title, "item": e.item, "bytes": len(e.content),
                   "sha256": hashlib.sha256(e.content).hexdigest()} for e in entries],
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("0-index.pdf", render("ita_index", index))
        for e in entries:
            z.writestr(e.path, e.content)
    return buf.getvalue()
