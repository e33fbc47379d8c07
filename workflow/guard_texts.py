"""What each guard of the machines checks, in Thai and English: the one place a guard gets its
label (the machines endpoint, the OpenAPI operations and the pages read it from here).

Keyed by the guard function's name as the machine tables hold it (``Row.guards``); the same
name means the same rule in every machine (``reason_given`` asks for a reason wherever it is).
"""
from __future__ import annotations

from typing import Any

GUARD_TEXTS: dict[str, tuple[str, str]] = {
    # appraisal
    "has_evaluator": ("แบบประเมินต้องมีผู้ประเมิน", "the appraisal has an evaluator"),
    "has_kpis": ("มีตัวชี้วัดอย่างน้อย 1 ตัว", "at least one KPI"),
    "weights_sum_100": ("น้ำหนักตัวชี้วัดรวมเท่ากับ 100", "the KPI weights sum to 100"),
    "competencies_set": ("กำหนดสมรรถนะแล้ว", "the competencies are set"),
    "signed_by_both": ("ผู้รับการประเมินและผู้ประเมินลงนามข้อตกลงฉบับปัจจุบันแล้ว",
                       "the appraisee and the evaluator signed the current agreement"),
    "kpis_scored": ("ให้ระดับตัวชี้วัดครบทุกตัว", "every KPI has a level"),
    "competencies_scored": ("ให้คะแนนสมรรถนะครบทุกตัว", "every competency has a score"),
    "development_plan_made": ("จัดทำแผนพัฒนารายบุคคลแล้ว", "an individual development plan is written"),
    "acknowledged_or_refused": ("ผู้รับการประเมินรับทราบผล หรือบันทึกการปฏิเสธพร้อมพยานแล้ว",
                                "the appraisee acknowledged, or a refusal was recorded before a witness"),
    "superior_opinion_given": ("ผู้บังคับบัญชาเหนือขึ้นไปให้ความเห็นแล้ว", "the superior above gave an opinion"),
    "second_opinion_given": ("ผู้บังคับบัญชาเหนือขึ้นไปอีกชั้นหนึ่งให้ความเห็นแล้ว (เมื่อนโยบายกำหนด)",
                             "the second superior above gave an opinion (where the policy has two levels)"),
    "comment_given": ("ระบุความเห็น (comment)", "a comment is given"),
    "reason_given": ("ระบุเหตุผล (reason)", "a reason is given"),
    "note_given": ("บันทึกผล (note)", "a note is given"),
    "witness_given": ("ระบุชื่อพยานที่ลงนาม (witness_name)", "the witness's name is given"),
    "opinion_valid": ("ความเห็นเป็น agree หรือ differ (differ ต้องมีคะแนนรวมและเหตุผล)",
                      "the opinion is agree or differ (differ with a total percent and a reason)"),
    "new_evaluator_given": ("ระบุผู้ประเมินคนใหม่ (evaluator_id)", "the new evaluator's id is given"),
    "not_signed_yet": ("ผู้ลงนามยังไม่ได้ลงนามข้อตกลงฉบับนี้", "the caller has not signed this agreement yet"),
    "not_acknowledged_yet": ("ยังไม่ได้รับทราบผล", "the result is not acknowledged yet"),
    "opinion_not_given_yet": ("ยังไม่ได้ให้ความเห็นในระดับนี้", "no opinion given yet at the caller's level"),
    # low-performer case
    "plan_written": ("วิเคราะห์จุดอ่อนและจัดทำแผนพัฒนารายบุคคลแล้ว",
                     "a weakness analysis and an individual development plan are written"),
    "plan_not_signed_yet": ("ผู้ลงนามยังไม่ได้เห็นชอบแผนฉบับนี้", "the caller has not agreed to this plan yet"),
    "plan_agreed_by_both": ("ผู้บังคับบัญชาและกลุ่มงานบริหารทรัพยากรบุคคลเห็นชอบแผนร่วมกัน",
                            "the supervisor and HR agree the plan jointly"),
    "commitment_not_signed_yet": ("ผู้ลงนามยังไม่ได้ลงนามคำมั่น", "the caller has not signed the commitment yet"),
    "earlier_than_training_settled": ("การสอนงานดำเนินการแล้ว หรือข้ามตามที่นโยบายอนุญาต",
                                      "coaching is done, or skipped where the policy allows"),
    "earlier_than_commitment_settled": ("มาตรการก่อนหน้าดำเนินการแล้ว หรือข้ามตามที่นโยบายอนุญาต",
                                        "the earlier measures are done, or skipped where the policy allows"),
    "all_measures_settled": ("ทุกมาตรการดำเนินการแล้ว หรือข้ามตามที่นโยบายอนุญาต",
                             "every measure is done, or skipped where the policy allows"),
    "enough_measures_done": ("ดำเนินการครบจำนวนมาตรการขั้นต่ำตามนโยบาย",
                             "at least the policy's minimum number of measures are done"),
    "measure_named": ("ระบุมาตรการ: coaching, training หรือ commitment",
                      "the measure is coaching, training or commitment"),
    "status_change_valid": ("สถานะใหม่ถูกต้อง (ดำเนินการแล้วต้องมีหลักฐาน คำมั่นต้องลงนามครบ)",
                            "the new status is valid (done needs evidence; the commitment both signatures)"),
    "skip_allowed": ("นโยบายอนุญาตให้ข้ามมาตรการนี้", "the policy allows skipping this measure"),
    "evidence_given": ("แนบไฟล์หรือบันทึกหลักฐาน", "a file or a note is given as evidence"),
    "result_not_low": ("ผลรอบถัดไปไม่ต่ำกว่าเกณฑ์", "the follow-up result is not low"),
    "low_below_limit": ("ผลรอบถัดไปต่ำ แต่ยังไม่ครบจำนวนรอบที่ต้องเสนอพิจารณา",
                        "the follow-up result is low, below the rounds that escalate"),
    "low_reaches_limit": ("ผลต่ำติดต่อกันครบจำนวนรอบที่นโยบายกำหนด",
                          "the low rounds in a row reach the policy's limit"),
}


def guard_name(guard: Any) -> str:
    return getattr(guard, "__name__", "guard")


def guard_text(guard: Any) -> tuple[str, str]:
    """(Thai, English) for a guard; an unlabelled guard shows its name (and a test fails)."""
    name = guard_name(guard)
    return GUARD_TEXTS.get(name, (name, name))
