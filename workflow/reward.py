"""The reward stage (DOMAIN.md, Reports): a round's raise pool shared by rating.

Pure functions: the policy's figures and the people's salaries in, the suggested raises and
the working out. The system suggests; HR and the authority decide the raises.

- The pool is `pool_percent` of the eligible salaries (people with a salary on record whose
  appraisal the committee has reviewed).
- Each person's suggested raise is the percent the policy gives their rating
  (`percent_by_rating`, within `raise_min_percent`..`raise_max_percent`) of their calculation
  base. The base is the lower or upper base of their position level, split at the level's
  mid-point. A level without bases in the policy uses the salary, and the report says so.
- A staff type the policy pays in steps (`steps_by_rating`: permanent employees, 1 step
  outstanding, 0.5 step acceptable) gets its steps for the rating, not a percent: it takes
  nothing from the pool and needs no salary on record.
- Raises are rounded up to `round_up_to` baht. If they add up to more than the pool, every
  percent is scaled by the same factor, so the order by rating (and by rank within a rating)
  is kept; the scaled raises are rounded down, so the pool is never exceeded.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Iterable, Literal

from workflow.policy import RewardRules
from workflow.scoring import round2

REVIEWED = ("reviewed", "announced")
BaseKind = Literal["lower", "upper", "salary", "steps"]


@dataclass(frozen=True)
class Candidate:
    key: int  # the appraisal's id
    state: str
    salary: Decimal | None
    position_level: str
    rating_code: str | None
    staff_type: str = "civil_servant"


@dataclass(frozen=True)
class Raise:
    key: int
    base: Decimal
    base_kind: BaseKind
    percent: Decimal  # after scaling to the pool
    amount: Decimal
    steps: Decimal | None = None  # for a staff type paid in steps: the steps, and no amount


@dataclass(frozen=True)
class RewardPlan:
    eligible_salaries: Decimal
    pool: Decimal
    suggested: Decimal  # the raises before scaling
    factor: Decimal  # 1, or what every percent was multiplied by to fit the pool
    raises: tuple[Raise, ...]
    total: Decimal
    left_out: tuple[tuple[int, str], ...]  # (key, why) for people not in the plan

    @property
    def remaining(self) -> Decimal:
        return self.pool - self.total


def base_of(rules: RewardRules, level: str, salary: Decimal) -> tuple[Decimal, BaseKind]:
    found = rules.bases.get(level)
    if found is None:
        return salary, "salary"
    return (found.lower, "lower") if salary < found.mid else (found.upper, "upper")


def _to_step(amount: Decimal, step: int, rounding: str) -> Decimal:
    return (amount / step).quantize(Decimal(1), rounding=rounding) * step


def plan(rules: RewardRules, candidates: Iterable[Candidate]) -> RewardPlan:
    eligible, left_out, in_steps = [], [], []
    for c in candidates:
        steps = rules.steps_for(c.staff_type, c.rating_code)
        if c.state not in REVIEWED:
            left_out.append((c.key, "not reviewed by the committee (ยังไม่ผ่านการกลั่นกรอง)"))
        elif steps is not None:
            in_steps.append(Raise(c.key, Decimal(0), "steps", Decimal(0), Decimal(0), steps))
        elif c.salary is None or c.salary <= 0:
            left_out.append((c.key, "no salary on record (ไม่มีข้อมูลเงินเดือน)"))
        else:
            eligible.append(c)
    salaries = sum((c.salary for c in eligible), Decimal(0))
    pool = round2(salaries * rules.pool_percent / 100)
    wanted = []
    for c in eligible:
        base, kind = base_of(rules, c.position_level, c.salary)
        percent = rules.percent_by_rating.get(c.rating_code or "", Decimal(0))
        wanted.append((c, base, kind, percent, _to_step(base * percent / 100, rules.round_up_to, ROUND_CEILING)))
    suggested = sum((w[4] for w in wanted), Decimal(0))
    if suggested <= pool:
        factor = Decimal(1)
        raises = tuple(Raise(c.key, base, kind, percent, amount) for c, base, kind, percent, amount in wanted)
    else:
        factor = (pool / suggested).quantize(Decimal("0.0001"), rounding=ROUND_FLOOR)
        raises = tuple(
            Raise(c.key, base, kind, round2(percent * factor),
                  _to_step(base * percent * factor / 100, rules.round_up_to, ROUND_FLOOR))
            for c, base, kind, percent, _ in wanted)
    total = sum((r.amount for r in raises), Decimal(0))
    return RewardPlan(salaries, pool, suggested, factor, raises + tuple(in_steps), total, tuple(left_out))
