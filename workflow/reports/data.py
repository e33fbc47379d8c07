"""Report contents as pure functions of plain rows: no database, no formats.

``load.py`` reads the rows; ``writers.py`` writes the ``Report`` these functions return.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Callable, Mapping, Sequence

from workflow import labels
from workflow.calendar import thai_digits
from workflow.labels import MEASURE_TH, STATE_TH, STATUS_TH
from workflow.machines.appraisal import STATES
from workflow.machines.low_performer import MACHINE as CASE_MACHINE
from workflow.machines.low_performer import MEASURES
from workflow.milestones import UNCOUNTED, not_done, passed, tally
from workflow.policy import RewardRules
from workflow.reports.distribution import distribution, guideline_gap, overall, percent, rank
from workflow.reports.model import Column, Report, Table
from workflow.reward import Candidate
from workflow.reward import plan as reward_plan


@dataclass(frozen=True)
class Meta:
    org_code: str
    org_name: str
    fiscal_year: int
    round_number: int
    starts_on: date
    ends_on: date
    today: date
    policy: str = ""
    date_text: Callable[[date], str] = date.isoformat
    digits: str = "arabic"

    def lines(self) -> list[str]:
        n = (lambda v: thai_digits(str(v))) if self.digits == "thai" else str
        return [f"หน่วยงาน / organisation: {self.org_name} ({self.org_code})",
                f"ปีงบประมาณ {n(self.fiscal_year)} รอบที่ {n(self.round_number)} "
                f"({self.date_text(self.starts_on)} - {self.date_text(self.ends_on)})",
                f"ข้อมูล ณ วันที่ / as of: {self.date_text(self.today)}"
                + (f"  นโยบาย / policy: {self.policy}" if self.policy else "")]


@dataclass(frozen=True)
class Band:
    code: str
    th: str
    en: str


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class AppraisalRow:
    id: int
    person_code: str
    person_name: str
    position: str
    staff_type: str
    unit_id: int
    evaluator_id: int | None
    evaluator_name: str
    state: str
    total_percent: Decimal | None = None
    rating_code: str | None = None
    kpis: int = 0
    cascaded_kpis: int = 0
    agreement_signed: bool = False
    progress_notes: int = 0
    development_plan: bool = False
    acknowledged: bool = False
    refused_with_witness: bool = False
    superior_opinion: bool = False
    position_level: str = ""
    salary: Decimal | None = None


@dataclass(frozen=True)
class CaseRow:
    id: int
    person_code: str
    person_name: str
    unit_id: int
    total_percent: Decimal | None
    rating_code: str | None
    state: str
    consecutive_low_rounds: int
    flagged_for_action: bool
    measures: dict[str, str] = field(default_factory=dict)  # kind -> status
    evidence: dict[str, int] = field(default_factory=dict)  # kind -> count
    follow_up_notes: int = 0


@dataclass(frozen=True)
class CascadeRow:
    org_kpi_code: str
    org_kpi_title: str
    unit_name: str
    person_code: str = ""
    person_name: str = ""
    kpi_title: str = ""
    weight: int | None = None
    level: int | None = None


@dataclass(frozen=True)
class OrgKpiNode:
    """An organisation KPI as the cascade tree needs it."""

    id: int
    parent_id: int | None
    code: str
    title: str
    weight: int
    unit_name: str
    unit_path: str


@dataclass(frozen=True)
class CascadeLink:
    """An individual KPI of the round linked to an organisation KPI."""

    org_kpi_id: int
    person_code: str
    person_name: str
    unit_name: str
    kpi_title: str
    weight: int
    level: int | None = None


@dataclass(frozen=True)
class PersonWeights:
    """A person's agreement in the round: total KPI weight and the weight linked upward."""

    person_code: str
    person_name: str
    unit_name: str
    total_weight: int
    linked_weight: int


@dataclass
class CascadeTree:
    rows: list[dict[str, Any]]  # depth-first: organisation KPI, its sub-KPIs, the people serving it
    uncovered: list[OrgKpiNode]  # served by no one's agreement, directly or through a KPI below it
    shares: list[dict[str, Any]]


def cascade_tree(nodes: Sequence[OrgKpiNode], links: Sequence[CascadeLink],
                 people: Sequence[PersonWeights]) -> CascadeTree:
    """Pure: the organisation KPIs as a tree by their parents (province -> agency -> ...), each
    followed by the individual KPIs that serve it; which KPIs no agreement serves, directly or
    through a KPI below it; and each person's share of weight linked upward."""
    by_id = {n.id: n for n in nodes}
    children: dict[int | None, list[OrgKpiNode]] = {}
    for n in nodes:
        children.setdefault(n.parent_id if n.parent_id in by_id else None, []).append(n)
    for kids in children.values():
        kids.sort(key=lambda n: (n.unit_path, n.code))
    served_by: dict[int, list[CascadeLink]] = {}
    for link in links:
        served_by.setdefault(link.org_kpi_id, []).append(link)
    served: dict[int, int] = {}  # people's KPIs serving it, directly or below

    def count(n: OrgKpiNode) -> int:
        if n.id not in served:
            served[n.id] = len(served_by.get(n.id, ())) + sum(count(c) for c in children.get(n.id, ()))
        return served[n.id]

    rows: list[dict[str, Any]] = []

    def walk(n: OrgKpiNode, depth: int) -> None:
        rows.append({"depth": depth, "kind": "org_kpi", "unit": n.unit_name, "code": n.code,
                     "title": "  " * depth + n.title, "weight": n.weight, "person": "",
                     "served": count(n)})
        for c in children.get(n.id, ()):
            walk(c, depth + 1)
        for link in served_by.get(n.id, ()):
            rows.append({"depth": depth + 1, "kind": "person", "unit": link.unit_name, "code": link.person_code,
                         "title": "  " * (depth + 1) + link.kpi_title, "weight": link.weight,
                         "person": link.person_name, "served": None})

    for root in children.get(None, ()):
        walk(root, 0)
    uncovered = [n for n in sorted(nodes, key=lambda n: (n.unit_path, n.code)) if count(n) == 0]
    shares = [{"code": p.person_code, "person": p.person_name, "unit": p.unit_name, "total_weight": p.total_weight,
               "linked_weight": p.linked_weight,
               "share": percent(p.linked_weight, p.total_weight) if p.total_weight else None}
              for p in people]
    return CascadeTree(rows, uncovered, shares)


def _band_name(bands: Sequence[Band], code: str | None) -> str:
    for b in bands:
        if b.code == code:
            return b.th
    return code or ""


# --- round progress ------------------------------------------------------------------------------
def round_progress(meta: Meta, units: Sequence[Unit], counts: Mapping[int, Mapping[str, int]],
                   milestones: Sequence[tuple[str, str, date]]) -> Report:
    """Per unit: appraisals per state, and how many are overdue for each milestone passed.
    ``counts``: unit id -> state -> appraisals (``workflow.progress.state_counts``); the total
    leaves withdrawn appraisals out, as the HR dashboard does."""
    due = [(code, th, d) for code, th, d in milestones if not_done(code)]
    columns = [Column("unit", "หน่วยงาน", "unit", width=3), Column("total", "ทั้งหมด", "total", "int")]
    columns += [Column(f"state.{s}", labels.label(labels.STATES, s), labels.label(labels.STATES, s, "en"), "int") for s in STATES]
    columns += [Column(f"overdue.{code}", f"เกินกำหนด{labels.label(labels.MILESTONES_SHORT, code) if code in labels.MILESTONES_SHORT else th}", f"overdue: {code}", "int")
                for code, th, d in due]
    rows, totals = [], {c.key: 0 for c in columns[1:]}
    for u in units:
        if not counts.get(u.id):
            continue
        t = tally(counts[u.id], [code for code, _, _ in due])
        row: dict[str, Any] = {"unit": f"{u.code} {u.name}", "total": t.total}
        for s in STATES:
            row[f"state.{s}"] = t.states.get(s, 0)
        for code, _, d in due:
            row[f"overdue.{code}"] = t.not_done[code] if meta.today > d else 0
        for k in totals:
            totals[k] += row[k]
        rows.append(row)
    rows.append({"unit": "รวม / all", **totals})
    table = Table("progress", "ความก้าวหน้าของรอบการประเมิน ตามหน่วยงาน", "Round progress per unit",
                  columns, rows, notes=[f"เกินกำหนด{labels.label(labels.MILESTONES_SHORT, code) if code in labels.MILESTONES_SHORT else th}: {th} ครบกำหนด {meta.date_text(d)} "
                         f"(นับเมื่อพ้นวันครบกำหนด / counted after the due date)" for code, th, d in due])
    return Report("progress", "รายงานความก้าวหน้าการประเมินผลการปฏิบัติราชการ", "Round progress",
                  meta.lines(), [table])


# --- distribution, announcement list, ranking ----------------------------------------------------
def rating_distribution(meta: Meta, bands: Sequence[Band], units: Sequence[Unit],
                        appraisals: Sequence[AppraisalRow], guideline: dict[str, Decimal]) -> Report:
    codes = [b.code for b in bands]
    unit_name = {u.id: f"{u.code} {u.name}" for u in units}
    scored = [a for a in appraisals if a.rating_code and a.state != "withdrawn"]
    by_unit = distribution(((a.unit_id, unit_name.get(a.unit_id, str(a.unit_id)), a.rating_code)
                            for a in scored), codes)
    by_eval = distribution(((a.evaluator_id, a.evaluator_name or "-", a.rating_code) for a in scored), codes)
    everyone = overall(by_unit)

    def table(key: str, th: str, en: str, head: str, groups) -> Table:  # noqa: ANN001
        cols = [Column("group", head, key, width=3), Column("total", "จำนวน", "count", "int")]
        for b in bands:
            cols += [Column(f"n.{b.code}", b.th, b.en, "int"), Column(f"p.{b.code}", f"{b.th} %", f"{b.en} %", "percent")]
        rows = []
        for g in [*groups, everyone]:
            row: dict[str, Any] = {"group": g.label, "total": g.total}
            pcts = g.percents(codes)
            for b in codes:
                row[f"n.{b}"], row[f"p.{b}"] = g.counts.get(b, 0), pcts[b]
            rows.append(row)
        if guideline:
            gl: dict[str, Any] = {"group": "สัดส่วนตามแนวทาง / guideline", "total": None}
            gap: dict[str, Any] = {"group": "ส่วนต่างจากแนวทาง (จุด) / gap (points)", "total": None}
            diff = guideline_gap(everyone, guideline, codes)
            for b in codes:
                gl[f"p.{b}"] = guideline.get(b)
                gap[f"p.{b}"] = diff.get(b)
            rows += [gl, gap]
        return Table(key, th, en, cols, rows)

    return Report("distribution", "การกระจายของผลการประเมิน", "Rating distribution", meta.lines(), [
        table("by_unit", "ตามหน่วยงาน", "per unit", "หน่วยงาน", by_unit),
        table("by_evaluator", "ตามผู้ประเมิน", "per evaluator", "ผู้ประเมิน", by_eval),
    ])


def announcement_list(meta: Meta, bands: Sequence[Band], units: Sequence[Unit],
                      appraisals: Sequence[AppraisalRow], top: Sequence[str] = ("outstanding", "very_good")) -> Report:
    """Outstanding and very good staff, for the notice that publishes them."""
    unit_name = {u.id: u.name for u in units}
    order = {code: i for i, code in enumerate(top)}
    chosen = sorted((a for a in appraisals if a.state in ("reviewed", "announced") and a.rating_code in order),
                    key=lambda a: (order[a.rating_code], -(a.total_percent or 0), a.person_code))
    cols = [Column("no", "ลำดับ", "no.", "int"), Column("name", "ชื่อ-สกุล", "name", width=3),
            Column("position", "ตำแหน่ง", "position", width=3), Column("unit", "หน่วยงาน", "unit", width=3),
            Column("total_percent", "คะแนนรวม", "total %", "percent"), Column("rating", "ระดับ", "rating")]
    rows = [{"no": i, "name": a.person_name, "position": a.position, "unit": unit_name.get(a.unit_id, ""),
             "total_percent": a.total_percent, "rating": _band_name(bands, a.rating_code), "code": a.person_code}
            for i, a in enumerate(chosen, start=1)]
    names = " และ ".join(_band_name(bands, c) for c in top)
    return Report("announcement", f"บัญชีรายชื่อผู้มีผลการประเมินระดับ{names}",
                  "Outstanding and very good staff", meta.lines(),
                  [Table("announcement", "รายชื่อ", "list", cols, rows)])


def ranking(meta: Meta, bands: Sequence[Band], units: Sequence[Unit], appraisals: Sequence[AppraisalRow]) -> Report:
    """Ranking within each unit by total percent, for salary-step decisions (ties share a rank)."""
    tables = []
    for u in units:
        items = [{"code": a.person_code, "name": a.person_name, "position": a.position,
                  "total_percent": a.total_percent, "rating": _band_name(bands, a.rating_code)}
                 for a in appraisals if a.unit_id == u.id and a.state != "withdrawn"]
        ranked = rank(items)
        if not ranked:
            continue
        cols = [Column("rank", "ลำดับที่", "rank", "int"), Column("code", "รหัส", "code"),
                Column("name", "ชื่อ-สกุล", "name", width=3), Column("position", "ตำแหน่ง", "position", width=3),
                Column("total_percent", "คะแนนรวม", "total %", "percent"), Column("rating", "ระดับ", "rating")]
        tables.append(Table(f"unit_{u.id}", f"{u.code} {u.name}", f"unit {u.code}", cols, ranked))
    return Report("ranking", "การจัดลำดับผลการประเมินภายในหน่วยงาน", "Ranking within each unit",
                  meta.lines(), tables)


# --- reward: the raise pool shared by rating -------------------------------------------------------
def _baht(v: Decimal) -> str:
    return f"{v:,.2f}"


def reward(meta: Meta, bands: Sequence[Band], units: Sequence[Unit], appraisals: Sequence[AppraisalRow],
           rules: RewardRules) -> Report:
    """The suggested raises of a round (workflow/reward.py), by unit in rank order, with the pool."""
    found = reward_plan(rules, [Candidate(a.id, a.state, a.salary, a.position_level, a.rating_code, a.staff_type)
                                for a in appraisals if a.state != "withdrawn"])
    by_key = {r.key: r for r in found.raises}
    kinds = {"lower": "ฐานล่าง / lower", "upper": "ฐานบน / upper", "salary": "เงินเดือน / salary (no base in the policy)",
             "steps": "ขั้นค่าจ้าง / wage steps"}
    summary = Table("pool", "วงเงินเลื่อนเงินเดือน", "raise pool",
                    [Column("item", "รายการ", "item", width=4), Column("value", "จำนวน", "value", width=2)], [
        {"item": "เงินเดือนของผู้มีสิทธิ / eligible salaries", "value": _baht(found.eligible_salaries)},
        {"item": f"วงเงิน ร้อยละ {rules.pool_percent} / pool ({rules.pool_percent} %)", "value": _baht(found.pool)},
        {"item": "ยอดที่เสนอตามระดับผลการประเมิน / suggested by rating", "value": _baht(found.suggested)},
        {"item": "ตัวคูณให้อยู่ในวงเงิน / factor to fit the pool", "value": str(found.factor)},
        {"item": "ยอดเลื่อนรวม / total raises", "value": _baht(found.total)},
        {"item": "วงเงินคงเหลือ / pool remaining", "value": _baht(found.remaining)},
    ], notes=["ระบบเสนอ ผู้มีอำนาจเป็นผู้สั่งเลื่อนเงินเดือน / suggested figures: the authority decides"])
    tables = [summary]
    for u in units:
        # only people in the plan: they have a salary and a raise
        items = [{"code": a.person_code, "name": a.person_name, "level": a.position_level,
                  "total_percent": a.total_percent, "rating": _band_name(bands, a.rating_code),
                  "salary": _baht(a.salary) if a.salary is not None else "-",
                  "base": _baht(r.base) if r.steps is None else "-", "base_kind": kinds[r.base_kind],
                  "percent": r.percent if r.steps is None else None,
                  "steps": f"{r.steps.normalize()} ขั้น / step(s)" if r.steps is not None else "-",
                  "amount": _baht(r.amount) if r.steps is None else "-"}
                 for a in appraisals if a.unit_id == u.id and (r := by_key.get(a.id)) is not None]
        ranked = rank(items)
        if not ranked:
            continue
        cols = [Column("rank", "ลำดับที่", "rank", "int"), Column("code", "รหัส", "code"),
                Column("name", "ชื่อ-สกุล", "name", width=3), Column("level", "ระดับตำแหน่ง", "level", width=2),
                Column("total_percent", "คะแนนรวม", "total %", "percent"), Column("rating", "ระดับผล", "rating"),
                Column("salary", "เงินเดือน", "salary"), Column("base", "ฐานในการคำนวณ", "base"),
                Column("base_kind", "ฐาน", "base kind", width=2), Column("percent", "ร้อยละที่เลื่อน", "raise %", "percent"),
                Column("amount", "จำนวนเงินที่เลื่อน", "raise (baht)"), Column("steps", "ขั้นที่เลื่อน", "steps")]
        tables.append(Table(f"unit_{u.id}", f"{u.code} {u.name}", f"unit {u.code}", cols, ranked))
    left = {a.id: a for a in appraisals}
    if found.left_out:
        tables.append(Table("left_out", "ไม่อยู่ในการคำนวณ", "not in the plan",
                            [Column("code", "รหัส", "code"), Column("name", "ชื่อ-สกุล", "name", width=3),
                             Column("why", "เหตุผล", "why", width=4)],
                            [{"code": left[k].person_code, "name": left[k].person_name, "why": why}
                             for k, why in found.left_out]))
    return Report("reward", "การเลื่อนเงินเดือนตามผลการประเมิน (ข้อเสนอ)", "Raises by result (suggested)",
                  meta.lines(), tables)


# --- KPI cascade ---------------------------------------------------------------------------------
def kpi_cascade(meta: Meta, rows: Sequence[CascadeRow], tree: CascadeTree | None = None) -> Report:
    cols = [Column("org_kpi", "ตัวชี้วัดขององค์กร", "organisation KPI", width=4),
            Column("person", "ผู้รับผิดชอบ", "person", width=3), Column("unit", "หน่วยงาน", "unit", width=2),
            Column("kpi", "ตัวชี้วัดรายบุคคล", "individual KPI", width=4),
            Column("weight", "น้ำหนัก", "weight", "int"), Column("level", "ระดับที่ได้", "level", "int")]
    out = []
    for r in rows:
        out.append({"org_kpi": f"{r.org_kpi_code} {r.org_kpi_title}",
                    "person": f"{r.person_name} ({r.person_code})" if r.person_code else "-",
                    "unit": r.unit_name, "kpi": r.kpi_title or "ยังไม่มีตัวชี้วัดรายบุคคลรองรับ / none yet",
                    "weight": r.weight, "level": r.level})
    tables = [Table("cascade", "ตัวชี้วัดรายบุคคลที่สนับสนุนตัวชี้วัดขององค์กร",
                    "individual KPIs supporting each organisation KPI", cols, out)]
    if tree is not None:
        tables += [
            Table("tree", "แผนผังการถ่ายทอดตัวชี้วัด (จังหวัด -> ส่วนราชการ -> บุคคล)",
                  "the cascade as a tree (province -> agency -> people)",
                  [Column("depth", "ชั้น", "depth", "int"), Column("kind", "ประเภท", "kind"),
                   Column("unit", "หน่วยงาน", "unit", width=2), Column("code", "รหัส", "code"),
                   Column("title", "ตัวชี้วัด", "KPI", width=5), Column("weight", "น้ำหนัก", "weight", "int"),
                   Column("person", "ผู้รับผิดชอบ", "person", width=2),
                   Column("served", "ตัวชี้วัดรายบุคคลที่รองรับ", "individual KPIs serving it", "int")],
                  tree.rows),
            Table("uncovered", "ตัวชี้วัดขององค์กรที่ยังไม่มีผู้ใดรองรับ", "organisation KPIs no agreement serves",
                  [Column("unit", "หน่วยงาน", "unit", width=2), Column("code", "รหัส", "code"),
                   Column("title", "ตัวชี้วัด", "KPI", width=5), Column("weight", "น้ำหนัก", "weight", "int")],
                  [{"unit": n.unit_name, "code": n.code, "title": n.title, "weight": n.weight} for n in tree.uncovered]),
            Table("share", "สัดส่วนน้ำหนักที่เชื่อมโยงกับตัวชี้วัดขององค์กร", "each person's share of weight linked upward",
                  [Column("code", "รหัส", "code"), Column("person", "ชื่อ-สกุล", "person", width=3),
                   Column("unit", "หน่วยงาน", "unit", width=2), Column("total_weight", "น้ำหนักรวม", "total weight", "int"),
                   Column("linked_weight", "น้ำหนักที่เชื่อมโยง", "linked weight", "int"),
                   Column("share", "ร้อยละ", "share %", "percent")], tree.shares),
        ]
    return Report("kpi_cascade", "การถ่ายทอดตัวชี้วัดจากองค์กรสู่บุคคล", "KPI cascade", meta.lines(), tables)


# --- the round report to the parent organisation (Ubon's forms) ----------------------------------
def _live(a: AppraisalRow) -> bool:
    return a.state not in UNCOUNTED


# (code, stage, step th, step en, done?, evidence sentence) following seed 001's report form.
STEPS: list[tuple[str, str, str, str, Callable[[AppraisalRow], bool], Callable[[list[AppraisalRow]], str]]] = [
    ("cascade", "๑ การวางแผนการปฏิบัติงาน", "ถ่ายทอดเป้าหมายองค์กรและหน่วยงาน", "organisation goals cascaded",
     lambda a: a.cascaded_kpis > 0, lambda rows: f"ตัวชี้วัดรายบุคคลที่ถ่ายทอดจากองค์กร {sum(a.cascaded_kpis for a in rows)} ตัว"),
    ("agreement", "๑ การวางแผนการปฏิบัติงาน", "ตกลงร่วมกันเกี่ยวกับเป้าหมายและตัวชี้วัดผลงาน", "performance agreement signed",
     lambda a: passed(a.state, "agreement_signed"), lambda rows: f"ข้อตกลงที่ลงนามทั้งสองฝ่าย {sum(a.agreement_signed for a in rows)} ฉบับ"),
    # Ubon's form (seed 001) lists this beside the agreement; the appraisee's own signature on the
    # agreement is the record that the goals were talked through both ways (our reading; HR can
    # attach the meeting minutes to this step as well).
    ("two_way", "๑ การวางแผนการปฏิบัติงาน", "การสื่อสารสองทางเพื่อสร้างความผูกพันต่อเป้าหมาย",
     "two-way communication on the goals", lambda a: a.agreement_signed,
     lambda rows: f"ข้อตกลงที่ผู้รับการประเมินร่วมลงนามกับผู้ประเมิน {sum(a.agreement_signed for a in rows)} ฉบับ"),
    ("monitoring", "๒ การติดตามและพัฒนา", "ติดตามงานอย่างต่อเนื่อง สนับสนุนและช่วยเหลือ", "monitoring during the round",
     lambda a: passed(a.state, "mid_round_review"), lambda rows: f"บันทึกการติดตามผล {sum(a.progress_notes for a in rows)} รายการ"),
    ("feedback", "๒ การติดตามและพัฒนา", "ให้คำแนะนำ สอนงาน และข้อมูลป้อนกลับ", "coaching and feedback notes",
     lambda a: a.progress_notes > 0, lambda rows: f"ผู้ที่มีบันทึกความก้าวหน้า {sum(a.progress_notes > 0 for a in rows)} คน"),
    ("evaluation", "๓ การประเมินผลการปฏิบัติงาน", "ประเมินผลสัมฤทธิ์ของงานและสมรรถนะ", "results and competencies scored",
     lambda a: a.total_percent is not None, lambda rows: f"แบบประเมินที่คำนวณคะแนนแล้ว {sum(a.total_percent is not None for a in rows)} ฉบับ"),
    ("development_plan", "๓ การประเมินผลการปฏิบัติงาน", "จัดทำแผนพัฒนาผลการปฏิบัติราชการรายบุคคล", "individual development plan",
     lambda a: a.development_plan, lambda rows: f"แผนพัฒนารายบุคคล {sum(a.development_plan for a in rows)} ฉบับ"),
    ("acknowledgment", "๓ การประเมินผลการปฏิบัติงาน", "แจ้งผลการประเมินและลงนามรับทราบ", "result acknowledged (or refusal witnessed)",
     lambda a: a.acknowledged or a.refused_with_witness,
     lambda rows: f"ลงนามรับทราบ {sum(a.acknowledged for a in rows)} ราย ปฏิเสธโดยมีพยาน {sum(a.refused_with_witness for a in rows)} ราย"),
    ("superior_opinion", "๓ การประเมินผลการปฏิบัติงาน", "ผู้บังคับบัญชาเหนือขึ้นไปให้ความเห็น", "superior's opinion given",
     lambda a: a.superior_opinion, lambda rows: f"ความเห็นผู้บังคับบัญชาเหนือขึ้นไป {sum(a.superior_opinion for a in rows)} ฉบับ"),
    ("committee", "๓ การประเมินผลการปฏิบัติงาน", "คณะกรรมการกลั่นกรองผลการประเมิน", "screening committee review",
     lambda a: passed(a.state, "committee_review_done"),
     lambda rows: f"ผ่านการกลั่นกรอง {sum(passed(a.state, 'committee_review_done') for a in rows)} ฉบับ (บันทึกการพิจารณาในประวัติ)"),
    ("announcement", "๓ การประเมินผลการปฏิบัติงาน", "ประกาศผลการประเมิน", "results announced",
     lambda a: a.state == "announced", lambda rows: f"ประกาศผลแล้ว {sum(a.state == 'announced' for a in rows)} ราย"),
]


def _status(done: int, total: int) -> str:
    if total and done == total:
        return "มี (ดำเนินการครบ)"
    return "ระหว่างดำเนินการ" if done else "ไม่มี"


def _measure_cell(status: str, evidence: int) -> str:
    text = STATUS_TH.get(status, status)
    return f"{text} (หลักฐาน {evidence} รายการ)" if status == "done" else text


def _follow_up_status(c: CaseRow) -> str:
    if c.state in CASE_MACHINE.final:
        return "done"
    if c.state == "re_evaluation":
        return "done" if c.follow_up_notes else "in_progress"
    return "not_started"


@dataclass(frozen=True)
class SourceRow:
    """The KPIs of one source (strategic, role, assigned) in a round's live appraisals."""
    source: str
    kpis: int
    appraisals: int
    mean_level: Decimal | None


@dataclass(frozen=True)
class CompetencyRow:
    code: str
    name: str
    scored: int
    mean_score: Decimal | None
    at_expected: int  # scored at or above the expected level


KPI_SOURCE_TH = {"strategic": "เป้าหมายเชิงยุทธศาสตร์ (สอดคล้องกับเป้าหมายระดับองค์กร)",
                 "role": "เป้าหมายตามบทบาทภารกิจหลัก", "assigned": "เป้าหมายอื่นๆ งานที่ได้รับมอบหมายเพิ่มเติม"}
HR_CRITERIA_TH = {"recruitment": "หลักเกณฑ์การสรรหาและคัดเลือกบุคลากร",
                  "appointment": "หลักเกณฑ์การบรรจุและแต่งตั้งบุคลากร",
                  "development": "หลักเกณฑ์การพัฒนาบุคลากร",
                  "reward_discipline": "หลักเกณฑ์การให้คุณให้โทษและสร้างขวัญและกำลังใจ"}


def _has(n: int) -> str:
    return "มี" if n else "ไม่มี"


def ubon_tables(sources: Sequence[SourceRow], competencies: Sequence[CompetencyRow],
                hr_criteria: dict[str, dict[str, Any]] | None) -> list[Table]:
    """The parts of Ubon's round report beside the steps (seed 001): results by KPI source, each
    competency, and the HR criteria as HR filled them in."""
    by_source = {r.source: r for r in sources}
    src_rows = [{"source": th, "kpis": by_source[k].kpis if k in by_source else 0,
                 "appraisals": by_source[k].appraisals if k in by_source else 0,
                 "mean_level": by_source[k].mean_level if k in by_source else None,
                 "status": _has(by_source[k].kpis if k in by_source else 0)} for k, th in KPI_SOURCE_TH.items()]
    comp_rows = [{"name": c.name, "scored": c.scored, "mean_score": c.mean_score, "at_expected": c.at_expected,
                  "status": _has(c.scored)} for c in competencies]
    hr_rows = [{"item": th, "status": ("มี" if (hr_criteria or {}).get(k, {}).get("has") else "ไม่มี")
                if hr_criteria is not None else "ยังไม่ได้กรอก",
                "text": (hr_criteria or {}).get(k, {}).get("text", ""),
                "evidence": (hr_criteria or {}).get(k, {}).get("evidence", "")} for k, th in HR_CRITERIA_TH.items()]
    return [
        Table("kpi_sources", "ผลสัมฤทธิ์ของงาน ตามแหล่งที่มาของตัวชี้วัด", "results by KPI source",
              [Column("source", "แหล่งที่มาของตัวชี้วัด", "source", width=4), Column("kpis", "ตัวชี้วัด", "KPIs", "int"),
               Column("appraisals", "ผู้รับการประเมิน (ราย)", "appraisals", "int"),
               Column("mean_level", "ระดับเฉลี่ย (1-5)", "mean level", "percent"),
               Column("status", "ผลการดำเนินงาน", "status")], src_rows),
        Table("competencies", "สมรรถนะ รายสมรรถนะ", "per competency",
              [Column("name", "สมรรถนะ", "competency", width=4), Column("scored", "ประเมินแล้ว (ราย)", "scored", "int"),
               Column("mean_score", "คะแนนเฉลี่ย (0-5)", "mean score", "percent"),
               Column("at_expected", "ถึงระดับที่คาดหวัง (ราย)", "at expected level", "int"),
               Column("status", "ผลการดำเนินงาน", "status")], comp_rows),
        Table("hr_criteria", "หลักเกณฑ์การบริหารและพัฒนาทรัพยากรบุคคลของส่วนราชการ", "HR criteria",
              [Column("item", "หลักเกณฑ์", "criteria", width=3), Column("status", "มี/ไม่มี", "has"),
               Column("text", "หลักเกณฑ์ที่ใช้", "what is used", width=4),
               Column("evidence", "หลักฐานประกอบ", "evidence", width=3)], hr_rows),
    ]


def round_report(meta: Meta, bands: Sequence[Band], units: Sequence[Unit], appraisals: Sequence[AppraisalRow],
                 cases: Sequence[CaseRow], attached: dict[str, list[str]] | None = None,
                 sources: Sequence[SourceRow] = (), competencies: Sequence[CompetencyRow] = (),
                 hr_criteria: dict[str, dict[str, Any]] | None = None) -> Report:
    """The report to the parent organisation: the PM process steps done with evidence, and every
    low-performer case with the status of each measure (seed 001's forms)."""
    live = [a for a in appraisals if _live(a)]
    step_cols = [Column("stage", "กระบวนการ", "stage", width=2), Column("step", "ขั้นตอน", "step", width=4),
                 Column("done", "ดำเนินการแล้ว (ราย)", "done", "int"), Column("of", "จากทั้งหมด", "of", "int"),
                 Column("percent", "ร้อยละ", "%", "percent"), Column("status", "ผลการดำเนินงาน", "status", width=2),
                 Column("evidence", "หลักฐานประกอบ", "evidence", width=4)]
    step_rows = []
    attached = attached or {}
    for code, stage, th, en, done_if, evidence in STEPS:
        done = sum(1 for a in live if done_if(a))
        proof = [evidence(live)] if done else []
        proof += [f"แนบ: {name}" for name in attached.get(code, [])]
        step_rows.append({"code": code, "stage": stage, "step": th, "step_en": en, "done": done, "of": len(live),
                          "percent": percent(done, len(live)), "status": _status(done, len(live)),
                          "evidence": "; ".join(proof) or "-"})
    unit_name = {u.id: u.name for u in units}
    case_cols = [Column("no", "ลำดับ", "no.", "int"), Column("name", "ชื่อ-สกุล", "name", width=3),
                 Column("unit", "หน่วยงาน", "unit", width=2), Column("total_percent", "ผลการประเมิน", "total %", "percent"),
                 Column("rating", "ระดับ", "rating")]
    case_cols += [Column(f"m.{k}", f"{i}. {MEASURE_TH[k]}", k, width=2) for i, k in enumerate(MEASURES, start=1)]
    case_cols += [Column("m.follow_up", "4. การติดตามประเมินผล", "follow-up evaluation", width=2),
                  Column("state", "สถานะกรณี", "case state", width=2)]
    case_rows = []
    for i, c in enumerate(cases, start=1):
        row: dict[str, Any] = {"no": i, "name": f"{c.person_name} ({c.person_code})",
                               "unit": unit_name.get(c.unit_id, ""), "total_percent": c.total_percent,
                               "rating": _band_name(bands, c.rating_code),
                               "state": STATE_TH.get(c.state, c.state)
                               + (f" (ต่ำ {c.consecutive_low_rounds} รอบติดต่อกัน)" if c.flagged_for_action else "")}
        for k in MEASURES:
            row[f"m.{k}"] = _measure_cell(c.measures.get(k, "not_started"), c.evidence.get(k, 0))
        row["m.follow_up"] = STATUS_TH[_follow_up_status(c)]
        case_rows.append(row)
    summary = [Column("item", "รายการ", "item", width=4), Column("value", "ผล", "value", width=2)]
    summary_rows = [
        {"item": "จำนวนผู้รับการประเมิน / appraisals", "value": len(live)},
        {"item": "การดำเนินการกับเจ้าหน้าที่ผู้มีผลสัมฤทธิ์การปฏิบัติงานต่ำ / low-performer cases",
         "value": f"มี ({len(cases)} ราย)" if cases else "ไม่มี"},
        {"item": "เสนอพิจารณาดำเนินการ (ต่ำติดต่อกันตามเกณฑ์) / flagged for action",
         "value": sum(1 for c in cases if c.flagged_for_action)},
    ]
    return Report(
        "round_report",
        "แบบฟอร์มรายงานผลการดำเนินการ ตามหลักเกณฑ์การบริหารผลการปฏิบัติงาน "
        "และการดำเนินการกับเจ้าหน้าที่ผู้มีผลสัมฤทธิ์การปฏิบัติงานต่ำ",
        "Round report to the parent organisation", meta.lines(),
        [Table("summary", "สรุป", "summary", summary, summary_rows),
         Table("steps", "กระบวนการบริหารผลการปฏิบัติงาน", "PM process steps", step_cols, step_rows),
         Table("cases", "การดำเนินการกับเจ้าหน้าที่ผู้มีผลสัมฤทธิ์การปฏิบัติงานต่ำ",
               "low-performer cases and their measures", case_cols, case_rows),
         *ubon_tables(sources, competencies, hr_criteria)])


# --- the agency assessment (organisation level) -----------------------------------------------------
def agency_assessment(meta: Meta, rows: Sequence[dict[str, Any]], state_names: dict[str, str]) -> Report:
    """One row per agency of the fiscal year: its state, each dimension's percent, the total and
    the rating (rows from ``workflow.agency_assessments.result_rows``)."""
    dims = rows[0]["dimensions"] if rows else []
    cols = [Column("code", "รหัส", "agency code"), Column("agency", "ส่วนราชการ", "agency", width=3),
            Column("state", "สถานะ", "state", width=2),
            *[Column(f"d.{d['code']}", f"{d['th']} ({d['weight']}%)", f"{d['en']} ({d['weight']}%)", "percent")
              for d in dims],
            Column("total", "คะแนนรวม", "total %", "percent"), Column("rating", "ระดับ", "rating")]
    out = []
    for r in rows:
        pcts = r["dimension_percents"]
        out.append({"code": r["agency_code"], "agency": r["agency_name"], "state": state_names.get(r["state"], r["state"]),
                    **{f"d.{d['code']}": Decimal(pcts[d["code"]]) if d["code"] in pcts else None for d in dims},
                    "total": r["total_percent"], "rating": r["rating"] or ""})
    return Report("agency_assessment", "ผลการประเมินการปฏิบัติราชการระดับส่วนราชการ",
                  "Agency assessments (organisation level)", meta.lines(),
                  [Table("agencies", f"ส่วนราชการ ปีงบประมาณ {meta.fiscal_year}", f"agencies, fiscal {meta.fiscal_year}",
                         cols, out)])
