"""Organisation KPIs (ตัวชี้วัดระดับองค์กร): a province's and each agency's KPIs for a fiscal year,
each serving a KPI of an organisation above it (Rayong's cascade, seed 004).

HR of an organisation's subtree enters them (one by one, from an .xlsx/.csv file previewed
then imported when clean, or copied from last year); a KPI is retired, never deleted, since
individual KPIs may point at it. Every change is an audit event (entity ``org_kpi``).

The rule an evaluator's link must keep (`link_problems`, pure): an individual KPI may serve an
organisation KPI of the appraisal's own organisation or an ancestor, of the round's fiscal
year, not retired.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlmodel import Session

from db.models import Event, OrgKpi, OrgUnit
from workflow import audit, orgs
from workflow.access import Actor
from workflow.errors import InvalidInput, NotFound, Problem, problems_from_pydantic
from workflow.roster import RowProblem, action_counts, read_rows
from workflow.targets import TargetLevels

CODE = re.compile(r"^[A-Za-z0-9._/-]{1,64}$")


# --- shapes --------------------------------------------------------------------------------------
class OrgKpiIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    fiscal_year: int = Field(ge=2400, le=2700, description="Buddhist era, e.g. 2570")
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")
    title: str = Field(min_length=1, max_length=500)
    weight: int = Field(0, ge=0, le=100)
    level_descriptions: TargetLevels = []
    parent_id: int | None = Field(None, ge=1, le=2**31 - 1, description="the organisation KPI above it serves")
    parent_code: str | None = Field(None, max_length=64, description="or its code (nearest ancestor first)")


class OrgKpiPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str | None = Field(None, min_length=1, max_length=500)
    weight: int | None = Field(None, ge=0, le=100)
    level_descriptions: TargetLevels | None = None
    parent_id: int | None = Field(None, ge=1, le=2**31 - 1)
    parent_code: str | None = Field(None, max_length=64)


def as_dict(k: OrgKpi) -> dict[str, Any]:
    return {"id": k.id, "org_unit_id": k.org_unit_id, "fiscal_year": k.fiscal_year, "code": k.code, "title": k.title,
            "weight": k.weight, "level_descriptions": list(k.level_descriptions or []), "parent_id": k.parent_id,
            "retired": k.retired}


# --- who may ------------------------------------------------------------------------------------
def scope(session: Session, actor: Actor, org_code: str) -> OrgUnit:
    """The organisation, if the caller is HR of it (or above) or an admin; otherwise it does
    not exist for them."""
    org = orgs.by_code(session, org_code)
    if not (actor.is_hr_of(org.path)):
        raise NotFound("organisation", org_code)
    return org


# --- reading -------------------------------------------------------------------------------------
def list_kpis(session: Session, actor: Actor, org_code: str, fiscal_year: int, *,
              include_retired: bool = False) -> list[OrgKpi]:
    org = scope(session, actor, org_code)
    return of_org(session, org.id, fiscal_year, include_retired=include_retired)


def of_org(session: Session, org_id: int, fiscal_year: int, *, include_retired: bool = False) -> list[OrgKpi]:
    where = [OrgKpi.org_unit_id == org_id, OrgKpi.fiscal_year == fiscal_year]
    if not include_retired:
        where.append(OrgKpi.retired.is_(False))
    return list(session.execute(select(OrgKpi).where(*where).order_by(OrgKpi.code)).scalars())


def offered(session: Session, org_unit_id: int, fiscal_year: int) -> list[tuple[OrgUnit, OrgKpi]]:
    """The organisation KPIs an individual KPI of this unit may serve: its own and its
    ancestors', of this fiscal year, nearest organisation first (the agreement page's choices)."""
    unit = session.get(OrgUnit, org_unit_id)
    if unit is None:
        return []
    out = []
    for org in orgs.ancestors(session, unit):
        out += [(org, k) for k in of_org(session, org.id, fiscal_year)]
    return out


def get_kpi(session: Session, actor: Actor, org_code: str, kpi_id: int) -> tuple[OrgUnit, OrgKpi]:
    org = scope(session, actor, org_code)
    k = session.get(OrgKpi, kpi_id)
    if k is None or k.org_unit_id != org.id:
        raise NotFound("organisation KPI", kpi_id)
    return org, k


# --- the rules -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class KpiRef:
    """What the link rules need of an organisation KPI."""

    id: int
    org_unit_id: int
    fiscal_year: int
    retired: bool = False
    code: str = ""


def parent_problems(parent: KpiRef | None, parent_given: bool, ancestor_ids: Iterable[int], fiscal_year: int,
                    field_name: str = "parent") -> list[Problem]:
    """A KPI's parent must be a live KPI of a strict ancestor organisation, of the same year."""
    if not parent_given:
        return []
    if parent is None:
        return [Problem(field_name, "ไม่พบตัวชี้วัดแม่", "no such parent KPI")]
    out = []
    if parent.org_unit_id not in set(ancestor_ids):
        out.append(Problem(field_name, "ตัวชี้วัดแม่ต้องเป็นของหน่วยงานระดับเหนือขึ้นไป",
                           "the parent KPI must belong to an organisation above this one"))
    if parent.fiscal_year != fiscal_year:
        out.append(Problem(field_name, f"ตัวชี้วัดแม่ต้องเป็นของปีงบประมาณ {fiscal_year}",
                           f"the parent KPI must be of fiscal year {fiscal_year}"))
    if parent.retired:
        out.append(Problem(field_name, "ตัวชี้วัดแม่ถูกยกเลิกแล้ว", "the parent KPI is retired"))
    return out


def link_problems(links: Sequence[tuple[int, int | None]], known: Mapping[int, KpiRef],
                  allowed_org_ids: Iterable[int], fiscal_year: int) -> list[Problem]:
    """Pure: each (position, org_kpi_id) of an agreement's KPIs must name an organisation KPI of
    the appraisal's organisation or an ancestor (`allowed_org_ids`), of the round's fiscal year,
    not retired. Every broken link named by its field."""
    allowed = set(allowed_org_ids)
    out = []
    for i, kpi_id in links:
        if kpi_id is None:
            continue
        where = f"payload.kpis[{i}].org_kpi_id"
        ref = known.get(kpi_id)
        if ref is None:
            out.append(Problem(where, f"ไม่พบตัวชี้วัดองค์กรรหัส {kpi_id}", f"no organisation KPI {kpi_id}"))
        elif ref.org_unit_id not in allowed:
            out.append(Problem(where, "ตัวชี้วัดองค์กรต้องเป็นของหน่วยงานของผู้รับการประเมินหรือหน่วยงานเหนือขึ้นไป",
                               "the organisation KPI must belong to the appraisee's organisation or one above it"))
        elif ref.fiscal_year != fiscal_year:
            out.append(Problem(where, f"ตัวชี้วัดองค์กรต้องเป็นของปีงบประมาณ {fiscal_year}",
                               f"the organisation KPI must be of fiscal year {fiscal_year}"))
        elif ref.retired:
            out.append(Problem(where, "ตัวชี้วัดองค์กรนี้ถูกยกเลิกแล้ว", "the organisation KPI is retired"))
    return out


def refs(session: Session, ids: Iterable[int]) -> dict[int, KpiRef]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    return {k.id: KpiRef(k.id, k.org_unit_id, k.fiscal_year, k.retired, k.code)
            for k in session.execute(select(OrgKpi).where(OrgKpi.id.in_(ids))).scalars()}


def require_links(session: Session, org_unit_id: int, fiscal_year: int, kpis: Sequence[Mapping[str, Any]]) -> None:
    """Raise InvalidInput (422) unless every org_kpi_id of these agreement KPIs may be served by
    the appraisal's unit in this fiscal year. The appraisal kind calls it before replacing KPIs."""
    links = [(i, k.get("org_kpi_id")) for i, k in enumerate(kpis)]
    if all(kid is None for _, kid in links):
        return
    unit = session.get(OrgUnit, org_unit_id)
    allowed = orgs.path_ids(unit.path) if unit is not None else []
    problems = link_problems(links, refs(session, [kid for _, kid in links]), allowed, fiscal_year)
    if problems:
        raise InvalidInput(problems)


# --- writing -------------------------------------------------------------------------------------
def _record(session: Session, actor: Actor, k: OrgKpi, event: str, payload: Mapping[str, Any]) -> None:
    seq = (session.execute(select(func.max(Event.seq)).where(Event.entity_type == "org_kpi",
                                                            Event.entity_id == k.id)).scalar() or 0) + 1
    audit.append(session, entity_type="org_kpi", entity_id=k.id, seq=seq, event=event, from_state=None,
                 to_state=None, actor_account_id=actor.account_id, actor=actor.name, payload=dict(payload))


def _resolve_parent(session: Session, org: OrgUnit, fiscal_year: int, parent_id: int | None,
                    parent_code: str | None, field_name: str = "parent_id") -> tuple[int | None, list[Problem]]:
    ancestors = [u for u in orgs.ancestors(session, org) if u.id != org.id]
    if parent_id is None and not parent_code:
        return None, []
    ref: KpiRef | None = None
    if parent_id is not None:
        ref = refs(session, [parent_id]).get(parent_id)
    else:
        for u in ancestors:  # nearest first
            k = session.execute(select(OrgKpi).where(OrgKpi.org_unit_id == u.id, OrgKpi.fiscal_year == fiscal_year,
                                                     OrgKpi.code == parent_code)).scalar_one_or_none()
            if k is not None:
                ref = KpiRef(k.id, k.org_unit_id, k.fiscal_year, k.retired, k.code)
                break
    problems = parent_problems(ref, True, [u.id for u in ancestors], fiscal_year, field_name)
    return (ref.id if ref and not problems else None), problems


def _validated(shape: type[BaseModel], data: Mapping[str, Any]) -> Any:
    try:
        return shape.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(problems_from_pydantic(exc.errors())) from None


def _code_taken(session: Session, org_id: int, fiscal_year: int, code: str) -> bool:
    return session.execute(select(OrgKpi.id).where(OrgKpi.org_unit_id == org_id, OrgKpi.fiscal_year == fiscal_year,
                                                   OrgKpi.code == code)).first() is not None


def create(session: Session, actor: Actor, org_code: str, data: Mapping[str, Any]) -> OrgKpi:
    org = scope(session, actor, org_code)
    body: OrgKpiIn = _validated(OrgKpiIn, data)
    try:
        parent_id, problems = _resolve_parent(session, org, body.fiscal_year, body.parent_id, body.parent_code)
        if _code_taken(session, org.id, body.fiscal_year, body.code):
            problems.append(Problem("code", f"รหัส {body.code} มีอยู่แล้วในปีงบประมาณนี้",
                                    f"code {body.code} already exists for this fiscal year"))
        if problems:
            raise InvalidInput(problems)
        k = OrgKpi(org_unit_id=org.id, fiscal_year=body.fiscal_year, code=body.code, title=body.title,
                   weight=body.weight, level_descriptions=body.level_descriptions, parent_id=parent_id)
        session.add(k)
        session.flush()
        _record(session, actor, k, "create_org_kpi", as_dict(k))
        session.commit()
        return k
    except BaseException:
        session.rollback()
        raise


def update(session: Session, actor: Actor, org_code: str, kpi_id: int, data: Mapping[str, Any]) -> OrgKpi:
    org, k = get_kpi(session, actor, org_code, kpi_id)
    body: OrgKpiPatch = _validated(OrgKpiPatch, data)
    try:
        changes = body.model_dump(exclude_unset=True)
        # null clears the parent; for the other fields it means "unchanged"
        changes = {k: v for k, v in changes.items() if v is not None or k in ("parent_id", "parent_code")}
        if "parent_id" in changes or "parent_code" in changes:
            parent_id, problems = _resolve_parent(session, org, k.fiscal_year, changes.pop("parent_id", None),
                                                  changes.pop("parent_code", None))
            if problems:
                raise InvalidInput(problems)
            changes["parent_id"] = parent_id
        for key, value in changes.items():
            setattr(k, key, value)
        session.add(k)
        session.flush()
        _record(session, actor, k, "update_org_kpi", changes)
        session.commit()
        return k
    except BaseException:
        session.rollback()
        raise


def retire(session: Session, actor: Actor, org_code: str, kpi_id: int) -> OrgKpi:
    """DELETE retires: the KPI stays for the links that point at it, and is offered no more."""
    _, k = get_kpi(session, actor, org_code, kpi_id)
    try:
        if not k.retired:
            k.retired = True
            session.add(k)
            session.flush()
            _record(session, actor, k, "retire_org_kpi", {"code": k.code})
        session.commit()
        return k
    except BaseException:
        session.rollback()
        raise


def copy_year(session: Session, actor: Actor, org_code: str, from_fiscal_year: int, to_fiscal_year: int) -> list[OrgKpi]:
    """Last year's KPIs of this organisation as a start for the new year: codes already present
    are kept; a parent is the new year's KPI with the old parent's code in the same organisation."""
    org = scope(session, actor, org_code)
    if from_fiscal_year == to_fiscal_year:
        raise InvalidInput([Problem("from_fiscal_year", "ปีต้นทางต้องต่างจากปีปลายทาง",
                                    "copy from a different fiscal year")])
    try:
        created = []
        for old in of_org(session, org.id, from_fiscal_year):
            if _code_taken(session, org.id, to_fiscal_year, old.code):
                continue
            parent_id = None
            if old.parent_id is not None:
                was = session.get(OrgKpi, old.parent_id)
                now = session.execute(select(OrgKpi.id).where(
                    OrgKpi.org_unit_id == was.org_unit_id, OrgKpi.fiscal_year == to_fiscal_year,
                    OrgKpi.code == was.code, OrgKpi.retired.is_(False))).scalar_one_or_none()
                parent_id = now
            k = OrgKpi(org_unit_id=org.id, fiscal_year=to_fiscal_year, code=old.code, title=old.title,
                       weight=old.weight, level_descriptions=list(old.level_descriptions or []), parent_id=parent_id)
            session.add(k)
            session.flush()
            _record(session, actor, k, "copy_org_kpi", {"from_id": old.id, "from_fiscal_year": from_fiscal_year})
            created.append(k)
        session.commit()
        return created
    except BaseException:
        session.rollback()
        raise


# --- import from a file (like the roster: preview, then import when clean) ------------------------
IMPORT_COLUMNS = ("code", "title", "weight", "level_1", "level_2", "level_3", "level_4", "level_5", "parent")
IMPORT_REQUIRED = ("code", "title")
IMPORT_HEADINGS = {
    "code": ("code", "รหัส", "รหัสตัวชี้วัด"),
    "title": ("title", "kpi", "ตัวชี้วัด", "ชื่อตัวชี้วัด"),
    "weight": ("weight", "น้ำหนัก"),
    **{f"level_{n}": (f"level_{n}", f"level {n}", f"ระดับ {n}", f"ระดับ{n}") for n in range(1, 6)},
    "parent": ("parent", "parent code", "parent_code", "ตัวชี้วัดแม่", "รหัสตัวชี้วัดแม่"),
}


@dataclass
class ImportPlan:
    org_code: str
    fiscal_year: int
    rows: list[dict[str, Any]] = field(default_factory=list)  # row, code, action (new | updated | unchanged)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        counts = action_counts(r["action"] for r in self.rows)
        return {"org_code": self.org_code, "fiscal_year": self.fiscal_year, "clean": self.clean, "counts": counts,
                "rows": [{k: v for k, v in r.items() if k != "values"} for r in self.rows],
                "problems": [p.__dict__ for p in self.problems]}


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def plan_import(session: Session, actor: Actor, *, org_code: str, fiscal_year: int, filename: str,
                content: bytes) -> ImportPlan:
    """What importing this file would do, and every problem by row and column. Writes nothing."""
    org = scope(session, actor, org_code)
    if not 2400 <= fiscal_year <= 2700:
        raise InvalidInput([Problem("fiscal_year", "ปีงบประมาณต้องเป็นปีพุทธศักราช เช่น 2570",
                                    "fiscal year must be a Buddhist-era year, e.g. 2570")])
    header, rows = read_rows(filename, content)
    lookup = {a.lower(): key for key, aliases in IMPORT_HEADINGS.items() for a in aliases}
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        key = lookup.get(h.lower())
        if key and key not in index:
            index[key] = i
    out = ImportPlan(org.code, fiscal_year)
    out.problems = [RowProblem(1, c, "ไม่มีคอลัมน์ที่ต้องมี", "a required column is missing")
                    for c in IMPORT_REQUIRED if c not in index]
    if out.problems:
        return out
    existing = {k.code: k for k in of_org(session, org.id, fiscal_year, include_retired=True)}
    seen: dict[str, int] = {}
    for n, values in rows:
        rec = {c: _cell(values[i]) if i < len(values) else "" for c, i in index.items()}
        if not any(rec.values()):
            continue
        if n > 5001:
            out.problems.append(RowProblem(n, "-", "เกิน 5000 แถว", "more than 5000 rows"))
            break
        problems = []
        for c in IMPORT_REQUIRED:
            if not rec.get(c):
                problems.append(RowProblem(n, c, "ต้องกรอก", "required"))
        code = rec.get("code", "")
        if code and not CODE.match(code):
            problems.append(RowProblem(n, "code", "รหัสใช้ได้เฉพาะ A-Z a-z 0-9 . _ / - ไม่เกิน 64 ตัว",
                                       "a code is 1-64 of A-Z a-z 0-9 . _ / -"))
        elif code in seen:
            problems.append(RowProblem(n, "code", f"รหัสซ้ำกับแถวที่ {seen[code]}", f"the same code as row {seen[code]}"))
        elif code:
            seen[code] = n
        if len(rec.get("title", "")) > 500:
            problems.append(RowProblem(n, "title", "ยาวเกิน 500 ตัวอักษร", "longer than 500 characters"))
        weight = 0
        if rec.get("weight"):
            try:
                weight = int(rec["weight"])
                if not 0 <= weight <= 100:
                    raise ValueError
            except ValueError:
                problems.append(RowProblem(n, "weight", "น้ำหนักต้องเป็นจำนวนเต็ม 0-100", "weight must be a whole number 0-100"))
        levels = [rec.get(f"level_{i}", "") for i in range(1, 6)]
        if any(levels) and not all(levels):
            missing = [f"level_{i}" for i, lv in enumerate(levels, start=1) if not lv]
            problems.append(RowProblem(n, missing[0], "ต้องระบุเป้าหมายครบ 5 ระดับหรือไม่ระบุเลย",
                                       "give all five target levels or none"))
        parent_id = None
        if rec.get("parent"):
            parent_id, found = _resolve_parent(session, org, fiscal_year, None, rec["parent"])
            problems += [RowProblem(n, "parent", p.th, p.en) for p in found]
        out.problems += problems
        values_ = dict(title=rec.get("title", ""), weight=weight, level_descriptions=levels if any(levels) else [],
                       parent_id=parent_id, retired=False)
        old = existing.get(code)
        if old is None:
            action = "new"
        else:
            before = dict(title=old.title, weight=old.weight, level_descriptions=list(old.level_descriptions or []),
                          parent_id=old.parent_id, retired=old.retired)
            action = "unchanged" if before == values_ else "updated"
        out.rows.append({"row": n, "code": code, "action": action, "values": values_})
    if not out.rows and not out.problems:
        out.problems.append(RowProblem(2, "-", "ไม่มีข้อมูล", "the file has no rows"))
    return out


def apply_import(session: Session, actor: Actor, *, org_code: str, fiscal_year: int, filename: str,
                 content: bytes) -> ImportPlan:
    """Import the file if, and only if, it is clean; one transaction; codes already there are updated."""
    try:
        p = plan_import(session, actor, org_code=org_code, fiscal_year=fiscal_year, filename=filename, content=content)
        if not p.clean:
            raise InvalidInput([x.problem() for x in p.problems])
        org = orgs.by_code(session, org_code)
        existing = {k.code: k for k in of_org(session, org.id, fiscal_year, include_retired=True)}
        for r in p.rows:
            if r["action"] == "unchanged":
                continue
            k = existing.get(r["code"]) or OrgKpi(org_unit_id=org.id, fiscal_year=fiscal_year, code=r["code"],
                                                  title=r["values"]["title"])
            for key, value in r["values"].items():
                setattr(k, key, value)
            session.add(k)
            session.flush()
            _record(session, actor, k, "import_org_kpi", {"file": PurePath(filename).name, "row": r["row"],
                                                          "action": r["action"]})
        session.commit()
        return p
    except BaseException:
        session.rollback()
        raise


def require_agreement_links(session: Session, appraisal: Any, kpis: Sequence[Mapping[str, Any]]) -> None:
    """`require_links` for an appraisal (its unit, its round's fiscal year): the one call the
    appraisal kind makes before it replaces the agreement's KPIs (edit_agreement, change_kpis)."""
    from db.models import Round

    if any(k.get("org_kpi_id") is not None for k in kpis):
        rnd = session.get(Round, appraisal.round_id)
        require_links(session, appraisal.org_unit_id, rnd.fiscal_year, kpis)
