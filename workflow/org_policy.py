"""An organisation's own policy: the version in force, attaching a new one, its history, and
what a proposed policy would have done to the last announced round.

HR of the organisation (or an admin) reads and attaches; every attachment is kept with who
and when. A round keeps the version it was opened with (`Round.policy_version_id`), so a new
version applies only to rounds opened after it.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Iterable

from sqlalchemy import select
from sqlmodel import Session

from db.models import Appraisal, OrgUnit, PolicyAttachment, PolicyVersion, Round
from workflow import orgs
from workflow.access import Actor
from workflow.errors import InvalidInput, NotAllowed
from workflow.policy import Policy, content_hash, parse
from workflow.rounds import policy_of_version, policy_version_for_org, register_policy


# --- who may ---------------------------------------------------------------------------------
def org_for_hr(session: Session, actor: Actor, org_code: str, action: str = "org_policy") -> OrgUnit:
    """The organisation, if the caller is its HR (or an admin, or the system); else NotAllowed.
    An unknown code is NotFound for everyone."""
    org = orgs.by_code(session, org_code)
    if not (actor.is_hr_of(org.path)):
        raise NotAllowed(action, frozenset(r for r, _ in actor.scoped_roles))
    return org


# --- reading ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class InForce:
    org: OrgUnit
    version: PolicyVersion
    policy: Policy
    inherited_from: str | None  # the ancestor's code when the organisation has no policy of its own


def in_force(session: Session, actor: Actor, org_code: str) -> InForce:
    org = org_for_hr(session, actor, org_code)
    pv = policy_version_for_org(session, org)
    inherited = None
    if org.policy_version_id != pv.id:
        inherited = next(u.code for u in orgs.ancestors(session, org) if u.policy_version_id == pv.id)
    return InForce(org, pv, policy_of_version(pv), inherited)


@dataclass(frozen=True)
class Attached:
    version_id: int
    code: str
    version: int
    actor: str
    attached_at: datetime


def history(session: Session, actor: Actor, org_code: str) -> list[Attached]:
    """Every attachment of this organisation, newest first."""
    org = org_for_hr(session, actor, org_code)
    rows = session.execute(
        select(PolicyAttachment, PolicyVersion).join(PolicyVersion, PolicyVersion.id == PolicyAttachment.policy_version_id)
        .where(PolicyAttachment.org_unit_id == org.id)
        .order_by(PolicyAttachment.attached_at.desc(), PolicyAttachment.id.desc())).all()
    return [Attached(pv.id, pv.code, pv.version, a.actor, a.attached_at) for a, pv in rows]


# --- attaching -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SetResult:
    version: PolicyVersion
    changed: bool  # False: the text is the one in force already; nothing was stored


def attach(session: Session, actor: Actor, org_code: str, text: str) -> SetResult:
    """Validate the text (InvalidInput naming every broken key), store it as a new version (or
    reuse an identical latest one) and attach it to the organisation. The text in force fed back
    changes nothing."""
    org = org_for_hr(session, actor, org_code)
    parse(text)  # every broken rule named, before anything is written
    try:
        current = _in_force_or_none(session, org)
        if current is not None and current.content_hash == content_hash(text):  # its own or inherited
            session.rollback()
            return SetResult(current, False)
        pv = register_policy(session, text)
        org.policy_version_id = pv.id
        session.add(org)
        session.add(PolicyAttachment(org_unit_id=org.id, policy_version_id=pv.id, account_id=actor.account_id,
                                     actor=actor.name))
        session.commit()
        session.refresh(pv)
        return SetResult(pv, True)
    except BaseException:
        session.rollback()
        raise


def _in_force_or_none(session: Session, org: OrgUnit) -> PolicyVersion | None:
    try:
        return policy_version_for_org(session, org)
    except InvalidInput:  # neither it nor any parent has a policy yet
        return None


def diff(current: str, proposed: str) -> list[str]:
    """The lines of a unified diff from the text in force to the proposed one."""
    return list(difflib.unified_diff(current.splitlines(), proposed.splitlines(), "in force", "proposed",
                                     lineterm=""))


# --- what a proposed policy would have done ---------------------------------------------------
@dataclass(frozen=True)
class Announced:
    """One announced appraisal, as the impact needs it."""

    key: int
    staff_type: str
    total_percent: Decimal
    rating_code: str | None


@dataclass(frozen=True)
class Impact:
    people: int
    changes: tuple[tuple[int, str | None, str], ...]  # (key, rating announced, rating proposed)
    cases_current: int  # low performers under the policy the round ran with
    cases_proposed: int  # low performers under the proposed policy

    @property
    def rating_changes(self) -> int:
        return len(self.changes)


def impact(current: Policy, proposed: Policy, rows: Iterable[Announced]) -> Impact:
    """Pure: how many of these announced results the proposed bands would rate differently, and
    how many cases its trigger would open, beside what the current policy opened."""
    people, changes, now, then = 0, [], 0, 0
    for r in rows:
        people += 1
        rating = proposed.band_for(r.staff_type, r.total_percent).code
        if rating != r.rating_code:
            changes.append((r.key, r.rating_code, rating))
        now += current.is_low_performer(r.staff_type, r.total_percent)
        then += proposed.is_low_performer(r.staff_type, r.total_percent)
    return Impact(people, tuple(changes), now, then)


def last_announced_round(session: Session, org: OrgUnit) -> Round | None:
    """The organisation's latest round with announced results."""
    return session.execute(
        select(Round).where(Round.org_unit_id == org.id,
                            select(Appraisal.id).where(Appraisal.round_id == Round.id,
                                                       Appraisal.state == "announced").exists())
        .order_by(Round.ends_on.desc(), Round.id.desc()).limit(1)).scalar_one_or_none()


@dataclass(frozen=True)
class Preview:
    round: Round | None
    impact: Impact | None
    diff: list[str]
    policy: Policy


def preview(session: Session, actor: Actor, org_code: str, text: str) -> Preview:
    """Before saving: the differences from the version in force and the impact on the last
    announced round (None when the organisation has announced nothing yet)."""
    now = in_force(session, actor, org_code)
    proposed = parse(text)
    rnd = last_announced_round(session, now.org)
    result = None
    if rnd is not None:
        rows = session.execute(select(Appraisal.id, Appraisal.staff_type, Appraisal.total_percent,
                                      Appraisal.rating_code)
                               .where(Appraisal.round_id == rnd.id, Appraisal.state == "announced",
                                      Appraisal.total_percent.is_not(None))).all()
        ran_with = policy_of_version(session.get(PolicyVersion, rnd.policy_version_id))
        result = impact(ran_with, proposed, (Announced(*r) for r in rows))
    return Preview(rnd, result, diff(now.version.content, text), proposed)
