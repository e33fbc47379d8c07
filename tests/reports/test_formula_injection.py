"""Exports never carry formulas: text a spreadsheet would run is written as text."""
from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal

from openpyxl import load_workbook

from workflow.reports import writers
from workflow.reports.model import Column, Report, Table

EVIL = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def _report() -> Report:
    cols = [Column("name", "ชื่อ", "name"), Column("score", "คะแนน", "score", "percent")]
    rows = [{"name": e, "score": Decimal("-1.50")} for e in EVIL] + [{"name": "สมศรี", "score": Decimal("80")}]
    return Report("t", "=title", "title", lines=["@line"], tables=[Table("t", "ตาราง", "table", cols, rows,
                                                                           notes=["=note"])])


def test_csv_prefixes_formula_like_text_and_leaves_numbers_alone():
    text = writers.to_csv(_report()).decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    for e in EVIL + ["=title", "@line"]:
        assert e not in cells and "'" + e in cells
    assert "-1.50" in cells and "สมศรี" in cells


def test_xlsx_stores_formula_like_text_as_text():
    content = writers.to_xlsx(_report())
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert all("<f>" not in s and "<f " not in s for s in sheets)
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    texts = {c.value: c.data_type for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for e in EVIL + ["=title", "@line", "=note"]:
        # An XML parser may read a lone carriage return back as a line feed (lxml keeps it).
        assert "s" in (texts.get(e), texts.get(e.replace("\r", "\n"))), e
    assert any(c.value == -1.5 for row in ws.iter_rows() for c in row)
