"""Committees (read): those the caller sits on, and those of organisations in their scope."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.schemas import Page
from db.models import Committee, CommitteeMember, Person
from workflow import queries
from workflow.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["committees"])


class MemberOut(BaseModel):
    person_id: int
    name_th: str
    is_chair: bool


class CommitteeOut(BaseModel):
    id: int
    org_unit_id: int
    round_id: int | None
    name_th: str = Field(examples=["คณะกรรมการกลั่นกรองผลการประเมิน"])
    members: list[MemberOut]


def _members(session, ids: list[int]) -> dict[int, list[MemberOut]]:  # noqa: ANN001
    out: dict[int, list[MemberOut]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(
            select(CommitteeMember.committee_id, CommitteeMember.person_id, Person.name_th, CommitteeMember.is_chair)
            .join(Person, Person.id == CommitteeMember.person_id).where(CommitteeMember.committee_id.in_(ids))
            .order_by(CommitteeMember.is_chair.desc(), CommitteeMember.id)).all()
        for cid, pid, name, chair in rows:
            out[cid].append(MemberOut(person_id=pid, name_th=name, is_chair=chair))
    return out


def _out(c: Committee, members: list[MemberOut]) -> CommitteeOut:
    return CommitteeOut(id=c.id, org_unit_id=c.org_unit_id, round_id=c.round_id, name_th=c.name_th, members=members)


@router.get("/committees", response_model=Page[CommitteeOut], responses=responses(401, 422),
            summary="Screening committees / คณะกรรมการกลั่นกรอง")
def list_committees(session: SessionDep, actor: ActorDep,
                    round: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Page[CommitteeOut]:
    where = [queries.visible_committees(actor)]
    if round is not None:
        where.append(Committee.round_id == round)
    total = session.execute(select(func.count()).select_from(Committee).where(*where)).scalar_one()
    rows = list(session.execute(select(Committee).where(*where).order_by(Committee.id)
                                .limit(limit).offset(offset)).scalars())
    members = _members(session, [c.id for c in rows])
    return Page[CommitteeOut](items=[_out(c, members[c.id]) for c in rows], total=total, limit=limit, offset=offset)


@router.get("/committees/{committee_id}", response_model=CommitteeOut, responses=responses(401, 404, 422))
def get_committee(committee_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
                  actor: ActorDep) -> CommitteeOut:
    c = session.execute(select(Committee).where(Committee.id == committee_id,
                                                queries.visible_committees(actor))).scalar_one_or_none()
    if c is None:
        raise NotFound("committee", committee_id)
    return _out(c, _members(session, [c.id])[c.id])
