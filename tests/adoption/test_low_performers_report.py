"""The report owed upward: every case open during the round, carried in or opened by it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from db.models import CaseMeasure, LowPerformerCase
from db.session import new_session
from tests.factories import world
from tests.flows import drive
from workflow import calendar
from workflow.access import Actor
from workflow.reports import load
from workflow.reports.data import Meta
from workflow.reports.low_performers import LowCase, MeasureRow, counts_in_round, low_performers
from workflow.rounds import open_round

START, END = date(2026, 4, 1), date(2026, 9, 30)


def test_a_case_counts_when_opened_before_the_end_and_not_closed_before_the_start():
    assert counts_in_round(date(2025, 11, 1), None, START, END)  # carried in, still open
    assert counts_in_round(date(2025, 11, 1), date(2026, 4, 1), START, END)  # closed on the first day
    assert not counts_in_round(date(2025, 11, 1), date(2026, 3, 31), START, END)  # closed before the start
    assert counts_in_round(date(2026, 9, 30), None, START, END)
    assert not counts_in_round(date(2026, 10, 1), None, START, END)  # opened after the end


def test_the_builder_lists_each_measure_with_status_evidence_and_follow_up():
    meta = Meta("X", "องค์กร", 2569, 2, START, END, date(2026, 10, 5))
    carried = LowCase(1, "T1", "ก", 1, 10, "1/2569", date(2026, 4, 30), None, "training", Decimal("55.00"),
                      "needs_improvement",
                      (MeasureRow("coaching", "done", (date(2026, 5, 2), date(2026, 6, 1))),
                       MeasureRow("training", "in_progress"), MeasureRow("commitment", "not_started")),
                      follow_up_percent=Decimal("72.00"), follow_up_rating="good")
    gone = LowCase(2, "T2", "ข", 1, 9, "2/2568", date(2025, 10, 30), date(2026, 2, 1), "closed_improved",
                   Decimal("58.00"), "needs_improvement")
    mine = LowCase(3, "T3", "ค", 1, 11, "2/2569", date(2026, 10, 30), None, "opened", Decimal("50.00"),
                   "needs_improvement")
    report = low_performers(meta, [], [], [carried, gone, mine], round_id=11, covers="this round")
    rows = report.table("cases").rows
    assert sorted({r["case_id"] for r in rows}) == [1, 3]  # the one closed before the start is left out
    first = [r for r in rows if r["case_id"] == 1]
    assert [(r["measure_code"], r["status_code"], r["evidence"]) for r in first] == [
        ("coaching", "done", 2), ("training", "in_progress", 0), ("commitment", "not_started", 0)]
    assert first[0]["evidence_dates"] == "2026-05-02, 2026-06-01" and first[0]["follow_up"].startswith("72.00")
    assert first[0]["carried"] != "-" and [r for r in rows if r["case_id"] == 3][0]["carried"] == "-"
    assert any("this round" in line for line in report.lines)


def _rounds_around_today() -> tuple[tuple[int, int], tuple[int, int]]:
    today = calendar.today()
    fy = calendar.fiscal_year_of(today)
    now = 1 if today.month >= 10 or today.month <= 3 else 2
    return ((fy - 1, 2) if now == 1 else (fy, 1)), (fy, now)


def test_a_rounds_report_lists_the_cases_carried_into_it_before_anything_is_announced(engine, client):
    (py, pn), (cy, cn) = _rounds_around_today()
    with new_session(engine) as s:
        w = world(s, "udon_thani", fiscal_year=py, number=pn)
        drive(s, w, levels=[1, 1], competency_scores=[1, 1, 1, 1, 1])  # announced low: a case opens today
        case = s.execute(select(LowPerformerCase)).scalar_one()
        assert case.round_id == w.opened.round.id
        current = open_round(s, org_code=w.org.code, fiscal_year=cy, number=cn, actor=Actor.system()).round
        report = load.build(s, w.actors["hr"], current.id, "low_performers")
        rows = report.table("cases").rows
        kinds = {m.kind for m in s.execute(select(CaseMeasure).where(CaseMeasure.case_id == case.id)).scalars()}
        assert {r["case_id"] for r in rows} == {case.id} and {r["measure_code"] for r in rows} == (kinds or {"-"})
        assert all(r["carried"] != "-" for r in rows) and all(r["status_code"] == "not_started" for r in rows)
        whole = load.build(s, w.actors["hr"], current.id, "round_report")
        assert {r["case_id"] for r in whole.table("low_performers").rows} == {case.id}
        # the round that opened it lists it too, as its own
        own = load.build(s, w.actors["hr"], w.opened.round.id, "low_performers").table("cases").rows
        assert {r["case_id"] for r in own} == {case.id} and all(r["carried"] == "-" for r in own)
        rid = current.id
    from tests.api.conftest import login

    hr = login(client, w, "hr")
    for fmt in ("json", "csv", "xlsx", "pdf"):
        r = client.get(f"/api/v1/rounds/{rid}/reports/low_performers?format={fmt}", headers=hr)
        assert r.status_code == 200, (fmt, r.text[:300])
    assert client.get(f"/api/v1/rounds/{rid}/reports/low_performers",
                      headers=login(client, w, "appraisee")).status_code == 404
