"""The five OCSC core competencies every appraisal starts with (code, Thai, English)."""

CORE_COMPETENCIES = (
    ("achievement", "การมุ่งผลสัมฤทธิ์", "Achievement motivation"),
    ("service_mind", "การบริการที่ดี", "Service mind"),
    ("expertise", "การสั่งสมความเชี่ยวชาญในงานอาชีพ", "Expertise"),
    ("integrity", "การยึดมั่นในความถูกต้องชอบธรรมและจริยธรรม", "Integrity"),
    ("teamwork", "การทำงานเป็นทีม", "Teamwork"),
)
