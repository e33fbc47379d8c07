"""The five OCSC core competencies every appraisal starts with (code, Thai, English), and the
rows a new appraisal gets: each competency expects the level the policy sets for the person's
position level (`Policy.expected_competency_level`)."""

CORE_COMPETENCIES = (
    ("achievement", "การมุ่งผลสัมฤทธิ์", "Achievement motivation"),
    ("service_mind", "การบริการที่ดี", "Service mind"),
    ("expertise", "การสั่งสมความเชี่ยวชาญในงานอาชีพ", "Expertise"),
    ("integrity", "การยึดมั่นในความถูกต้องชอบธรรมและจริยธรรม", "Integrity"),
    ("teamwork", "การทำงานเป็นทีม", "Teamwork"),
)


def opening_rows(appraisal_id: int, expected_level: int) -> list[dict]:
    """The core competency rows of a new appraisal, each expecting `expected_level`."""
    return [dict(appraisal_id=appraisal_id, position=j, code=code, name_th=th, name_en=en,
                 expected_level=expected_level)
            for j, (code, th, en) in enumerate(CORE_COMPETENCIES)]
