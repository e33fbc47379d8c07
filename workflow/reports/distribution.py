"""Rating distributions and rankings: pure functions of plain rows (no database)."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Hashable, Iterable, Mapping, Sequence


def percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Group:
    key: Hashable
    label: str
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def percents(self, bands: Sequence[str]) -> dict[str, Decimal]:
        return {b: percent(self.counts.get(b, 0), self.total) for b in bands}

    def as_dict(self, bands: Sequence[str]) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "total": self.total,
                "counts": {b: self.counts.get(b, 0) for b in bands},
                "percent": {b: str(v) for b, v in self.percents(bands).items()}}


def distribution(rows: Iterable[tuple[Hashable, str, str | None]], bands: Sequence[str]) -> list[Group]:
    """Count ratings per group. ``rows`` are (group key, group label, rating code or None);
    unrated rows are not counted. Groups keep their first-seen order."""
    groups: "OrderedDict[Hashable, Group]" = OrderedDict()
    for key, label, rating in rows:
        if rating is None:
            continue
        g = groups.setdefault(key, Group(key, label))
        g.total += 1
        g.counts[rating] = g.counts.get(rating, 0) + 1
    for g in groups.values():
        unknown = [r for r in g.counts if r not in bands]
        if unknown:
            raise ValueError(f"ratings {unknown} are not among the bands {list(bands)}")
    return list(groups.values())


def overall(groups: Iterable[Group], label: str = "รวม / all") -> Group:
    total = Group("all", label)
    for g in groups:
        total.total += g.total
        for b, n in g.counts.items():
            total.counts[b] = total.counts.get(b, 0) + n
    return total


def guideline_gap(group: Group, guideline: Mapping[str, Decimal], bands: Sequence[str]) -> dict[str, Decimal]:
    """Percent points above (+) or below (-) the policy's guideline distribution, per band."""
    got = group.percents(bands)
    return {b: got[b] - Decimal(guideline[b]) for b in bands if b in guideline}


def rank(items: Sequence[Mapping[str, Any]], *, key: str = "total_percent") -> list[dict[str, Any]]:
    """Competition ranking, highest first (1, 2, 2, 4); items without a score are left out."""
    scored = sorted((dict(i) for i in items if i.get(key) is not None),
                    key=lambda i: Decimal(str(i[key])), reverse=True)
    out, previous, place = [], None, 0
    for n, item in enumerate(scored, start=1):
        value = Decimal(str(item[key]))
        if value != previous:
            place, previous = n, value
        item["rank"] = place
        out.append(item)
    return out
