"""The appraisal machine, without a database: every allowed transition, and for every state
every event that must be refused, per role. The expectation below is written out by hand
from DOMAIN.md, not derived from the table it checks."""
from __future__ import annotations

from dataclasses import replace

import pytest

from workflow.machines.appraisal import MACHINE, STATES, AppraisalFacts, available_events
from workflow.machines.base import Subject

ROLES = ["appraisee", "evaluator", "superior", "committee", "hr", "authority", "admin", "system"]
OPEN = ["draft", "agreed", "monitored", "evaluated", "committee_review", "reviewed"]

# state -> event -> (roles that may fire it, state after)
SPEC: dict[str, dict[str, tuple[set[str], str]]] = {s: {} for s in STATES}


def allow(states, event, roles, dest=None):
    for s in ([states] if isinstance(states, str) else states):
        SPEC[s][event] = (set(roles), dest or s)


allow("draft", "edit_agreement", {"evaluator", "appraisee"})
allow(["draft", "agreed", "monitored"], "sign_agreement", {"evaluator", "appraisee"})
allow("draft", "agree", {"evaluator", "appraisee"}, "agreed")
allow(["agreed", "monitored"], "change_kpis", {"evaluator"})
allow("agreed", "review_progress", {"evaluator"}, "monitored")
allow("agreed", "mid_round_passed", {"system"}, "monitored")
allow("monitored", "add_progress_note", {"evaluator", "appraisee"})
allow(["monitored", "evaluated"], "score", {"evaluator"})
allow("monitored", "evaluate", {"evaluator"}, "evaluated")
allow("evaluated", "acknowledge", {"appraisee"})
allow("evaluated", "record_refusal", {"evaluator"})
allow("evaluated", "give_opinion", {"superior"})
allow("evaluated", "submit", {"evaluator", "hr"}, "committee_review")
allow("committee_review", "endorse", {"committee"}, "reviewed")
allow("committee_review", "return_to_evaluator", {"committee"}, "evaluated")
allow("reviewed", "announce", {"authority"}, "announced")
allow(OPEN, "hand_over", {"hr", "admin"})
allow(OPEN, "withdraw", {"hr", "admin"}, "withdrawn")

EVENTS = sorted({e for by_event in SPEC.values() for e in by_event})
# Facts and payload under which every guard holds, so only state and role decide.
GOOD = AppraisalFacts(evaluator_id=1, kpi_weights=(60, 40), kpi_levels=(4, 5), competency_scores=(3,) * 5,
                      agreement_signed_by=frozenset({"appraisee", "evaluator"}), development_plan="plan",
                      acknowledged=True, superior_opinion="agree")
PAYLOAD = {"comment": "c", "reason": "r", "note": "n", "witness_name": "w", "opinion": "agree", "evaluator_id": 2}
# The actions that record something once: the facts before it was recorded.
BEFORE = {"sign_agreement": replace(GOOD, caller_roles=frozenset({"evaluator"}),
                                    agreement_signed_by=frozenset({"appraisee"})),
          "acknowledge": replace(GOOD, acknowledged=False),
          "give_opinion": replace(GOOD, superior_opinion=None)}


def test_the_machine_knows_exactly_the_specified_events():
    assert MACHINE.events == EVENTS
    assert STATES == ["draft", "agreed", "monitored", "evaluated", "committee_review", "reviewed",
                      "announced", "withdrawn"]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_available_events_per_state_and_role(state, role):
    expected = sorted(e for e, (roles, _) in SPEC[state].items() if role in roles)
    assert sorted(available_events(state, {role})) == expected


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("event", EVENTS)
def test_every_event_from_every_state(state, event):
    spec = SPEC[state].get(event)
    row = MACHINE.row_for(event, state)
    if spec is None:
        assert row is None, f"{event} must be refused in {state}"
        return
    roles, dest = spec
    assert row is not None and row.roles == roles
    facts = BEFORE.get(event, GOOD)
    assert MACHINE.failing(row, facts, PAYLOAD) == []
    assert MACHINE.fire(Subject(state, facts, PAYLOAD), event) == dest


@pytest.mark.parametrize("event, facts, field", [
    ("sign_agreement", replace(GOOD, caller_roles=frozenset({"evaluator"})), "signatures"),
    ("acknowledge", GOOD, "acknowledgment"),
    ("give_opinion", replace(GOOD, caller_opinion="agree"), "opinion"),
])
def test_an_action_that_would_change_nothing_is_refused(event, facts, field):
    row = MACHINE.row_for(event, "evaluated" if event != "sign_agreement" else "draft")
    assert [p.field for p in MACHINE.failing(row, facts, PAYLOAD)] == [field]


def test_final_states_allow_nothing():
    for state in ("announced", "withdrawn"):
        assert available_events(state, set(ROLES)) == []


def test_guards_report_every_failure_at_once():
    empty = AppraisalFacts()
    row = MACHINE.row_for("agree", "draft")
    fields = [p.field for p in MACHINE.failing(row, empty, {})]
    assert fields == ["evaluator", "kpis", "kpis.weight", "competencies", "signatures"]


def test_the_shared_machine_keeps_no_rows_attached():
    MACHINE.fire(Subject("draft", GOOD, PAYLOAD), "agree")
    attached = len(MACHINE.machine.models)
    subjects = [Subject("draft", GOOD, PAYLOAD) for _ in range(50)]
    for subject in subjects:
        MACHINE.fire(subject, "agree")
    assert len(MACHINE.machine.models) == attached  # rows come and go; the carriers stay
    assert not any(s in MACHINE.machine.models for s in subjects)
    # An idle carrier holds no row's facts nor payload.
    assert all(m.facts is None and m.payload == {} for m in MACHINE.machine.models)


def test_a_failing_guard_stops_the_machine_itself():
    # Even if a caller skipped the engine's check, the transitions conditions refuse.
    with pytest.raises(AssertionError):
        MACHINE.fire(Subject("draft", AppraisalFacts(), {}), "agree")
