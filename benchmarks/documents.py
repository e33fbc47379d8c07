"""A round's summary forms, N people: today's fpdf2 drawing code against the Typst templates,
side by side in one run, on the same data.

The data (one ``SummaryForm`` per person, distinct names, codes, KPIs and scores, built from
``workflow/documents/samples/summary_form.json``) is made once and not timed; reading it from
the database is the same for both renderers and is not what changed. Each run makes one PDF per
person, as the zip download does:

* ``fpdf2``: the drawing code pmflow used before the templates (kept here only, as the
  baseline), fpdf2 with HarfBuzz shaping and the same Loma face;
* ``typst``: ``workflow.documents.render("summary_form", ...)`` in this process;
* ``typst, one PDF of all``: the same forms as one document (the ``format=pdf`` download);
* ``typst xN``: ``workflow.documents.rounds.render_each`` in N worker processes (spawned), the
  path ``round_forms`` takes for large rounds; the time includes starting the workers.

Targets: at least 10x faster than fpdf2, and 10,000 forms in minutes.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/documents.py --people 300
    .venv/bin/python benchmarks/documents.py --people 10000 --skip-fpdf --skip-one-pdf
"""
from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workflow.documents.render import FONTS, render, sample  # noqa: E402
from workflow.documents.rounds import render_each, workers  # noqa: E402

SURNAMES = ["ปิ่นแก้ว", "ฤทธิ์เดช", "เอื้อเฟื้อ", "ศรีสวัสดิ์", "สุขเกษม", "วงศ์ไทย"]
GIVEN = ["ศักดิ์สิทธิ์", "กิตติ์ธนัท", "ฐิติพร", "ปิยะนุช", "ธนพล", "วรรณา"]


def forms(n: int) -> list[dict[str, Any]]:
    base = sample("summary_form")["forms"][0]
    out = []
    for i in range(n):
        f = copy.deepcopy(base)
        f["appraisal_id"] = i + 1
        f["person"]["code"] = f"P{i + 1:06d}"
        f["person"]["name_th"] = f"{GIVEN[i % 6]} {SURNAMES[(i // 6) % 6]} {i}"
        level = 1 + i % 5
        f["kpis"] = [{"title": f"ตัวชี้วัดผลสัมฤทธิ์ที่ {k} ของงานตามแผนปฏิบัติราชการ", "weight": 25, "level": level,
                      "points": 25 * level} for k in range(1, 5)]
        f["total_percent"] = f"{60 + (i % 40):.2f}"
        out.append(f)
    return out


# --- the former path: fpdf2 drawing code (as it was in workflow/reports/forms.py) -----------------
def fpdf_form(f: dict[str, Any]) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    blank = "........................................"

    class ThaiPDF(FPDF):
        def __init__(self) -> None:
            super().__init__(orientation="P", format="A4")
            self.add_font("Loma", "", str(FONTS / "Loma.ttf"))
            self.add_font("Loma", "B", str(FONTS / "Loma-Bold.ttf"))
            self.set_text_shaping(True)
            self.set_auto_page_break(True, margin=14)
            self.set_margins(12, 12, 12)

        def footer(self) -> None:
            self.set_y(-10)
            self.set_font("Loma", "", 8)
            self.cell(0, 5, f"แบบสรุปการประเมินผลการปฏิบัติราชการ  หน้า {self.page_no()}", align="R")

        def heading(self, text: str, size: int = 14) -> None:
            self.set_font("Loma", "B", size)
            self.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")

        def para(self, text: str, size: int = 10, h: float = 5.5) -> None:
            self.set_font("Loma", "", size)
            self.multi_cell(0, h, text, align="L", new_x="LMARGIN", new_y="NEXT")

    def line(pdf: ThaiPDF, label: str, value: str) -> None:
        pdf.set_font("Loma", "B", 10)
        pdf.write(5.5, label + " ")
        pdf.set_font("Loma", "", 10)
        pdf.write(5.5, value or blank)
        pdf.ln(6)

    def grid(pdf: ThaiPDF, widths: tuple[float, ...], head: list[str], rows: list[list[Any]]) -> None:
        pdf.set_font("Loma", "", 9)
        with pdf.table(col_widths=widths, line_height=9 * 0.55, text_align="LEFT",
                       headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230))) as t:
            r = t.row()
            for h in head:
                r.cell(h)
            for row in rows:
                r = t.row()
                for v in row:
                    r.cell("" if v is None else str(v))
        pdf.ln(2)

    pdf = ThaiPDF()
    pdf.add_page()
    pdf.heading("แบบสรุปการประเมินผลการปฏิบัติราชการ", 15)
    pdf.para(f["round_text"])
    pdf.heading("ส่วนที่ 1 ข้อมูลของผู้รับการประเมิน และข้อตกลงการปฏิบัติราชการ", 11)
    p = f["person"]
    line(pdf, "ชื่อผู้รับการประเมิน", f"{p['name_th']} (รหัส {p['code']})")
    line(pdf, "ตำแหน่ง", f"{p['position']} {p['position_level']}")
    line(pdf, "ประเภทบุคลากร", p["staff_type"])
    line(pdf, "สังกัด", p["unit"])
    line(pdf, "ชื่อผู้ประเมิน", f["evaluator"])
    line(pdf, "ลงนามข้อตกลง", "; ".join(f["agreement_signed"]))
    pdf.heading("ส่วนที่ 2 การสรุปผลการประเมิน", 11)
    wr, wc = f["weights"]
    grid(pdf, (4, 1.3, 1.3, 1.6), ["องค์ประกอบการประเมิน", "คะแนน (ก)", "น้ำหนัก (ข)", "รวมคะแนน (ก)×(ข)/100"], [
        ["องค์ประกอบที่ 1: ผลสัมฤทธิ์ของงาน", f["results_percent"], wr, f["extra"]["results_points"]],
        ["องค์ประกอบที่ 2: พฤติกรรมการปฏิบัติราชการ (สมรรถนะ)", f["competency_percent"], wc,
         f["extra"]["competency_points"]],
        ["รวม", "", 100, f["total_percent"]]])
    grid(pdf, (5, 1.4, 1.4, 1.6), ["ตัวชี้วัด", "น้ำหนัก", "ระดับที่ได้", "น้ำหนัก×ระดับ"],
         [[k["title"], k["weight"], k["level"], k["points"]] for k in f["kpis"]])
    grid(pdf, (5, 2, 2), ["สมรรถนะ", "ระดับที่คาดหวัง", "คะแนน (0-5)"],
         [[c["name_th"], c["expected_level"], c["score"]] for c in f["competencies"]])
    for w in f["working"]:
        pdf.para(w, 8, 4.5)
    for b in f["bands"]:
        mark = "[X]" if b["code"] == f["rating_code"] else "[  ]"
        pdf.cell(0, 5.5, f"   {mark} {b['th']} (ตั้งแต่ร้อยละ {b['min']})", new_x="LMARGIN", new_y="NEXT")
    pdf.heading("ส่วนที่ 3 แผนพัฒนาการปฏิบัติราชการรายบุคคล", 11)
    pdf.para(f["development_plan"] or blank)
    pdf.heading("ส่วนที่ 4 การรับทราบผลการประเมิน", 11)
    pdf.para(f"ผู้รับการประเมิน: [X] ได้รับทราบผลการประเมินและแผนพัฒนาการปฏิบัติราชการรายบุคคลแล้ว "
             f"ลงชื่อ {p['name_th']} วันที่ {f['acknowledged_on']}")
    pdf.para(f"ลงชื่อผู้ประเมิน {blank} ({f['evaluator']})")
    pdf.heading("ส่วนที่ 5 ความเห็นของผู้บังคับบัญชาเหนือขึ้นไป", 11)
    pdf.para("[X] เห็นด้วยกับผลการประเมิน   [  ] มีความเห็นต่าง")
    pdf.para(f"ลงชื่อ {blank} ({f['superior']})  ผู้บังคับบัญชาเหนือขึ้นไป")
    return bytes(pdf.output())


def pdf_pages(pdf: bytes) -> int:
    out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, text=False).stdout.decode()
    return next(int(line.split()[-1]) for line in out.splitlines() if line.startswith("Pages:"))


def timed(label: str, fn, items: list[dict[str, Any]]) -> tuple[str, float, float, int]:  # noqa: ANN001
    t, cpu = time.perf_counter(), time.process_time()
    pdfs = fn(items)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    # pages counted with pdfinfo on the first files (every form has the same shape)
    npages = sum(map(pdf_pages, pdfs)) if len(pdfs) <= 3 else pdf_pages(pdfs[0]) * len(pdfs)
    return label, seconds, cpu, npages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=300)
    ap.add_argument("--skip-fpdf", action="store_true", help="only the Typst runs (for 10,000 forms)")
    ap.add_argument("--skip-one-pdf", action="store_true", help="no run of all forms as one PDF (10,000 pages)")
    ap.add_argument("--processes", type=int, default=workers())
    args = ap.parse_args()
    if not 1 <= args.people <= 50_000:
        ap.error("--people between 1 and 50,000")
    items = forms(args.people)
    render("summary_form", {"forms": items[:1]})  # the compiler and fonts loaded once, as in a server
    runs = []
    if not args.skip_fpdf:
        runs.append(timed("fpdf2 (former path)", lambda xs: [fpdf_form(x) for x in xs], items))
    runs.append(timed("typst", lambda xs: [render("summary_form", {"forms": [x]}) for x in xs], items))
    if not args.skip_one_pdf:
        runs.append(timed("typst, one PDF of all", lambda xs: [render("summary_form", {"forms": xs})], items))
    if args.processes > 1:
        runs.append(timed(f"typst x{args.processes} processes",
                          lambda xs: render_each("summary_form", xs, processes=args.processes), items))
    base = runs[0][1] if not args.skip_fpdf else None
    print(f"{args.people} forms, one PDF each")
    print("(cpu: this process's CPU seconds; the workers' CPU is not in it. The machine is shared, so wall")
    print(" seconds include waiting for a core; the ratio compares runs made side by side.)")
    print(f"{'run':28} {'seconds':>9} {'cpu s':>9} {'forms/s':>9} {'pages/s':>9} {'vs fpdf2':>9}")
    for label, seconds, cpu, npages in runs:
        ratio = f"{base / seconds:.1f}x" if base else "-"
        print(f"{label:28} {seconds:9.2f} {cpu:9.2f} {args.people / seconds:9.1f} {npages / seconds:9.1f} {ratio:>9}")
    best = min(s for _, s, _, _ in runs[1:] or runs)
    if base:
        print(f"target 10x faster than fpdf2: {'met' if base / best >= 10 else 'NOT met'} ({base / best:.1f}x)")
    print(f"10,000 forms at this rate: {best / args.people * 10_000 / 60:.1f} min")


if __name__ == "__main__":
    main()
