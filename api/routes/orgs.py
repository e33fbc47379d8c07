"""Organisation units (readable by anyone signed in) and people (only those the caller may see)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.schemas import Page
from db.models import OrgUnit, Person
from workflow import queries
from workflow.access import reach_of
from workflow.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["organisation"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class OrgUnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 2, "code": "UDN-EDU", "name_th": "กองการศึกษา", "name_en": "Education division", "kind": "agency",
        "parent_id": 1, "path": "/1/2/", "policy_version_id": None}]})
    id: int
    code: str
    name_th: str
    name_en: str
    kind: str
    parent_id: int | None
    path: str
    policy_version_id: int | None


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 7, "code": "T00007", "name_th": "สมชาย ใจดี", "name_en": "", "position": "นักวิชาการศึกษา",
        "position_level": "ชำนาญการ", "staff_type": "civil_servant", "org_unit_id": 2, "evaluator_id": 5,
        "superior_id": 4, "email": "somchai@example.org", "active": True}]})
    id: int
    code: str
    name_th: str
    name_en: str
    position: str
    position_level: str
    staff_type: str
    org_unit_id: int
    evaluator_id: int | None
    superior_id: int | None
    email: str
    active: bool


@router.get("/org-units", response_model=Page[OrgUnitOut], responses=responses(401, 422),
            summary="Organisation units / หน่วยงาน")
def list_org_units(session: SessionDep, actor: ActorDep,
                   parent: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="children of")] = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100,
                   offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Page[OrgUnitOut]:
    where = [reach_of(session, actor).clause(OrgUnit.path)]
    if parent is not None:
        where.append(OrgUnit.parent_id == parent)
    total = session.execute(select(func.count()).select_from(OrgUnit).where(*where)).scalar_one()
    rows = session.execute(select(OrgUnit).where(*where).order_by(OrgUnit.path).limit(limit).offset(offset)).scalars()
    return Page[OrgUnitOut](items=[OrgUnitOut.model_validate(r) for r in rows], total=total, limit=limit,
                            offset=offset)


@router.get("/org-units/{unit_id}", response_model=OrgUnitOut, responses=responses(401, 404, 422))
def get_org_unit(unit_id: Id, session: SessionDep, actor: ActorDep) -> OrgUnitOut:
    unit = session.get(OrgUnit, unit_id)
    if unit is None or not reach_of(session, actor).sees(unit.path):
        raise NotFound("org unit", unit_id)
    return OrgUnitOut.model_validate(unit)


@router.get("/people", response_model=Page[PersonOut], responses=responses(401, 422),
            summary="People the caller may see: self, those they evaluate or stand above, their HR scope")
def list_people(session: SessionDep, actor: ActorDep,
                unit: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="org unit id (exact)")] = None,
                evaluator: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100,
                offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Page[PersonOut]:
    where = [queries.visible_people(actor)]
    if unit is not None:
        where.append(Person.org_unit_id == unit)
    if evaluator is not None:
        where.append(Person.evaluator_id == evaluator)
    total = session.execute(select(func.count()).select_from(Person).where(*where)).scalar_one()
    rows = session.execute(select(Person).where(*where).order_by(Person.id).limit(limit).offset(offset)).scalars()
    return Page[PersonOut](items=[PersonOut.model_validate(r) for r in rows], total=total, limit=limit,
                           offset=offset)


@router.get("/people/{person_id}", response_model=PersonOut, responses=responses(401, 404, 422))
def get_person(person_id: Id, session: SessionDep, actor: ActorDep) -> PersonOut:
    return PersonOut.model_validate(queries.person_for(session, actor, person_id))
