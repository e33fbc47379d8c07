"""Starting an agreement from KPIs kept before: the person's last round, or a KPI set kept for a
position in an organisation. The copy is an ordinary `edit_agreement` event on the draft, so the
engine checks the role, the state and the version as for any edit, and the links to
organisation KPIs are carried to the new fiscal year by code (or dropped when there is none).
"""
from __future__ import annotations

from typing import Any, Literal, Mapping, Sequence

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlmodel import Session

from db.models import Appraisal, Kpi, KpiSet, OrgKpi, OrgUnit, Person, Round, utcnow
from workflow import engine, orgs, queries
from workflow.access import Actor
from workflow.appraisals import KpiIn
from workflow.errors import InvalidInput, NotFound, Problem, problems_from_pydantic

Source = Literal["last_round", "kpi_set"]
_KPIS = TypeAdapter(list[KpiIn])


def _may_keep(session: Session, actor: Actor, org: OrgUnit) -> bool:
    if actor.is_admin or actor.has_scope("hr", org.path):
        return True
    me = session.get(Person, actor.person_id) if actor.person_id else None
    unit = session.get(OrgUnit, me.org_unit_id) if me else None
    return unit is not None and unit.path.startswith(org.path)  # someone working in the organisation


def _org(session: Session, actor: Actor, org_code: str) -> OrgUnit:
    org = orgs.by_code(session, org_code)
    if not _may_keep(session, actor, org):
        raise NotFound("organisation", org_code)
    return org


def as_dict(s: KpiSet) -> dict[str, Any]:
    return {"id": s.id, "org_unit_id": s.org_unit_id, "position": s.position, "kpis": list(s.kpis or [])}


def list_sets(session: Session, actor: Actor, org_code: str) -> list[KpiSet]:
    org = _org(session, actor, org_code)
    return list(session.execute(select(KpiSet).where(KpiSet.org_unit_id == org.id).order_by(KpiSet.position)).scalars())


def keep(session: Session, actor: Actor, org_code: str, position: str, kpis: Sequence[Mapping[str, Any]]) -> KpiSet:
    """Keep (or replace) the KPI set of a position in this organisation."""
    org = _org(session, actor, org_code)
    position = (position or "").strip()
    problems = []
    if not position or len(position) > 300:
        problems.append(Problem("position", "ต้องระบุตำแหน่ง (ไม่เกิน 300 ตัวอักษร)", "a position (up to 300 characters) is required"))
    try:
        checked = [k.model_dump(mode="json", exclude_none=True) for k in _KPIS.validate_python(list(kpis))]
    except ValidationError as exc:
        problems += problems_from_pydantic(exc.errors(), "kpis")
        checked = []
    if not problems and not checked:
        problems.append(Problem("kpis", "ต้องมีตัวชี้วัดอย่างน้อย 1 ตัว", "at least one KPI is required"))
    if problems:
        raise InvalidInput(problems)
    try:
        row = session.execute(select(KpiSet).where(KpiSet.org_unit_id == org.id, KpiSet.position == position)
                              ).scalar_one_or_none() or KpiSet(org_unit_id=org.id, position=position)
        row.kpis, row.updated_at = checked, utcnow()
        session.add(row)
        session.commit()
        return row
    except BaseException:
        session.rollback()
        raise


def _carried(session: Session, kpis: list[dict[str, Any]], fiscal_year: int) -> list[dict[str, Any]]:
    """Links to organisation KPIs moved to this fiscal year by (organisation, code), or dropped."""
    ids = {k["org_kpi_id"] for k in kpis if k.get("org_kpi_id")}
    old = {k.id: k for k in session.execute(select(OrgKpi).where(OrgKpi.id.in_(ids))).scalars()} if ids else {}
    out = []
    for k in kpis:
        k = dict(k)
        ref = old.get(k.get("org_kpi_id"))
        if ref is not None and (ref.fiscal_year != fiscal_year or ref.retired):
            k["org_kpi_id"] = session.execute(select(OrgKpi.id).where(
                OrgKpi.org_unit_id == ref.org_unit_id, OrgKpi.fiscal_year == fiscal_year, OrgKpi.code == ref.code,
                OrgKpi.retired.is_(False))).scalar_one_or_none()
        elif ref is None:
            k["org_kpi_id"] = None
        if k.get("org_kpi_id") is None:
            k.pop("org_kpi_id", None)
        out.append(k)
    return out


def last_round_kpis(session: Session, a: Appraisal) -> list[dict[str, Any]]:
    """The KPIs of the person's most recent earlier appraisal that has any."""
    this = session.get(Round, a.round_id)
    earlier = session.execute(
        select(Appraisal.id).join(Round, Round.id == Appraisal.round_id)
        .where(Appraisal.person_id == a.person_id, Appraisal.id != a.id, Round.starts_on < this.starts_on,
               select(Kpi.id).where(Kpi.appraisal_id == Appraisal.id).exists())
        .order_by(Round.starts_on.desc()).limit(1)).scalar_one_or_none()
    if earlier is None:
        return []
    return [{"title": k.title, "source": k.source, "weight": k.weight,
             "level_descriptions": list(k.level_descriptions or []), "org_kpi_id": k.org_kpi_id}
            for k in session.execute(select(Kpi).where(Kpi.appraisal_id == earlier)
                                     .order_by(Kpi.position, Kpi.id)).scalars()]


def start_agreement(session: Session, actor: Actor, appraisal_id: int, *, source: Source,
                    kpi_set_id: int | None = None, expected_version: int | None = None) -> engine.Fired:
    """Fill a draft agreement's KPIs from the source, through the `edit_agreement` event."""
    a, _ = queries.appraisal_for(session, actor, appraisal_id)
    if source == "kpi_set":
        kept = session.get(KpiSet, kpi_set_id) if kpi_set_id else None
        unit = session.get(OrgUnit, a.org_unit_id)
        owner = session.get(OrgUnit, kept.org_unit_id) if kept else None
        if kept is None or owner is None or not unit.path.startswith(owner.path):
            raise InvalidInput([Problem("kpi_set_id", "ไม่พบชุดตัวชี้วัดนี้ในหน่วยงานของผู้รับการประเมิน",
                                        "no such KPI set in the appraisee's organisation")])
        kpis = list(kept.kpis or [])
    else:
        kpis = last_round_kpis(session, a)
        if not kpis:
            raise InvalidInput([Problem("source", "ไม่มีตัวชี้วัดจากรอบก่อน", "no earlier round with KPIs")])
    fiscal_year = session.get(Round, a.round_id).fiscal_year
    payload = {"kpis": _carried(session, kpis, fiscal_year)}
    session.rollback()  # end the read transaction: the engine begins its own
    return engine.fire(session, "appraisal", appraisal_id, "edit_agreement", actor,
                       expected_version=expected_version, payload=payload)
