"""The shipped Thai face copies out intact, and Thai lines break between words, not inside them."""
from __future__ import annotations

import copy

from tests.documents.pdftext import flat, pdf_flat, pdf_text
from workflow.documents.render import render, sample

# Words whose stacked marks (above vowels with tone marks, the thanthakhat) lose or repeat
# characters in faces whose glyph-to-text maps are incomplete (Sarabun 1.000, Laksaman, Garuda and
# Kinnari all fail at least three of these under Typst 0.14; Loma, Norasi and Sawasdee keep them all).
HARD_WORDS = ["ผลสัมฤทธิ์", "ศักดิ์สิทธิ์", "กิตติ์ธนัท", "ฤทธิ์เดช", "ฐิติพร เอื้อเฟื้อ", "ปิ่นแก้ว", "ตำแหน่ง",
              "คะแนนรวม", "ผู้บังคับบัญชาเหนือขึ้นไป", "พฤติกรรมการปฏิบัติราชการ"]
LONG_WORDS = ["ผลสัมฤทธิ์", "ศักดิ์สิทธิ์", "คะแนนรวม", "ตำแหน่ง", "ประสิทธิภาพ",
              "พฤติกรรม", "ยุทธศาสตร์", "สมรรถนะ", "ปิ่นแก้ว", "เอื้อเฟื้อ"]


def test_the_shipped_face_gives_back_every_hard_word():
    data = {"key": "probe", "title_th": "ทดสอบ", "title_en": "probe", "lines": HARD_WORDS, "tables": []}
    text = pdf_flat(render("report", data))
    missing = [w for w in HARD_WORDS if flat(w) not in text]
    assert not missing, missing


def _lines_break_inside(content: bytes, words: list[str]) -> list[str]:
    """Each long word must appear whole on one extracted line whenever it appears at all."""
    lines = [flat(line) for line in pdf_text(content, layout=False).splitlines() if line.strip()]
    whole = "".join(lines)
    broken = []
    for w in words:
        on_lines = sum(line.count(w) for line in lines)
        if whole.count(w) != on_lines:
            broken.append(w)
    return broken


def test_no_line_of_a_summary_form_breaks_inside_a_long_thai_word():
    data = sample("summary_form")
    form = copy.deepcopy(data["forms"][0])
    form["development_plan"] = " ".join(LONG_WORDS * 6)  # long enough to wrap many times
    form["working"] = ["".join(LONG_WORDS)] * 3  # no spaces at all: only the dictionary can break it
    form["kpis"] = [{"title": "".join(LONG_WORDS[:6]), "weight": 50, "level": 4, "points": 200}] * 2
    content = render("summary_form", {"forms": [form]})
    assert flat(form["working"][0]) in pdf_flat(content)
    assert _lines_break_inside(content, LONG_WORDS) == []


def test_no_line_of_a_report_breaks_inside_a_long_thai_word():
    data = sample("report")
    data["lines"] = ["".join(LONG_WORDS * 3)]
    data["tables"][0]["rows"] = [{"no": i, "name": "".join(LONG_WORDS[i:] + LONG_WORDS[:i]), "total_percent": "85.60"}
                                 for i in range(len(LONG_WORDS))]
    cols = data["tables"][0]["columns"]  # narrow number columns headed with long words, as in the ranking
    cols += [{"key": f"n{i}", "th": w, "en": "", "kind": "int", "width": 0} for i, w in enumerate(LONG_WORDS[:6])]
    assert _lines_break_inside(render("report", data), LONG_WORDS) == []
