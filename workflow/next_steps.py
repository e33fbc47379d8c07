"""What the caller may do next on a workflow object, and whether it would succeed now.

For each event the caller's roles may fire from the current state: `ready` when every guard
holds on what is recorded now; `problems` the guards that fail now (what must happen first);
`inputs` what the caller must send with the event (a guard that fails only for want of a
payload key the event takes is an input, not a blocker).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from pydantic import BaseModel
from sqlmodel import Session

from workflow import engine
from workflow.access import Actor
from workflow.errors import Problem
from workflow.machines.base import WorkflowMachine


@dataclass(frozen=True)
class NextStep:
    event: str
    ready: bool
    problems: tuple[Problem, ...] = ()
    inputs: tuple[Problem, ...] = ()


def payloads_of(kind_name: str) -> tuple[Mapping[str, type[BaseModel]], type[BaseModel]]:
    """Each event's payload shape of a kind, and the shape of events with none of their own."""
    kind = engine.kind_of(kind_name)
    return kind.payloads, kind.default_payload


def steps(machine: WorkflowMachine, state: str, roles: frozenset[str], facts: Any,
          payloads: Mapping[str, type[BaseModel]], default: type[BaseModel]) -> list[NextStep]:
    """The pure rule: no database, only the table, the roles and the facts."""
    out: list[NextStep] = []
    for event in machine.allowed(state, roles):
        spec = machine.row_for(event, state)
        keys = set(payloads.get(event, default).model_fields)
        problems, inputs = [], []
        for p in machine.failing(spec, facts, {}):
            (inputs if p.field.split(".")[0] in keys else problems).append(p)
        out.append(NextStep(event, not problems, tuple(problems), tuple(inputs)))
    return out


def next_steps(session: Session, kind_name: str, row: Any, actor: Actor) -> list[NextStep]:
    """The caller's next steps on `row` (an appraisal or a case) as the engine sees it now."""
    kind = engine.kind_of(kind_name)
    snap = engine.peek(session, kind_name, row.id, actor)
    if snap is None:
        return []
    return steps(kind.machine, snap.row.state, snap.roles, snap.facts, kind.payloads, kind.default_payload)
