"""The engine: the one path by which any workflow object changes.

Firing an event is one database transaction:
  read and lock the row with everything the rules need (the kind's `snapshot`: one query,
  SELECT ... FOR UPDATE on PostgreSQL; SQLite takes its write lock at BEGIN IMMEDIATE)
  -> the caller must be able to see it (else NotFound) -> the event must exist (NotFound)
  -> the caller's expected version must be current (Conflict)
  -> the event must leave the current state (Conflict) -> the caller's role (NotAllowed)
  -> the payload's shape (InvalidInput) -> every guard (GuardFailed, all reasons)
  -> the event's pure effect says what changes (`Env -> Changes`)
  -> the shared `transitions` machine moves the state
  -> one writer writes the changes, the version goes up by one, the event joins the hash chain
  -> the hooks of the state entered run in the same transaction (an announcement opens a case)
  -> commit.
Any error rolls everything back: nothing is half-written.

The engine knows no kind: `workflow/kinds.py` builds them and registers them here.
Every statement goes through `db.raw.Raw` (the DBAPI connection), whether the transaction is
the engine's own or the caller's session's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Callable, Mapping

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from db.models import Event, utcnow
from db.raw import Raw, python_defaults
from workflow import audit
from workflow.access import Actor
from workflow.errors import Conflict, GuardFailed, InvalidInput, NotAllowed, NotFound, problems_from_pydantic
from workflow.machines.base import Row, Subject, WorkflowMachine


@dataclass(frozen=True)
class Env:
    """What a pure effect sees: the row as read (by attribute), the guards' facts, the checked
    payload, the caller and their roles on the row, the time, and the round's policy."""

    row: Any
    facts: Any
    payload: Mapping[str, Any]
    actor: Actor
    roles: frozenset[str]
    now: datetime
    policy: Any = None
    inputs: Any = None  # what the kind's `reads` for this event found (e.g. the new evaluator)


@dataclass(frozen=True)
class Insert:
    """A child row to add; `record_id_as` puts its new id into the event's record."""

    table: type
    values: Mapping[str, Any]
    record_id_as: str | None = None


@dataclass(frozen=True)
class Changes:
    """What a pure effect asks for, written in this order: child rows replaced (every row of
    `table` whose `parent_column` is this row's id deleted, these inserted), child rows updated
    by id, child rows added, and columns of the row set; `record` joins the event's payload."""

    set: Mapping[str, Any] = field(default_factory=dict)
    add: tuple[Insert, ...] = ()
    update: tuple[tuple[type, int, Mapping[str, Any]], ...] = ()
    replace: tuple[tuple[type, str, tuple[Mapping[str, Any], ...]], ...] = ()
    record: Mapping[str, Any] = field(default_factory=dict)


NO_CHANGES = Changes()
PureEffect = Callable[[Env], Changes]


@dataclass(frozen=True)
class Snapshot:
    """A row as its kind reads it for an event: its columns (by attribute), the caller's roles,
    the guards' facts, the hash of its newest event and its round's policy."""

    row: Any
    roles: frozenset[str]
    facts: Any
    prev_hash: str
    policy: Any = None


Hook = Callable[[Raw, Env, "Fired"], None]  # work to do, in the same transaction, on entering a state


@dataclass
class Kind:
    """How the engine handles one kind of workflow object (appraisal, low-performer case, ...)."""

    name: str
    table: type
    machine: WorkflowMachine
    # Reads the row, the caller's roles and the guards' facts; lock=False for a look without writing.
    snapshot: Callable[..., Snapshot | None]
    validate: Callable[[str, Mapping[str, Any]], dict[str, Any]]
    # Each event's payload shape, and the shape of events with none of their own (documents
    # the API, tells next steps what a caller must send).
    payloads: Mapping[str, type[BaseModel]] = field(default_factory=dict)
    default_payload: type[BaseModel] = BaseModel
    changes: Mapping[str, PureEffect] = field(default_factory=dict)
    # Reads an event needs beyond the snapshot, decided by its payload (who is the new
    # evaluator?): run before the effect, which stays pure and gets the answer as `env.inputs`.
    reads: Mapping[str, Callable[[Raw, Snapshot, Mapping[str, Any]], Any]] = field(default_factory=dict)
    # The caller's roles on an ORM row (lists and pages; the engine uses the snapshot's).
    roles: Callable[[Session, Actor, Any], frozenset[str]] | None = None
    on_enter: dict[str, list[Hook]] = field(default_factory=dict)


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        if not KINDS:  # nothing composed: firing now would silently skip the kinds' hooks
            raise RuntimeError("no workflow kind is registered: import workflow.kinds first") from None
        raise NotFound("kind", name) from None


def payload_validator(shapes: Mapping[str, type[BaseModel]],
                      default: type[BaseModel]) -> Callable[[str, Mapping[str, Any]], dict[str, Any]]:
    """A kind's `validate`: each event's payload checked against its pydantic shape; every
    problem named by its field (``payload.kpis[0].weight``)."""
    def check(event: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        shape = shapes.get(event, default)
        try:
            return shape.model_validate(payload).model_dump(mode="json", exclude_none=True)
        except ValidationError as exc:
            raise InvalidInput(problems_from_pydantic(exc.errors(), "payload", shape)) from None

    @lru_cache(maxsize=None)
    def empty(event: str) -> Mapping[str, Any] | InvalidInput:
        # Most events carry no payload; checking {} always gives the same answer.
        try:
            return MappingProxyType(check(event, {}))
        except InvalidInput as exc:
            return exc

    def validate(event: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        if payload:
            return check(event, payload)
        known = empty(event)
        if isinstance(known, InvalidInput):
            raise InvalidInput(known.problems)
        return dict(known)

    return validate


@dataclass(frozen=True)
class Fired:
    id: int
    event: str
    from_state: str
    state: str
    version: int
    event_id: int | None
    roles: frozenset[str] = frozenset()  # the caller's roles on the row


def fire(session: Session, kind_name: str, entity_id: int, event: str, actor: Actor, *,
         expected_version: int | None = None, payload: Mapping[str, Any] | None = None) -> Fired:
    """Fire one event in a transaction of its own, committed."""
    kind = kind_of(kind_name)
    if session.in_transaction():
        try:
            fired = fire_within(session, kind_name, entity_id, event, actor,
                                expected_version=expected_version, payload=payload)
            session.commit()
            return fired
        except BaseException:
            session.rollback()
            raise
    # Nothing of the session's is pending: a pooled connection of our own, no Session
    # machinery (its begin and commit alone cost twice the event's statements).
    raw = Raw.begin(session.get_bind())
    try:
        fired = fire_raw(raw, kind, entity_id, event, actor, expected_version, payload)
        raw.commit()
    finally:
        raw.close()  # rolls back unless committed, releasing SQLite's write lock
    _expire_all(session)
    return fired


def fire_within(session: Session, kind_name: str, entity_id: int, event: str, actor: Actor, *,
                expected_version: int | None = None, payload: Mapping[str, Any] | None = None) -> Fired:
    """`fire` inside the caller's transaction, which the caller commits or rolls back (the
    events route stores its idempotent answer in the same transaction)."""
    kind = kind_of(kind_name)
    if session.new or session.dirty or session.deleted:
        session.flush()  # the snapshot reads the database, not the session
    fired = fire_raw(Raw.within(session), kind, entity_id, event, actor, expected_version, payload)
    _expire_all(session)
    return fired


def _check(kind: Kind, entity_id: int, state: str, version: int, roles: frozenset[str], event: str,
           expected_version: int | None, payload: Mapping[str, Any] | None) -> tuple[Row, dict[str, Any]]:
    """Every check before the guards, in the order the module docstring gives; returns the
    table row of the event and the validated payload."""
    if not roles:
        raise NotFound(kind.name, entity_id)  # not theirs to see: say nothing more
    if not kind.machine.knows(event):
        raise NotFound(f"{kind.name} event", event)
    if expected_version is not None and expected_version != version:
        raise Conflict(f"ข้อมูลถูกแก้ไขแล้ว (ฉบับที่ {version}) กรุณาโหลดใหม่",
                       f"stale version {expected_version}; the {kind.name} is at version {version}",
                       current_version=version)
    spec = kind.machine.row_for(event, state)
    if spec is None:
        raise Conflict(f"ทำ '{event}' ไม่ได้ในสถานะ '{state}'",
                       f"'{event}' cannot be fired in state '{state}'", current_version=version)
    if not roles & spec.roles:
        raise NotAllowed(event, roles)
    return spec, kind.validate(event, dict(payload or {}))


def _reason(payload: Mapping[str, Any]) -> str:
    return str(payload.get("reason") or payload.get("comment") or "")


def fire_raw(raw: Raw, kind: Kind, entity_id: int, event: str, actor: Actor,
             expected_version: int | None = None, payload: Mapping[str, Any] | None = None) -> Fired:
    """The one path: read, check, decide (pure), write, hooks; the caller commits `raw`."""
    snap = kind.snapshot(raw, entity_id, actor)
    if snap is None:
        raise NotFound(kind.name, entity_id)
    row = snap.row
    spec, payload = _check(kind, entity_id, row.state, row.version, snap.roles, event, expected_version, payload)
    problems = kind.machine.failing(spec, snap.facts, payload)
    if problems:
        raise GuardFailed(spec.event, problems)
    read = kind.reads.get(event)
    inputs = read(raw, snap, payload) if read else None
    env = Env(row, snap.facts, payload, actor, snap.roles, utcnow(), snap.policy, inputs)
    pure = kind.changes.get(event)
    changes = pure(env) if pure else NO_CHANGES
    to_state = kind.machine.fire(Subject(row.state, snap.facts, payload), event)

    version = row.version + 1
    recorded = {**payload, **changes.record, **write(raw, kind.table, row.id, changes)}
    written = raw.update(kind.table.__tablename__, {"id": row.id, "version": row.version},
                         {"state": to_state, "version": version, "updated_at": env.now, **changes.set})
    if written != 1:  # impossible while we hold the row's lock; never write past it
        raise RuntimeError(f"{kind.name} {row.id} changed while locked")
    values = audit.new_event(entity_type=kind.name, entity_id=row.id, seq=version, event=event,
                             from_state=row.state, to_state=to_state, actor_account_id=actor.account_id,
                             actor=actor.name, payload=recorded, reason=_reason(payload),
                             prev_hash=snap.prev_hash, at=env.now)
    event_id = raw.insert(Event.__tablename__, values, returning="id")
    fired = Fired(row.id, event, row.state, to_state, version, event_id, snap.roles)
    if to_state != row.state:
        for hook in kind.on_enter.get(to_state, ()):
            hook(raw, env, fired)
    return fired


def write(raw: Raw, table: type, row_id: int, changes: Changes) -> dict[str, Any]:
    """The one writer of a change's child rows; returns the new ids the effect asked to record."""
    recorded: dict[str, Any] = {}
    for child, parent_column, rows in changes.replace:
        raw.execute(f"DELETE FROM {child.__tablename__} WHERE {parent_column} = %s", (row_id,))
        for values in rows:
            raw.insert(child.__tablename__, with_defaults(child, values))
    for child, child_id, values in changes.update:
        raw.update(child.__tablename__, {"id": child_id}, values)
    for new in changes.add:
        new_id = raw.insert(new.table.__tablename__, with_defaults(new.table, new.values),
                            returning="id" if new.record_id_as else None)
        if new.record_id_as:
            recorded[new.record_id_as] = new_id
    return recorded


def append_event(raw: Raw, kind_name: str, entity_id: int, seq: int, event: str, actor: Actor, *,
                 from_state: str | None, to_state: str | None,
                 payload: Mapping[str, Any] | None = None, at: datetime | None = None) -> int:
    """A bookkeeping event (e.g. a case's "opened") on a row the caller has just written."""
    prev = raw.one("SELECT hash FROM event WHERE entity_type = %s AND entity_id = %s AND seq = %s",
                   (kind_name, entity_id, seq - 1)) if seq > 1 else None
    values = audit.new_event(entity_type=kind_name, entity_id=entity_id, seq=seq, event=event,
                             from_state=from_state, to_state=to_state, actor_account_id=actor.account_id,
                             actor=actor.name, payload=payload, reason="",
                             prev_hash=prev[0] if prev else audit.GENESIS, at=at)
    return raw.insert(Event.__tablename__, values, returning="id")


@lru_cache(maxsize=None)
def _defaults_of(table: type) -> tuple[tuple[str, Any], ...]:
    return tuple(python_defaults(table))


def with_defaults(table: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a raw INSERT must give: the model's Python-side defaults filled in."""
    out = dict(values)
    for column, default in _defaults_of(table):
        if column not in out:
            out[column] = default.arg(None) if default.is_callable else default.arg
    return out


def _expire_all(session: Session) -> None:
    """The event wrote past the session (its row, child rows, a hook's rows): whatever the
    session holds reloads on next access. Nothing of the session's is pending here."""
    if session.identity_map:
        session.expire_all()


def peek(session: Session, kind_name: str, entity_id: int, actor: Actor) -> Snapshot | None:
    """The snapshot an event would see now, without locking (what next steps are ready)."""
    kind = kind_of(kind_name)
    if session.new or session.dirty or session.deleted:
        session.flush()
    return kind.snapshot(Raw.within(session), entity_id, actor, lock=False)


def available_events(session: Session, kind_name: str, row: Any, actor: Actor) -> list[str]:
    """The events this actor may fire on this row now (by state and role; guards are checked
    when fired, so the answer can name what is missing)."""
    kind = kind_of(kind_name)
    return kind.machine.allowed(row.state, kind.roles(session, actor, row))
