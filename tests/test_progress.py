"""Round progress: the HR dashboard and the progress report count the same appraisals the same way."""
from __future__ import annotations

from datetime import date

from tests.factories import world
from tests.flows import drive
from workflow import dashboard, engine, progress
from workflow.reports import load


def test_the_dashboard_and_the_progress_report_agree(session):
    w = world(session, "udon_thani")
    drive(session, w, "appraisee")  # announced
    drive(session, w, "other", until="agreed")
    engine.fire(session, "appraisal", w.appraisal_of(session, "evaluator").id, "withdraw", w.actors["hr"],
                payload={"reason": "ย้ายไปหน่วยงานอื่น"})
    late = date(2026, 12, 31)  # every milestone of the round has passed
    board = dashboard.hr_dashboard(session, w.actors["hr"], w.opened.round.id, late)
    report = load.build(session, w.actors["hr"], w.opened.round.id, "progress", today=late)
    rows = {r["unit"].split()[0]: r for r in report.table("progress").rows}
    codes = list(board.overall.done)
    assert codes == ["agreement_signed", "mid_round_review", "evaluation_submitted", "committee_review_done",
                     "results_announced"]
    for unit in [*board.units, board.overall]:
        row = rows[unit.unit.code if unit.unit else "รวม"]
        assert row["total"] == unit.total
        assert {k.removeprefix("state."): v for k, v in row.items() if k.startswith("state.") and v} == unit.states
        assert {c: row[f"overdue.{c}"] for c in codes} == {c: unit.total - unit.done[c] for c in codes}
    unit = next(u for u in board.units if u.unit.id == w.unit.id)
    # the unit: appraisee announced, other agreed, evaluator withdrawn (not counted), superior in draft
    assert unit.total == 3 and unit.states["withdrawn"] == 1
    assert unit.done == {"agreement_signed": 2, "mid_round_review": 1, "evaluation_submitted": 1,
                         "committee_review_done": 1, "results_announced": 1}
    assert progress.state_counts(session, w.opened.round.id)[w.unit.id] == unit.states
