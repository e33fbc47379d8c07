"""Scoring: the boundary of every band of every preset, and every invalid input."""
from __future__ import annotations

from decimal import Decimal

import pytest

from workflow.errors import InvalidInput
from workflow.policy import STAFF_TYPES, load_preset, preset_names
from workflow.scoring import round2, score

PRESETS = preset_names()


def test_all_six_presets_ship():
    assert set(PRESETS) == {"udon_thani", "ubon_ratchathani", "nonthaburi", "sesao12", "rayong", "default"}


def test_worked_example():
    s = score(load_preset("default"), "civil_servant", kpis=[(60, 4), (40, 5)], competencies=[4, 4, 4, 5, 3])
    assert (s.results_percent, s.competency_percent, s.total_percent) == (
        Decimal("88.00"), Decimal("80.00"), Decimal("85.60"))
    assert s.rating.code == "very_good" and s.rating.th == "ดีมาก" and s.rating.en == "Very good"
    assert any("85.60" in line for line in s.working)


def test_half_up_rounding_of_each_part_then_the_total():
    # results: 33*3 + 33*4 + 34*5 = 401 / 5 = 80.2 ; competency: 11 / 15 * 100 = 73.333.. -> 73.33
    s = score(load_preset("default"), "civil_servant", kpis=[(33, 3), (33, 4), (34, 5)], competencies=[4, 4, 3])
    assert s.results_percent == Decimal("80.20") and s.competency_percent == Decimal("73.33")
    # 80.20*0.7 + 73.33*0.3 = 56.14 + 21.999 = 78.139 -> 78.14
    assert s.total_percent == Decimal("78.14")
    assert round2(Decimal("0.125")) == Decimal("0.13") and round2(Decimal("0.135")) == Decimal("0.14")


def _with_total(policy, staff_type: str, target: Decimal):
    """Find KPI levels and competency scores whose total is exactly `target` (searching
    weights in whole percents); None if no such combination exists."""
    wr, wc = policy.weights.results, policy.weights.competencies
    for comp in range(0, 26):  # 5 competencies, sum 0..25 -> 4% steps
        c = Decimal(comp) * 4
        # need results r with round2(r*wr/100 + c*wc/100) == target; r = sum(w*l)/5 with levels 1..5
        for weighted in range(100, 501):  # sum(weight*level) for weights summing to 100
            r = round2(Decimal(weighted) / 5)
            if round2(r * wr / 100 + c * wc / 100) == target:
                return _kpis_for(weighted), _comps_for(comp)
    return None


def _kpis_for(weighted: int) -> list[tuple[int, int]]:
    """Weights summing to 100, levels 1..5, with sum(weight * level) == weighted (100..500)."""
    base, r = divmod(weighted - 100, 100)
    kpis = [(r, base + 2)] if r else []
    return kpis + ([(100 - r, base + 1)] if 100 - r else [])


def _comps_for(total: int) -> list[int]:
    return [min(5, max(0, total - 5 * i)) for i in range(5)]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("staff_type", STAFF_TYPES)
def test_every_band_boundary(preset, staff_type):
    policy = load_preset(preset)
    bands = policy.bands[staff_type]
    for above, below in zip(bands, bands[1:]):
        at = above.min
        just_under = at - Decimal("0.01")
        assert policy.band_for(staff_type, at).code == above.code
        assert policy.band_for(staff_type, just_under).code == below.code
        # and through the whole scoring path, where the arithmetic can reach the figure exactly
        reached = 0
        for target, expected in ((at, above.code), (just_under, below.code)):
            found = _with_total(policy, staff_type, target)
            if found is not None:
                reached += 1
                kpis, comps = found
                s = score(policy, staff_type, kpis=kpis, competencies=comps)
                assert s.total_percent == target, (kpis, comps)
                assert s.rating.code == expected
        assert reached >= 1, f"neither side of {above.code} at {at} is reachable by scoring"
    assert policy.band_for(staff_type, Decimal(0)).code == bands[-1].code
    assert policy.band_for(staff_type, Decimal(100)).code == bands[0].code


def test_civil_servant_codes_are_the_contract():
    for preset in PRESETS:
        codes = [b.code for b in load_preset(preset).bands["civil_servant"]]
        assert codes == ["outstanding", "very_good", "good", "fair", "needs_improvement"]


def test_ninety_vs_eighty_nine_ninety_nine_through_scoring():
    policy = load_preset("nonthaburi")
    # 90.00: results 100 (all level 5), competencies 66.67 -> 70 + 20.00 = 90.00
    s = score(policy, "civil_servant", kpis=[(100, 5)], competencies=[5, 5, 0])
    assert s.total_percent == Decimal("90.00") and s.rating.code == "outstanding"
    assert policy.band_for("civil_servant", Decimal("89.99")).code == "very_good"


@pytest.mark.parametrize("kpis, comps, field", [
    ([], [3], "kpis"),
    ([(50, 3), (40, 3)], [3], "kpis.weight"),
    ([(60, 3), (50, 3)], [3], "kpis.weight"),
    ([(100, 0)], [3], "kpis[0].level"),
    ([(100, 6)], [3], "kpis[0].level"),
    ([(100, 3)], [6], "competencies[0]"),
    ([(100, 3)], [-1], "competencies[0]"),
    ([(100, 3)], [], "competencies"),
    ([(100, 2.5)], [3], "kpis[0].level"),
    ([(0, 3), (100, 3)], [3], "kpis[0].weight"),
    ([(100, 3)], ["4"], "competencies[0]"),
])
def test_invalid_input_raises_a_clear_error(kpis, comps, field):
    with pytest.raises(InvalidInput) as exc:
        score(load_preset("default"), "civil_servant", kpis=kpis, competencies=comps)
    assert field in {p.field for p in exc.value.problems}
    assert all(p.th and p.en for p in exc.value.problems)


def test_unknown_staff_type():
    with pytest.raises(InvalidInput) as exc:
        score(load_preset("default"), "contractor", kpis=[(100, 3)], competencies=[3])
    assert exc.value.problems[0].field == "staff_type"
