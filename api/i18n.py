"""The pages' languages: Thai first, English on request, from gettext catalogues.

The catalogues are `api/locale/{th,en}/LC_MESSAGES/messages.po` (msgids in English, so the
Thai catalogue carries every Thai text). They are compiled to `.mo` when this module is first
imported, whenever a `.po` is newer than its `.mo`, so neither `make run` nor `make test`
needs a manual step. To add texts: `make messages` (extract + update), then translate.

The language is the `pmflow_lang` cookie (the switch in the header), else the signed-in
person's own setting, else Thai.
"""
from __future__ import annotations

import logging
from datetime import date
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from workflow.calendar import thai_date

log = logging.getLogger("pmflow")
LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("th", "en")
DEFAULT_LOCALE = "th"
COOKIE = "pmflow_lang"
DIGITS_COOKIE = "pmflow_digits"  # dates with Thai digits (๓๑ มีนาคม ๒๕๖๙) or Arabic ones, by choice
DOMAIN = "messages"
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


def N_(text: str) -> str:
    """Mark a text for extraction; it is translated where it is shown."""
    return text


def compile_catalogues(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Write each stale or missing .mo from its .po; returns the files written."""
    written = []
    for po in sorted(locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        try:
            with mo.open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
            written.append(mo)
        except OSError as exc:  # a read-only install: fall back to the .po itself below
            log.warning("cannot write %s (%s); reading the .po directly", mo, exc)
    return written


class _PoTranslations(NullTranslations):
    """Translations read straight from a .po (only when the .mo could not be written)."""

    def __init__(self, po: Path):
        super().__init__()
        with po.open("rb") as f:
            catalog = read_po(f)
        self._map = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy
                     and isinstance(m.id, str)}

    def gettext(self, message: str) -> str:
        return self._map.get(message, message)

    ugettext = gettext


@cache
def translations(locale: str) -> NullTranslations:
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    mo = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if mo.exists():
        return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)
    po = mo.with_suffix(".po")
    return _PoTranslations(po) if po.exists() else NullTranslations()


def gettext(locale: str, text: str) -> str:
    return translations(locale).gettext(text)


def pick_locale(cookie: str | None, person_locale: str | None = None) -> str:
    for candidate in (cookie, person_locale):
        if candidate in LOCALES:
            return candidate
    return DEFAULT_LOCALE


def format_date(day: date | None, locale: str, *, digits: str = "arabic") -> str:
    """A date the way the reader writes it: 31 มีนาคม 2569 in Thai, 31 March 2026 in English."""
    if day is None:
        return ""
    if locale == "th":
        return thai_date(day, digits="thai" if digits == "thai" else "arabic")
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


# The low-performer measures and their statuses in English (the Thai: workflow.machines.low_performer).
MEASURE_EN = {"coaching": "Coaching", "training": "Training and development",
              "commitment": "Self-improvement commitment"}
MEASURE_STATUS_EN = {"not_started": "not started", "in_progress": "in progress", "done": "done",
                     "skipped": "not needed (as the policy allows)"}


def fiscal_year(year_be: int | None, locale: str) -> str:
    """A fiscal year in the reader's era: B.E. in Thai (2569), C.E. in English (2026)."""
    if year_be is None:
        return ""
    return str(year_be - 543) if locale == "en" else str(year_be)


def bilingual(th: str, en: str, locale: str) -> str:
    """Pick the reader's half of a Thai/English pair (domain errors and data carry both)."""
    return en if locale == "en" and en else th


# --- the words of the machines: one label per state and event, translated where shown ----------
STATE_LABELS = {
    # appraisal
    "draft": N_("Drafting the agreement"),
    "agreed": N_("Agreement signed"),
    "monitored": N_("Monitoring"),
    "evaluated": N_("Evaluated"),
    "committee_review": N_("Committee review"),
    "reviewed": N_("Reviewed by the committee"),
    "announced": N_("Announced"),
    "withdrawn": N_("Withdrawn"),
    # low-performer case
    "opened": N_("Case opened"),
    "plan_agreed": N_("Development plan agreed"),
    "coaching": N_("Coaching"),
    "training": N_("Training"),
    "commitment": N_("Written commitment"),
    "re_evaluation": N_("Follow-up evaluation"),
    "closed_improved": N_("Closed: improved"),
    "escalated": N_("Escalated for action"),
}

EVENT_LABELS = {
    "open": N_("Opened"),
    "edit_agreement": N_("Save the agreement"),
    "sign_agreement": N_("Sign the agreement"),
    "agree": N_("Confirm the agreement"),
    "change_kpis": N_("Change KPIs mid-round"),
    "review_progress": N_("Mid-round review"),
    "mid_round_passed": N_("Mid-round date passed"),
    "add_progress_note": N_("Add a progress note"),
    "score": N_("Save scores"),
    "evaluate": N_("Finish the evaluation"),
    "acknowledge": N_("Acknowledge the result"),
    "record_refusal": N_("Record a refusal with a witness"),
    "give_opinion": N_("Give the superior's opinion"),
    "submit": N_("Submit to the committee"),
    "endorse": N_("Endorse"),
    "return_to_evaluator": N_("Return to the evaluator"),
    "announce": N_("Approve and announce"),
    "hand_over": N_("Hand over to another evaluator"),
    "withdraw": N_("Withdraw"),
    # low-performer case
    "opened": N_("Case opened"),
    "edit_plan": N_("Save the plan"),
    "agree_plan": N_("Agree the plan"),
    "begin_coaching": N_("Begin coaching"),
    "begin_training": N_("Begin training"),
    "begin_commitment": N_("Begin the commitment"),
    "update_measure": N_("Update a measure"),
    "skip_measure": N_("Skip a measure"),
    "add_evidence": N_("Add evidence"),
    "sign_commitment": N_("Sign the commitment"),
    "start_re_evaluation": N_("Start the follow-up evaluation"),
    "record_follow_up": N_("Record the follow-up"),
    "close_improved": N_("Close: improved"),
    "still_low": N_("Still low"),
    "escalate": N_("Escalate"),
    "record_decision": N_("Record the decision"),
}

ROLE_LABELS = {
    "appraisee": N_("Appraisee"),
    "evaluator": N_("Evaluator"),
    "superior": N_("Superior above"),
    "committee": N_("Screening committee"),
    "hr": N_("HR officer"),
    "authority": N_("Authority"),
    "admin": N_("Administrator"),
    "supervisor": N_("Supervisor"),
    "system": N_("System"),
}


def state_label(state: str | None, locale: str) -> str:
    return gettext(locale, STATE_LABELS.get(state or "", state or ""))


def event_label(event: str, locale: str) -> str:
    return gettext(locale, EVENT_LABELS.get(event, event))


def role_label(role: str, locale: str) -> str:
    return gettext(locale, ROLE_LABELS.get(role, role))


compile_catalogues()
