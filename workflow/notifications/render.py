"""The one template environment: sandboxed, autoescaping (HTML), Thai dates as filters.

Templates live in ``templates/``: ``<kind>.<locale>.txt`` (plain text, the first line is the
subject) and ``<kind>.<locale>.html`` (the HTML part of an email), locale ``th`` or ``en``; the
low-performer case's inbox messages (``case_opened``, ``case_escalated``) are text only;
``agency_digest`` is the reminder of an agency assessment's SAR milestone.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from workflow import labels
from workflow.calendar import en_date, thai_date
from workflow.notifications.digest import MAX_LISTED, Digest

TEMPLATES = Path(__file__).parent / "templates"
LOCALES = ("th", "en")

def _make_env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["thai_date"] = thai_date  # {{ d|thai_date }} or {{ d|thai_date(digits="thai") }}
    env.filters["en_date"] = en_date
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
        return [(labels.label(labels.ACTIONS, it.action, locale), it.subject_name,
                 ", ".join(labels.label(labels.MEASURES, x, locale) for x in it.detail.split(",")) if it.detail else "",
                 base_url + it.link)
                for it in items[:MAX_LISTED]]

    context = dict(
        kind=digest.kind, name=digest.recipient.name, milestone=(m.name_th, m.name_en)[i], due=m.due_on,
        digits=digits, round_number=m.round_number, fiscal_year=m.fiscal_year, days_before=digest.days_before,
        days_overdue=digest.days_overdue, count=len(digest.items), more=max(len(digest.items) - MAX_LISTED, 0),
        more_link=base_url + digest.link, rows=rows(digest.items),
        groups=[(digest.late_names.get(pid, str(pid)), len(items), rows(items)) for pid, items in digest.late.items()])
    name = "escalation" if digest.kind == "escalation" else "agency_digest" if m.agency else "digest"
    return render_template(name, locale, context)


def render_template(name: str, locale: str, context: dict) -> Rendered:
    subject, body = render_text(name, locale, context)
    html = ENV.get_template(f"{name}.{locale}.html").render(context)
    return Rendered(subject, body, html)


def render_text(name: str, locale: str, context: dict) -> tuple[str, str]:
    """Subject (the template's first line) and plain-text body of ``<name>.<locale>.txt``."""
    text = ENV.get_template(f"{name}.{locale}.txt").render(context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")
