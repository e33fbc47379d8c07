"""Whose move is next (`pending.next_actions`) agrees with the appraisal machine's table, for
every state and every role."""
from __future__ import annotations

from itertools import product

from workflow.machines.appraisal import MACHINE, STATES
from workflow.notifications.pending import ACTION_EVENTS, AppraisalFact, next_actions

# one person per role
PEOPLE = {"appraisee": 1, "evaluator": 2, "superior": 3, "superior2": 4, "committee": 5, "hr": 6, "authority": 7}
ROLE_OF = {pid: ("superior" if role == "superior2" else role) for role, pid in PEOPLE.items()}
SIGNED = [frozenset(), frozenset({"appraisee"}), frozenset({"evaluator"}), frozenset({"appraisee", "evaluator"})]


def every_fact(state: str):
    """Every combination of the facts next_actions looks at, for an appraisal in this state."""
    for evaluator, signed, ack, refused, opinion, superior2, opinion2 in product(
            (None, PEOPLE["evaluator"]), SIGNED, (False, True), (False, True), (False, True),
            (None, PEOPLE["superior2"]), (False, True)):
        yield AppraisalFact(1, PEOPLE["appraisee"], "a", state, evaluator, PEOPLE["superior"], signed_by=signed,
                            acknowledged=ack, refused_with_witness=refused, superior_opinion_given=opinion,
                            superior2_id=superior2, superior2_opinion_given=opinion2)


def handed_out(state: str) -> set[tuple[str, str]]:
    """(role, action) for every move next_actions hands anyone in this state."""
    out = set()
    for fact in every_fact(state):
        for who, item in next_actions(fact, committee_ids=frozenset({PEOPLE["committee"]}),
                                      hr_ids=frozenset({PEOPLE["hr"]}),
                                      authority_ids=frozenset({PEOPLE["authority"]})):
            out.add((ROLE_OF[who], item.action))
    return out


def test_every_move_handed_out_is_one_the_table_lets_that_role_make():
    for state in STATES:
        for role, action in handed_out(state):
            allowed = MACHINE.allowed(state, {role})
            assert set(ACTION_EVENTS[action]) & set(allowed), (state, role, action, allowed)


def test_every_step_forward_in_the_table_is_handed_to_one_of_its_roles():
    """Each row that moves an appraisal on (withdrawal and the system's own steps aside) reaches
    someone's list in each state it starts from."""
    for row in MACHINE.table:
        people_roles = row.roles - {"system", "admin"}
        if row.dest in (None, "withdrawn") or not people_roles:
            continue
        for state in row.sources:
            given = {(role, action) for role, action in handed_out(state) if row.event in ACTION_EVENTS[action]}
            assert {role for role, _ in given} & people_roles, (row.event, state)


def test_final_states_hand_out_nothing():
    for state in MACHINE.final:
        assert handed_out(state) == set()
