"""The one table between appraisal states and milestones, checked against the machine and the policy."""
from __future__ import annotations

from workflow import milestones
from workflow.machines.appraisal import MACHINE, OPEN_STATES, STATES
from workflow.policy import MILESTONES


def test_every_open_state_has_a_deadline_and_no_final_state_has_one():
    assert set(milestones.STATE_DEADLINE) == set(OPEN_STATES)
    assert not set(milestones.STATE_DEADLINE) & MACHINE.final
    assert set(milestones.STATE_DEADLINE.values()) <= set(milestones.ORDER)


def test_not_done_grows_along_the_round_and_names_only_machine_states():
    assert set(milestones.ORDER) | {milestones.LOW_PERFORMER_REPORT} == set(MILESTONES)
    previous: frozenset[str] = frozenset()
    for m in milestones.ORDER:
        states = milestones.not_done(m)
        assert previous < states <= set(STATES) - MACHINE.final
        previous = states
    assert milestones.not_done("agreement_signed") == {"draft"}
    assert milestones.not_done("results_announced") == set(OPEN_STATES)
    assert milestones.not_done(milestones.LOW_PERFORMER_REPORT) == frozenset()


def test_tally_leaves_withdrawn_out_and_counts_each_milestone():
    t = milestones.tally({"draft": 2, "agreed": 1, "announced": 3, "withdrawn": 4})
    assert t.total == 6 and t.states["withdrawn"] == 4
    assert t.not_done == {"agreement_signed": 2, "mid_round_review": 3, "evaluation_submitted": 3,
                          "committee_review_done": 3, "results_announced": 3}
    assert t.done["agreement_signed"] == 4 and t.done["results_announced"] == 3
    assert milestones.tally({"draft": 1}, ["agreement_signed", "low_performer_report"]).not_done == {
        "agreement_signed": 1}
