"""Policies: the presets that ship with pmflow and the versions stored in the database."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select

from api.deps import ActorDep, SessionDep
from api.errors import responses
from api.schemas import Page, UtcDateTime
from db.models import OrgUnit, PolicyVersion, Round
from workflow.access import reach_of
from workflow.errors import NotFound
from workflow.policy import load_preset, preset_names
from workflow.rounds import policy_of_version

router = APIRouter(prefix="/api/v1", tags=["policies"])


class PresetOut(BaseModel):
    name: str = Field(examples=["udon_thani"])
    code: str
    name_th: str
    name_en: str
    source: str


class PolicyVersionOut(BaseModel):
    id: int
    code: str = Field(examples=["udon_thani"])
    version: int = Field(examples=[1])
    content_hash: str
    created_at: UtcDateTime
    name_th: str
    name_en: str


class PolicyVersionDetail(PolicyVersionOut):
    content: str = Field(description="the TOML text as stored")
    policy: dict[str, Any] = Field(description="the parsed policy")


def _visible(session, actor):  # noqa: ANN001, ANN202
    """Policy versions in use by an organisation, or by a round, the caller may see."""
    seen_units = select(OrgUnit.id).where(reach_of(session, actor).clause(OrgUnit.path))
    return or_(PolicyVersion.id.in_(select(OrgUnit.policy_version_id).where(OrgUnit.id.in_(seen_units))),
               PolicyVersion.id.in_(select(Round.policy_version_id).where(Round.org_unit_id.in_(seen_units))))


def _out(row: PolicyVersion) -> dict[str, Any]:
    p = policy_of_version(row)
    return dict(id=row.id, code=row.code, version=row.version, content_hash=row.content_hash,
                created_at=row.created_at, name_th=p.name_th, name_en=p.name_en)


@router.get("/policies/presets", response_model=list[PresetOut], responses=responses(401),
            summary="Policy presets that ship with pmflow / นโยบายสำเร็จรูป")
def list_presets(actor: ActorDep) -> list[PresetOut]:
    out = []
    for name in preset_names():
        p = load_preset(name)
        out.append(PresetOut(name=name, code=p.code, name_th=p.name_th, name_en=p.name_en, source=p.source))
    return out


@router.get("/policies/versions", response_model=Page[PolicyVersionOut], responses=responses(401, 422))
def list_policy_versions(session: SessionDep, actor: ActorDep,
                         code: Annotated[str | None, Query(max_length=64)] = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50,
                         offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Page[PolicyVersionOut]:
    where = [_visible(session, actor)] + ([PolicyVersion.code == code] if code is not None else [])
    total = session.execute(select(func.count()).select_from(PolicyVersion).where(*where)).scalar_one()
    rows = session.execute(select(PolicyVersion).where(*where).order_by(PolicyVersion.code, PolicyVersion.version)
                           .limit(limit).offset(offset)).scalars()
    return Page[PolicyVersionOut](items=[PolicyVersionOut(**_out(r)) for r in rows], total=total, limit=limit,
                                  offset=offset)


@router.get("/policies/versions/{version_id}", response_model=PolicyVersionDetail,
            responses=responses(401, 404, 422))
def get_policy_version(version_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
                       actor: ActorDep) -> PolicyVersionDetail:
    row = session.execute(select(PolicyVersion).where(PolicyVersion.id == version_id, _visible(session, actor))
                          ).scalar_one_or_none()
    if row is None:
        raise NotFound("policy version", version_id)
    return PolicyVersionDetail(**_out(row), content=row.content,
                               policy=policy_of_version(row).model_dump(mode="json"))
