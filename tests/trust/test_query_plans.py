"""Every hot path has an index to use: asked with sequential scans made the planner's last
resort, PostgreSQL reads no table that grows with the staff from end to end.

On a few dozen rows the planner rightly prefers to read a whole table, so the test takes that
choice away (`enable_seqscan = off`): a sequential scan that remains is one no index can
replace. The same hot paths, with the planner left alone at 100,000 appraisals, are
benchmarks/query_plans.py; its figures are in benchmarks/RESULTS.md."""
from __future__ import annotations

from pprint import pformat

import pytest
from sqlalchemy import insert, text

from db.models import Person
from db.session import new_session
from tests.cases.helpers import next_round
from tests.factories import person, world
from tests.plans import GROWING, explain, hot_paths, recording, table_sizes
from workflow.access import Actor
from workflow.rounds import open_round

# The fan-outs read every appraisal of the round that is not done, by design, once per
# reminder: a scan of them is the answer, not a missing index. Everything else is a request.
BATCH = ("reminders: a fan-out", "reminders: the daily overdue run")


@pytest.fixture
def round_of_many(pg_engine):
    with new_session(pg_engine) as s:
        # Another organisation, a hundred times larger: what a hot path of the first must not read.
        other = world(s, open_now=False)
        s.execute(insert(Person), [dict(code=f"O{i}", name_th=f"อื่น {i}", staff_type="civil_servant",
                                        org_unit_id=other.unit.id, evaluator_id=other.people["evaluator"].id,
                                        superior_id=other.people["superior"].id) for i in range(5000)])
        s.commit()
        open_round(s, org_code=other.org.code, fiscal_year=2569, number=1, actor=Actor.system())
        w = world(s)
        for i in range(40):
            person(s, w.unit, f"staff{i}", evaluator=w.people["evaluator"] if i % 2 else w.people["superior"],
                   superior=w.people["superior"])
        s.commit()
        next_round(s, w)  # a second round: the hot paths read one round of several
        s.execute(text("ANALYZE"))
        s.commit()
        yield s, w


def test_no_hot_path_reads_a_growing_table_from_end_to_end(pg_engine, round_of_many):
    s, w = round_of_many
    who = {"hr": w.actors["hr"], "evaluator": w.actors["evaluator"], "chair": w.actors["chair"]}
    scanned, seen = {}, []
    for name, run, writes in hot_paths(s, who, w.opened.round.id):
        with recording(pg_engine) as sent:
            run()
        with pg_engine.connect() as c:
            plans = explain(c, sent, seqscan=False)
            sizes = table_sizes(c)
        s.rollback() if writes else s.commit()
        seen += [c.table for p in plans for c in p.scans]
        if not name.startswith(BATCH):
            found = [(p.short, c.table, c.node, c.examined) for p in plans for c in p.whole_reads(sizes)]
            if found:
                scanned[name] = found
    assert {"appraisal", "person", "outbox"} <= set(seen) & GROWING  # the paths did read the big tables
    assert scanned == {}, pformat(scanned, width=150)
