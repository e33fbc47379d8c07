"""The engine: the one path by which any workflow object changes.

Firing an event is one database transaction:
  load and lock the row (SELECT ... FOR UPDATE; SQLite takes its write lock at BEGIN)
  -> the caller must be able to see it (else NotFound) -> the event must exist (NotFound)
  -> the caller's expected version must be current (Conflict)
  -> the event must leave the current state (Conflict) -> the caller's role (NotAllowed)
  -> the payload's shape (InvalidInput) -> every guard (GuardFailed, all reasons)
  -> the shared `transitions` machine moves the state -> the kind applies its effects
  -> the version goes up by one and the event joins the hash chain -> commit.
Any error rolls everything back: nothing is half-written.

Two ways to do the same steps, chosen per event, never mixed within one:
- **direct** (the common case): a kind that can (`Kind.snapshot`) reads the row, the caller's
  roles, the guards' facts and the previous hash in one query, and its effect is a pure
  function returning `Changes`, written as plain statements on the DBAPI connection
  (``db/raw.py``). An event costs a few statements and tens of microseconds.
- **ORM**: for effects that need the session (replacing KPIs, re-scoring, handing over) and
  for entering a state whose hooks have work to do (an announcement that opens a case). The
  direct path notices this before it writes anything and hands over to the ORM path.
Both run the same checks (`_check`), the same machine and the same hash chain.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Callable, Mapping

from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

from db.models import Event, utcnow
from db.raw import Raw, python_defaults
from workflow import audit
from workflow.access import Actor
from workflow.errors import Conflict, GuardFailed, InvalidInput, NotAllowed, NotFound, problems_from_pydantic
from workflow.machines.base import Row, Subject, WorkflowMachine


@dataclass(frozen=True)
class Env:
    """What a pure effect sees: the row as loaded (an ORM row or a snapshot, read by attribute),
    the guards' facts, the checked payload, the caller and their roles on the row."""

    row: Any
    facts: Any
    payload: Mapping[str, Any]
    actor: Actor
    roles: frozenset[str]
    now: datetime
    policy: Callable[[], Any]  # the round's Policy, looked up only by effects that need it


@dataclass(frozen=True)
class Changes:
    """What a pure effect asks for: columns of the row to set, child rows to add ((table,
    values) pairs), and what the event records besides its payload."""

    set: Mapping[str, Any] = field(default_factory=dict)
    add: tuple[tuple[type, Mapping[str, Any]], ...] = ()
    record: Mapping[str, Any] = field(default_factory=dict)


NO_CHANGES = Changes()
PureEffect = Callable[[Env], Changes]
SessionEffect = Callable[[Session, Any, dict[str, Any], Actor, frozenset[str]], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Snapshot:
    """A row as the direct path reads it: its columns, the caller's roles, the facts, the hash
    of its newest event and its round's policy if already parsed (None: not in the cache)."""

    row: Any
    roles: frozenset[str]
    facts: Any
    prev_hash: str
    policy: Any = None


@dataclass(frozen=True)
class Hook:
    """Work to do inside the same transaction when a row enters a state. `quiet(env)` says,
    from a snapshot alone, that `run` would do nothing, so the direct path may skip it."""

    run: Callable[[Session, Any, Actor], None]
    quiet: Callable[[Env], bool] | None = None


@dataclass
class Kind:
    """How the engine handles one kind of workflow object (appraisal, low-performer case)."""

    name: str
    table: type
    machine: WorkflowMachine
    roles: Callable[[Session, Actor, Any], frozenset[str]]
    facts: Callable[[Session, Any], Any]
    validate: Callable[[str, Mapping[str, Any]], dict[str, Any]]
    effects: Mapping[str, SessionEffect] = field(default_factory=dict)  # need the ORM session
    changes: Mapping[str, PureEffect] = field(default_factory=dict)  # pure: Env -> Changes
    policy: Callable[[Session, Any], Any] | None = None  # the row's round's policy (ORM path)
    # The direct path's reader (None: this kind always takes the ORM path).
    snapshot: Callable[[Raw, int, Actor], Snapshot | None] | None = None
    on_enter: dict[str, list[Hook]] = field(default_factory=dict)


KINDS: dict[str, Kind] = {}


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


def register(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> Kind:
    if name not in KINDS:
        _load_kinds()
    return KINDS[name]


def _load_kinds() -> None:
    # Kinds register themselves on import; importing here keeps callers from needing to.
    import workflow.appraisals  # noqa: F401
    try:
        import workflow.cases  # noqa: F401
    except ModuleNotFoundError as exc:  # the low-performer cases arrive in their own module
        if exc.name != "workflow.cases":
            raise


@dataclass(frozen=True)
class Fired:
    id: int
    event: str
    from_state: str
    state: str
    version: int
    event_id: int | None
    roles: frozenset[str] = frozenset()  # the caller's roles on the row after the event


@lru_cache(maxsize=None)
def _locking_select(table: type) -> Any:
    return select(table).where(table.id == bindparam("entity_id")).with_for_update()


def load_for_update(session: Session, kind: Kind, entity_id: int) -> Any:
    row = session.execute(_locking_select(kind.table), {"entity_id": entity_id}).scalar_one_or_none()
    if row is None:
        raise NotFound(kind.name, entity_id)
    return row


def fire(session: Session, kind_name: str, entity_id: int, event: str, actor: Actor, *,
         expected_version: int | None = None, payload: Mapping[str, Any] | None = None) -> Fired:
    """Fire one event in a transaction of its own, committed."""
    kind = kind_of(kind_name)
    needs_orm = False
    if kind.snapshot is not None and not session.in_transaction():
        # Nothing of the session's is pending: a pooled connection of our own, no Session
        # machinery (its begin and commit alone cost twice the direct path's statements).
        raw = Raw.begin(session.get_bind())
        try:
            fired = _fire_direct(raw, kind, entity_id, event, actor, expected_version, payload)
            if fired is not None:
                raw.commit()
                _expire(session, kind, entity_id)
                return fired
            needs_orm = True
        finally:
            raw.close()  # rolls back unless committed, releasing SQLite's write lock
    try:
        if needs_orm:
            result = _fire_orm(session, kind, entity_id, event, actor, expected_version, payload)
        else:
            result = fire_within(session, kind_name, entity_id, event, actor,
                                 expected_version=expected_version, payload=payload)
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise


def fire_within(session: Session, kind_name: str, entity_id: int, event: str, actor: Actor, *,
                expected_version: int | None = None, payload: Mapping[str, Any] | None = None) -> Fired:
    """`fire` inside the caller's transaction, which the caller commits or rolls back: for a
    hook whose change must land with the event that caused it (an announcement opens a case)."""
    kind = kind_of(kind_name)
    if kind.snapshot is not None:
        if session.new or session.dirty or session.deleted:
            session.flush()  # the direct path reads the database, not the session
        fired = _fire_direct(Raw.within(session), kind, entity_id, event, actor, expected_version, payload)
        if fired is not None:
            _expire(session, kind, entity_id)
            return fired
    return _fire_orm(session, kind, entity_id, event, actor, expected_version, payload)


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


def _guards(kind: Kind, spec: Row, facts: Any, payload: Mapping[str, Any]) -> None:
    problems = kind.machine.failing(spec, facts, payload)
    if problems:
        raise GuardFailed(spec.event, problems)


def _reason(payload: Mapping[str, Any]) -> str:
    return str(payload.get("reason") or payload.get("comment") or "")


def _fire_direct(raw: Raw, kind: Kind, entity_id: int, event: str, actor: Actor,
                 expected_version: int | None, payload: Mapping[str, Any] | None) -> Fired | None:
    """The direct path; None when the event needs the ORM path (nothing written then)."""
    snap = kind.snapshot(raw, entity_id, actor)
    if snap is None:
        raise NotFound(kind.name, entity_id)
    row = snap.row
    spec, payload = _check(kind, entity_id, row.state, row.version, snap.roles, event, expected_version, payload)
    _guards(kind, spec, snap.facts, payload)
    if event in kind.effects:
        return None
    env = Env(row, snap.facts, payload, actor, snap.roles, utcnow(), lambda: _known(snap.policy))
    pure = kind.changes.get(event)
    try:
        changes = pure(env) if pure else NO_CHANGES
        to_state = kind.machine.fire(Subject(row.state, snap.facts, payload), event)
        if to_state != row.state and not all(h.quiet and h.quiet(env) for h in kind.on_enter.get(to_state, ())):
            return None
    except _PolicyNotCached:
        return None

    version = row.version + 1
    written = raw.update(kind.table.__tablename__, {"id": row.id, "version": row.version},
                         {"state": to_state, "version": version, "updated_at": env.now, **changes.set})
    if written != 1:  # impossible while we hold the row's lock; never write past it
        raise RuntimeError(f"{kind.name} {row.id} changed while locked")
    for table, values in changes.add:
        raw.insert(table.__tablename__, _with_defaults(table, values))
    recorded = {**payload, **changes.record}
    values = audit.new_event(entity_type=kind.name, entity_id=row.id, seq=version, event=event,
                             from_state=row.state, to_state=to_state, actor_account_id=actor.account_id,
                             actor=actor.name, payload=recorded, reason=_reason(payload),
                             prev_hash=snap.prev_hash, at=env.now)
    event_id = raw.insert(Event.__tablename__, values, returning="id")
    return Fired(row.id, event, row.state, to_state, version, event_id, snap.roles)


def _fire_orm(session: Session, kind: Kind, entity_id: int, event: str, actor: Actor,
              expected_version: int | None, payload: Mapping[str, Any] | None) -> Fired:
    row = load_for_update(session, kind, entity_id)
    roles = kind.roles(session, actor, row)
    spec, payload = _check(kind, entity_id, row.state, row.version, roles, event, expected_version, payload)
    facts = kind.facts(session, row)
    _guards(kind, spec, facts, payload)

    from_state = row.state
    recorded = dict(payload)
    now = utcnow()
    if event in kind.changes:
        env = Env(row, facts, payload, actor, roles, now, lambda: kind.policy(session, row))
        changes = kind.changes[event](env)
        for column, value in changes.set.items():
            setattr(row, column, value)
        session.add_all(table(**values) for table, values in changes.add)  # the model fills its defaults
        recorded.update(changes.record)
    row.state = kind.machine.fire(Subject(from_state, facts, payload), event)
    if event in kind.effects:
        recorded.update(kind.effects[event](session, row, payload, actor, roles) or {})
    row.version += 1
    row.updated_at = now
    session.add(row)
    session.flush()
    event_id = audit.append(
        session, entity_type=kind.name, entity_id=row.id, seq=row.version, event=event,
        from_state=from_state, to_state=row.state, actor_account_id=actor.account_id,
        actor=actor.name, payload=recorded, reason=_reason(payload), at=now,
    )
    if row.state != from_state:
        for hook in kind.on_enter.get(row.state, []):
            hook.run(session, row, actor)
    session.flush()
    return Fired(row.id, event, from_state, row.state, row.version, event_id, kind.roles(session, actor, row))


class _PolicyNotCached(Exception):
    """The direct path met a policy not parsed yet in this process: the ORM path parses it."""


def _known(policy: Any) -> Any:
    if policy is None:
        raise _PolicyNotCached
    return policy


@lru_cache(maxsize=None)
def _defaults_of(table: type) -> tuple[tuple[str, Any], ...]:
    return tuple(python_defaults(table))


def _with_defaults(table: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a raw INSERT must give: the model's Python-side defaults filled in."""
    out = dict(values)
    for column, default in _defaults_of(table):
        if column not in out:
            out[column] = default.arg(None) if default.is_callable else default.arg
    return out


def _expire(session: Session, kind: Kind, entity_id: int) -> None:
    """A copy of the row the session holds is stale now: it reloads on next access."""
    if not session.identity_map:
        return
    held = session.identity_map.get(identity_key(kind.table, entity_id))
    if held is not None:
        session.expire(held)


def available_events(session: Session, kind_name: str, row: Any, actor: Actor) -> list[str]:
    """The events this actor may fire on this row now (by state and role; guards are checked
    when fired, so the answer can name what is missing)."""
    kind = kind_of(kind_name)
    return kind.machine.allowed(row.state, kind.roles(session, actor, row))


def record(session: Session, kind_name: str, row: Any, event: str, actor: Actor,
           payload: Mapping[str, Any] | None = None, *, to_state: str | None = None) -> int:
    """Append a bookkeeping event (e.g. "opened") to a versioned row the caller has locked."""
    from_state = row.state if row.version else None
    row.version += 1
    if to_state is not None:
        row.state = to_state
    session.add(row)
    session.flush()
    return audit.append(session, entity_type=kind_name, entity_id=row.id, seq=row.version,
                        event=event, from_state=from_state, to_state=row.state,
                        actor_account_id=actor.account_id, actor=actor.name, payload=payload)
