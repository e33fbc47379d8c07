"""The low-performer case: one per person per triggering round. The table below *is* the
specification (DOMAIN.md "The low-performer case"; seed 001's report form for the measures).

opened -> plan_agreed (weakness analysis + individual development plan, by the agency with HR)
       -> coaching (การสอนงาน) -> training (อบรม/พัฒนา)
       -> commitment (คำมั่นในการพัฒนาปรับปรุงตนเอง, signed by the appraisee and the supervisor)
       -> re_evaluation (the follow-up evaluation; the next round's appraisal is linked to it)
       -> closed_improved | escalated.

Each measure has a status: not_started / in_progress / done (done needs evidence: a file or a
note) / skipped (only a measure the policy lists in ``low_performer.skippable``, with a reason).
A phase may be entered only when every earlier measure is settled (done or skipped); the
follow-up evaluation needs at least ``low_performer.min_measures`` measures done.

The next round's announced result moves the case (the `system` fires it): not low ->
``closed_improved``; low again -> ``still_low`` (one more consecutive low round) or, once the
count reaches ``escalate_after_rounds``, ``escalated`` (flagged; people decide: the authority or
HR records the decision with ``record_decision``).

Roles are relative to the case: `hr` (its organisation's subtree), `supervisor` (the
appraisee's evaluator), `appraisee`, `authority`, `system`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from workflow.errors import Problem
from workflow.labels import MEASURE_TH
from workflow.machines.base import WorkflowMachine, row

STATES = ["opened", "plan_agreed", "coaching", "training", "commitment", "re_evaluation",
          "closed_improved", "escalated"]
OPEN_STATES = ["opened", "plan_agreed", "coaching", "training", "commitment", "re_evaluation"]
FINAL_STATES = ["closed_improved", "escalated"]
MEASURES = ("coaching", "training", "commitment")  # in the order the phases run
MEASURE_STATUSES = ("not_started", "in_progress", "done", "skipped")
SETTLED = ("done", "skipped")


@dataclass(frozen=True)
class CaseRules:
    """The policy's low-performer rule, as the guards need it (copied from Policy.low_performer)."""

    measures: tuple[str, ...] = MEASURES
    min_measures: int = 1
    skippable: tuple[str, ...] = ()
    escalate_after_rounds: int = 2


@dataclass(frozen=True)
class CaseFacts:
    """A snapshot of the case, loaded by the engine, with the policy's rule."""

    rules: CaseRules = CaseRules()
    measures: Mapping[str, str] = field(default_factory=dict)  # kind -> status
    evidence: Mapping[str, int] = field(default_factory=dict)  # kind -> number of evidence items
    commitment_signed_by: frozenset[str] = frozenset()  # {"appraisee", "supervisor"}
    weakness_analysis: str = ""
    development_plan: str = ""
    consecutive_low_rounds: int = 1


def _text(p: Mapping[str, Any], key: str) -> str:
    value = p.get(key)
    return value.strip() if isinstance(value, str) else ""


# --- guards: pure, each returns the broken rule or None ------------------------------------------
def plan_written(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    missing = [k for k in ("weakness_analysis", "development_plan") if not (_text(p, k) or getattr(f, k).strip())]
    if missing:
        return Problem(missing[0], "ต้องวิเคราะห์จุดอ่อนและจัดทำแผนพัฒนารายบุคคล",
                       "a weakness analysis and an individual development plan are required")
    return None


def _earlier_settled(measure: str):
    def guard(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
        earlier = MEASURES[:MEASURES.index(measure)]
        open_ = [m for m in earlier if f.measures.get(m, "not_started") not in SETTLED]
        if open_:
            return Problem(f"measures.{open_[0]}",
                           f"ต้องดำเนินการ{MEASURE_TH[open_[0]]}ให้แล้วเสร็จ หรือข้ามตามที่นโยบายอนุญาตก่อน",
                           f"{open_[0]} must be done, or skipped where the policy allows, first")
        return None

    guard.__name__ = f"earlier_than_{measure}_settled"
    return guard


def all_measures_settled(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    open_ = [m for m in MEASURES if f.measures.get(m, "not_started") not in SETTLED]
    if open_:
        return Problem(f"measures.{open_[0]}", "ทุกมาตรการต้องดำเนินการแล้ว หรือข้ามตามที่นโยบายอนุญาต",
                       f"every measure must be done or skipped first (open: {', '.join(open_)})")
    return None


def enough_measures_done(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    done = sum(1 for m in MEASURES if f.measures.get(m) == "done")
    if done < f.rules.min_measures:
        return Problem("measures", f"ต้องดำเนินการอย่างน้อย {f.rules.min_measures} มาตรการ (ทำแล้ว {done})",
                       f"at least {f.rules.min_measures} measure(s) must be done (done: {done})")
    return None


def measure_named(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    if p.get("measure") not in MEASURES:
        return Problem("measure", "มาตรการต้องเป็น coaching, training หรือ commitment",
                       "measure must be one of coaching, training, commitment")
    return None


def status_change_valid(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    """A measure's status moves among not_started / in_progress / done; done needs evidence, and
    the commitment needs both signatures; a skipped measure stays skipped."""
    measure, status = p.get("measure"), p.get("status")
    if measure not in MEASURES:
        return None  # measure_named reports it
    if status not in ("not_started", "in_progress", "done"):
        return Problem("status", "สถานะต้องเป็น not_started, in_progress หรือ done (การข้ามใช้ skip_measure)",
                       "status must be not_started, in_progress or done (skipping is skip_measure)")
    if f.measures.get(measure) == "skipped":
        return Problem("status", f"{MEASURE_TH[measure]} ถูกข้ามแล้ว", f"{measure} was skipped")
    if status == "done":
        if not f.evidence.get(measure) and not _text(p, "note"):
            return Problem("evidence", f"ต้องมีหลักฐานการดำเนินการ{MEASURE_TH[measure]} (ไฟล์หรือบันทึก)",
                           f"{measure} done needs evidence (an uploaded file or a note)")
        if measure == "commitment":
            missing = {"appraisee", "supervisor"} - f.commitment_signed_by
            if missing:
                return Problem("signatures", "คำมั่นต้องลงนามโดยผู้รับการประเมินและผู้บังคับบัญชา",
                               "the commitment must be signed by the appraisee and the supervisor "
                               f"(missing: {', '.join(sorted(missing))})")
    return None


def skip_allowed(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    measure = p.get("measure")
    if measure not in MEASURES:
        return None
    if measure not in f.rules.skippable:
        return Problem("measure", f"นโยบายไม่อนุญาตให้ข้าม{MEASURE_TH[measure]}",
                       f"the policy does not allow skipping {measure}")
    if f.measures.get(measure) == "done":
        return Problem("measure", f"{MEASURE_TH[measure]} ดำเนินการแล้ว", f"{measure} is already done")
    remaining = sum(1 for m in MEASURES if m != measure and f.measures.get(m) != "skipped")
    if remaining < f.rules.min_measures:
        return Problem("measure", f"ต้องเหลืออย่างน้อย {f.rules.min_measures} มาตรการ",
                       f"at least {f.rules.min_measures} measure(s) must remain")
    return None


def reason_given(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    if not _text(p, "reason"):
        return Problem("reason", "ต้องระบุเหตุผล", "a reason is required")
    return None


def note_given(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    if not _text(p, "note"):
        return Problem("note", "ต้องบันทึกผล", "a note is required")
    return None


def evidence_given(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    if not (p.get("evidence_id") or _text(p, "note")):
        return Problem("evidence", "ต้องแนบไฟล์หรือบันทึกหลักฐาน", "a file or a note is required")
    return None


def result_not_low(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    if p.get("low") is not False:
        return Problem("low", "ผลการประเมินรอบถัดไปยังต่ำกว่าเกณฑ์", "the follow-up result is still low")
    return None


def low_below_limit(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    if p.get("low") is not True:
        return Problem("low", "ผลการประเมินรอบถัดไปไม่ต่ำกว่าเกณฑ์", "the follow-up result is not low")
    if f.consecutive_low_rounds + 1 >= f.rules.escalate_after_rounds:
        return Problem("consecutive_low_rounds", "ครบจำนวนรอบที่ต้องเสนอพิจารณาดำเนินการ",
                       "the consecutive low rounds reach the policy's limit: escalate")
    return None


def low_reaches_limit(f: CaseFacts, p: Mapping[str, Any]) -> Problem | None:
    if p.get("low") is not True:
        return Problem("low", "ผลการประเมินรอบถัดไปไม่ต่ำกว่าเกณฑ์", "the follow-up result is not low")
    if f.consecutive_low_rounds + 1 < f.rules.escalate_after_rounds:
        return Problem("consecutive_low_rounds",
                       f"ยังไม่ครบ {f.rules.escalate_after_rounds} รอบติดต่อกัน",
                       f"fewer than {f.rules.escalate_after_rounds} consecutive low rounds")
    return None


# --- the table -----------------------------------------------------------------------------------
PEOPLE = {"hr", "supervisor"}
MEASURING = ["plan_agreed", "coaching", "training", "commitment"]
T = [
    # event                 from                          to                 who may fire              guards
    row("edit_plan",         OPEN_STATES[:-1],            None,              PEOPLE,                   []),
    row("agree_plan",        ["opened"],                  "plan_agreed",     PEOPLE,                   [plan_written]),
    row("begin_coaching",    ["plan_agreed"],             "coaching",        PEOPLE,                   []),
    row("begin_training",    ["plan_agreed", "coaching"], "training",        PEOPLE,
        [_earlier_settled("training")]),
    row("begin_commitment",  ["plan_agreed", "coaching", "training"], "commitment", PEOPLE,
        [_earlier_settled("commitment")]),
    row("update_measure",    MEASURING,                   None,              PEOPLE,
        [measure_named, status_change_valid]),
    row("skip_measure",      MEASURING,                   None,              PEOPLE,
        [measure_named, skip_allowed, reason_given]),
    row("add_evidence",      OPEN_STATES,                 None,              PEOPLE | {"appraisee"}, [evidence_given]),
    row("sign_commitment",   ["commitment"],              None,              {"appraisee", "supervisor"}, []),
    row("start_re_evaluation", MEASURING,                 "re_evaluation",   PEOPLE,
        [all_measures_settled, enough_measures_done]),
    row("record_follow_up",  ["re_evaluation"],           None,              PEOPLE,                   [note_given]),
    # The next round's announced result (fired by the system in the appraisal's transaction).
    row("close_improved",    OPEN_STATES,                 "closed_improved", {"system"},               [result_not_low]),
    row("still_low",         OPEN_STATES,                 None,              {"system"},               [low_below_limit]),
    row("escalate",          OPEN_STATES,                 "escalated",       {"system"},               [low_reaches_limit]),
    # The system flags; people decide (e.g. removal for inefficiency under the OCSC rule of 2009).
    row("record_decision",   ["escalated"],               None,              {"authority", "hr"},      [note_given]),
]

MACHINE = WorkflowMachine("case", STATES, "opened", T, final=FINAL_STATES)


def available_events(state: str, roles: set[str] | frozenset[str]) -> list[str]:
    return MACHINE.allowed(state, roles)
