"""What PostgreSQL would do with the statements a piece of pmflow sends: record them while the
code runs, then ask EXPLAIN for each. Used by the plan test (small data, sequential scans
disabled: a plan that still scans a table has no index to use) and by
benchmarks/query_plans.py (100,000 appraisals, the planner left alone)."""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Callable, Iterator

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

# The tables that grow with the staff and the years; a sequential scan of one of them on a hot
# path costs time in proportion to the whole installation. The others (org units, rounds,
# milestones, policies, committees) stay small: scanning them is what an index would cost.
GROWING = frozenset({"appraisal", "person", "account", "role_assignment", "kpi", "competency", "signature",
                     "progress_note", "low_performer_case", "case_measure", "evidence", "outbox",
                     "inbox_message", "event", "auth_token", "notification_run", "job", "idempotency_record"})


@dataclass
class Sent:
    statement: str
    parameters: Any


@dataclass(frozen=True)
class Scan:
    node: str  # "Seq Scan", "Index Scan", ...
    table: str
    rows: float  # what the node returned
    examined: float  # what it read: returned plus removed by its filter, over every loop


@dataclass
class Plan:
    statement: str
    plan: dict
    analysed: bool
    scans: list[Scan] = field(default_factory=list)

    def whole_reads(self, sizes: dict[str, float]) -> list[Scan]:
        """The reads of a growing table from end to end: a sequential scan, or (when the
        planner may not scan) an index walked over every row with a filter."""
        return [c for c in self.scans if c.table in GROWING and (
            c.node == "Seq Scan" or (self.analysed and sizes.get(c.table, 0) >= 20
                                     and c.examined >= sizes[c.table]))]

    @property
    def ms(self) -> float | None:
        return self.plan.get("Actual Total Time") if self.analysed else None

    @property
    def short(self) -> str:
        return " ".join(self.statement.split())[:110]


@contextmanager
def recording(engine: Engine) -> Iterator[list[Sent]]:
    """Every statement `engine` sends inside the block, with its parameters."""
    sent: list[Sent] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if not executemany:
            sent.append(Sent(statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def _walk(node: dict, out: list[Scan]) -> None:
    if "Relation Name" in node:
        loops = node.get("Actual Loops", 1)
        rows = node.get("Actual Rows", node.get("Plan Rows", 0))
        removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
        out.append(Scan(node["Node Type"], node["Relation Name"], rows * loops, (rows + removed) * loops))
    for child in node.get("Plans", ()):
        _walk(child, out)


def table_sizes(conn: Connection) -> dict[str, float]:
    """Rows per table as the planner last counted them (after ANALYZE)."""
    return dict(conn.exec_driver_sql(
        "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace").all())


def explain(conn: Connection, sent: list[Sent], *, analyse: bool = True, seqscan: bool = True) -> list[Plan]:
    """The plan of each reading statement (SELECT, run with ANALYZE when `analyse`) and of each
    UPDATE or DELETE (planned only, never run). Inserts of given values have no plan to read.
    `seqscan=False` makes every sequential scan the planner's last resort: one that is still
    chosen means no index can answer the statement."""
    if not seqscan:
        conn.exec_driver_sql("SET enable_seqscan = off")
    plans = []
    seen: set[str] = set()
    for s in sent:
        head = s.statement.lstrip().split(None, 1)[0].upper()
        if head not in ("SELECT", "WITH", "UPDATE", "DELETE") or s.statement in seen:
            continue
        seen.add(s.statement)
        run = analyse and head in ("SELECT", "WITH") and "FOR UPDATE" not in s.statement.upper()
        options = "ANALYZE, FORMAT JSON" if run else "FORMAT JSON"
        raw = conn.exec_driver_sql(f"EXPLAIN ({options}) {s.statement}", s.parameters or {}).scalar_one()
        top = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
        p = Plan(s.statement, top, run)
        _walk(top, p.scans)
        plans.append(p)
    return plans


def hot_paths(s, who: dict, round_id: int) -> list[tuple[str, Callable[[], object], bool]]:  # noqa: ANN001
    """(name, run, writes) of each hot path, called as the people who use it call it: `who`
    holds the actors "hr", "evaluator" and "chair" (a committee chair) of the round's
    organisation. Days: three before the evaluation is due."""
    from sqlalchemy import func, select

    from db.models import Appraisal
    from workflow import dashboard, progress, queries, rounds, tasks
    from workflow.notifications import channels, fanout, scheduler

    ms = rounds.milestones_of(s, round_id)
    evaluation = next(m for m in ms if m.code == "evaluation_submitted")
    today = evaluation.due_on - timedelta(days=3)
    now = fanout.reminder_moment(evaluation.due_on, 3)
    daily = fanout.overdue_moment(datetime.combine(today, time(12, 0)).astimezone())
    half = s.execute(select(func.percentile_disc(0.5).within_group(Appraisal.id))
                     .where(Appraisal.round_id == round_id)).scalar_one()
    everything = queries.AppraisalFilter(round_id=round_id)
    hr = who["hr"]

    def deliveries_due():  # noqa: ANN202  (the first page the delivery run reads)
        with s.get_bind().connect() as c:
            return next(channels._due(c, now, None, sorted(channels.CHANNELS)), None)

    return [
        ("HR dashboard", lambda: dashboard.hr_dashboard(s, hr, round_id, today), False),
        ("HR list, page 1", lambda: queries.list_appraisals(s, hr, everything, limit=50), False),
        ("HR list, halfway by keyset", lambda: queries.list_appraisals(s, hr, everything, limit=50, after=half),
         False),
        ("HR list, overdue", lambda: queries.list_appraisals(
            s, hr, queries.AppraisalFilter(round_id=round_id, overdue=True), limit=50, today=today), False),
        ("progress report", lambda: progress.round_progress(s, round_id, [m.code for m in ms]), False),
        ("task list, evaluator", lambda: tasks.my_tasks(s, who["evaluator"], today), False),
        ("task list, committee chair", lambda: tasks.my_tasks(s, who["chair"], today), False),
        ("task list, HR", lambda: tasks.my_tasks(s, hr, today), False),
        ("reminders: what is due now", lambda: scheduler.due_runs(s, now), False),
        ("reminders: a fan-out (3 days before evaluation)",
         lambda: fanout.run_reminder(s, evaluation.id, 3, now=now), True),
        ("reminders: the daily overdue run", lambda: fanout.run_overdue(s, round_id, now=daily), True),
        ("deliveries due", deliveries_due, False),
    ]
