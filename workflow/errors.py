"""One error type per failure kind; `api/` maps each to one HTTP status, the CLI to one message.

Every message users may read is bilingual: Thai first, then English.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, get_args


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


# Pydantic's error types in Thai: the one table (pydantic's own message stays the English text).
# A template may use the error's `ctx` values ({max_length}, {ge}, {expected}...).
PYDANTIC_TH: dict[str, str] = {
    "missing": "ต้องระบุ",
    "extra_forbidden": "ไม่รู้จักช่องนี้",
    "string_type": "ต้องเป็นข้อความ",
    "string_too_short": "ข้อความต้องยาวอย่างน้อย {min_length} ตัวอักษร",
    "string_too_long": "ข้อความยาวได้ไม่เกิน {max_length} ตัวอักษร",
    "string_pattern_mismatch": "รูปแบบไม่ถูกต้อง",
    "too_short": "ต้องมีอย่างน้อย {min_length} รายการ",
    "too_long": "มีได้ไม่เกิน {max_length} รายการ",
    "int_type": "ต้องเป็นจำนวนเต็ม",
    "int_parsing": "ต้องเป็นจำนวนเต็ม",
    "int_from_float": "ต้องเป็นจำนวนเต็ม (ไม่มีทศนิยม)",
    "float_type": "ต้องเป็นตัวเลข",
    "float_parsing": "ต้องเป็นตัวเลข",
    "decimal_type": "ต้องเป็นตัวเลข",
    "decimal_parsing": "ต้องเป็นตัวเลข",
    "decimal_max_digits": "ตัวเลขยาวเกินไป",
    "decimal_max_places": "ทศนิยมมากเกินไป",
    "bool_type": "ต้องเป็น true หรือ false",
    "bool_parsing": "ต้องเป็น true หรือ false",
    "greater_than": "ต้องมากกว่า {gt}",
    "greater_than_equal": "ต้องไม่น้อยกว่า {ge}",
    "less_than": "ต้องน้อยกว่า {lt}",
    "less_than_equal": "ต้องไม่เกิน {le}",
    "literal_error": "ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: {expected}",
    "enum": "ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: {expected}",
    "list_type": "ต้องเป็นรายการ (array)",
    "dict_type": "ต้องเป็นออบเจกต์ (object)",
    "model_type": "ต้องเป็นออบเจกต์ (object)",
    "model_attributes_type": "ต้องเป็นออบเจกต์ (object)",
    "date_type": "ต้องเป็นวันที่ (YYYY-MM-DD)",
    "date_parsing": "ต้องเป็นวันที่ (YYYY-MM-DD)",
    "date_from_datetime_parsing": "ต้องเป็นวันที่ (YYYY-MM-DD)",
    "datetime_type": "ต้องเป็นวันเวลา (ISO 8601)",
    "datetime_parsing": "ต้องเป็นวันเวลา (ISO 8601)",
    "json_invalid": "JSON ไม่ถูกต้อง",
    "json_type": "JSON ไม่ถูกต้อง",
    "union_tag_invalid": "ชนิดไม่ถูกต้อง",
    "url_parsing": "ต้องเป็น URL",
    "uuid_parsing": "ต้องเป็น UUID",
    "value_error": "ค่าไม่ถูกต้อง",
    "assertion_error": "ค่าไม่ถูกต้อง",
}
_THAI = re.compile(r"\(([^()]*[\u0e00-\u0e7f][^()]*)\)")


def _thai(error: dict, msg: str) -> str:
    kind = str(error.get("type", ""))
    if kind in ("value_error", "assertion_error"):
        found = _THAI.search(msg)  # our validators write "English (ไทย)"
        if found:
            return found.group(1).strip()
    template = PYDANTIC_TH.get(kind, "ค่าไม่ถูกต้อง")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return template.split("{")[0].rstrip(": ")


def _english(error: dict, msg: str) -> str:
    found = _THAI.search(msg)
    return _THAI.sub("", msg).strip() if found and error.get("type") in ("value_error", "assertion_error") else msg


def _fields_at(model: Any, loc: tuple) -> list[str] | None:
    """The field names the model takes at `loc` (the dict holding the unknown key)."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = _model_in(field.annotation)
        if model is None:
            return None
    return sorted(model.model_fields) if hasattr(model, "model_fields") else None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def problems_from_pydantic(errors: list[dict], prefix: str = "", model: Any = None) -> list[Problem]:
    """Turn pydantic's error list into Problems whose field is a readable dotted path, Thai in
    `th` (from PYDANTIC_TH); with `model`, an unknown key names the keys allowed there."""
    out: list[Problem] = []
    for error in errors:
        parts: list[str] = [prefix] if prefix else []
        loc = tuple(error.get("loc", ()))
        for p in loc:
            if isinstance(p, int):
                parts[-1:] = [f"{parts[-1]}[{p}]"] if parts else [f"[{p}]"]
            else:
                parts.append(str(p))
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        th, en = _thai(error, msg), _english(error, msg)
        if error.get("type") == "extra_forbidden" and model is not None:
            allowed = _fields_at(model, loc[:-1])
            if allowed is not None:
                keys = ", ".join(allowed) or "-"
                th, en = f"ไม่รู้จักช่องนี้ ช่องที่ใช้ได้: {keys}", f"unknown key; the keys allowed: {keys}"
        out.append(Problem(".".join(parts) or "body", th, en))
    return out
