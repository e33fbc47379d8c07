"""The pieces of the pages that need no browser: the state diagram drawn from the machine
tables, the catalogues, and how a posted form becomes an engine payload and errors come back
onto form fields."""
from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from babel.messages.pofile import read_po

from api import diagram, i18n
from api.pages.appraisal import field_mapper, payload_for
from workflow.machines.appraisal import MACHINE as APPRAISAL
from workflow.machines.low_performer import MACHINE as CASE

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[2]


def test_the_diagram_has_a_box_per_state_and_an_arrow_per_transition_of_the_table():
    for machine in (APPRAISAL, CASE):
        for current in machine.states:
            svg = diagram.render(machine, current)
            tree = ET.fromstring(svg)  # well-formed XML
            states = [g.get("data-state") for g in tree.iter(f"{SVG}g")]
            assert states == machine.states
            marked = [g.get("data-state") for g in tree.iter(f"{SVG}g") if g.get("aria-current") == "step"]
            assert marked == [current]
            drawn = {ev for el in tree.iter() if el.get("data-events") for ev in el.get("data-events").split()}
            moving = {r.event for r in machine.table if r.dest is not None and set(r.sources) - {r.dest}}
            assert drawn == moving, machine.name
    # a new row in the table shows up in the drawing without touching the drawing code
    assert "return_to_evaluator" in diagram.render(APPRAISAL, "evaluated")


def test_an_event_from_many_states_is_one_bus_not_many_arrows():
    edges = diagram.edges_of(APPRAISAL)
    withdraw = [e for e in edges if "withdraw" in e.events]
    assert len(withdraw) == 1 and len(withdraw[0].sources) == 6 and withdraw[0].dest == "withdrawn"
    to_monitored = [e for e in edges if e.dest == "monitored"]
    assert [set(e.events) for e in to_monitored] == [{"review_progress", "mid_round_passed"}]


def test_labels_are_escaped_and_translated():
    svg = diagram.render(APPRAISAL, "draft", state_label=lambda s: i18n.state_label(s, "th"),
                         event_label=lambda e: f"<{e}>")
    ET.fromstring(svg)
    assert "จัดทำข้อตกลง" in svg and "&lt;agree&gt;" in svg


def test_every_text_of_the_pages_has_a_thai_translation():
    with (ROOT / "api/locale/th/LC_MESSAGES/messages.po").open("rb") as f:
        th = {m.id: m.string for m in read_po(f) if m.id}
    used = set()
    for tpl in (ROOT / "api/templates").glob("*.html"):
        used |= set(re.findall(r"""_\(\s*"([^"]+)"\s*\)""", tpl.read_text()))
        used |= set(re.findall(r"""_\(\s*'([^']+)'\s*\)""", tpl.read_text()))
    missing = sorted(u for u in used if not th.get(u))
    assert not missing, f"no Thai for: {missing}"


def test_a_fresh_checkout_gets_its_mo_files_built(tmp_path):
    for loc in i18n.LOCALES:
        d = tmp_path / loc / "LC_MESSAGES"
        d.mkdir(parents=True)
        (d / "messages.po").write_bytes((ROOT / "api/locale" / loc / "LC_MESSAGES/messages.po").read_bytes())
    written = i18n.compile_catalogues(tmp_path)
    assert sorted(p.parent.parent.name for p in written) == ["en", "th"]
    assert i18n.compile_catalogues(tmp_path) == []  # up to date: nothing rewritten


def test_catalogues_compile_in_a_fresh_process(tmp_path):
    # the .mo files are built from the .po at import: nothing to run by hand
    code = ("import api.i18n as i; print(i.gettext('th', 'My tasks')); print(i.gettext('en', 'My tasks'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split("\n")[:2] == ["งานของฉัน", "My tasks"]
    assert i18n.format_date(__import__("datetime").date(2026, 3, 31), "th") == "31 มีนาคม 2569"
    assert i18n.format_date(__import__("datetime").date(2026, 3, 31), "en") == "31 March 2026"


class _Comp:
    def __init__(self, code: str):
        self.code, self.name_th, self.name_en, self.expected_level = code, code, code, 3


def test_an_agreement_form_becomes_the_payload_and_errors_find_their_rows():
    form = {"kpi_rows": "4", "kpi-0-title": "ก", "kpi-0-weight": "60", "kpi-0-source": "strategic",
            "kpi-1-title": "", "kpi-1-weight": "",  # blank: ignored
            "kpi-2-title": "ข", "kpi-2-weight": "สี่สิบ",  # not a number: passed on for the rule to refuse
            "kpi-3-title": "ค", "kpi-3-weight": "10", "kpi-3-remove": "1",  # marked for removal
            "comp-0-expected": "4"}
    payload, index = payload_for("edit_agreement", form, 0, [_Comp("achievement")])
    assert [k["title"] for k in payload["kpis"]] == ["ก", "ข"]
    assert payload["kpis"][0]["weight"] == 60 and payload["kpis"][1]["weight"] == "สี่สิบ"
    assert payload["competencies"][0]["expected_level"] == 4
    assert index == [0, 2]
    to_form = field_mapper(index)
    assert to_form("payload.kpis[1].weight") == "kpi-2-weight"  # the second KPI sent was form row 2
    assert to_form("payload.kpis[0].level_descriptions") == "kpi-0-levels"
    assert to_form("kpis.weight") == "kpi-total"
    assert to_form("note") == "note"


def test_a_scoring_form_keeps_blanks_as_missing():
    form = {"kpi-0-level": "4", "kpi-1-level": "", "comp-0-score": "0", "development_plan": " อบรม "}
    payload, _ = payload_for("score", form, 2, [_Comp("a")])
    assert payload == {"kpi_levels": [4, None], "competency_scores": [0], "development_plan": "อบรม"}


def test_rating_bars_are_proportional_and_well_formed():
    from api.pages.charts import stacked_bars

    bands = [{"code": "good", "th": "ดี", "en": "Good"}, {"code": "fair", "th": "พอใช้", "en": "Fair"}]
    svg = stacked_bars([{"label": "หน่วย <1>", "total": 4, "counts": {"good": 3, "fair": 1}}], bands, title="t")
    tree = ET.fromstring(svg)
    bars = [r for r in tree.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [float(r.get("width")) for r in bars] == [300.0, 100.0]
    assert "หน่วย &lt;1&gt; (4)" in svg
