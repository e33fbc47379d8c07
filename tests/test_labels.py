"""Every code a person reads has a Thai and an English label in `workflow.labels`."""
from __future__ import annotations

import importlib
import pkgutil

import workflow.machines
from workflow import labels
from workflow.machines.base import WorkflowMachine
from workflow.machines.low_performer import MEASURE_STATUSES, MEASURES
from workflow.milestones import LOW_PERFORMER_REPORT, ORDER
from workflow.notifications import pending


def machines() -> list[WorkflowMachine]:
    """Every machine table in workflow/machines/ (a new machine is checked without editing this)."""
    found = []
    for mod in pkgutil.iter_modules(workflow.machines.__path__):
        m = importlib.import_module(f"workflow.machines.{mod.name}")
        found += [v for v in vars(m).values() if isinstance(v, WorkflowMachine)]
    return found


def _both(table, codes) -> list[str]:  # noqa: ANN001
    """The codes lacking a Thai or an English label."""
    return sorted(c for c in codes if not (c in table and all(part.strip() for part in table[c])))


def test_every_state_event_and_role_of_every_machine_has_thai_and_english():
    assert {m.name for m in machines()} >= {"appraisal", "case"}
    for m in machines():
        assert _both(labels.STATES, m.states) == [], m.name
        assert _both(labels.EVENTS, m.events) == [], m.name
        assert _both(labels.ROLES, {r for row in m.table for r in row.roles}) == [], m.name


def test_measures_statuses_actions_and_milestones_have_both_languages():
    assert _both(labels.MEASURES, MEASURES) == []
    assert _both(labels.MEASURE_STATUSES, MEASURE_STATUSES) == []
    actions = {v for k, v in vars(pending).items() if k.isupper() and isinstance(v, str) and k == v.upper()}
    assert pending.SIGN_AGREEMENT in actions and pending.CASE_MEASURE in actions
    assert _both(labels.ACTIONS, actions) == []
    assert _both(labels.MILESTONES_SHORT, [*ORDER, LOW_PERFORMER_REPORT]) == []


def test_label_picks_the_language_and_falls_back_to_the_code():
    assert labels.label(labels.STATES, "draft") == "จัดทำข้อตกลง"
    assert labels.label(labels.STATES, "draft", "en") == "Drafting the agreement"
    assert labels.label(labels.EVENTS, "no_such_event", "en") == "no_such_event"
    assert labels.STATE_TH["escalated"] == labels.STATES["escalated"][0]
