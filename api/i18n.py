"""The pages' languages: Thai first, English on request, from gettext catalogues.

The catalogues are `api/locale/{th,en}/LC_MESSAGES/messages.po` (msgids in English, so the
Thai catalogue carries every Thai text), compiled to `.mo` by `pybabel compile` at set-up
(`make setup`, and so `make run` and `make test`, rebuild a `.mo` older than its `.po`). This
module only loads the `.mo` files; a missing one is an error that says how to build it. To add
texts: `make messages` (extract + update), then translate.

The language is the `pmflow_lang` cookie (the switch in the header), else the signed-in
person's own setting, else Thai.
"""
from __future__ import annotations

import logging
from datetime import date
from functools import cache
from pathlib import Path

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


class CataloguesMissing(RuntimeError):
    """A compiled catalogue is missing: the message names the file and the command that builds it."""


def catalogue_path(locale: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"


def check_catalogues(locale_dir: Path = LOCALE_DIR) -> None:
    """Every language's .mo is there (the app checks at start, so a page never falls back silently)."""
    missing = [str(catalogue_path(loc, locale_dir)) for loc in LOCALES if not catalogue_path(loc, locale_dir).exists()]
    if missing:
        raise CataloguesMissing(f"compiled catalogues missing: {', '.join(missing)}; build them with `make setup` "
                                f"or `pybabel compile -d {locale_dir} -D {DOMAIN}`")


@cache
def translations(locale: str) -> NullTranslations:
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    check_catalogues()
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


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

