"""One error type per failure kind; `api/` maps each to one HTTP status, the CLI to one message.

Every message users may read is bilingual: Thai first, then English.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: which field (a dotted path) and what rule it breaks, in Thai and English."""

    field: str
    th: str
    en: str

    def __str__(self) -> str:
        return f"{self.field}: {self.th} / {self.en}"


class WorkflowError(Exception):
    """Base of every domain error."""


class NotFound(WorkflowError):
    def __init__(self, what: str, key: object):
        self.what, self.key = what, key
        super().__init__(f"ไม่พบ {what} {key} / {what} {key} not found")


class NotAllowed(WorkflowError):
    """The caller's role may not do this (on an object they may see)."""

    def __init__(self, action: str, roles: frozenset[str] | set[str] = frozenset()):
        self.action, self.roles = action, frozenset(roles)
        super().__init__(
            f"ไม่มีสิทธิ์ดำเนินการ '{action}' / not allowed to '{action}'"
            f" (roles: {', '.join(sorted(self.roles)) or 'none'})"
        )


class InvalidInput(WorkflowError):
    """Input breaks one or more rules; `problems` names every one."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class GuardFailed(InvalidInput):
    """A transition's guards do not hold; lists every failing guard, not just the first."""

    def __init__(self, event: str, problems: list[Problem]):
        self.event = event
        super().__init__(problems)


class Conflict(WorkflowError):
    """The caller's version is stale, or the thing already exists."""

    def __init__(self, message_th: str, message_en: str, current_version: int | None = None):
        self.current_version = current_version
        super().__init__(f"{message_th} / {message_en}")


class VersionRequired(Conflict):
    """An event came without the version the caller last saw: without it two clients could
    overwrite each other. Carries the current version so the caller can look and retry."""

    def __init__(self, current_version: int):
        super().__init__("ต้องระบุเลขฉบับที่เห็นล่าสุด (If-Match) กรุณาโหลดข้อมูลใหม่แล้วลองอีกครั้ง",
                         "the version you last saw is required (If-Match); reload and try again",
                         current_version)
        self.th = "ต้องระบุเลขฉบับที่เห็นล่าสุด (If-Match) กรุณาโหลดข้อมูลใหม่แล้วลองอีกครั้ง"
        self.en = "the version you last saw is required (If-Match); reload and try again"


def problems_from_pydantic(errors: list[dict], prefix: str = "") -> list[Problem]:
    """Turn pydantic's error list into Problems whose field is a readable dotted path."""
    out: list[Problem] = []
    for error in errors:
        parts: list[str] = [prefix] if prefix else []
        for p in error.get("loc", ()):
            if isinstance(p, int):
                parts[-1:] = [f"{parts[-1]}[{p}]"] if parts else [f"[{p}]"]
            else:
                parts.append(str(p))
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        out.append(Problem(".".join(parts) or "body", f"ไม่ผ่านกฎ: {msg}", msg))
    return out
