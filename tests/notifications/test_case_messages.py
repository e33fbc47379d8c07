"""The low-performer case's inbox messages come from templates beside the reminder ones."""
from __future__ import annotations

from decimal import Decimal

from workflow.notifications.render import TEMPLATES, bilingual_message


def test_case_messages_are_templates_in_both_languages():
    for name in ("case_opened", "case_escalated"):
        assert (TEMPLATES / f"{name}.th.txt").exists() and (TEMPLATES / f"{name}.en.txt").exists()
    subject, body = bilingual_message("case_opened", {"name": "สมชาย", "code": "P1", "total": Decimal("58.80")})
    assert subject == "เปิดกรณีผู้มีผลการปฏิบัติงานต่ำ: สมชาย / Low-performer case opened: สมชาย"
    th, en = body.split("\n")
    assert "ร้อยละ 58.80" in th and "(P1)" in th and en.startswith("สมชาย's result (58.80%)")
    subject, body = bilingual_message("case_escalated", {"name": "<b>", "code": "P2", "rounds": 2})
    assert subject.startswith("เสนอพิจารณา: <b> มีผลการปฏิบัติงานต่ำ 2 รอบติดต่อกัน / Flagged: 2")
    assert "พ.ศ. 2552" in body and "the system decides nothing" in body  # plain text: nothing escaped
