"""The Thai fiscal calendar: fiscal years named in the Buddhist era, two rounds a year.

Fiscal 2569 = 1 Oct 2025 - 30 Sep 2026; round 1 = 1 Oct - 31 Mar, round 2 = 1 Apr - 30 Sep.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from workflow.errors import InvalidInput, Problem

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543
THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
               "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
THAI_MONTHS_SHORT = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
                     "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")
_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def today() -> date:
    """Today in Bangkok: deadlines fall on Thai calendar days, whatever the server's zone."""
    return datetime.now(BANGKOK).date()


def local_date(at: datetime) -> date:
    """The Bangkok calendar day of a stored timestamp (a naive one was stored as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(BANGKOK).date()


def round_dates(fiscal_year_be: int, number: int) -> tuple[date, date]:
    """First and last day of a round of a fiscal year named in B.E."""
    problems = []
    if not 2400 <= fiscal_year_be <= 2700:
        problems.append(Problem("fiscal_year", "ปีงบประมาณต้องเป็นปีพุทธศักราช เช่น 2569",
                                "fiscal year must be a Buddhist-era year, e.g. 2569"))
    if number not in (1, 2):
        problems.append(Problem("round", "รอบการประเมินต้องเป็น 1 หรือ 2", "round must be 1 or 2"))
    if problems:
        raise InvalidInput(problems)
    ends_ce = fiscal_year_be - BE_OFFSET
    if number == 1:
        return date(ends_ce - 1, 10, 1), date(ends_ce, 3, 31)
    return date(ends_ce, 4, 1), date(ends_ce, 9, 30)


def fiscal_year_of(day: date) -> int:
    """The B.E. fiscal year a day falls in."""
    return day.year + BE_OFFSET + (1 if day.month >= 10 else 0)


def round_of(day: date) -> tuple[int, int]:
    """The (B.E. fiscal year, round number) a day falls in: round 1 is October to March."""
    return fiscal_year_of(day), 1 if day.month >= 10 or day.month <= 3 else 2


def thai_digits(text: str) -> str:
    return text.translate(_THAI_DIGITS)


def thai_date(day: date, *, digits: str = "arabic", short: bool = False) -> str:
    """e.g. 31 มีนาคม 2569, or ๓๑ มีนาคม ๒๕๖๙ with digits='thai'."""
    months = THAI_MONTHS_SHORT if short else THAI_MONTHS
    text = f"{day.day} {months[day.month - 1]} {day.year + BE_OFFSET}"
    return thai_digits(text) if digits == "thai" else text


def en_date(day: date) -> str:
    """e.g. 31 March 2026 (the same in every server locale)."""
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"
