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
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Mapping

from sqlalchemy import bindparam, select
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from db.models import utcnow
from workflow import audit
from workflow.access import Actor
from workflow.errors import Conflict, GuardFailed, InvalidInput, NotAllowed, NotFound, problems_from_pydantic
from workflow.machines.base import Subject, WorkflowMachine

Effects = Callable[[Session, Any, str, dict[str, Any], Actor, frozenset[str]], Mapping[str, Any] | None]
Hook = Callable[[Session, Any, Actor], None]


@dataclass
class Kind:
    """How the engine handles one kind of workflow object (appraisal, low-performer case)."""

    name: str
    table: type
    machine: WorkflowMachine
    roles: Callable[[Session, Actor, Any], frozenset[str]]
    facts: Callable[[Session, Any], Any]
    validate: Callable[[str, Mapping[str, Any]], dict[str, Any]]
    apply: Effects
    # Run inside the same transaction when a row enters a state (e.g. "announced" opens a case).
    on_enter: dict[str, list[Hook]] = field(default_factory=dict)


KINDS: dict[str, Kind] = {}


def payload_validator(shapes: Mapping[str, type[BaseModel]],
                      default: type[BaseModel]) -> Callable[[str, Mapping[str, Any]], dict[str, Any]]:
    """A kind's `validate`: each event's payload checked against its pydantic shape; every
    problem named by its field (``payload.kpis[0].weight``)."""
    def validate(event: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return shapes.get(event, default).model_validate(payload).model_dump(mode="json", exclude_none=True)
        except ValidationError as exc:
            raise InvalidInput(problems_from_pydantic(exc.errors(), "payload")) from None

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
    try:
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
    payload = dict(payload or {})
    row = load_for_update(session, kind, entity_id)
    roles = kind.roles(session, actor, row)
    if not roles:
        raise NotFound(kind.name, entity_id)  # not theirs to see: say nothing more
    if not kind.machine.knows(event):
        raise NotFound(f"{kind.name} event", event)
    if expected_version is not None and expected_version != row.version:
        raise Conflict(f"ข้อมูลถูกแก้ไขแล้ว (ฉบับที่ {row.version}) กรุณาโหลดใหม่",
                       f"stale version {expected_version}; the {kind.name} is at version {row.version}",
                       current_version=row.version)
    spec = kind.machine.row_for(event, row.state)
    if spec is None:
        raise Conflict(f"ทำ '{event}' ไม่ได้ในสถานะ '{row.state}'",
                       f"'{event}' cannot be fired in state '{row.state}'", current_version=row.version)
    if not roles & spec.roles:
        raise NotAllowed(event, roles)
    payload = kind.validate(event, payload)
    facts = kind.facts(session, row)
    problems = kind.machine.failing(spec, facts, payload)
    if problems:
        raise GuardFailed(event, problems)

    from_state = row.state
    row.state = kind.machine.fire(Subject(from_state, facts, payload), event)
    recorded = dict(payload)
    recorded.update(kind.apply(session, row, event, payload, actor, roles) or {})
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    event_id = audit.append(
        session, entity_type=kind.name, entity_id=row.id, seq=row.version, event=event,
        from_state=from_state, to_state=row.state, actor_account_id=actor.account_id,
        actor=actor.name, payload=recorded,
        reason=str(payload.get("reason") or payload.get("comment") or ""),
    )
    if row.state != from_state:
        for hook in kind.on_enter.get(row.state, []):
            hook(session, row, actor)
    session.flush()
    return Fired(row.id, event, from_state, row.state, row.version, event_id)


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
