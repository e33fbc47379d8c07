"""An organisation's HR criteria for a fiscal year, as HR fills in the last part of Ubon's round
report (seed 001): recruitment and selection, appointment, development, reward and discipline
(the appraisal criteria themselves are pmflow's policy). Each item: does the organisation have
criteria (``has``), what they are (``text``: the rule or circular it follows) and the evidence
it can show (``evidence``)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlmodel import Session

from db.models import HrCriteria, utcnow
from workflow import orgs
from workflow.access import Actor
from workflow.errors import InvalidInput, problems_from_pydantic

# The items in the order of Ubon's form (seed 001: "หลักเกณฑ์การบริหารและพัฒนาทรัพยากรบุคคลของส่วนราชการ").
ITEMS: dict[str, str] = {
    "recruitment": "หลักเกณฑ์การสรรหาและคัดเลือกบุคลากร",
    "appointment": "หลักเกณฑ์การบรรจุและแต่งตั้งบุคลากร",
    "development": "หลักเกณฑ์การพัฒนาบุคลากร",
    "reward_discipline": "หลักเกณฑ์การให้คุณให้โทษและสร้างขวัญและกำลังใจ",
}


class CriteriaItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    has: bool = False
    text: str = Field("", max_length=4000)
    evidence: str = Field("", max_length=2000)


class CriteriaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recruitment: CriteriaItem = CriteriaItem()
    appointment: CriteriaItem = CriteriaItem()
    development: CriteriaItem = CriteriaItem()
    reward_discipline: CriteriaItem = CriteriaItem()


def _row(session: Session, org_id: int, fiscal_year: int) -> HrCriteria | None:
    return session.execute(select(HrCriteria).where(HrCriteria.org_unit_id == org_id,
                                                    HrCriteria.fiscal_year == fiscal_year)).scalar_one_or_none()


def as_items(stored: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    stored = stored or {}
    return {key: CriteriaItem(**stored.get(key, {})).model_dump() for key in ITEMS}


def get(session: Session, actor: Actor, code: str, fiscal_year: int) -> dict[str, Any]:
    org = orgs.managed_by(session, actor, code)
    row = _row(session, org.id, fiscal_year)
    return {"org_code": org.code, "fiscal_year": fiscal_year, "items": as_items(row.items if row else None),
            "labels": ITEMS, "updated_at": row.updated_at.isoformat() if row else None}


def put(session: Session, actor: Actor, code: str, fiscal_year: int, body: dict[str, Any]) -> dict[str, Any]:
    org = orgs.managed_by(session, actor, code)
    try:
        items = CriteriaIn.model_validate(body).model_dump()
    except ValidationError as exc:
        raise InvalidInput(problems_from_pydantic(exc.errors())) from None
    row = _row(session, org.id, fiscal_year) or HrCriteria(org_unit_id=org.id, fiscal_year=fiscal_year)
    row.items, row.updated_by, row.updated_at = items, actor.account_id, utcnow()
    session.add(row)
    session.commit()
    return get(session, actor, code, fiscal_year)


def for_report(session: Session, org_id: int, fiscal_year: int) -> dict[str, dict[str, Any]] | None:
    """The stored form for the round report (no access check: the report's caller was checked)."""
    row = _row(session, org_id, fiscal_year)
    return as_items(row.items) if row else None
