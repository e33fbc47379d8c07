"""The pure rules, without a database: whose move is next, what is pending before a milestone,
overdue items once a day, escalations, channel switches, backoff."""
from __future__ import annotations

from datetime import date, timedelta

from workflow.notifications.channels import ChannelRule, backoff, resolve_channels
from workflow.notifications.pending import (
    AppraisalFact,
    CaseFact,
    Item,
    RoundFacts,
    escalations,
    next_actions,
    overdue_by_milestone,
    pending_for,
)

EV, AP, SUP, HR, C1, C2, AUTH, EV2 = 10, 20, 30, 40, 50, 60, 70, 80


def fact(state: str, **kw) -> AppraisalFact:
    base = dict(id=1, person_id=AP, person_name="ap", state=state, evaluator_id=EV, superior_id=SUP)
    return AppraisalFact(**(base | kw))


def who(a: AppraisalFact) -> set[tuple[int, str]]:
    return {(p, it.action) for p, it in next_actions(a, committee_ids=frozenset({C1, C2, AP}),
                                                     hr_ids=frozenset({HR}), authority_ids=frozenset({AUTH}))}


def test_whose_move_is_next_in_each_state():
    assert who(fact("draft")) == {(EV, "sign_agreement"), (AP, "sign_agreement")}
    assert who(fact("draft", signed_by=frozenset({"evaluator"}))) == {(AP, "sign_agreement")}
    assert who(fact("draft", signed_by=frozenset({"evaluator", "appraisee"}))) == {(EV, "confirm_agreement")}
    assert who(fact("draft", evaluator_id=None)) == {(HR, "assign_evaluator"), (AP, "sign_agreement")}
    assert who(fact("agreed")) == {(EV, "mid_round_review")}
    assert who(fact("monitored")) == {(EV, "score")}
    assert who(fact("evaluated")) == {(AP, "acknowledge"), (SUP, "give_opinion")}
    assert who(fact("evaluated", refused_with_witness=True, superior_opinion_given=True)) == {(EV, "submit")}
    # A committee member never reviews their own appraisal.
    assert who(fact("committee_review")) == {(C1, "committee_review"), (C2, "committee_review")}
    assert who(fact("reviewed")) == {(AUTH, "announce")}
    assert who(fact("announced")) == set() and who(fact("withdrawn")) == set()


def test_pending_before_a_milestone_only_counts_states_not_yet_past_it():
    facts = RoundFacts(round_id=7, appraisals=[fact("draft", id=1), fact("monitored", id=2, person_id=21),
                                                fact("announced", id=3, person_id=22)],
                       hr_ids=frozenset({HR}),
                       cases=[CaseFact(5, 23, "c", "coaching", EV2, ("coaching",)),
                              CaseFact(6, 24, "d", "closed_improved", EV2, ("training",)),
                              CaseFact(7, 25, "e", "training", EV, ())])
    assert set(pending_for("agreement_signed", facts)) == {EV, AP}
    got = pending_for("evaluation_submitted", facts)
    assert {(it.action, it.entity_id) for it in got[EV]} == {("sign_agreement", 1), ("score", 2)}
    report = pending_for("low_performer_report", facts)
    assert report == {HR: [Item("round_report", "round", 7)],
                      EV2: [Item("case_measure", "case", 5, "c", "coaching")]}
    assert report[EV2][0].link == "/cases/5" and report[HR][0].link == "/rounds/7/report"


def test_an_overdue_item_is_counted_under_its_earliest_milestone_only():
    sign = Item("sign_agreement", "appraisal", 1)
    score = Item("score", "appraisal", 2)
    pending = {100: {EV: [sign]}, 200: {EV: [sign, score]}, 300: {EV: [score]}}
    milestones = [(200, "mid_round_review", date(2026, 1, 1)), (100, "agreement_signed", date(2025, 11, 1)),
                  (300, "evaluation_submitted", date(2026, 3, 21))]
    out = overdue_by_milestone(milestones, date(2026, 2, 1), pending)
    assert out == {100: {EV: [sign]}, 200: {EV: [score]}}  # the third is not yet due


def test_escalation_reaches_the_superior_above_and_hr_never_oneself():
    late = {EV: [Item("score", "appraisal", 2)], HR: [Item("round_report", "round", 7)]}
    got = escalations(late, {EV: SUP, HR: AUTH}, frozenset({HR}))
    assert set(got) == {SUP, HR, AUTH}
    assert set(got[HR].late) == {EV}  # HR hears about the evaluator, not about itself
    assert set(got[AUTH].late) == {HR} and set(got[SUP].late) == {EV}


def test_channel_switches_person_over_nearest_org_over_default():
    rules = [ChannelRule(1, None, "email", False), ChannelRule(4, None, "email", True),
             ChannelRule(1, None, "webhook", True, "https://chat/hook"),
             ChannelRule(None, 99, "inbox", False), ChannelRule(None, 98, "email", False)]
    assert resolve_channels(99, "/1/4/", rules) == {"email": "", "webhook": "https://chat/hook"}
    assert resolve_channels(97, "/1/", rules) == {"inbox": "", "webhook": "https://chat/hook"}
    assert resolve_channels(98, "/1/4/", rules) == {"inbox": "", "webhook": "https://chat/hook"}
    assert resolve_channels(97, "/2/", rules) == {"email": "", "inbox": ""}  # defaults; no webhook URL


def test_backoff_doubles_up_to_six_hours():
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert backoff(20) == timedelta(hours=6)
