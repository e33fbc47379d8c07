"""An injectable clock: jobs ask it for the time, so tests fire them at chosen moments."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that stands still until moved: ``clock.set(...)``."""

    def __init__(self, moment: datetime):
        self._now = _aware(moment)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = _aware(moment)

def to_utc(moment: datetime) -> datetime:
    """Times are stored in UTC (SQLite keeps no offset): normalise every `now` on the way in."""
    return _aware(moment).astimezone(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


SYSTEM = SystemClock()
