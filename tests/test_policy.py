"""Policy files: presets load, bad files are refused with the key and the rule named."""
from __future__ import annotations

from decimal import Decimal

import pytest

from workflow.errors import InvalidInput
from workflow.policy import load_preset, parse, preset_text


def _refused(text: str) -> set[str]:
    with pytest.raises(InvalidInput) as exc:
        parse(text)
    return {p.field for p in exc.value.problems}


def test_low_performer_rules_of_the_seed_presets():
    udon = load_preset("udon_thani")
    assert udon.is_low_performer("civil_servant", Decimal("69.99"))  # fair
    assert not udon.is_low_performer("civil_servant", Decimal("70.00"))  # good
    non = load_preset("nonthaburi")
    assert non.is_low_performer("civil_servant", Decimal("59.99"))
    assert not non.is_low_performer("civil_servant", Decimal("60"))
    assert non.is_low_performer("government_employee", Decimal("63.99"))
    assert not non.is_low_performer("government_employee", Decimal("64.00"))
    ubon = load_preset("ubon_ratchathani")
    assert ubon.low_performer.trigger == "percent" and "60 percent" in ubon.notes
    assert "DOUBT" in non.notes


def test_garbled_nonthaburi_bands_are_kept_as_data():
    non = load_preset("nonthaburi")
    assert [(b.code, b.min) for b in non.bands["permanent_employee"]] == [
        ("outstanding", 80), ("acceptable", 60), ("needs_improvement", 0)]
    assert [b.min for b in non.bands["government_employee"]] == [90, 85, 75, 64, 0]  # fair from 64: low below 64 (2.2)


def test_overlapping_bands_are_refused():
    text = preset_text("default").replace("min = 80", "min = 95", 1)  # very_good above outstanding
    assert "bands.civil_servant" in _refused(text)


def test_lowest_band_must_start_at_zero():
    text = preset_text("default").replace("min = 0", "min = 10", 1)
    assert "bands.civil_servant" in _refused(text)


def test_weights_must_sum_to_100():
    text = preset_text("default").replace("competencies = 30", "competencies = 40")
    assert "weights" in _refused(text)


def test_unknown_key_and_bad_trigger_named():
    text = "colour = 1\n" + preset_text("default").replace('trigger = "rating"', 'trigger = "mood"')
    fields = _refused(text)
    assert "low_performer.trigger" in fields and "colour" in fields


def test_trigger_names_unknown_band():
    text = preset_text("default").replace('ratings = ["needs_improvement"]', 'ratings = ["terrible"]')
    with pytest.raises(InvalidInput) as exc:
        parse(text)
    assert "terrible" in str(exc.value)


def test_not_toml_at_all():
    assert _refused("this = is = not toml")


def test_missing_milestone():
    text = preset_text("default").replace("[milestones.mid_round_review]", "[milestones.other]")
    with pytest.raises(InvalidInput) as exc:
        parse(text)
    assert "mid_round_review" in str(exc.value)


def test_reminder_offsets_sorted_and_positive():
    assert load_preset("default").reminders.offsets_days == (14, 7, 3, 1)
    text = preset_text("default").replace("offsets_days = [14, 7, 3, 1]", "offsets_days = [7, -1]")
    assert "reminders.offsets_days" in _refused(text)


def test_milestone_dates_of_round_one_2569():
    from workflow.calendar import round_dates

    start, end = round_dates(2569, 1)
    dates = load_preset("ubon_ratchathani").milestone_dates(start, end)
    assert dates["low_performer_report"].isoformat() == "2026-03-31"  # Ubon: 31 March
    start2, end2 = round_dates(2569, 2)
    assert load_preset("ubon_ratchathani").milestone_dates(start2, end2)["low_performer_report"].isoformat() == "2026-09-30"
