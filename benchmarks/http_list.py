"""The appraisal list at scale: GET /api/v1/appraisals over 100,000 appraisals on PostgreSQL.

Setup (not timed): the organisation of benchmarks/round_open.py (--people staff, one evaluator
for all but every 1,000th), a round opened. Then, through the app (in-process, no network),
each caller's first page (limit 50) with its total, --repeat times: HR of the organisation
(sees all), the evaluator (sees almost all), an appraisee (sees one), and HR filtered by
state and by overdue. The filter is SQL (`workflow.queries.visible_appraisals`); the figure to
watch is that a page costs milliseconds whatever the caller sees.

    .venv/bin/python benchmarks/http_list.py --pg-url postgresql://postgres@127.0.0.1:5432/test --people 100000
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

MAX_PEOPLE, MAX_REPEAT = 1_000_000, 200


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=os.environ.get("PMFLOW_TEST_DATABASE_URL"))
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    if not args.pg_url:
        raise SystemExit("--pg-url (or PMFLOW_TEST_DATABASE_URL) is required")
    if not 1 <= args.people <= MAX_PEOPLE or not 1 <= args.repeat <= MAX_REPEAT:
        raise SystemExit(f"--people 1..{MAX_PEOPLE}, --repeat 1..{MAX_REPEAT}")

    from fastapi.testclient import TestClient
    from sqlalchemy import select, text

    from api.main import create_app
    from db.models import Person
    from tests.scratch import scratch_database
    from db.session import make_engine, new_session
    from round_open import build
    from workflow.access import Actor
    from workflow.rounds import open_round

    with scratch_database(args.pg_url, "pmflow_bench") as url:
        engine = None
        try:
            org = build(url, args.people, 100)
            engine = make_engine(url)
            with new_session(engine) as s:
                opened = open_round(s, org_code=org, fiscal_year=2569, number=1, actor=Actor.system())
                s.execute(text("ANALYZE"))
                s.commit()
                one = s.execute(select(Person.code).where(Person.code.like("P%")).limit(1)).scalar_one()
                someone = s.execute(select(Person).where(Person.code == one)).scalar_one()
                from workflow.accounts import create_account
                create_account(s, username="someone", password="pw-someone", person=someone)
                s.commit()
            client = TestClient(create_app(engine))

            def token(username: str, password: str) -> dict[str, str]:
                r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
                r.raise_for_status()
                client.cookies.clear()
                return {"Authorization": f"Bearer {r.json()['access_token']}"}

            who = {"hr": token(f"hr-{org}".lower(), "pw-hr"), "evaluator": token(f"evaluator-{org}".lower(), "pw-evaluator"),
                   "appraisee": token("someone", "pw-someone")}
            cases = [("hr", {}), ("evaluator", {}), ("appraisee", {}), ("hr", {"state": "draft"}),
                     ("hr", {"overdue": "true"}), ("hr", {"round": opened.round.id, "offset": args.people // 2})]
            # the same page by keyset: the id the page before it ended on
            halfway = client.get("/api/v1/appraisals", params={"limit": 1, "round": opened.round.id,
                                                               "offset": args.people // 2 - 1}, headers=who["hr"])
            cases.append(("hr", {"round": opened.round.id, "after": halfway.json()["next_after"]}))
            print(f"GET /api/v1/appraisals, {opened.appraisals} appraisals on PostgreSQL, limit 50, "
                  f"{args.repeat} times each (in-process client), load average {os.getloadavg()[0]:.1f}")
            print(f"{'caller':<10} {'filters':<28} {'total':>8} {'p50 ms':>8} {'max ms':>8}")
            for caller, params in cases:
                times, total = [], None
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    r = client.get("/api/v1/appraisals", params={"limit": 50, **params}, headers=who[caller])
                    times.append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                    total = r.json()["total"]
                print(f"{caller:<10} {str(params):<28} {total:>8} {statistics.median(times):>8.1f} {max(times):>8.1f}")
        finally:
            if engine is not None:
                engine.dispose()


if __name__ == "__main__":
    main()
