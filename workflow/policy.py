"""Policy: everything the notices disagree on, as data (TOML files), validated on load.

A policy file is refused with every broken rule named by its key, e.g.
``bands.civil_servant[2].min: ...``. Presets live in ``workflow/presets/<name>.toml``.
No I/O here beyond reading the file the caller names.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workflow.errors import InvalidInput, Problem, problems_from_pydantic

PRESETS_DIR = Path(__file__).parent / "presets"
SOURCE_RE = re.compile(r"^seed \d{3}\b")
# Teachers and educational personnel are civil servants under their own rules (DOMAIN.md); "other
# state officials" (เจ้าหน้าที่อื่นของรัฐ) is a staff type of its own, with default bands.
STAFF_TYPES = ("civil_servant", "permanent_employee", "government_employee", "other_state_official")
# Measures for a low performer: coaching, training and the written commitment (seed 001, seed 000
# 3.3); job assignment (มอบหมายงาน) and job rotation (สับเปลี่ยนหมุนเวียนงาน) from seed 002 2.2.
MEASURES = ("coaching", "training", "commitment", "job_assignment", "job_rotation")
Measure = Literal["coaching", "training", "commitment", "job_assignment", "job_rotation"]
MILESTONES = (
    "agreement_signed",
    "mid_round_review",
    "evaluation_submitted",
    "committee_review_done",
    "results_announced",
    "low_performer_report",
)
StaffType = Literal["civil_servant", "permanent_employee", "government_employee", "other_state_official"]
DEFAULT = "default"  # the provenance of a value pmflow chose: no notice gives it


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """A rating band: a name and the minimum total percent that reaches it."""

    code: str = Field(pattern=r"^[a-z_]+$")
    th: str
    en: str
    min: Decimal = Field(ge=0, le=100)


class Weights(_Strict):
    results: int = Field(70, ge=0, le=100)
    competencies: int = Field(30, ge=0, le=100)

    @model_validator(mode="after")
    def _sum_100(self) -> "Weights":
        if self.results + self.competencies != 100:
            raise ValueError("results + competencies must be 100 (ผลรวมน้ำหนักต้องเท่ากับ 100)")
        return self


class RuleText(_Strict):
    th: str = Field(min_length=1)
    en: str = Field(min_length=1)


# The rule each staff type's escalation cites when a policy names none. Civil servants: seed 002
# section 3 names the OCSC rule of 2009; the others are pmflow's reading of which law governs
# that staff type (a default: no seed names them).
ESCALATION_RULES: dict[str, RuleText] = {
    "civil_servant": RuleText(
        th="กฎ ก.พ. ว่าด้วยการสั่งให้ข้าราชการออกจากราชการกรณีไม่สามารถปฏิบัติราชการให้มีประสิทธิภาพ"
           "และเกิดประสิทธิผล พ.ศ. 2552",
        en="the OCSC rule of 2009 on removal for inefficiency"),
    "government_employee": RuleText(
        th="ระเบียบสำนักนายกรัฐมนตรีว่าด้วยพนักงานราชการ พ.ศ. 2547",
        en="the Prime Minister's Office regulation on government employees (2004)"),
    "permanent_employee": RuleText(
        th="ระเบียบกระทรวงการคลังว่าด้วยลูกจ้างประจำของส่วนราชการ พ.ศ. 2537",
        en="the Ministry of Finance regulation on permanent employees (1994)"),
    "other_state_official": RuleText(
        th="ระเบียบหรือสัญญาจ้างที่ใช้บังคับกับเจ้าหน้าที่ผู้นั้น",
        en="the regulation or contract that governs the official"),
}


class LowPerformer(_Strict):
    """When an announced result opens a low-performer case, and what the case must do."""

    trigger: Literal["rating", "percent"]
    # trigger = "rating": these band codes are low.
    ratings: tuple[str, ...] = ()
    # trigger = "percent": a total strictly below this (per staff type) is low.
    below_percent: dict[StaffType, Decimal] = {}
    measures: tuple[Measure, ...] = ("coaching", "training", "commitment")
    min_measures: int = Field(1, ge=0, le=len(MEASURES))
    skippable: tuple[Measure, ...] = ()
    escalate_after_rounds: int = Field(2, ge=1)
    # The rule cited when a case escalates, per staff type; a staff type not listed takes
    # ESCALATION_RULES' text.
    escalation_rules: dict[StaffType, RuleText] = {}
    note: str = ""

    def escalation_rule(self, staff_type: str) -> tuple[str, str]:
        """The rule cited on escalation for this staff type: (Thai, English)."""
        rule = self.escalation_rules.get(staff_type) or ESCALATION_RULES.get(staff_type)  # type: ignore[call-overload]
        if rule is None:
            raise InvalidInput([Problem("staff_type", f"ประเภทบุคลากรไม่ถูกต้อง: {staff_type}",
                                        f"unknown staff type {staff_type!r}; one of {', '.join(STAFF_TYPES)}")])
        return rule.th, rule.en

    @model_validator(mode="after")
    def _trigger_has_data(self) -> "LowPerformer":
        if self.trigger == "rating" and not self.ratings:
            raise ValueError("trigger 'rating' needs 'ratings' (ต้องระบุระดับผลการประเมินที่ถือว่าต่ำ)")
        if self.trigger == "percent" and not self.below_percent:
            raise ValueError("trigger 'percent' needs 'below_percent' (ต้องระบุเกณฑ์ร้อยละ)")
        if self.min_measures > len(self.measures):
            raise ValueError("min_measures is more than the measures listed")
        return self


class MilestoneRule(_Strict):
    """A due date relative to the round: ``days`` after its start, or before/after its end."""

    anchor: Literal["start", "end"]
    days: int = Field(ge=-366, le=366)
    th: str
    en: str
    # What the milestone's work covers, where that is not plainly "this round" (e.g. the
    # low-performer report: the cases open during this round, or during the one before).
    covers: str = ""


class Reminders(_Strict):
    offsets_days: tuple[int, ...] = (14, 7, 3, 1)
    overdue_daily: bool = True
    escalate_after_days: int = Field(3, ge=0)
    misfire_grace_hours: int = Field(12, ge=0)

    @field_validator("offsets_days")
    @classmethod
    def _positive_distinct(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(d <= 0 for d in v) or len(set(v)) != len(v):
            raise ValueError("offsets must be distinct whole days > 0 (วันแจ้งเตือนต้องเป็นจำนวนวันบวกไม่ซ้ำกัน)")
        return tuple(sorted(v, reverse=True))


class SalaryBase(_Strict):
    """A position level's calculation bases: a salary below `mid` (ค่ากลาง) takes the lower base
    (ฐานล่าง), one at or above it the upper base (ฐานบน)."""

    lower: Decimal = Field(gt=0)
    upper: Decimal = Field(gt=0)
    mid: Decimal = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> "SalaryBase":
        if not self.lower <= self.mid <= self.upper:
            raise ValueError("need lower <= mid <= upper (ฐานล่าง <= ค่ากลาง <= ฐานบน)")
        return self


class RewardRules(_Strict):
    """The reward stage: a round's raise pool (a percent of the eligible salaries) shared by
    rating, each raise a percent of the person's calculation base. The figures are the agency's;
    the defaults are a starting point, not a rule."""

    pool_percent: Decimal = Field(Decimal(3), ge=0, le=100)
    raise_min_percent: Decimal = Field(Decimal(0), ge=0)
    raise_max_percent: Decimal = Field(Decimal(6), ge=0)
    # the suggested raise per rating code, a percent of the base
    percent_by_rating: dict[str, Decimal] = {
        "outstanding": Decimal("4.5"), "very_good": Decimal("3.5"), "good": Decimal("2.5"),
        "fair": Decimal("1.5"), "needs_improvement": Decimal(0)}
    # calculation bases by position level (Person.position_level); a level not listed: its salary
    bases: dict[str, SalaryBase] = {}
    round_up_to: int = Field(10, ge=1, le=1000)  # raises are rounded up to this many baht
    # Staff types paid in steps of their pay scale rather than a percent of a base (permanent
    # employees: 1 step outstanding, 0.5 step acceptable, seed 002): rating code -> steps.
    steps_by_rating: dict[StaffType, dict[str, Decimal]] = {}

    def steps_for(self, staff_type: str, rating_code: str | None) -> Decimal | None:
        """Steps for this rating if the staff type is paid in steps, else None (a percent raise)."""
        table = self.steps_by_rating.get(staff_type)  # type: ignore[call-overload]
        if table is None:
            return None
        return table.get(rating_code or "", Decimal(0))

    @model_validator(mode="after")
    def _within_limits(self) -> "RewardRules":
        if self.raise_max_percent < self.raise_min_percent:
            raise ValueError("raise_max_percent is below raise_min_percent (เพดานต่ำกว่าขั้นต่ำ)")
        outside = [k for k, v in self.percent_by_rating.items()
                   if not self.raise_min_percent <= v <= self.raise_max_percent]
        if outside:
            raise ValueError(f"percent_by_rating {outside} outside {self.raise_min_percent}-{self.raise_max_percent} "
                             f"(ร้อยละการเลื่อนอยู่นอกช่วงที่กำหนด)")
        return self


def _band(code: str, th: str, en: str, low: int) -> Band:
    return Band(code=code, th=th, en=en, min=Decimal(low))


# Bands for other state officials where a policy gives none: the civil servants' 90/80/70/60 of
# the OCSC scheme (a default: no seed gives bands for this staff type).
DEFAULT_OTHER_BANDS = (
    _band("outstanding", "ดีเด่น", "Outstanding", 90), _band("very_good", "ดีมาก", "Very good", 80),
    _band("good", "ดี", "Good", 70), _band("fair", "พอใช้", "Fair", 60),
    _band("needs_improvement", "ต้องปรับปรุง", "Needs improvement", 0))


class Bands(_Strict):
    """Rating bands per staff type, highest first; contiguous, the lowest starting at 0."""

    civil_servant: tuple[Band, ...]
    permanent_employee: tuple[Band, ...]
    government_employee: tuple[Band, ...]
    other_state_official: tuple[Band, ...] = DEFAULT_OTHER_BANDS

    @field_validator("civil_servant", "permanent_employee", "government_employee", "other_state_official")
    @classmethod
    def _contiguous(cls, rows: tuple[Band, ...]) -> tuple[Band, ...]:
        if not rows:
            raise ValueError("at least one band (ต้องมีอย่างน้อยหนึ่งระดับ)")
        mins = [b.min for b in rows]
        if any(a <= b for a, b in zip(mins, mins[1:])):
            raise ValueError(f"minimums must fall strictly, highest band first, no overlap "
                             f"(เกณฑ์ต้องเรียงจากสูงไปต่ำและไม่ซ้อนทับกัน): {[str(m) for m in mins]}")
        if mins[-1] != 0:
            raise ValueError("the lowest band must start at 0 so every score has a band (ระดับต่ำสุดต้องเริ่มที่ 0)")
        codes = [b.code for b in rows]
        if len(set(codes)) != len(codes):
            raise ValueError("band codes must be unique (รหัสระดับซ้ำกัน)")
        return rows

    def __getitem__(self, staff_type: str) -> tuple[Band, ...]:
        return getattr(self, staff_type)

    def get(self, staff_type: str, default=None):  # noqa: ANN001
        return getattr(self, staff_type) if staff_type in STAFF_TYPES else default

    def values(self) -> list[tuple[Band, ...]]:
        return [self[t] for t in STAFF_TYPES]


# --- the organisation level: an agency assessed in weighted dimensions (Rayong, seed 004) ---------
AGENCY_SAR_MONTHS = (6, 9, 12)  # seed 004 3.1: self-assessment reports at 6, 9 and 12 months


class AgencyDimension(_Strict):
    """One dimension of the agency assessment and its weight (whole percent)."""

    th: str
    en: str
    weight: int = Field(ge=0, le=100)


class AgencyRules(_Strict):
    """How a province assesses its agencies: the dimensions (weights summing to 100), the bands of
    the result, who reviews, and when each SAR is due (days after its period ends). `defaults`
    names the keys a notice does not give (chosen by us)."""

    source: str = ""
    dimensions: dict[str, AgencyDimension]
    bands: tuple[Band, ...] = ()
    reviewer: Literal["committee"] = "committee"
    sar_due_days_after: int = Field(15, ge=0, le=90)
    defaults: tuple[str, ...] = ()

    @field_validator("dimensions")
    @classmethod
    def _weights_100(cls, v: dict[str, AgencyDimension]) -> dict[str, AgencyDimension]:
        if not v:
            raise ValueError("at least one dimension (ต้องมีอย่างน้อยหนึ่งมิติ)")
        bad = [k for k in v if not k.replace("_", "").isalnum() or not k.islower()]
        if bad:
            raise ValueError(f"dimension codes are lower-case letters, digits and _: {bad}")
        total = sum(d.weight for d in v.values())
        if total != 100:
            raise ValueError(f"dimension weights must sum to 100, got {total} (น้ำหนักมิติรวมต้องเท่ากับ 100)")
        return v

    @field_validator("bands")
    @classmethod
    def _bands(cls, rows: tuple[Band, ...]) -> tuple[Band, ...]:
        return Bands._contiguous(rows) if rows else rows

    def band_for(self, total_percent: Decimal) -> Band | None:
        return next((b for b in self.bands if b.min <= total_percent), None)

    def sar_due_dates(self, fiscal_year_be: int) -> dict[str, date]:
        """Each SAR's due date: its period's last day (month 6, 9, 12 of the fiscal year, which
        starts on 1 October) plus `sar_due_days_after`."""
        start = date(fiscal_year_be - 543 - 1, 10, 1)
        out = {}
        for months in AGENCY_SAR_MONTHS:
            y, m = start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1
            out[f"sar_{months}"] = date(y, m, 1) - timedelta(days=1) + timedelta(days=self.sar_due_days_after)
        return out


class Policy(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    name_th: str
    name_en: str
    source: str = ""
    notes: str = ""
    weights: Weights = Weights()
    bands: "Bands"
    low_performer: LowPerformer
    milestones: dict[str, MilestoneRule]
    reminders: Reminders = Reminders()
    reward: RewardRules = RewardRules()
    superior_levels: int = Field(1, ge=0, le=2)
    # Optional guideline distribution for the committee's calibration view: band code -> percent.
    guideline_distribution: dict[str, Decimal] = {}
    # The agency assessment (organisation level); presets without one have no agency assessment.
    agency: AgencyRules | None = None
    # The expected level (1-5) of each core competency by position level (Person.position_level),
    # set on the appraisal's competencies when a round opens; a level not listed expects
    # `competency_level_default`.
    competency_levels: dict[str, int] = {}
    competency_level_default: int = Field(3, ge=1, le=5)
    # Provenance, value by value: a key (a section or a dotted path such as "bands.civil_servant"
    # or "low_performer.escalate_after_rounds") -> "seed NNN ..." (the notice it comes from) or
    # "default" (pmflow chose it). The longest listed prefix of a key answers for it; a key with
    # none is a default.
    sources: dict[str, str] = {}

    @field_validator("competency_levels")
    @classmethod
    def _levels_1_to_5(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [k for k, n in v.items() if not 1 <= n <= 5]
        if bad:
            raise ValueError(f"levels must be 1-5 (ระดับที่คาดหวังต้องอยู่ระหว่าง 1-5): {bad}")
        return v

    @field_validator("sources")
    @classmethod
    def _sources_named(cls, v: dict[str, str]) -> dict[str, str]:
        fields = set(cls.model_fields)
        unknown = [k for k in v if k.split(".")[0] not in fields]
        if unknown:
            raise ValueError(f"sources name unknown keys {unknown} (ไม่มีค่าชื่อ {unknown})")
        bad = [k for k, s in v.items() if s != DEFAULT and not SOURCE_RE.match(s)]
        if bad:
            raise ValueError(f"sources {bad}: each is 'default' or starts 'seed NNN' "
                             f"(ที่มาต้องเป็น default หรือ seed NNN)")
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> "Policy":
        missing = [m for m in MILESTONES if m not in self.milestones]
        if missing:
            raise ValueError(f"milestones missing: {missing} (ไม่ได้กำหนดวันครบกำหนด {missing})")
        if self.low_performer.trigger == "rating":
            known = {b.code for rows in self.bands.values() for b in rows}
            unknown = [r for r in self.low_performer.ratings if r not in known]
            if unknown:
                raise ValueError(f"low_performer.ratings names unknown bands {unknown} (ไม่มีระดับ {unknown})")
        for m in self.low_performer.skippable:
            if m not in self.low_performer.measures:
                raise ValueError(f"low_performer.skippable: {m} is not one of the measures")
        return self

    # --- provenance ------------------------------------------------------------------------
    def source_of(self, key: str) -> str:
        """Where a value comes from: 'seed NNN ...' or 'default' (see `sources`)."""
        parts = key.split(".")
        for n in range(len(parts), 0, -1):
            found = self.sources.get(".".join(parts[:n]))
            if found is not None:
                return found
        return DEFAULT

    def is_default(self, key: str) -> bool:
        return self.source_of(key) == DEFAULT

    def provenance(self) -> list[tuple[str, str, str]]:
        """(key, the value in short, where it comes from) for every value HR decides on."""
        data = self.model_dump(mode="json")
        keys = [*PROVENANCE_KEYS[:PROVENANCE_KEYS.index("reminders")],
                *(f"milestones.{m}.days" for m in MILESTONES), *PROVENANCE_KEYS[PROVENANCE_KEYS.index("reminders"):]]
        out = []
        for key in keys:
            value: object = data
            for part in key.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value in (None, {}, [], ""):
                continue
            if key.startswith("milestones."):
                rule = self.milestones[key.split(".")[1]]
                value = f"{'start' if rule.anchor == 'start' else 'end'} {rule.days:+d} days"
                if rule.covers:
                    code = key.split(".")[1]
                    out.append((f"milestones.{code}.covers", rule.covers, self.source_of(f"milestones.{code}.covers")))
            elif key.startswith("bands."):
                value = ", ".join(f"{b['code']} >= {b['min']}" for b in value)  # type: ignore[union-attr]
            elif key == "low_performer.escalation_rules":
                value = "; ".join(f"{t}: {self.low_performer.escalation_rule(t)[1]}" for t in STAFF_TYPES)
            out.append((key, value if isinstance(value, str) else _short(value), self.source_of(key)))
        return out

    def expected_competency_level(self, position_level: str) -> int:
        return self.competency_levels.get((position_level or "").strip(), self.competency_level_default)

    # --- rules -------------------------------------------------------------------------------
    def band_for(self, staff_type: str, total_percent: Decimal) -> Band:
        """The first band of the staff type whose minimum <= total percent."""
        for band in self.bands_of(staff_type):
            if band.min <= total_percent:
                return band
        raise AssertionError("unreachable: the lowest band starts at 0")

    def bands_of(self, staff_type: str) -> tuple[Band, ...]:
        if staff_type not in STAFF_TYPES:
            raise InvalidInput([Problem("staff_type", f"ประเภทบุคลากรไม่ถูกต้อง: {staff_type}",
                                        f"unknown staff type {staff_type!r}; one of {', '.join(STAFF_TYPES)}")])
        return self.bands[staff_type]

    def is_low_performer(self, staff_type: str, score: object) -> bool:
        """Does this result open a low-performer case? ``score`` is a total percent or a Score."""
        total = Decimal(str(getattr(score, "total_percent", score)))
        rule = self.low_performer
        if rule.trigger == "percent":
            threshold = rule.below_percent.get(staff_type)  # type: ignore[call-overload]
            return threshold is not None and total < threshold
        return self.band_for(staff_type, total).code in rule.ratings

    def milestone_dates(self, round_start: date, round_end: date) -> dict[str, date]:
        return {
            code: (round_start if rule.anchor == "start" else round_end) + timedelta(days=rule.days)
            for code, rule in self.milestones.items()
        }


# The values the HR page lists with their provenance (milestones are added one by one).
PROVENANCE_KEYS = (
    "weights", "bands.civil_servant", "bands.permanent_employee", "bands.government_employee",
    "bands.other_state_official", "superior_levels", "low_performer.trigger", "low_performer.ratings",
    "low_performer.below_percent", "low_performer.measures", "low_performer.min_measures",
    "low_performer.skippable", "low_performer.escalate_after_rounds", "low_performer.escalation_rules",
    "reminders", "reward.percent_by_rating", "reward.steps_by_rating", "competency_levels",
    "competency_level_default")


def _short(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_short(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_short(v) for v in value)
    return str(value)


def parse(text: str, where: str = "policy") -> Policy:
    """Parse and validate TOML text; raise InvalidInput naming every bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput([Problem(where, f"ไฟล์ TOML ไม่ถูกต้อง: {exc}", f"not valid TOML: {exc}")]) from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(problems_from_pydantic(exc.errors())) from None


def load_file(path: str | Path) -> Policy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput([Problem(str(path), f"อ่านไฟล์ไม่ได้: {exc}", f"cannot read file: {exc}")]) from None
    return parse(text, where=str(path))


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def preset_text(name: str) -> str:
    path = PRESETS_DIR / f"{name}.toml"
    if not path.is_file():
        raise InvalidInput([Problem("preset", f"ไม่มีนโยบายสำเร็จรูปชื่อ {name}",
                                    f"no preset {name!r}; one of {', '.join(preset_names())}")])
    return path.read_text(encoding="utf-8")


def load_preset(name: str) -> Policy:
    return parse(preset_text(name), where=f"preset {name}")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
