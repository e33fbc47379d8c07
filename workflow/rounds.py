"""Rounds: opening one creates its milestones from the policy and a draft appraisal for every
active person of the organisation's subtree, in bulk and in one transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Iterator

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.orm import aliased
from sqlmodel import Session

from db.models import Appraisal, Competency, Event, Milestone, OrgUnit, Person, PolicyVersion, Round, utcnow
from db.raw import Raw
from workflow import audit, calendar, orgs
from workflow.access import Actor
from workflow.competencies import opening_rows
from workflow.errors import Conflict, InvalidInput, NotFound, Problem
from workflow.policy import Policy, content_hash, parse

CHUNK = 5000  # people per bulk insert: keeps memory flat for 100,000 staff


# --- policies stored as versions -----------------------------------------------------------------
def register_policy(session: Session, text: str) -> PolicyVersion:
    """Store a validated policy text as the next version of its code (or reuse an identical one)."""
    policy = parse(text)
    digest = content_hash(text)
    latest = session.execute(
        select(PolicyVersion).where(PolicyVersion.code == policy.code)
        .order_by(PolicyVersion.version.desc()).limit(1)).scalar_one_or_none()
    if latest is not None and latest.content_hash == digest:
        return latest
    row = PolicyVersion(code=policy.code, version=(latest.version + 1) if latest else 1,
                        content=text, content_hash=digest)
    session.add(row)
    session.flush()
    return row


_BY_VERSION: dict[tuple[int, str], Policy] = {}  # (version id, content hash): immutable, so cacheable


def policy_of_version(row: PolicyVersion) -> Policy:
    key = (row.id, row.content_hash)
    if key not in _BY_VERSION:
        _BY_VERSION[key] = parse(row.content)
    return _BY_VERSION[key]


def policy_by_version(raw: Raw, version_id: int | None, content_hash: str | None) -> Policy | None:
    """The engine's read of a round's policy: parsed once per process and version."""
    if version_id is None:
        return None
    policy = _BY_VERSION.get((version_id, content_hash))
    if policy is None:
        (text,) = raw.one("SELECT content FROM policy_version WHERE id = %s", (version_id,))
        policy = _BY_VERSION.setdefault((version_id, content_hash), parse(text))
    return policy


_POLICY_OF_ROUND = (select(PolicyVersion.id, PolicyVersion.content_hash)
                    .join(Round, Round.policy_version_id == PolicyVersion.id)
                    .where(Round.id == bindparam("round_id")))


def policy_of_round(session: Session, round_id: int) -> Policy:
    found = session.execute(_POLICY_OF_ROUND, {"round_id": round_id}).first()
    if found is None:
        raise NotFound("round", round_id)
    policy = _BY_VERSION.get(tuple(found))
    return policy if policy is not None else policy_of_version(session.get(PolicyVersion, found.id))


def policies_by_round(session: Session, round_ids: Iterable[int]) -> dict[int, Policy]:
    """Each round's policy, for many rounds in one query (a version's text is read only the
    first time this process meets it)."""
    ids = set(round_ids)
    if not ids:
        return {}
    out = {}
    for rid, version_id, digest in session.execute(
            select(Round.id, PolicyVersion.id, PolicyVersion.content_hash)
            .join(PolicyVersion, PolicyVersion.id == Round.policy_version_id).where(Round.id.in_(ids))):
        policy = _BY_VERSION.get((version_id, digest))
        out[rid] = policy if policy is not None else policy_of_version(session.get(PolicyVersion, version_id))
    return out


def milestones_of(session: Session, round_id: int) -> list[Milestone]:
    """The round's milestones, in the order they fall due."""
    return milestones_by_round(session, [round_id])[round_id]


def milestones_by_round(session: Session, round_ids: Iterable[int]) -> dict[int, list[Milestone]]:
    """Each round's milestones in the order they fall due, for many rounds in one query."""
    out: dict[int, list[Milestone]] = {rid: [] for rid in round_ids}
    if out:
        for m in session.execute(select(Milestone).where(Milestone.round_id.in_(out))
                                 .order_by(Milestone.due_on, Milestone.id)).scalars():
            out[m.round_id].append(m)
    return out


def rounds_by_id(session: Session, round_ids: Iterable[int | None]) -> dict[int, Round]:
    """The rounds with these ids (None and unknown ids left out), in one query."""
    ids = {i for i in round_ids if i is not None}
    if not ids:
        return {}
    return {r.id: r for r in session.execute(select(Round).where(Round.id.in_(ids))).scalars()}


def policy_version_for_org(session: Session, org: OrgUnit) -> PolicyVersion:
    for unit in orgs.ancestors(session, org):  # nearest first
        if unit.policy_version_id is not None:
            return session.get(PolicyVersion, unit.policy_version_id)
    raise InvalidInput([Problem("org", f"หน่วยงาน {org.code} ยังไม่ได้กำหนดนโยบาย",
                                f"organisation {org.code} has no policy (nor has any parent)")])


# --- opening a round -----------------------------------------------------------------------------
@dataclass
class RoundOpened:
    round: Round
    milestones: list[Milestone]
    appraisals: int
    # People given an appraisal with no evaluator yet: HR must hand each one to an evaluator.
    without_evaluator: list[tuple[int, str, str]] = field(default_factory=list)  # (id, code, name)


# From this many appraisals, opening a round refreshes the planner's statistics at once.
ANALYZE_FROM = 1000
BULK_TABLES = ("appraisal", "competency", "event")  # the tables a round's opening fills in bulk


def open_round(session: Session, *, org_code: str, fiscal_year: int, number: int, actor: Actor) -> RoundOpened:
    try:
        result = _open_round(session, org_code, fiscal_year, number, actor)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if result.appraisals >= ANALYZE_FROM and session.get_bind().dialect.name == "postgresql":
        # Evaluators start on a round the minute it opens; until autovacuum counts the new rows
        # the planner plans for the table as it was: in the deadline rush at 100,000 the HR
        # list's p99 was 5-6.5x the floor route's, 1.9-2.1x with this (benchmarks/RESULTS.md).
        # ANALYZE reads a sample of each table, not the table.
        session.execute(text("ANALYZE " + ", ".join(BULK_TABLES)))
        session.commit()
    return result


def _open_round(session: Session, org_code: str, fiscal_year: int, number: int, actor: Actor) -> RoundOpened:
    org = orgs.by_code(session, org_code)
    starts, ends = calendar.round_dates(fiscal_year, number)
    exists = session.execute(select(Round.id).where(
        Round.org_unit_id == org.id, Round.fiscal_year == fiscal_year, Round.number == number)).first()
    if exists:
        raise Conflict(f"รอบที่ {number} ปีงบประมาณ {fiscal_year} ของ {org.code} เปิดแล้ว",
                       f"round {number} of fiscal {fiscal_year} is already open for {org.code}")
    pv = policy_version_for_org(session, org)
    policy = policy_of_version(pv)
    rnd = Round(org_unit_id=org.id, fiscal_year=fiscal_year, number=number, starts_on=starts,
                ends_on=ends, policy_version_id=pv.id)
    session.add(rnd)
    session.flush()
    milestones = [
        Milestone(round_id=rnd.id, code=code, due_on=due, name_th=policy.milestones[code].th,
                  name_en=policy.milestones[code].en)
        for code, due in sorted(policy.milestone_dates(starts, ends).items(), key=lambda kv: kv[1])
    ]
    session.add_all(milestones)
    session.flush()

    created, missing = 0, []
    for chunk in _people_chunks(session, org):
        created += _insert_appraisals(session, rnd, chunk, actor, policy)
        missing += [(p.id, p.code, p.name_th) for p in chunk if p.evaluator_id is None]
    audit.append(session, entity_type="round", entity_id=rnd.id, seq=1, event="open_round",
                 from_state=None, to_state="open", actor_account_id=actor.account_id, actor=actor.name,
                 payload={"org": org.code, "fiscal_year": fiscal_year, "round": number,
                          "policy": f"{pv.code} v{pv.version}", "appraisals": created,
                          "without_evaluator": [code for _, code, _ in missing]})
    return RoundOpened(rnd, milestones, created, missing)


def _people_chunks(session: Session, org: OrgUnit) -> Iterator[list]:
    above = aliased(Person)  # the superior above's own superior above
    stmt = (select(Person.id, Person.code, Person.name_th, Person.org_unit_id, Person.staff_type, Person.position_level,
                   Person.evaluator_id, Person.superior_id, above.superior_id.label("superior2_id"))
            .join(OrgUnit, OrgUnit.id == Person.org_unit_id)
            .outerjoin(above, above.id == Person.superior_id)
            .where(OrgUnit.path.startswith(org.path), Person.active.is_(True))
            .order_by(Person.id))
    rows = session.execute(stmt).all()
    for i in range(0, len(rows), CHUNK):
        yield rows[i:i + CHUNK]


def _bulk_insert(session: Session, table: type, rows: list[dict]) -> None:
    """Many rows in one go. On PostgreSQL with COPY: psycopg's executemany sends one INSERT per
    row (700,000 of them for 100,000 people), COPY streams them."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    raw = conn.connection.driver_connection  # the psycopg connection of this very transaction
    with raw.cursor() as cur:
        with cur.copy(f'COPY "{table.__tablename__}" ({", ".join(columns)}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row([r[c] for c in columns])


def second_superior(superior_levels: int, person_id: int, superior_id: int | None,
                    above_superior: int | None) -> int | None:
    """Who gives the second opinion: the superior above's superior above, where the policy asks
    for two levels, unless that is nobody, the appraisee or the first superior again."""
    if superior_levels < 2 or above_superior in (None, person_id, superior_id):
        return None
    return above_superior


def _insert_appraisals(session: Session, rnd: Round, people: list, actor: Actor, policy: Policy) -> int:
    now = utcnow()
    superior_levels = policy.superior_levels
    expected = {p.id: policy.expected_competency_level(p.position_level) for p in people}
    _bulk_insert(session, Appraisal, [
        dict(round_id=rnd.id, person_id=p.id, org_unit_id=p.org_unit_id, staff_type=p.staff_type,
             evaluator_id=p.evaluator_id, superior_id=p.superior_id,
             superior2_id=second_superior(superior_levels, p.id, p.superior_id, p.superior2_id),
             state="draft", version=1, agreement_revision=1, development_plan="", updated_at=now)
        for p in people
    ])
    ids = session.execute(select(Appraisal.id, Appraisal.person_id, Appraisal.evaluator_id).where(
        Appraisal.round_id == rnd.id, Appraisal.person_id.in_([p.id for p in people]))).all()
    _bulk_insert(session, Competency, [row for a in ids for row in opening_rows(a.id, expected[a.person_id])])
    _bulk_insert(session, Event, [
        audit.new_event(entity_type="appraisal", entity_id=a.id, seq=1, event="open",
                        from_state=None, to_state="draft", actor_account_id=actor.account_id,
                        actor=actor.name, at=now, reason="",
                        payload={"round_id": rnd.id, "person_id": a.person_id,
                                 "evaluator_id": a.evaluator_id},
                        prev_hash=audit.GENESIS)
        for a in ids
    ])
    return len(ids)


def pass_mid_round(session: Session, round_id: int, today: date | None = None) -> int:
    """When the mid-round milestone has passed, every appraisal still `agreed` moves to
    `monitored` (DOMAIN: "the first mid-round review, or the mid-round milestone passing").
    Each move is its own engine event by the system; returns how many moved."""
    from workflow import engine  # engine -> appraisals -> rounds: import late

    due = session.execute(select(Milestone.due_on).where(
        Milestone.round_id == round_id, Milestone.code == "mid_round_review")).scalar_one_or_none()
    if due is None or (today or calendar.today()) <= due:
        return 0
    ids = session.execute(select(Appraisal.id).where(
        Appraisal.round_id == round_id, Appraisal.state == "agreed")).scalars().all()
    moved = 0
    for appraisal_id in ids:
        try:
            engine.fire(session, "appraisal", appraisal_id, "mid_round_passed", Actor.system())
            moved += 1
        except Conflict:  # moved on by a person meanwhile
            continue
    return moved
