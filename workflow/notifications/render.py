"""The one template environment: sandboxed, autoescaping (HTML), Thai dates as filters.

Templates live in ``templates/``: ``<kind>.<locale>.txt`` (plain text, the first line is the
subject) and ``<kind>.<locale>.html`` (the HTML part of an email), locale ``th`` or ``en``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from workflow.calendar import thai_date
from workflow.notifications.digest import MAX_LISTED, Digest

TEMPLATES = Path(__file__).parent / "templates"
LOCALES = ("th", "en")

ACTIONS = {
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
}
MEASURES = {"coaching": ("การสอนงาน", "coaching"), "training": ("การอบรม/พัฒนา", "training"),
            "commitment": ("คำมั่นในการพัฒนาปรับปรุงตนเอง", "written commitment")}


def _en_date(day: date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


def _make_env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["thai_date"] = thai_date  # {{ d|thai_date }} or {{ d|thai_date(digits="thai") }}
    env.filters["en_date"] = _en_date
    env.globals["MAX_LISTED"] = MAX_LISTED
    return env


ENV = _make_env()


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def locale_of(value: str | None) -> str:
    return value if value in LOCALES else "th"


def render(digest: Digest, *, base_url: str = "", digits: str = "arabic") -> Rendered:
    """Subject, text and HTML of a digest in the recipient's language. The templates get plain
    values and rows of tuples (few attribute lookups: the sandbox checks every one)."""
    locale = locale_of(digest.recipient.locale)
    i = 0 if locale == "th" else 1
    m = digest.milestone

    def rows(items: list) -> list[tuple[str, str, str, str]]:
        return [(ACTIONS.get(it.action, (it.action, it.action))[i], it.subject_name,
                 ", ".join(MEASURES.get(x, (x, x))[i] for x in it.detail.split(",")) if it.detail else "",
                 base_url + it.link)
                for it in items[:MAX_LISTED]]

    context = dict(
        kind=digest.kind, name=digest.recipient.name, milestone=(m.name_th, m.name_en)[i], due=m.due_on,
        digits=digits, round_number=m.round_number, fiscal_year=m.fiscal_year, days_before=digest.days_before,
        days_overdue=digest.days_overdue, count=len(digest.items), more=max(len(digest.items) - MAX_LISTED, 0),
        more_link=base_url + digest.link, rows=rows(digest.items),
        groups=[(digest.late_names.get(pid, str(pid)), len(items), rows(items)) for pid, items in digest.late.items()])
    return render_template("escalation" if digest.kind == "escalation" else "digest", locale, context)


def render_template(name: str, locale: str, context: dict) -> Rendered:
    text = ENV.get_template(f"{name}.{locale}.txt").render(context)
    subject, _, body = text.partition("\n")
    html = ENV.get_template(f"{name}.{locale}.html").render(context)
    return Rendered(subject.strip(), body.lstrip("\n"), html)


def template_names() -> list[str]:
    return sorted({p.name.split(".")[0] for p in TEMPLATES.glob("*.txt")})
