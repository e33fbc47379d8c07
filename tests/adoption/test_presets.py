"""The six presets: each value's provenance, the staff types' rules, `pmflow policy check`."""
from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from workflow.policy import DEFAULT, MILESTONES, PRESETS_DIR, STAFF_TYPES, load_preset, parse, preset_names, preset_text

PRESETS = preset_names()
NOTICE = {"nonthaburi": "seed 002", "ubon_ratchathani": "seed 001", "udon_thani": "seed 000",
          "sesao12": "seed 003", "rayong": "seed 004"}


def test_six_presets_pass_policy_check():
    assert len(PRESETS) == 6
    for name in PRESETS:
        proc = subprocess.run([sys.executable, "-m", "workflow", "policy", "check", str(PRESETS_DIR / f"{name}.toml")],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and proc.stdout.startswith("ok:"), proc.stdout + proc.stderr
        assert "defaults" in proc.stdout


@pytest.mark.parametrize("name", PRESETS)
def test_every_value_says_where_it_comes_from(name):
    p = load_preset(name)
    rows = p.provenance()
    assert {k for k, _, _ in rows} >= {"weights", "bands.civil_servant", "low_performer.escalate_after_rounds"}
    for key, _, source in rows:
        assert source == DEFAULT or source.startswith("seed 00"), (key, source)
    # the milestone offsets and the escalation count come from no notice
    for code in MILESTONES:
        if (name, code) != ("ubon_ratchathani", "low_performer_report"):
            assert p.is_default(f"milestones.{code}.days"), code
    assert p.is_default("low_performer.escalate_after_rounds")
    assert p.is_default("bands.other_state_official")
    seeds = {source for _, _, source in rows if source != DEFAULT}
    if name in NOTICE:
        assert seeds and all(s.startswith(NOTICE[name]) for s in seeds), seeds
    else:
        assert not seeds


def test_ubon_reports_at_the_round_end_udon_and_sesao_in_the_next_round():
    from workflow.calendar import round_dates

    for number, due in ((1, "2026-03-31"), (2, "2026-09-30")):
        start, end = round_dates(2569, number)
        assert load_preset("ubon_ratchathani").milestone_dates(start, end)["low_performer_report"].isoformat() == due
    start, end = round_dates(2569, 1)
    for name in ("udon_thani", "sesao12"):
        p = load_preset(name)
        assert p.milestone_dates(start, end)["low_performer_report"] > end  # in the next round
        assert "next round" in p.milestones["low_performer_report"].covers
        assert p.source_of("milestones.low_performer_report.covers").startswith(NOTICE[name] + " 3.4")


def test_sources_are_checked_on_load():
    text = preset_text("default") + '\n"nonsense.key" = "seed 9"\n'
    with pytest.raises(Exception) as err:
        parse(text)
    assert "sources" in str(err.value)


def _totals():
    for i in range(0, 10001):
        yield Decimal(i).scaleb(-2)


@pytest.mark.parametrize("name", PRESETS)
def test_nobody_needs_improvement_without_being_a_low_performer(name):
    p = load_preset(name)
    for staff_type in STAFF_TYPES:
        for total in _totals():
            if p.band_for(staff_type, total).code == "needs_improvement":
                assert p.is_low_performer(staff_type, total), (name, staff_type, str(total))


def test_nonthaburi_government_employees_fair_from_64_low_below_64():
    p = load_preset("nonthaburi")
    assert p.band_for("government_employee", Decimal("64.00")).code == "fair"
    assert not p.is_low_performer("government_employee", Decimal("64.00"))
    assert p.band_for("government_employee", Decimal("63.99")).code == "needs_improvement"
    assert p.is_low_performer("government_employee", Decimal("63.99"))
    assert "fair starts at 64" in p.notes


def test_escalation_rule_per_staff_type():
    udon, sesao = load_preset("udon_thani"), load_preset("sesao12")
    th, en = udon.low_performer.escalation_rule("civil_servant")
    assert "กฎ ก.พ." in th and "2552" in th and "2009" in en
    assert "พนักงานราชการ" in udon.low_performer.escalation_rule("government_employee")[0]
    assert "ก.ค.ศ." in sesao.low_performer.escalation_rule("civil_servant")[0]  # teachers
    assert udon.low_performer.escalation_rule("other_state_official")[1]
    with pytest.raises(Exception):
        udon.low_performer.escalation_rule("nobody")


def test_nonthaburi_lists_job_assignment_and_rotation():
    lp = load_preset("nonthaburi").low_performer
    assert {"job_assignment", "job_rotation"} <= set(lp.measures) and "job_rotation" in lp.skippable
    bad = preset_text("default").replace('measures = ["coaching", "training", "commitment"]',
                                         'measures = ["coaching", "prayer"]')
    with pytest.raises(Exception) as err:
        parse(bad)
    assert "low_performer.measures" in str(err.value)


def test_competency_level_by_position_level():
    p = load_preset("ubon_ratchathani")
    assert p.expected_competency_level("ชำนาญการพิเศษ") == 3
    assert p.expected_competency_level("ปฏิบัติการ") == 1
    assert p.expected_competency_level("ไม่มีในตาราง") == p.competency_level_default == 3
    assert p.is_default("competency_levels")
