"""The append-only, hash-chained event log.

Each entity (an appraisal, a case, a round...) has its own chain: event ``seq`` n carries the
hash of event n-1, and its own hash covers every field. Chains are per entity so that writers
on different appraisals never wait for each other; the entity row is locked while its event is
appended, so its chain cannot fork. For versioned entities the row's version must equal the
length of its chain, so deleting the newest event is detected too.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping

from sqlalchemy import bindparam, select
from sqlmodel import Session

from db.models import Appraisal, Event, LowPerformerCase, utcnow

GENESIS = "0" * 64
# Tables whose rows carry a `version` equal to the length of their chain.
VERSIONED = {"appraisal": Appraisal, "case": LowPerformerCase}


def canonical_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        at = at.replace(tzinfo=timezone.utc)
    # == strftime("%Y-%m-%dT%H:%M:%S.%fZ"), at a fifth of the cost
    return at.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def event_hash(*, entity_type: str, entity_id: int, seq: int, event: str, from_state: str | None,
               to_state: str | None, actor_account_id: int | None, actor: str, at: datetime,
               payload: str, reason: str, prev_hash: str) -> str:
    body = canonical_json([entity_type, entity_id, seq, event, from_state, to_state,
                           actor_account_id, actor, _iso(at), payload, reason, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def new_event(*, entity_type: str, entity_id: int, seq: int, event: str, from_state: str | None,
              to_state: str | None, actor_account_id: int | None, actor: str,
              payload: Mapping[str, Any] | None, reason: str, prev_hash: str,
              at: datetime | None = None) -> dict[str, Any]:
    """The column values of one event, hash included (for bulk inserts and `append`)."""
    values = dict(entity_type=entity_type, entity_id=entity_id, seq=seq, event=event,
                  from_state=from_state, to_state=to_state, actor_account_id=actor_account_id,
                  actor=actor, at=at or utcnow(), payload=canonical_json(payload or {}),
                  reason=reason or "", prev_hash=prev_hash)
    values["hash"] = event_hash(**values)
    return values


_EVENT_TABLE = Event.__table__
_HASH_AT = select(Event.hash).where(Event.entity_type == bindparam("entity_type"),
                                    Event.entity_id == bindparam("entity_id"), Event.seq == bindparam("seq"))


def last_hash(session: Session, entity_type: str, entity_id: int, seq: int) -> str:
    if seq <= 0:
        return GENESIS
    # Events are inserted with Core (below), so none is ever pending in the session: no autoflush needed.
    found = session.connection().execute(
        _HASH_AT, {"entity_type": entity_type, "entity_id": entity_id, "seq": seq}).scalar_one_or_none()
    return found or GENESIS


def append(session: Session, *, entity_type: str, entity_id: int, seq: int, event: str,
           from_state: str | None, to_state: str | None, actor_account_id: int | None, actor: str,
           payload: Mapping[str, Any] | None = None, reason: str = "", at: datetime | None = None) -> int:
    """Append event number ``seq`` to an entity's chain (the caller holds the entity's lock);
    return its id. A Core INSERT: an ORM Event object would cost a SQLModel construction and a
    unit-of-work flush of its own, and nobody reads it back in this transaction."""
    values = new_event(entity_type=entity_type, entity_id=entity_id, seq=seq, event=event,
                       from_state=from_state, to_state=to_state, actor_account_id=actor_account_id,
                       actor=actor, payload=payload, reason=reason, at=at,
                       prev_hash=last_hash(session, entity_type, entity_id, seq - 1))
    return session.execute(_EVENT_TABLE.insert(), values).inserted_primary_key[0]


@dataclass(frozen=True)
class Finding:
    entity_type: str
    entity_id: int
    seq: int | None
    problem: str

    def __str__(self) -> str:
        at = f" event {self.seq}" if self.seq is not None else ""
        return f"{self.entity_type} {self.entity_id}{at}: {self.problem}"


def history(session: Session, entity_type: str, entity_id: int) -> list[Event]:
    return list(session.execute(
        select(Event).where(Event.entity_type == entity_type, Event.entity_id == entity_id)
        .order_by(Event.seq)
    ).scalars())


def latest(session: Session, entity_type: str, entity_ids: Iterable[int], event: str) -> dict[int, Event]:
    """Entity id -> its most recent event of this name, for many entities in one query (those
    with none are left out)."""
    ids = sorted(set(entity_ids))
    out: dict[int, Event] = {}
    if ids:
        for ev in session.execute(select(Event).where(Event.entity_type == entity_type, Event.entity_id.in_(ids),
                                                      Event.event == event).order_by(Event.seq)).scalars():
            out[ev.entity_id] = ev
    return out


# Events whose record carries the appraisal's result ("total_percent", "rating"): the last of
# them is the result the row must hold (one that records none cleared it).
RESULT_EVENTS = frozenset({"score", "evaluate"})


@dataclass
class _Replay:
    """What an entity's chain says its row must be: the length, the state, the result."""

    length: int = 0
    state: str | None = None
    total_percent: str | None = None
    rating: str | None = None

    def apply(self, ev: Event) -> None:
        self.length = ev.seq
        if ev.to_state is not None:
            self.state = ev.to_state
        if ev.entity_type == "appraisal" and ev.event in RESULT_EVENTS:
            recorded = json.loads(ev.payload or "{}")
            self.total_percent, self.rating = recorded.get("total_percent"), recorded.get("rating")


def _same_percent(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Decimal(str(a)) == Decimal(str(b))


def verify(session: Session) -> list[Finding]:
    """Every break in the log: a changed field, a removed or reordered event, a short chain; and
    every appraisal and case row that differs from the replay of its chain (version, state and,
    for appraisals, the recorded result), so an edited row is caught, not only an edited event."""
    findings: list[Finding] = []
    replays: dict[tuple[str, int], _Replay] = {}
    key, expect_seq, prev = None, 1, GENESIS
    for ev in _stream(session):
        if (ev.entity_type, ev.entity_id) != key:
            key, expect_seq, prev = (ev.entity_type, ev.entity_id), 1, GENESIS
        if ev.seq != expect_seq:
            findings.append(Finding(ev.entity_type, ev.entity_id, expect_seq, "event missing (ขาดหาย)"))
        if ev.prev_hash != prev:
            findings.append(Finding(ev.entity_type, ev.entity_id, ev.seq, "chain broken (ลำดับถูกแก้ไข)"))
        recomputed = event_hash(entity_type=ev.entity_type, entity_id=ev.entity_id, seq=ev.seq,
                                event=ev.event, from_state=ev.from_state, to_state=ev.to_state,
                                actor_account_id=ev.actor_account_id, actor=ev.actor, at=ev.at,
                                payload=ev.payload, reason=ev.reason, prev_hash=ev.prev_hash)
        if recomputed != ev.hash:
            findings.append(Finding(ev.entity_type, ev.entity_id, ev.seq, "content altered (ข้อมูลถูกแก้ไข)"))
        prev, expect_seq = ev.hash, ev.seq + 1
        if ev.entity_type in VERSIONED:
            replays.setdefault(key, _Replay()).apply(ev)
    for entity_type, table in VERSIONED.items():
        columns = [table.id, table.version, table.state]
        if table is Appraisal:
            columns += [Appraisal.total_percent, Appraisal.rating_code]
        for row in session.execute(select(*columns).execution_options(yield_per=2000)):
            entity_id, version, state = row[:3]
            replay = replays.get((entity_type, entity_id), _Replay())
            if replay.length != version:
                findings.append(Finding(entity_type, entity_id, None,
                                        f"history has {replay.length} events, the record says {version} (ประวัติไม่ครบ)"))
            if replay.length and replay.state != state:
                findings.append(Finding(entity_type, entity_id, None,
                                        f"state is {state!r}, its history says {replay.state!r} "
                                        "(สถานะไม่ตรงกับประวัติ)"))
            if table is Appraisal and replay.length and not (
                    _same_percent(row[3], replay.total_percent) and row[4] == replay.rating):
                findings.append(Finding(entity_type, entity_id, None,
                                        f"result is {row[3]} / {row[4]}, its history says "
                                        f"{replay.total_percent} / {replay.rating} (ผลการประเมินไม่ตรงกับประวัติ)"))
    return findings


def _stream(session: Session) -> Iterator[Event]:
    stmt = select(Event).order_by(Event.entity_type, Event.entity_id, Event.seq)
    yield from session.execute(stmt.execution_options(yield_per=2000)).scalars()
