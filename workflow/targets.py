"""A KPI's five target levels (level 3 the standard target, DOMAIN.md): all five described, or
none. One type for every payload that carries them (an agreement's KPIs, an organisation's KPIs,
an agency's plan)."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field


def _five_or_none(v: list[str]) -> list[str]:
    if v and len(v) != 5:
        raise ValueError("give all five target levels or none (ต้องระบุเป้าหมายครบ 5 ระดับ)")
    return v


TargetLevels = Annotated[list[str], Field(max_length=5), AfterValidator(_five_or_none)]
