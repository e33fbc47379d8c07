"""The organisation tree: any depth, a materialised path per unit for subtree queries."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import false, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from db.models import OrgUnit
from workflow.access import Actor
from workflow.errors import NotFound


def within(paths: Iterable[str], path_column: Any = OrgUnit.path) -> ColumnElement[bool]:
    """SQL: the unit's path lies in one of these subtrees (a unit's path begins with its
    ancestors'); no paths, no unit."""
    return or_(false(), *[path_column.startswith(p) for p in paths])


def by_code(session: Session, code: str) -> OrgUnit:
    org = session.execute(select(OrgUnit).where(OrgUnit.code == code)).scalar_one_or_none()
    if org is None:
        raise NotFound("organisation", code)
    return org


def managed_by(session: Session, actor: Actor, code: str) -> OrgUnit:
    """The organisation, if the caller may act as its HR; otherwise as if it did not exist."""
    org = by_code(session, code)
    if not actor.is_hr_of(org.path):
        raise NotFound("organisation", code)
    return org


def create_unit(session: Session, *, code: str, name_th: str, name_en: str = "", kind: str = "unit",
                parent: OrgUnit | None = None, policy_version_id: int | None = None) -> OrgUnit:
    unit = OrgUnit(code=code, name_th=name_th, name_en=name_en, kind=kind,
                   parent_id=parent.id if parent else None, policy_version_id=policy_version_id)
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.add(unit)
    session.flush()
    return unit


def path_ids(path: str) -> list[int]:
    return [int(x) for x in path.strip("/").split("/") if x]


def ancestors(session: Session, org: OrgUnit) -> list[OrgUnit]:
    """The unit and its ancestors, nearest first."""
    ids = path_ids(org.path)
    rows = {u.id: u for u in session.execute(select(OrgUnit).where(OrgUnit.id.in_(ids))).scalars()}
    return [rows[i] for i in reversed(ids) if i in rows]


def subtree(session: Session, org: OrgUnit) -> list[OrgUnit]:
    return list(session.execute(
        select(OrgUnit).where(OrgUnit.path.startswith(org.path)).order_by(OrgUnit.path)).scalars())
