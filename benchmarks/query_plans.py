"""The plans PostgreSQL chooses for pmflow's hot paths at 100,000 appraisals.

Setup (not timed): a database of its own (dropped at the end), the organisation of
benchmarks/round_open.py with --people staff over 100 units, an evaluator for every 20 of them
(a person of the group), a round opened for all with the real `open_round`, a committee. The
appraisals are then spread over the states of the last week before the evaluation deadline,
and the outbox holds --sent messages already delivered plus 2,000 waiting, by SQL: these rows
only have to be there for the planner to weigh them (their histories are not replayed here).
Then VACUUM ANALYZE, as autovacuum would have done by then.

Each hot path is run once through pmflow's own functions, every statement it sends is
recorded, and each reading statement is explained with ANALYZE (updates are planned only; the
reminder fan-outs run inside a transaction that is rolled back). Printed per path: statements,
their summed execution time, and every sequential scan of a table that grows with the staff
(`tests.plans.GROWING`): the finding to watch is that there is none on a hot path.

    .venv/bin/python benchmarks/query_plans.py --pg-url postgresql://postgres@127.0.0.1:5432/test --people 100000
    .venv/bin/python benchmarks/query_plans.py ... --show 'HR list'   (print the plans of one path)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

MAX_PEOPLE = 1_000_000
GROUP = 20  # people per evaluator
SMALL = 1000  # a table read whole is listed from this many rows (an empty table is read whole, cheaply)
# The last week before the evaluation deadline: per 20 appraisals, how many in each state.
SPREAD = ["draft"] * 2 + ["agreed"] * 3 + ["monitored"] * 5 + ["evaluated"] * 4 + ["committee_review"] * 3 + \
         ["reviewed"] * 2 + ["announced"]


def seed(url: str, people: int, sent: int, earlier: int) -> dict:
    from round_open import build
    from sqlalchemy import select, text

    from db.models import Account, Committee, CommitteeMember, Person
    from db.session import make_engine, new_session
    from workflow.access import Actor
    from workflow.accounts import create_account
    from workflow.rounds import open_round

    org = build(url, people, 100)
    engine = make_engine(url)
    with new_session(engine) as s:
        # an evaluator for every GROUP people: the first of each group (by id) evaluates the rest
        s.execute(text(f"""
            WITH bulk AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM person WHERE code LIKE 'P%%'),
                 heads AS (SELECT n / {GROUP} AS g, min(id) AS head FROM bulk GROUP BY n / {GROUP})
            UPDATE person SET evaluator_id = NULLIF(heads.head, person.id)
            FROM bulk JOIN heads ON heads.g = bulk.n / {GROUP} WHERE person.id = bulk.id"""))
        s.commit()
        for n in range(earlier):  # the rounds of earlier half-years, announced and closed
            past = open_round(s, org_code=org, fiscal_year=2569 - (earlier - n + 1) // 2, number=2 - (earlier - n) % 2,
                              actor=Actor.system()).round
            s.execute(text("UPDATE appraisal SET state = 'announced' WHERE round_id = :r"), {"r": past.id})
            past.status = "closed"
            s.commit()
        opened = open_round(s, org_code=org, fiscal_year=2569, number=1, actor=Actor.system())
        rid = opened.round.id
        cases = " ".join(f"WHEN {i} THEN '{st}'" for i, st in enumerate(SPREAD))
        s.execute(text(f"UPDATE appraisal SET state = CASE id % {len(SPREAD)} {cases} END WHERE round_id = :r"),
                  {"r": rid})
        accounts = {a.username: a for a in s.execute(select(Account)).scalars()}
        head = s.execute(select(Person).where(Person.code == "P0000000")).scalar_one()
        member = s.execute(select(Person).where(Person.code == f"P{people - 1:07d}")).scalar_one()
        create_account(s, username="head", password="pw-head", person=head)
        create_account(s, username="member", password="pw-member", person=member)
        committee = Committee(org_unit_id=opened.round.org_unit_id, round_id=rid)
        s.add(committee)
        s.flush()
        s.add(CommitteeMember(committee_id=committee.id, person_id=member.id, is_chair=True))
        s.commit()
        # delivered messages of earlier reminders, and those waiting now
        s.execute(text("""
            INSERT INTO outbox (milestone_id, offset_key, recipient_person_id, channel, subject, body, body_html,
                                status, attempts, last_error, created_at, sent_at)
            SELECT m.id, o.k, p.id, 'email', 's', 'b', '', 'sent', 1, '', now(), now()
            FROM (SELECT id FROM person ORDER BY id LIMIT :n) p
            CROSS JOIN (SELECT id FROM milestone WHERE round_id = :r ORDER BY due_on LIMIT 1) m
            CROSS JOIN (VALUES ('-14'), ('-7'), ('-3'), ('-1')) o(k)
            LIMIT :sent"""), {"n": max(1, sent // 4 + 1), "r": rid, "sent": sent})
        s.execute(text("""
            INSERT INTO outbox (milestone_id, offset_key, recipient_person_id, channel, subject, body, body_html,
                                status, attempts, last_error, created_at)
            SELECT m.id, '-1', p.id, 'email', 's', 'b', '', 'pending', 0, '', now()
            FROM (SELECT id FROM person ORDER BY id LIMIT 2000) p
            CROSS JOIN (SELECT id FROM milestone WHERE round_id = :r ORDER BY due_on DESC LIMIT 1) m"""), {"r": rid})
        s.commit()
        usernames = {"hr": f"hr-{org}".lower(), "evaluator": "head", "chair": "member"}
        info = {"org": org, "round_id": rid, "usernames": usernames, "accounts": sorted(accounts)}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=os.environ.get("PMFLOW_TEST_DATABASE_URL"))
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--sent", type=int, default=400_000, help="delivered outbox rows already there")
    ap.add_argument("--earlier", type=int, default=0, help="earlier rounds of the same people, closed")
    ap.add_argument("--show", default="", help="print the plans of the paths whose name contains this")
    args = ap.parse_args()
    if not args.pg_url:
        raise SystemExit("--pg-url (or PMFLOW_TEST_DATABASE_URL) is required")
    if not GROUP <= args.people <= MAX_PEOPLE or not 0 <= args.sent <= 10 * MAX_PEOPLE or not 0 <= args.earlier <= 9:
        raise SystemExit(f"--people {GROUP}..{MAX_PEOPLE}, --sent 0..{10 * MAX_PEOPLE}, --earlier 0..9")

    from sqlalchemy import select

    from db.models import Account
    from db.session import make_engine, new_session
    from tests.plans import explain, hot_paths, recording, table_sizes
    from tests.scratch import scratch_database
    from workflow import kinds  # noqa: F401  (the fan-outs and the engine need the kinds)
    from workflow.accounts import actor_for

    with scratch_database(args.pg_url, "pmflow_plans") as url:
        info = seed(url, args.people, args.sent, args.earlier)
        engine = make_engine(url)
        try:
            print(f"{args.people} appraisals in the open round and {args.earlier} closed rounds before it, "
                  f"{args.sent} delivered outbox rows; "
                  f"load average {os.getloadavg()[0]:.1f}")
            print(f"| hot path | statements | their time, ms | growing tables read from end to end ({SMALL:,}+ rows) |")
            print("|---|---|---|---|")
            with new_session(engine) as s:
                who = {k: actor_for(s, s.execute(select(Account).where(Account.username == v)).scalar_one())
                       for k, v in info["usernames"].items()}
                for name, run, writes in hot_paths(s, who, info["round_id"]):
                    with recording(engine) as sent:
                        run()
                    with engine.connect() as c:
                        plans = explain(c, sent)
                        sizes = table_sizes(c)
                    s.rollback() if writes else s.commit()
                    scans = [f"{c.table} ({c.node}, {c.examined:,.0f} rows read)"
                             for p in plans for c in p.whole_reads(sizes) if c.examined >= SMALL]
                    ms = sum(p.ms or 0 for p in plans)
                    print(f"| {name} | {len(sent)} | {ms:.1f} | {', '.join(scans) or 'none'} |")
                    if args.show and args.show.lower() in name.lower():
                        for p in plans:
                            print(f"\n    {p.short}\n    {p.ms} ms: {json.dumps(p.plan)}\n")
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
