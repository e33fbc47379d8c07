"""The appraisal: one per person per round. The table below *is* the specification.

States follow DOMAIN.md; rows whose dest is None are recorded actions that keep the state
(signing, scoring, notes...), so every change to an appraisal goes through one path.
Roles are relative to the appraisal: the caller is its `appraisee`, `evaluator`, `superior`
(above; also the one above that, where the policy asks for two levels), a `committee` member of its organisation (never for their own), its organisation's
`hr` or `authority`, an `admin`, or the `system` (scheduled jobs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from workflow.errors import Problem
from workflow.machines.base import WorkflowMachine, row

STATES = ["draft", "agreed", "monitored", "evaluated", "committee_review", "reviewed",
          "announced", "withdrawn"]
OPEN_STATES = ["draft", "agreed", "monitored", "evaluated", "committee_review", "reviewed"]
FINAL_STATES = ["announced", "withdrawn"]


@dataclass(frozen=True)
class AppraisalFacts:
    """What the guards may look at: a snapshot of the appraisal, loaded by the engine."""

    evaluator_id: int | None = None
    kpi_weights: tuple[int, ...] = ()
    kpi_levels: tuple[int | None, ...] = ()
    competency_scores: tuple[int | None, ...] = ()
    # roles ("appraisee", "evaluator") that signed the current agreement revision
    agreement_signed_by: frozenset[str] = frozenset()
    development_plan: str = ""
    acknowledged: bool = False
    refused_with_witness: bool = False
    superior_opinion: str | None = None
    # Where the policy has two levels: the second superior above's opinion (None: not given).
    second_opinion_required: bool = False
    superior2_opinion: str | None = None
    # The caller's roles on the appraisal and the opinion already given at the caller's level:
    # an event that would change nothing (a second signature, acknowledgment or opinion) fails.
    caller_roles: frozenset[str] = frozenset()
    caller_opinion: str | None = None


# --- guards: pure, each returns the broken rule or None ------------------------------------------
def has_evaluator(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if f.evaluator_id is None:
        return Problem("evaluator", "ยังไม่มีผู้ประเมิน", "the appraisal has no evaluator")
    return None


def has_kpis(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if not f.kpi_weights:
        return Problem("kpis", "ต้องมีตัวชี้วัดอย่างน้อย 1 ตัว", "at least one KPI is required")
    return None


def weights_sum_100(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    total = sum(f.kpi_weights)
    if total != 100:
        return Problem("kpis.weight", f"น้ำหนักตัวชี้วัดรวมต้องเท่ากับ 100 (ได้ {total})",
                       f"KPI weights must sum to 100 (got {total})")
    return None


def competencies_set(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if not f.competency_scores:
        return Problem("competencies", "ต้องกำหนดสมรรถนะ", "competencies must be set")
    return None


def signed_by_both(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    missing = {"appraisee", "evaluator"} - f.agreement_signed_by
    if missing:
        names = {"appraisee": "ผู้รับการประเมิน", "evaluator": "ผู้ประเมิน"}
        return Problem("signatures", "ยังไม่ได้ลงนาม: " + ", ".join(names[m] for m in sorted(missing)),
                       "not yet signed by: " + ", ".join(sorted(missing)))
    return None


def not_signed_yet(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if f.caller_roles & {"appraisee", "evaluator"} <= f.agreement_signed_by:
        return Problem("signatures", "ท่านลงนามข้อตกลงฉบับนี้แล้ว", "you have already signed this agreement")
    return None


def not_acknowledged_yet(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if f.acknowledged:
        return Problem("acknowledgment", "รับทราบผลการประเมินแล้ว", "the result is already acknowledged")
    return None


def opinion_not_given_yet(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if f.caller_opinion is not None:
        return Problem("opinion", "ท่านให้ความเห็นต่อผลการประเมินนี้แล้ว",
                       "you have already given your opinion on this result")
    return None


def kpis_scored(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    missing = [i for i, lv in enumerate(f.kpi_levels) if lv is None]
    if missing or not f.kpi_levels:
        return Problem("kpis.level", f"ยังไม่ได้ให้ระดับตัวชี้วัดลำดับที่ {[i + 1 for i in missing]}",
                       f"KPIs not scored: {[i + 1 for i in missing]}")
    return None


def competencies_scored(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    missing = [i for i, s in enumerate(f.competency_scores) if s is None]
    if missing or not f.competency_scores:
        return Problem("competencies.score", f"ยังไม่ได้ให้คะแนนสมรรถนะลำดับที่ {[i + 1 for i in missing]}",
                       f"competencies not scored: {[i + 1 for i in missing]}")
    return None


def development_plan_made(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if not f.development_plan.strip():
        return Problem("development_plan", "ต้องจัดทำแผนพัฒนารายบุคคล",
                       "an individual development plan is required")
    return None


def acknowledged_or_refused(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if not (f.acknowledged or f.refused_with_witness):
        return Problem("acknowledgment", "ผู้รับการประเมินยังไม่รับทราบผล (หรือบันทึกการปฏิเสธพร้อมพยาน)",
                       "the appraisee has not acknowledged (nor refused before a witness)")
    return None


def superior_opinion_given(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if f.superior_opinion is None:
        return Problem("superior_opinion", "ผู้บังคับบัญชาเหนือขึ้นไปยังไม่ให้ความเห็น",
                       "the superior above has not given an opinion")
    return None


def second_opinion_given(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if f.second_opinion_required and f.superior2_opinion is None:
        return Problem("superior2_opinion", "ผู้บังคับบัญชาเหนือขึ้นไปอีกชั้นหนึ่งยังไม่ให้ความเห็น",
                       "the superior above the superior above has not given an opinion")
    return None


def _text(p: Mapping[str, Any], key: str) -> str:
    value = p.get(key)
    return value.strip() if isinstance(value, str) else ""


def comment_given(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if not _text(p, "comment"):
        return Problem("comment", "ต้องระบุความเห็น", "a comment is required")
    return None


def reason_given(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if not _text(p, "reason"):
        return Problem("reason", "ต้องระบุเหตุผล", "a reason is required")
    return None


def note_given(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if not _text(p, "note"):
        return Problem("note", "ต้องบันทึกผลการติดตาม", "a progress note is required")
    return None


def witness_given(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if not _text(p, "witness_name"):
        return Problem("witness_name", "ต้องระบุชื่อพยานที่ลงนาม", "the name of the witness who signs is required")
    return None


def opinion_valid(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    opinion = p.get("opinion")
    if opinion == "agree":
        return None
    if opinion == "differ":
        total = p.get("total_percent")
        ok = isinstance(total, (int, float, str)) and _is_percent(total)
        if not ok or not _text(p, "reason"):
            return Problem("total_percent", "หากเห็นต่าง ต้องให้คะแนนรวม (0-100) และเหตุผล",
                           "differing needs a total percent (0-100) and a reason")
        return None
    return Problem("opinion", "ความเห็นต้องเป็น agree หรือ differ", "opinion must be 'agree' or 'differ'")


def _is_percent(value: Any) -> bool:
    try:
        return 0 <= float(value) <= 100
    except (TypeError, ValueError):
        return False


def new_evaluator_given(f: AppraisalFacts, p: Mapping[str, Any]) -> Problem | None:
    if not isinstance(p.get("evaluator_id"), int) or isinstance(p.get("evaluator_id"), bool):
        return Problem("evaluator_id", "ต้องระบุผู้ประเมินคนใหม่", "the new evaluator's id is required")
    return None


# --- the table -----------------------------------------------------------------------------------
AGREEING = ["draft"]
RUNNING = ["agreed", "monitored"]
T = [
    # event                 from                      to                  who may fire                   guards
    row("edit_agreement",   ["draft"],                None,               {"evaluator", "appraisee"},   []),
    row("sign_agreement",   ["draft", *RUNNING],      None,               {"evaluator", "appraisee"},
        [has_evaluator, has_kpis, weights_sum_100, competencies_set, not_signed_yet]),
    row("agree",            ["draft"],                "agreed",           {"evaluator", "appraisee"},
        [has_evaluator, has_kpis, weights_sum_100, competencies_set, signed_by_both]),
    row("change_kpis",      RUNNING,                  None,               {"evaluator"},                [reason_given]),
    row("review_progress",  ["agreed"],               "monitored",        {"evaluator"},                [note_given]),
    row("mid_round_passed", ["agreed"],               "monitored",        {"system"},                   []),
    row("add_progress_note", ["monitored"],           None,               {"evaluator", "appraisee"},   [note_given]),
    row("score",            ["monitored", "evaluated"], None,             {"evaluator"},                []),
    row("evaluate",         ["monitored"],            "evaluated",        {"evaluator"},
        [signed_by_both, kpis_scored, competencies_scored, development_plan_made]),
    row("acknowledge",      ["evaluated"],            None,               {"appraisee"},                [not_acknowledged_yet]),
    row("record_refusal",   ["evaluated"],            None,               {"evaluator"},                [witness_given]),
    row("give_opinion",     ["evaluated"],            None,               {"superior"},
        [opinion_valid, opinion_not_given_yet]),
    row("submit",           ["evaluated"],            "committee_review", {"evaluator", "hr"},
        [kpis_scored, competencies_scored, acknowledged_or_refused, superior_opinion_given,
         second_opinion_given]),
    row("endorse",          ["committee_review"],     "reviewed",         {"committee"},                []),
    row("return_to_evaluator", ["committee_review"],  "evaluated",        {"committee"},                [comment_given]),
    row("announce",         ["reviewed"],             "announced",        {"authority"},                []),
    row("hand_over",        OPEN_STATES,              None,               {"hr", "admin"},              [new_evaluator_given, reason_given]),
    row("withdraw",         OPEN_STATES,              "withdrawn",        {"hr", "admin"},              [reason_given]),
]

MACHINE = WorkflowMachine("appraisal", STATES, "draft", T, final=FINAL_STATES)


def available_events(state: str, roles: set[str] | frozenset[str]) -> list[str]:
    """The events a caller holding these roles on an appraisal in this state may fire now."""
    return MACHINE.allowed(state, roles)
