"""Scoring: pure Decimal arithmetic, half-up to 2 places, with the working shown.

results %    = sum(weight_i * level_i) / 5             (weights sum to 100, levels 1..5)
competency % = sum(score_j) / (5 * n) * 100            (scores 0..5)
total %      = results % * w_results / 100 + competency % * w_competencies / 100
rating       = the first band of the staff type whose minimum <= total %
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Sequence

from workflow.errors import InvalidInput, Problem
from workflow.policy import Band, Policy

CENT = Decimal("0.01")


def round2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Score:
    results_percent: Decimal
    competency_percent: Decimal
    total_percent: Decimal
    rating: Band
    working: tuple[str, ...]


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return None


def check_inputs(kpis: Sequence[tuple[object, object]], competencies: Sequence[object]) -> list[Problem]:
    """Every problem with the inputs, so a form can show them all at once."""
    problems: list[Problem] = []
    if not kpis:
        problems.append(Problem("kpis", "ต้องมีตัวชี้วัดอย่างน้อย 1 ตัว", "at least one KPI is required"))
    total_weight = 0
    for i, (weight, level) in enumerate(kpis):
        w, lv = _as_int(weight), _as_int(level)
        if w is None or not 1 <= w <= 100:
            problems.append(Problem(f"kpis[{i}].weight", "น้ำหนักต้องเป็นจำนวนเต็ม 1-100",
                                    "weight must be a whole percent from 1 to 100"))
        else:
            total_weight += w
        if lv is None or not 1 <= lv <= 5:
            problems.append(Problem(f"kpis[{i}].level", "ระดับตัวชี้วัดต้องเป็น 1-5",
                                    "KPI level must be a whole number from 1 to 5"))
    if kpis and total_weight != 100 and not any(p.field.endswith(".weight") for p in problems):
        problems.append(Problem("kpis.weight", f"น้ำหนักรวมต้องเท่ากับ 100 (ได้ {total_weight})",
                                f"KPI weights must sum to 100 (got {total_weight})"))
    if not competencies:
        problems.append(Problem("competencies", "ต้องมีสมรรถนะอย่างน้อย 1 รายการ",
                                "at least one competency is required"))
    for j, s in enumerate(competencies):
        v = _as_int(s)
        if v is None or not 0 <= v <= 5:
            problems.append(Problem(f"competencies[{j}]", "คะแนนสมรรถนะต้องเป็น 0-5",
                                    "competency score must be a whole number from 0 to 5"))
    return problems


def score(
    policy: Policy,
    staff_type: str,
    kpis: Iterable[tuple[int, int]],
    competencies: Iterable[int],
) -> Score:
    """Score one appraisal; raise InvalidInput listing every bad input."""
    kpis, competencies = list(kpis), list(competencies)
    problems = check_inputs(kpis, competencies)
    bands = policy.bands.get(staff_type)  # type: ignore[call-overload]
    if bands is None:
        problems.append(Problem("staff_type", f"ประเภทบุคลากรไม่ถูกต้อง: {staff_type}",
                                f"unknown staff type {staff_type!r}"))
    if problems:
        raise InvalidInput(problems)

    weighted = sum(Decimal(int(w)) * Decimal(int(lv)) for w, lv in kpis)
    results = round2(weighted / 5)
    comp_sum = sum(Decimal(int(s)) for s in competencies)
    competency = round2(comp_sum / (5 * len(competencies)) * 100)
    wr, wc = policy.weights.results, policy.weights.competencies
    total = round2(results * wr / 100 + competency * wc / 100)
    rating = policy.band_for(staff_type, total)
    working = (
        f"ผลสัมฤทธิ์ของงาน / results = {' + '.join(f'{w}×{lv}' for w, lv in kpis)} = {weighted} ÷ 5 = {results}%",
        f"สมรรถนะ / competencies = {comp_sum} ÷ (5 × {len(competencies)}) × 100 = {competency}%",
        f"รวม / total = {results} × {wr}% + {competency} × {wc}% = {total}%",
        f"ระดับ / rating = {rating.th} ({rating.en}), ตั้งแต่ / from {rating.min}%",
    )
    return Score(results, competency, total, rating, working)


# --- the agency assessment: levels 1-5 per KPI, weighted within each dimension, then by dimension --
@dataclass(frozen=True)
class AgencyScore:
    dimension_percents: dict[str, Decimal]
    total_percent: Decimal
    working: tuple[str, ...]


def agency_score(dimensions: Sequence[tuple[str, int, Sequence[tuple[int, int]]]]) -> AgencyScore:
    """dimension % = sum(weight_i * level_i) / 5 over its KPIs (weights summing to 100);
    total % = sum(dimension % * dimension weight / 100). Every bad input named at once."""
    problems: list[Problem] = []
    for code, _, kpis in dimensions:
        found = check_inputs(list(kpis), [0])
        problems += [Problem(f"{code}.{p.field}", p.th, p.en) for p in found]
    if sum(int(w) for _, w, _ in dimensions) != 100:
        problems.append(Problem("dimensions", "น้ำหนักมิติรวมต้องเท่ากับ 100", "dimension weights must sum to 100"))
    if problems:
        raise InvalidInput(problems)
    percents: dict[str, Decimal] = {}
    working: list[str] = []
    for code, _, kpis in dimensions:
        weighted = sum(Decimal(int(w)) * Decimal(int(lv)) for w, lv in kpis)
        percents[code] = round2(weighted / 5)
        working.append(f"{code} = {' + '.join(f'{w}×{lv}' for w, lv in kpis)} = {weighted} ÷ 5 = {percents[code]}%")
    total = round2(sum(percents[c] * w / 100 for c, w, _ in dimensions))
    working.append("รวม / total = " + " + ".join(f"{percents[c]} × {w}%" for c, w, _ in dimensions) + f" = {total}%")
    return AgencyScore(percents, total, tuple(working))
