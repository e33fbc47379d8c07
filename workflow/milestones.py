"""The one table between appraisal states and the round's milestones (pure, no database).

Each open state has the milestone by which an appraisal should have left it
(`STATE_DEADLINE`); an appraisal is "not done" for a milestone while it is in a state whose
deadline is that milestone or an earlier one (`NOT_DONE`). The overdue filter, the reminders,
My tasks, the HR dashboard and the progress report all read these two tables.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workflow.policy import MILESTONES

# The milestone at which the low-performer cases and HR's round report are due.
LOW_PERFORMER_REPORT = "low_performer_report"
# The appraisal milestones in the order a round reaches them (the policy's, but the report).
ORDER = tuple(m for m in MILESTONES if m != LOW_PERFORMER_REPORT)
# The milestone by which an appraisal should have left each open state.
STATE_DEADLINE: dict[str, str] = {
    "draft": "agreement_signed",
    "agreed": "mid_round_review",
    "monitored": "evaluation_submitted",
    "evaluated": "evaluation_submitted",
    "committee_review": "committee_review_done",
    "reviewed": "results_announced",
}
# The states an appraisal must have left by each milestone (cumulative, in workflow order).
NOT_DONE: dict[str, frozenset[str]] = {
    m: frozenset(s for s, d in STATE_DEADLINE.items() if ORDER.index(d) <= ORDER.index(m)) for m in ORDER
}
# Appraisals in this state are left out of progress counts.
UNCOUNTED = frozenset({"withdrawn"})


def due_at(milestone: str) -> frozenset[str]:
    """The states an appraisal should have left by this milestone and not before: the ones
    that are overdue for it once it has passed (the HR dashboard's milestone filter)."""
    return frozenset(s for s, d in STATE_DEADLINE.items() if d == milestone)


def passed(state: str, milestone: str) -> bool:
    """Whether an appraisal in this state is past the milestone (a withdrawn one never is)."""
    return state not in UNCOUNTED and state not in NOT_DONE[milestone]


def not_done(milestone: str) -> frozenset[str]:
    """The states still short of this milestone (none for a milestone about cases or reports)."""
    return NOT_DONE.get(milestone, frozenset())


@dataclass(frozen=True)
class Tally:
    """How far a group of appraisals has come: per state, and per milestone done / not done."""

    states: Mapping[str, int]  # every state, withdrawn included
    total: int  # the appraisals counted (withdrawn ones are not)
    not_done: Mapping[str, int]  # milestone -> appraisals still short of it

    @property
    def done(self) -> dict[str, int]:
        return {m: self.total - n for m, n in self.not_done.items()}


def tally(states: Mapping[str, int], milestones: tuple[str, ...] | list[str] = ORDER) -> Tally:
    """Counts per state -> the tally for these milestones (those of them that concern appraisals)."""
    total = sum(n for s, n in states.items() if s not in UNCOUNTED)
    short = {m: sum(n for s, n in states.items() if s in NOT_DONE[m]) for m in milestones if m in NOT_DONE}
    return Tally(dict(states), total, short)
