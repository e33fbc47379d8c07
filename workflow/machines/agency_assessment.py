"""The agency assessment: one per agency per fiscal year (Rayong, seed 004: กรอบการประเมินผลการ
ปฏิบัติราชการ ระดับส่วนราชการประจำจังหวัด). The table below *is* the specification.

draft -> plan_agreed (the plan: the policy's dimensions, weighted 50/20/10/20 in Rayong, each
with its KPIs and five target levels; agreed by the provincial office, seed 004 step 7)
-> sar_6 -> sar_9 -> sar_12 (the agency's self-assessment reports at 6, 9 and 12 months,
seed 004 3.1: progress on every KPI with its evidence)
-> evaluated (the province's working group gives each KPI a level 1-5; scored per dimension,
seed 004 step 10) -> reviewed (by the province's screening committee: a default, the notice
is silent on who reviews) -> announced (by the province's authority, step 11).

Roles are relative to the assessment: `agency` (HR or the head of the agency itself: a role
assignment on the agency, not on the province), the province's `hr`, `committee` and
`authority`, an `admin`, the `system`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from workflow.errors import Problem
from workflow.machines.base import WorkflowMachine, row

STATES = ["draft", "plan_agreed", "sar_6", "sar_9", "sar_12", "evaluated", "reviewed", "announced"]
FINAL_STATES = ["announced"]
STATE_TH = {"draft": "ร่างคำรับรอง", "plan_agreed": "ลงนามคำรับรองแล้ว", "sar_6": "รายงานรอบ 6 เดือนแล้ว",
            "sar_9": "รายงานรอบ 9 เดือนแล้ว", "sar_12": "รายงานรอบ 12 เดือนแล้ว", "evaluated": "ประเมินแล้ว",
            "reviewed": "กลั่นกรองแล้ว", "announced": "ประกาศผลแล้ว"}
# The SAR milestones of the fiscal year and the states in which an agency still owes that SAR:
# the one home of "who has an agency item due" (see workflow/agency_assessments.py).
SAR_MILESTONES = ("sar_6", "sar_9", "sar_12")
NOT_YET = {
    "sar_6": frozenset({"draft", "plan_agreed"}),
    "sar_9": frozenset({"draft", "plan_agreed", "sar_6"}),
    "sar_12": frozenset({"draft", "plan_agreed", "sar_6", "sar_9"}),
}
MILESTONE_TH = {"sar_6": "รายงานการประเมินตนเอง (SAR) รอบ 6 เดือน", "sar_9": "รายงานการประเมินตนเอง (SAR) รอบ 9 เดือน",
                "sar_12": "รายงานการประเมินตนเอง (SAR) รอบ 12 เดือน"}


@dataclass(frozen=True)
class AgencyFacts:
    """What the guards see: the policy's dimensions (code -> weight) copied at opening, and the
    plan's KPIs as (id, dimension, weight)."""

    dimensions: Mapping[str, int] = field(default_factory=dict)
    kpis: tuple[tuple[str, str, int], ...] = ()


# --- guards: pure, each returns the broken rule or None ------------------------------------------
def plan_dimensions_known(f: AgencyFacts, p: Mapping[str, Any]) -> Problem | None:
    unknown = sorted({k.get("dimension") for k in p.get("kpis", ())} - set(f.dimensions))
    if unknown:
        return Problem("payload.kpis.dimension", f"ไม่มีมิติ {unknown} ในนโยบาย (มีเฉพาะ {list(f.dimensions)})",
                       f"unknown dimensions {unknown}; the policy has {list(f.dimensions)}")
    return None


def plan_has_kpis(f: AgencyFacts, p: Mapping[str, Any]) -> Problem | None:
    if not f.kpis:
        return Problem("plan", "คำรับรองต้องมีตัวชี้วัด", "the plan has no KPIs")
    return None


def every_dimension_planned(f: AgencyFacts, p: Mapping[str, Any]) -> Problem | None:
    missing = [d for d, w in f.dimensions.items() if w > 0 and not any(k[1] == d for k in f.kpis)]
    if missing:
        return Problem("plan.dimension", f"มิติที่ยังไม่มีตัวชี้วัด: {missing}", f"dimensions without KPIs: {missing}")
    return None


def dimension_weights_100(f: AgencyFacts, p: Mapping[str, Any]) -> Problem | None:
    totals = {d: sum(k[2] for k in f.kpis if k[1] == d) for d in f.dimensions}
    bad = {d: t for d, t in totals.items() if t and t != 100}
    if bad:
        return Problem("plan.weight", f"น้ำหนักตัวชี้วัดในแต่ละมิติต้องรวมเท่ากับ 100: {bad}",
                       f"KPI weights within each dimension must sum to 100: {bad}")
    return None


def progress_on_every_kpi(f: AgencyFacts, p: Mapping[str, Any]) -> Problem | None:
    given = {x.get("kpi_id") for x in p.get("progress", ()) if str(x.get("progress") or "").strip()}
    ids = [k[0] for k in f.kpis]
    missing, unknown = [i for i in ids if i not in given], sorted(given - set(ids))
    if missing or unknown:
        return Problem("payload.progress", f"ต้องรายงานความก้าวหน้าทุกตัวชี้วัด (ขาด {missing}, ไม่รู้จัก {unknown})",
                       f"progress is needed on every KPI of the plan (missing {missing}, unknown {unknown})")
    return None


def level_for_every_kpi(f: AgencyFacts, p: Mapping[str, Any]) -> Problem | None:
    levels = p.get("levels") or {}
    ids = [k[0] for k in f.kpis]
    missing = [i for i in ids if i not in levels]
    unknown = sorted(set(levels) - set(ids))
    if missing or unknown:
        return Problem("payload.levels", f"ต้องให้ระดับ 1-5 ทุกตัวชี้วัด (ขาด {missing}, ไม่รู้จัก {unknown})",
                       f"a level 1-5 is needed for every KPI (missing {missing}, unknown {unknown})")
    return None


def comment_given(f: AgencyFacts, p: Mapping[str, Any]) -> Problem | None:
    if not str(p.get("comment") or "").strip():
        return Problem("comment", "ต้องระบุความเห็น", "a comment is required")
    return None


# --- the table -----------------------------------------------------------------------------------
T = [
    # event                 from            to              who may fire              guards
    row("edit_plan",        ["draft"],      None,           {"agency", "hr"},         [plan_dimensions_known]),
    row("agree_plan",       ["draft"],      "plan_agreed",  {"hr"},
        [plan_has_kpis, every_dimension_planned, dimension_weights_100]),
    row("submit_sar_6",     ["plan_agreed"], "sar_6",       {"agency"},               [progress_on_every_kpi]),
    row("submit_sar_9",     ["sar_6"],      "sar_9",        {"agency"},               [progress_on_every_kpi]),
    row("submit_sar_12",    ["sar_9"],      "sar_12",       {"agency"},               [progress_on_every_kpi]),
    row("evaluate",         ["sar_12"],     "evaluated",    {"hr"},                   [level_for_every_kpi]),
    row("return_evaluation", ["evaluated"], "sar_12",       {"committee"},            [comment_given]),
    row("review",           ["evaluated"],  "reviewed",     {"committee"},            []),
    row("announce",         ["reviewed"],   "announced",    {"authority"},            []),
]

MACHINE = WorkflowMachine("agency_assessment", STATES, "draft", T, final=FINAL_STATES)
