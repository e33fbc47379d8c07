"""What a report is, independent of its format: titles, header lines and tables of plain values.

The builders (``data.py``) make a ``Report`` from plain rows; the writers (``writers.py``) turn
any ``Report`` into JSON, CSV, .xlsx or PDF. Column headings are Thai with the English below.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

ColumnKind = Literal["text", "int", "percent", "date"]


@dataclass(frozen=True)
class Column:
    key: str
    th: str
    en: str
    kind: ColumnKind = "text"
    width: int = 0  # relative width in PDF tables; 0 = the writer's default


@dataclass
class Table:
    key: str
    title_th: str
    title_en: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def values(self, row: dict[str, Any]) -> list[Any]:
        return [row.get(c.key) for c in self.columns]


@dataclass
class Report:
    key: str
    title_th: str
    title_en: str
    lines: list[str] = field(default_factory=list)  # organisation, round, as-of date...
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "title_th": self.title_th, "title_en": self.title_en, "lines": self.lines,
            "tables": [{
                "key": t.key, "title_th": t.title_th, "title_en": t.title_en, "notes": t.notes,
                "columns": [{"key": c.key, "th": c.th, "en": c.en, "kind": c.kind, "width": c.width}
                            for c in t.columns],
                "rows": [{k: jsonable(v) for k, v in r.items()} for r in t.rows],
            } for t in self.tables],
        }


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
