"""Who has what pending before a milestone: pure functions over plain data, no database.

An appraisal is pending for a milestone while its state is one the milestone expects it to
have left; the people pending on it are the ones whose move is next (the evaluator who has
not signed, the appraisee who has not acknowledged, the committee with it to review...).
HR is pending on the round report, and the supervisor of an open low-performer case on each
measure not done, when the low-performer report is due.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Mapping, NamedTuple

from workflow import milestones
from workflow.machines.low_performer import MACHINE as CASE_MACHINE

# action codes (`workflow.labels.ACTIONS` carries their Thai and English wording)
SIGN_AGREEMENT = "sign_agreement"
CONFIRM_AGREEMENT = "confirm_agreement"
ASSIGN_EVALUATOR = "assign_evaluator"
MID_ROUND_REVIEW = "mid_round_review"
SCORE = "score"
ACKNOWLEDGE = "acknowledge"
GIVE_OPINION = "give_opinion"
SUBMIT = "submit"
COMMITTEE_REVIEW = "committee_review"
ANNOUNCE = "announce"
ROUND_REPORT = "round_report"
CASE_MEASURE = "case_measure"
SUBMIT_SAR = "submit_sar"  # an agency's self-assessment report (`agency_assessments.due_for_milestone`)
# The appraisal events each action asks its person to fire (`tests/notifications/test_next_actions.py`
# checks `next_actions` against the machine's table through this).
ACTION_EVENTS: dict[str, tuple[str, ...]] = {
    SIGN_AGREEMENT: ("sign_agreement",),
    CONFIRM_AGREEMENT: ("agree",),
    ASSIGN_EVALUATOR: ("hand_over",),
    MID_ROUND_REVIEW: ("review_progress",),
    SCORE: ("score", "evaluate"),
    ACKNOWLEDGE: ("acknowledge",),
    GIVE_OPINION: ("give_opinion",),
    SUBMIT: ("submit",),
    COMMITTEE_REVIEW: ("endorse", "return_to_evaluator"),
    ANNOUNCE: ("announce",),
}


class AppraisalFact(NamedTuple):
    """The few fields of an appraisal that say whose move is next (a tuple: 100,000 are cheap)."""

    id: int
    person_id: int
    person_name: str
    state: str
    evaluator_id: int | None
    superior_id: int | None
    # roles ("appraisee", "evaluator") that signed the current agreement revision
    signed_by: frozenset[str] = frozenset()
    acknowledged: bool = False
    refused_with_witness: bool = False
    superior_opinion_given: bool = False
    # the second superior above, where the policy has two levels, and whether they have spoken
    superior2_id: int | None = None
    superior2_opinion_given: bool = False


@dataclass(frozen=True)
class CaseFact:
    id: int
    person_id: int
    person_name: str
    state: str
    supervisor_id: int | None
    measures_not_done: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoundFacts:
    round_id: int
    appraisals: Iterable[AppraisalFact] = ()
    committee_ids: frozenset[int] = frozenset()
    hr_ids: frozenset[int] = frozenset()
    authority_ids: frozenset[int] = frozenset()
    cases: Iterable[CaseFact] = ()


@dataclass(frozen=True, order=True)
class Item:
    """One thing one person must do: an action on an appraisal, a case, or the round."""

    action: str
    entity: str  # appraisal | case | round | agency_assessment
    entity_id: int
    subject_name: str = ""  # whose appraisal or case it is
    detail: str = ""  # e.g. the measures not done

    @property
    def link(self) -> str:
        return {"appraisal": f"/appraisals/{self.entity_id}", "case": f"/cases/{self.entity_id}",
                "round": f"/rounds/{self.entity_id}/report",
                "agency_assessment": f"/api/v1/agency-assessments/{self.entity_id}"}[self.entity]


def next_actions(a: AppraisalFact, *, committee_ids: frozenset[int] = frozenset(),
                 hr_ids: frozenset[int] = frozenset(),
                 authority_ids: frozenset[int] = frozenset()) -> list[tuple[int, Item]]:
    """(person, item) for everyone whose move is next on this appraisal."""
    def item(action: str) -> Item:
        return Item(action, "appraisal", a.id, a.person_name)

    out: list[tuple[int | None, Item]] = []
    if a.state == "draft":
        if a.evaluator_id is None:
            out += [(h, item(ASSIGN_EVALUATOR)) for h in sorted(hr_ids)]
        elif "evaluator" not in a.signed_by:
            out.append((a.evaluator_id, item(SIGN_AGREEMENT)))
        if "appraisee" not in a.signed_by:
            out.append((a.person_id, item(SIGN_AGREEMENT)))
        if {"appraisee", "evaluator"} <= a.signed_by:
            out.append((a.evaluator_id, item(CONFIRM_AGREEMENT)))
    elif a.state == "agreed":
        out.append((a.evaluator_id, item(MID_ROUND_REVIEW)))
    elif a.state == "monitored":
        out.append((a.evaluator_id, item(SCORE)))
    elif a.state == "evaluated":
        waiting = False
        if not (a.acknowledged or a.refused_with_witness):
            out.append((a.person_id, item(ACKNOWLEDGE)))
            waiting = True
        for superior, given in ((a.superior_id, a.superior_opinion_given),
                                (a.superior2_id, a.superior2_opinion_given)):
            if superior is not None and not given:
                out.append((superior, item(GIVE_OPINION)))
                waiting = True
        if not waiting:
            out.append((a.evaluator_id, item(SUBMIT)))
    elif a.state == "committee_review":
        out += [(m, item(COMMITTEE_REVIEW)) for m in sorted(committee_ids) if m != a.person_id]
    elif a.state == "reviewed":
        out += [(p, item(ANNOUNCE)) for p in sorted(authority_ids) if p != a.person_id]
    return [(who, it) for who, it in out if who is not None]


def pending_for(milestone_code: str, facts: RoundFacts) -> dict[int, list[Item]]:
    """Person id -> the items they must still do before this milestone (sorted, no repeats)."""
    not_done = milestones.not_done(milestone_code)
    found: dict[int, set[Item]] = defaultdict(set)
    if not_done:
        for a in facts.appraisals:
            if a.state in not_done:
                for who, it in next_actions(a, committee_ids=facts.committee_ids, hr_ids=facts.hr_ids,
                                            authority_ids=facts.authority_ids):
                    found[who].add(it)
    if milestone_code == milestones.LOW_PERFORMER_REPORT:
        for h in facts.hr_ids:
            found[h].add(Item(ROUND_REPORT, "round", facts.round_id))
        for c in facts.cases:
            if c.state in CASE_MACHINE.final or not c.measures_not_done or c.supervisor_id is None:
                continue
            found[c.supervisor_id].add(Item(CASE_MEASURE, "case", c.id, c.person_name,
                                            ",".join(c.measures_not_done)))
    return {who: sorted(items) for who, items in sorted(found.items())}


def overdue_by_milestone(milestones: list[tuple[int, str, date]], today: date,
                         pending: Mapping[int, Mapping[int, list[Item]]]) -> dict[int, dict[int, list[Item]]]:
    """Keep each (person, item) under the earliest overdue milestone it is pending for, so an
    overdue item is reminded once a day, not once per milestone it is late for.

    ``milestones``: (id, code, due_on); ``pending``: milestone id -> pending_for(...)."""
    seen: set[tuple[int, Item]] = set()
    out: dict[int, dict[int, list[Item]]] = {}
    for mid, _code, due in sorted(milestones, key=lambda m: (m[2], m[0])):
        if due >= today:
            continue
        per_person: dict[int, list[Item]] = {}
        for who, items in pending.get(mid, {}).items():
            fresh = [it for it in items if (who, it) not in seen]
            seen.update((who, it) for it in fresh)
            if fresh:
                per_person[who] = fresh
        if per_person:
            out[mid] = per_person
    return out


@dataclass(frozen=True)
class Escalation:
    """Overdue items of people below, for their superior above or for HR."""

    recipient_id: int
    late: dict[int, list[Item]] = field(default_factory=dict)  # late person id -> their items


def escalations(overdue: Mapping[int, list[Item]], superior_of: Mapping[int, int | None],
                hr_ids: frozenset[int]) -> dict[int, Escalation]:
    """Who hears about whose overdue items: each late person's superior above, and HR."""
    out: dict[int, Escalation] = {}
    for late_id, items in sorted(overdue.items()):
        targets = set(hr_ids)
        sup = superior_of.get(late_id)
        if sup is not None:
            targets.add(sup)
        targets.discard(late_id)  # nobody is told about themselves
        for t in sorted(targets):
            out.setdefault(t, Escalation(t)).late[late_id] = list(items)
    return out
