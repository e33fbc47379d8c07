"""The low-performer case's inbox messages come from templates beside the reminder ones, in
the recipient's language."""
from __future__ import annotations

from workflow.notifications.render import TEMPLATES, render_text

RULE = ("กฎ ก.พ. ... พ.ศ. 2552", "the OCSC rule of 2009 on removal for inefficiency")


def test_case_messages_are_templates_in_both_languages():
    for name in ("case_opened", "case_escalated"):
        assert (TEMPLATES / f"{name}.th.txt").exists() and (TEMPLATES / f"{name}.en.txt").exists()
    subject, body = render_text("case_opened", "th", {"name": "สมชาย", "code": "P1", "total_percent": "58.80"})
    assert subject == "เปิดกรณีผู้มีผลการปฏิบัติงานต่ำ: สมชาย"
    assert "ร้อยละ 58.80" in body and "(P1)" in body
    subject, body = render_text("case_opened", "en", {"name": "สมชาย", "code": "P1", "total_percent": "58.80"})
    assert subject == "Low-performer case opened: สมชาย" and "58.80%" in body
    context = {"name": "<b>", "code": "P2", "rounds": 2, "rule_th": RULE[0], "rule_en": RULE[1]}
    subject, body = render_text("case_escalated", "th", context)
    assert subject == "เสนอพิจารณา: <b> มีผลการปฏิบัติงานต่ำ 2 รอบติดต่อกัน"  # plain text: nothing escaped
    assert "พ.ศ. 2552" in body and "ไม่ได้ตัดสินใจแทน" in body
    subject, body = render_text("case_escalated", "en", context)
    assert subject.startswith("Flagged: <b>") and "the system decides nothing" in body and RULE[1] in body
