"""What people read for each code: states, events, measures, measure statuses, roles, actions
and milestones, in Thai and English (pure data). Pages, reports, notifications and case views
all take their words from here; `tests/test_labels.py` checks every machine's states and events
have both.
"""
from __future__ import annotations

from typing import Mapping

Label = tuple[str, str]  # (Thai, English)

STATES: dict[str, Label] = {
    # appraisal
    "draft": ("จัดทำข้อตกลง", "Drafting the agreement"),
    "agreed": ("ลงนามข้อตกลงแล้ว", "Agreement signed"),
    "monitored": ("ระหว่างติดตามผล", "Monitoring"),
    "evaluated": ("ประเมินแล้ว", "Evaluated"),
    "committee_review": ("คณะกรรมการกลั่นกรอง", "Committee review"),
    "reviewed": ("ผ่านการกลั่นกรองแล้ว", "Reviewed by the committee"),
    "announced": ("ประกาศผลแล้ว", "Announced"),
    "withdrawn": ("ถอนการประเมิน", "Withdrawn"),
    # low-performer case
    "opened": ("เปิดกรณี", "Case opened"),
    "plan_agreed": ("จัดทำแผนพัฒนาแล้ว", "Development plan agreed"),
    "coaching": ("การสอนงาน", "Coaching"),
    "training": ("การอบรม/พัฒนา", "Training"),
    "commitment": ("จัดทำคำมั่น", "Written commitment"),
    "re_evaluation": ("ประเมินติดตามผล", "Follow-up evaluation"),
    "closed_improved": ("ปิดกรณี (ผลดีขึ้น)", "Closed: improved"),
    "escalated": ("เสนอพิจารณาดำเนินการ", "Escalated for action"),
    # agency assessment (seed 004): the self-assessment reports at 6, 9 and 12 months
    "sar_6": ("รายงานรอบ 6 เดือนแล้ว", "6-month self-assessment reported"),
    "sar_9": ("รายงานรอบ 9 เดือนแล้ว", "9-month self-assessment reported"),
    "sar_12": ("รายงานรอบ 12 เดือนแล้ว", "12-month self-assessment reported"),
}

EVENTS: dict[str, Label] = {
    # appraisal
    "open": ("เปิดการประเมิน", "Opened"),
    "edit_agreement": ("บันทึกข้อตกลง", "Save the agreement"),
    "sign_agreement": ("ลงนามข้อตกลง", "Sign the agreement"),
    "agree": ("ยืนยันข้อตกลง", "Confirm the agreement"),
    "change_kpis": ("เปลี่ยนตัวชี้วัดระหว่างรอบ", "Change KPIs mid-round"),
    "review_progress": ("ติดตามผลครึ่งรอบ", "Mid-round review"),
    "mid_round_passed": ("ถึงกำหนดติดตามผลครึ่งรอบ", "Mid-round date passed"),
    "add_progress_note": ("บันทึกความก้าวหน้า", "Add a progress note"),
    "score": ("บันทึกคะแนน", "Save scores"),
    "evaluate": ("สรุปผลการประเมิน", "Finish the evaluation"),
    "acknowledge": ("รับทราบผลการประเมิน", "Acknowledge the result"),
    "record_refusal": ("บันทึกการไม่ลงนามรับทราบ (มีพยาน)", "Record a refusal with a witness"),
    "give_opinion": ("ให้ความเห็นของผู้บังคับบัญชาเหนือขึ้นไป", "Give the superior's opinion"),
    "submit": ("เสนอคณะกรรมการกลั่นกรอง", "Submit to the committee"),
    "endorse": ("เห็นชอบ", "Endorse"),
    "return_to_evaluator": ("ส่งคืนผู้ประเมิน", "Return to the evaluator"),
    "announce": ("อนุมัติและประกาศผล", "Approve and announce"),
    "hand_over": ("โอนให้ผู้ประเมินคนใหม่", "Hand over to another evaluator"),
    "withdraw": ("ถอนการประเมิน", "Withdraw"),
    # low-performer case
    "opened": ("เปิดกรณี", "Case opened"),
    "edit_plan": ("บันทึกแผน", "Save the plan"),
    "sign_plan": ("ลงนามแผนพัฒนา", "Sign the plan"),
    "agree_plan": ("เห็นชอบแผนพัฒนา", "Agree the plan"),
    "begin_coaching": ("เริ่มการสอนงาน", "Begin coaching"),
    "begin_training": ("เริ่มการอบรม/พัฒนา", "Begin training"),
    "begin_commitment": ("เริ่มจัดทำคำมั่น", "Begin the commitment"),
    "update_measure": ("ปรับสถานะมาตรการ", "Update a measure"),
    "skip_measure": ("ไม่ดำเนินมาตรการ (ตามนโยบาย)", "Skip a measure"),
    "add_evidence": ("แนบหลักฐาน", "Add evidence"),
    "sign_commitment": ("ลงนามคำมั่น", "Sign the commitment"),
    "start_re_evaluation": ("เริ่มประเมินติดตามผล", "Start the follow-up evaluation"),
    "record_follow_up": ("บันทึกผลการติดตาม", "Record the follow-up"),
    "close_improved": ("ปิดกรณี: ผลดีขึ้น", "Close: improved"),
    "still_low": ("ผลยังต่ำ", "Still low"),
    "escalate": ("เสนอพิจารณาดำเนินการ", "Escalate"),
    "record_decision": ("บันทึกผลการพิจารณา", "Record the decision"),
    # agency assessment
    "submit_sar_6": ("ส่งรายงานการประเมินตนเองรอบ 6 เดือน", "Submit the 6-month self-assessment"),
    "submit_sar_9": ("ส่งรายงานการประเมินตนเองรอบ 9 เดือน", "Submit the 9-month self-assessment"),
    "submit_sar_12": ("ส่งรายงานการประเมินตนเองรอบ 12 เดือน", "Submit the 12-month self-assessment"),
    "review": ("กลั่นกรองผลการประเมิน", "Review the result"),
    "return_evaluation": ("ส่งผลการประเมินกลับไปทบทวน", "Return the evaluation"),
}

# The low-performer measures (seed 001's report form) and their statuses.
MEASURES: dict[str, Label] = {
    "coaching": ("การสอนงาน", "coaching"),
    "training": ("การอบรม/พัฒนา", "training"),
    "commitment": ("คำมั่นในการพัฒนาปรับปรุงตนเอง", "written commitment"),
    "job_assignment": ("การมอบหมายงาน", "job assignment"),  # Nonthaburi 2.2 (seed 002)
    "job_rotation": ("การหมุนเวียนงาน", "job rotation"),
}
MEASURE_STATUSES: dict[str, Label] = {
    "not_started": ("ยังไม่ได้ดำเนินการ", "not started"),
    "in_progress": ("ระหว่างดำเนินการ", "in progress"),
    "done": ("ดำเนินการแล้ว", "done"),
    "skipped": ("ไม่ต้องดำเนินการ (ตามนโยบาย)", "skipped (as the policy allows)"),
}

ROLES: dict[str, Label] = {
    "appraisee": ("ผู้รับการประเมิน", "Appraisee"),
    "evaluator": ("ผู้ประเมิน", "Evaluator"),
    "superior": ("ผู้บังคับบัญชาเหนือขึ้นไป", "Superior above"),
    "committee": ("คณะกรรมการกลั่นกรอง", "Screening committee"),
    "hr": ("เจ้าหน้าที่บริหารทรัพยากรบุคคล", "HR officer"),
    "authority": ("ผู้มีอำนาจ", "Authority"),
    "admin": ("ผู้ดูแลระบบ", "Administrator"),
    "supervisor": ("ผู้บังคับบัญชา", "Supervisor"),
    "system": ("ระบบ", "System"),
    "agency": ("ส่วนราชการผู้รับการประเมิน", "Assessed agency"),
}

# What a person must do next (`workflow.notifications.pending` action codes): reminders and My tasks.
ACTIONS: dict[str, Label] = {
    "sign_agreement": ("ลงนามข้อตกลงการปฏิบัติราชการ", "Sign the performance agreement"),
    "confirm_agreement": ("ยืนยันข้อตกลงที่ลงนามครบแล้ว", "Confirm the signed agreement"),
    "assign_evaluator": ("กำหนดผู้ประเมิน", "Assign an evaluator"),
    "mid_round_review": ("ติดตามผลการปฏิบัติงานระหว่างรอบ", "Hold the mid-round review"),
    "score": ("ประเมินผลและให้คะแนน", "Score the appraisal"),
    "acknowledge": ("รับทราบผลการประเมิน", "Acknowledge the result"),
    "give_opinion": ("ให้ความเห็นของผู้บังคับบัญชาเหนือขึ้นไป", "Give the superior's opinion"),
    "submit": ("ส่งผลการประเมินให้คณะกรรมการกลั่นกรอง", "Submit to the screening committee"),
    "committee_review": ("พิจารณากลั่นกรองผลการประเมิน", "Review for the screening committee"),
    "announce": ("อนุมัติและประกาศผลการประเมิน", "Approve and announce the result"),
    "round_report": ("ส่งรายงานผลการดำเนินการต่อหน่วยงานต้นสังกัด", "Send the round report upward"),
    "case_measure": ("ดำเนินมาตรการพัฒนาผู้มีผลการปฏิบัติงานต่ำให้ครบ", "Complete the low-performer measures"),
    "submit_sar": ("ส่งรายงานการประเมินตนเอง (SAR) ของส่วนราชการ", "Submit the agency's self-assessment report (SAR)"),
}

# An agency assessment's SAR milestones (Thai: `machines.agency_assessment.MILESTONE_TH`, the same words).
AGENCY_MILESTONES: dict[str, Label] = {
    "sar_6": ("รายงานการประเมินตนเอง (SAR) รอบ 6 เดือน", "Self-assessment report (SAR) at 6 months"),
    "sar_9": ("รายงานการประเมินตนเอง (SAR) รอบ 9 เดือน", "Self-assessment report (SAR) at 9 months"),
    "sar_12": ("รายงานการประเมินตนเอง (SAR) รอบ 12 เดือน", "Self-assessment report (SAR) at 12 months"),
}

# Milestones in a few words (report column headings; the policy carries their full names).
MILESTONES_SHORT: dict[str, Label] = {
    "agreement_signed": ("ลงนามข้อตกลง", "agreement"),
    "mid_round_review": ("ติดตามระหว่างรอบ", "mid-round review"),
    "evaluation_submitted": ("ส่งผลประเมิน", "evaluation"),
    "committee_review_done": ("กลั่นกรอง", "committee review"),
    "results_announced": ("ประกาศผล", "announcement"),
    "low_performer_report": ("รายงานผู้มีผลต่ำ", "low-performer report"),
}


def label(table: Mapping[str, Label], code: str | None, locale: str = "th") -> str:
    """The code's label in the locale ("en", else Thai); the code itself when it has none."""
    pair = table.get(code or "")
    if pair is None:
        return code or ""
    return pair[1] if locale == "en" else pair[0]


def thai(table: Mapping[str, Label]) -> dict[str, str]:
    """The Thai half of a table (code -> Thai)."""
    return {code: th for code, (th, _) in table.items()}


# Thai only, as the case's guards and the OCSC forms write them.
MEASURE_TH = thai(MEASURES)
STATUS_TH = thai(MEASURE_STATUSES)
STATE_TH = thai(STATES)
