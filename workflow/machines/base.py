"""What every workflow machine shares: a table of rows, one `transitions` Machine built from it.

A row says: this *event* moves from these *sources* to *dest* (None = stays, an action that
is recorded but changes no state), the *roles* that may fire it, and the *guards* that must
hold. Guards are pure functions ``guard(facts, payload) -> Problem | None``.

One Machine per kind, shared by every row of that kind; a Machine per row would cost tens of
KB each. Rows are never attached to it: the Machine's models are a few *carriers*, each
attached once and lent to one event at a time, which is given the row's persisted state, its
facts and the payload, fires, and hands back the new state. (Attaching a subject per event,
``add_model`` ... ``remove_model``, costs ~55 us; firing on a carrier ~7 us.)
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from transitions import Machine

from workflow.errors import Problem

Guard = Callable[[Any, Mapping[str, Any]], "Problem | None"]


@dataclass(frozen=True)
class Row:
    event: str
    sources: tuple[str, ...]
    dest: str | None
    roles: frozenset[str]
    guards: tuple[Guard, ...] = ()
    doc: str = ""


def row(event: str, sources: str | Iterable[str], dest: str | None, roles: Iterable[str],
        guards: Iterable[Guard] = (), doc: str = "") -> Row:
    srcs = (sources,) if isinstance(sources, str) else tuple(sources)
    return Row(event, srcs, dest, frozenset(roles), tuple(guards), doc)


@dataclass(eq=False)  # identity equality: Machine.add_model tests membership with ==
class Subject:
    """What the machine sees while one event runs: the state, the facts and the payload."""

    state: str
    facts: Any
    payload: Mapping[str, Any] = field(default_factory=dict)


class WorkflowMachine:
    """A state-machine kind: its states, its table, and the one `transitions` Machine for it."""

    def __init__(self, name: str, states: list[str], initial: str, table: list[Row],
                 final: Iterable[str] = ()):
        self.name, self.states, self.initial, self.table = name, states, initial, table
        self.final = frozenset(final)
        self.events = sorted({r.event for r in table})
        self._rows = {(r.event, s): r for r in table for s in r.sources}
        self._lock = threading.Lock()  # Machine.add_model is not thread-safe
        self._carriers: list[Subject] = []  # idle carriers; list.pop/append are atomic
        self.machine = Machine(
            model=None,
            states=states,
            initial=initial,
            transitions=[
                {
                    "trigger": r.event,
                    "source": list(r.sources),
                    "dest": r.dest,
                    "conditions": [_condition(g) for g in r.guards],
                }
                for r in table
            ],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    # --- pure queries ----------------------------------------------------------------------------
    def row_for(self, event: str, state: str) -> Row | None:
        return self._rows.get((event, state))

    def knows(self, event: str) -> bool:
        return event in self.events

    def allowed(self, state: str, roles: Iterable[str]) -> list[str]:
        """The events these roles may fire from this state (guards aside)."""
        roles = set(roles)
        return [r.event for r in self.table if state in r.sources and roles & r.roles]

    def failing(self, row_: Row, facts: Any, payload: Mapping[str, Any]) -> list[Problem]:
        """Every failing guard of a row, not just the first."""
        return [p for g in row_.guards if (p := g(facts, payload)) is not None]

    # --- firing --------------------------------------------------------------------------------
    def fire(self, subject: Subject, event: str) -> str:
        """Run one event for `subject` through the shared Machine; return the new state."""
        try:
            carrier = self._carriers.pop()
        except IndexError:
            carrier = self._new_carrier()
        try:
            # Setting the attribute is how a persisted state is restored: no callbacks run.
            carrier.state, carrier.facts, carrier.payload = subject.state, subject.facts, subject.payload
            if not carrier.trigger(event):  # type: ignore[attr-defined]
                raise AssertionError(f"{self.name}: guards of {event!r} changed while firing")
            return carrier.state
        finally:
            carrier.facts, carrier.payload = None, {}
            self._carriers.append(carrier)

    def _new_carrier(self) -> Subject:
        carrier = Subject(self.initial, None)
        with self._lock:
            self.machine.add_model(carrier, initial=self.initial)
        return carrier


def _condition(guard: Guard) -> Callable[[Any], bool]:
    def check(event_data: Any) -> bool:
        subject: Subject = event_data.model
        return guard(subject.facts, subject.payload) is None

    check.__name__ = getattr(guard, "__name__", "guard")
    return check
