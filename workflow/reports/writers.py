"""Write any ``Report`` as JSON, CSV, .xlsx (openpyxl) or a printable PDF in Thai (a Typst
template, ``workflow.documents``)."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any, Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from workflow.documents.render import render
from workflow.reports.model import Report, Table, jsonable

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


def to_json(report: Report) -> bytes:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=1).encode("utf-8")


# Text a spreadsheet would read as a formula (OWASP "CSV injection"): a name typed as
# =HYPERLINK(...) must reach HR's screen as text, never run.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Any) -> bool:
    """Is this a text cell a spreadsheet would take for a formula? (Numbers never are.)"""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if formula_like(value):
        return "'" + value  # the OWASP prefix: shown as text by every spreadsheet
    return value


def _csv_row(w: Any, values: list[Any]) -> None:
    w.writerow([_cell(v) for v in values])


def to_csv(report: Report) -> bytes:
    """UTF-8 with a BOM so Excel opens the Thai text; tables one after another with their titles."""
    buf = io.StringIO()
    w = csv.writer(buf)
    _csv_row(w, [report.title_th])
    for line in report.lines:
        _csv_row(w, [line])
    for t in report.tables:
        _csv_row(w, [])
        _csv_row(w, [f"{t.title_th} / {t.title_en}"])
        _csv_row(w, [c.th for c in t.columns])
        _csv_row(w, [c.en for c in t.columns])
        for row in t.rows:
            _csv_row(w, t.values(row))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx_cell(ws: Any, value: Any, kind: str = "text", **style: Any) -> Any:
    """A cell that needs more than its value: a style, a number format, or text that looks like
    a formula, stored as text (never as a formula)."""
    cell = WriteOnlyCell(ws, value=value)
    if formula_like(value):
        cell.data_type = "s"
    if kind == "percent":
        cell.number_format = "0.00"
    for name, v in style.items():
        setattr(cell, name, v)
    return cell


def _xlsx_values(ws: Any, values: Iterable[Any], kinds: Iterable[str]) -> list[Any]:
    """A table row: plain values as they are (fast), a cell only where one is needed."""
    out = []
    for value, kind in zip(values, kinds):
        value = _xlsx_value(value, kind)
        out.append(_xlsx_cell(ws, value, kind) if kind == "percent" or formula_like(value) else value)
    return out


def to_xlsx(report: Report) -> bytes:
    """One sheet per table; Thai headings over English ones; numbers stay numbers. Written
    row by row (openpyxl's write-only mode): 100,000 rows in seconds and little memory."""
    wb = Workbook(write_only=True)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for i, t in enumerate(report.tables):
        ws = wb.create_sheet(_sheet_name(t, i))
        for j, c in enumerate(t.columns, start=1):
            ws.column_dimensions[get_column_letter(j)].width = 14 + 6 * (c.width or 1) if c.kind == "text" else 12
        # title, the report's lines, the table's title, Thai headings, English headings, rows
        ws.freeze_panes = f"A{len(report.lines) + 5}"
        ws.append([_xlsx_cell(ws, report.title_th, font=Font(bold=True, size=13))])
        for line in report.lines:
            ws.append([_xlsx_cell(ws, line)])
        ws.append([_xlsx_cell(ws, f"{t.title_th} / {t.title_en}")])
        for headings in ([c.th for c in t.columns], [c.en for c in t.columns]):
            ws.append([_xlsx_cell(ws, h, font=bold, alignment=wrap) for h in headings])
        kinds = [c.kind for c in t.columns]
        for row in t.rows:
            ws.append(_xlsx_values(ws, t.values(row), kinds))
        for note in t.notes:
            ws.append([_xlsx_cell(ws, note)])
    if not report.tables:
        ws = wb.create_sheet("report")
        ws.append([_xlsx_cell(ws, report.title_th)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_name(t: Table, i: int) -> str:
    """Excel's 31 characters, cut at a word (a space), never inside one. Thai writes no spaces
    between words: a Thai title that does not fit whole gives way to the English title."""
    prefix = f"{i + 1} "
    room = 31 - len(prefix)
    for title in (t.title_th, getattr(t, "title_en", ""), t.key):
        name = " ".join("".join(ch for ch in (title or "") if ch not in "[]:*?/\\").split())
        if not name:
            continue
        if len(name) <= room:
            return prefix + name
        cut = name[:room + 1].rfind(" ")
        if cut > 0:
            return prefix + name[:cut]
    return prefix + t.key[:room]


def _xlsx_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


# --- PDF -----------------------------------------------------------------------------------------
def to_pdf(report: Report) -> bytes:
    """The report laid out by ``workflow/documents/templates/report.typ``; landscape when a table is wide."""
    data = report.as_dict()
    for t, table in zip(data["tables"], report.tables):  # the cells as the other formats show them
        t["rows"] = [{c.key: _cell(v) for c, v in zip(table.columns, table.values(row))} for row in table.rows]
    data["landscape"] = any(len(t.columns) > 7 for t in report.tables)
    return render("report", data)


WRITERS = {"json": to_json, "csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}


def write(report: Report, fmt: str) -> bytes:
    return WRITERS[fmt](report)


def filename(name: str, round_id: int, fmt: str) -> str:
    """The name a round's report is downloaded under, from its route or its job."""
    return f"{name}-round-{round_id}.{fmt}"


__all__ = ["MEDIA_TYPES", "WRITERS", "filename", "to_csv", "to_json", "to_pdf", "to_xlsx", "write", "jsonable"]
