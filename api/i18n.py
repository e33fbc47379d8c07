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

from workflow import labels
from workflow.calendar import en_date, thai_date

log = logging.getLogger("pmflow")
LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("th", "en")
DEFAULT_LOCALE = "th"
COOKIE = "pmflow_lang"
DIGITS_COOKIE = "pmflow_digits"  # dates with Thai digits (๓๑ มีนาคม ๒๕๖๙) or Arabic ones, by choice
DOMAIN = "messages"


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
    return en_date(day)


def fiscal_year(year_be: int | None, locale: str) -> str:
    """A fiscal year in the reader's era: B.E. in Thai (2569), C.E. in English (2026)."""
    if year_be is None:
        return ""
    return str(year_be - 543) if locale == "en" else str(year_be)


def bilingual(th: str, en: str, locale: str) -> str:
    """Pick the reader's half of a Thai/English pair (domain errors and data carry both)."""
    return en if locale == "en" and en else th


# --- the words of the machines: one label per state, event and role (`workflow.labels`) ---------
def state_label(state: str | None, locale: str) -> str:
    return labels.label(labels.STATES, state, locale)


def event_label(event: str, locale: str) -> str:
    return labels.label(labels.EVENTS, event, locale)


def role_label(role: str, locale: str) -> str:
    return labels.label(labels.ROLES, role, locale)


compile_catalogues()
