"""Round opening: `workflow.rounds.open_round` for a large organisation, next to a plain bulk INSERT.

Setup (not timed): a migrated database (a SQLite file, or a PostgreSQL database created for the
run and dropped at the end), an organisation from tests/factories.world, and --people staff
spread over --units units, inserted in bulk (one executemany per 10,000 rows, not the ORM one by
one); every 1,000th person has no evaluator, so the "without evaluator" report is exercised.
The database is then cloned (file copy / CREATE DATABASE ... TEMPLATE) so that each measurement
starts from the same data.

Each measurement runs in a fresh subprocess, so its peak resident memory (VmHWM) is its own:
* open_round: `workflow.rounds.open_round(...)`: the round, its milestones, one draft appraisal,
  five competency rows and one hash-chained "open" event per person, one transaction.
* baseline: the same rows (appraisal, 5 competencies, 1 event per person; the event hash a
  precomputed constant) with the plain DBAPI (sqlite3 / psycopg executemany) in one
  transaction, after one SELECT of the people. It is what the database alone costs.

Targets: open_round under 30 s and under 500 MB peak, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/round_open.py --people 100000
    .venv/bin/python benchmarks/round_open.py --people 100000 --backends postgresql \\
        --pg-url postgresql://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_PEOPLE = 1_000_000
BATCH = 10_000
FISCAL_YEAR, ROUND_NO = 2569, 1
TARGET_SECONDS, TARGET_MB = 30.0, 500.0


def rss_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process image; getrusage's
    ru_maxrss survives exec on Linux, so a child would report its parent's peak if larger."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# --- setup ---------------------------------------------------------------------------------------
def build(url: str, people: int, units: int) -> str:
    """Migrate, create the organisation and its people in bulk; return the organisation's code."""
    from sqlalchemy import insert

    from db.migrate import upgrade
    from db.models import Person
    from db.session import make_engine, new_session
    from tests.factories import world
    from workflow import orgs

    upgrade(url)
    engine = make_engine(url)
    with new_session(engine) as s:
        w = world(s, open_now=False)
        leaves = [w.unit] + [orgs.create_unit(s, code=f"{w.org.code}-B{u}", name_th=f"หน่วย {u}", parent=w.org)
                             for u in range(1, units)]
        ev, sup = w.people["evaluator"], w.people["superior"]
        kinds = ("civil_servant", "permanent_employee", "government_employee")
        for start in range(0, people, BATCH):
            s.execute(insert(Person), [
                dict(code=f"P{i:07d}", name_th=f"บุคลากร {i}", name_en="", position="", position_level="",
                     staff_type=kinds[i % 3], org_unit_id=leaves[i % len(leaves)].id,
                     evaluator_id=None if i % 1000 == 999 else ev.id, superior_id=sup.id,
                     email="", active=True, locale="th")
                for i in range(start, min(start + BATCH, people))])
        s.commit()
        code = w.org.code
    engine.dispose()
    return code


# --- the measured operations, each in its own subprocess ----------------------------------------
def child_open(url: str, org: str) -> dict:
    from db.session import make_engine, new_session
    from workflow.access import Actor
    from workflow.rounds import open_round

    engine = make_engine(url)
    with new_session(engine) as s:
        s.connection()  # connect before timing
        before = rss_mb()
        t0 = time.perf_counter()
        opened = open_round(s, org_code=org, fiscal_year=FISCAL_YEAR, number=ROUND_NO, actor=Actor.system())
        seconds = time.perf_counter() - t0
    engine.dispose()
    return dict(seconds=seconds, peak_mb=rss_mb(), rss_before_mb=before, appraisals=opened.appraisals,
                without_evaluator=len(opened.without_evaluator))


def child_baseline(url: str, org: str) -> dict:
    """The same rows with the DBAPI: no ORM, no SQLAlchemy Core, no hashing."""
    from datetime import date, datetime, timezone

    from db.session import normalise_url
    from workflow.competencies import CORE_COMPETENCIES

    sqlite = url.startswith("sqlite")
    if sqlite:
        import sqlite3
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        q = "?"
    else:
        import psycopg
        conn = psycopg.connect(normalise_url(url).replace("postgresql+psycopg://", "postgresql://"))
        q = "%s"
    cur = conn.cursor()
    before = rss_mb()
    t0 = time.perf_counter()
    if sqlite:
        cur.execute("BEGIN IMMEDIATE")
    now = datetime.now(timezone.utc)
    cur.execute(f"SELECT id, path, policy_version_id FROM org_unit WHERE code = {q}", (org,))
    org_id, path, pv = cur.fetchone()
    cur.execute(f"INSERT INTO round (org_unit_id, fiscal_year, number, starts_on, ends_on, policy_version_id, "
                f"status, opened_at) VALUES ({q}, {q}, {q}, {q}, {q}, {q}, 'open', {q}) RETURNING id",
                (org_id, FISCAL_YEAR, ROUND_NO, date(2025, 10, 1), date(2026, 3, 31), pv, now))
    (round_id,) = cur.fetchone()
    cur.execute(f"SELECT p.id, p.org_unit_id, p.staff_type, p.evaluator_id, p.superior_id FROM person p "
                f"JOIN org_unit u ON u.id = p.org_unit_id WHERE u.path LIKE {q} AND p.active ORDER BY p.id",
                (path + "%",))
    people = cur.fetchall()
    for start in range(0, len(people), BATCH):
        chunk = people[start:start + BATCH]
        cur.executemany(
            f"INSERT INTO appraisal (round_id, person_id, org_unit_id, staff_type, evaluator_id, superior_id, "
            f"state, version, agreement_revision, development_plan, updated_at) "
            f"VALUES ({q}, {q}, {q}, {q}, {q}, {q}, 'draft', 1, 1, '', {q})",
            [(round_id, pid, unit, st, ev, sup, now) for pid, unit, st, ev, sup in chunk])
        cur.execute(f"SELECT id, person_id FROM appraisal WHERE round_id = {q} AND person_id >= {q} "
                    f"AND person_id <= {q}", (round_id, chunk[0][0], chunk[-1][0]))
        ids = cur.fetchall()
        cur.executemany(
            f"INSERT INTO competency (appraisal_id, position, code, name_th, name_en, expected_level) "
            f"VALUES ({q}, {q}, {q}, {q}, {q}, 3)",
            [(a, j, code, th, en) for a, _ in ids for j, (code, th, en) in enumerate(CORE_COMPETENCIES)])
        cur.executemany(
            f"INSERT INTO event (entity_type, entity_id, seq, event, from_state, to_state, actor_account_id, "
            f"actor, at, payload, reason, prev_hash, hash) "
            f"VALUES ('appraisal', {q}, 1, 'open', NULL, 'draft', NULL, 'system', {q}, {q}, '', {q}, {q})",
            [(a, now, json.dumps({"round_id": round_id, "person_id": p}), "0" * 64, "f" * 64) for a, p in ids])
    if sqlite:
        cur.execute("COMMIT")
    else:
        conn.commit()
    seconds = time.perf_counter() - t0
    conn.close()
    return dict(seconds=seconds, peak_mb=rss_mb(), rss_before_mb=before, appraisals=len(people),
                without_evaluator=sum(1 for p in people if p[3] is None))


def measure(what: str, url: str, org: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", what, "--url", url, "--org", org],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{what} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def count_rows(url: str) -> dict:
    from sqlalchemy import text

    from db.session import make_engine
    engine = make_engine(url)
    with engine.connect() as c:
        got = {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
               for t in ("appraisal", "competency", "event")}
    engine.dispose()
    return got


# --- backends ------------------------------------------------------------------------------------
def run_sqlite(args) -> dict[str, dict]:
    workdir = Path(tempfile.mkdtemp(prefix="pmflow_bench_", dir=args.dir))
    try:
        main_db, base_db = workdir / "open.db", workdir / "baseline.db"
        t0 = time.perf_counter()
        org = build(f"sqlite:///{main_db}", args.people, args.units)
        print(f"sqlite: setup of {args.people} people in {time.perf_counter() - t0:.1f} s ({workdir})")
        shutil.copy(main_db, base_db)
        res = {"open_round": measure("open", f"sqlite:///{main_db}", org),
               "baseline": measure("baseline", f"sqlite:///{base_db}", org)}
        res["open_round"]["rows"] = count_rows(f"sqlite:///{main_db}")
        res["baseline"]["rows"] = count_rows(f"sqlite:///{base_db}")
        return res
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_postgresql(args) -> dict[str, dict]:
    from sqlalchemy import create_engine, text

    from db.session import normalise_url
    server = normalise_url(args.pg_url)
    name = f"pmflow_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    base = server.rsplit("/", 1)[0]
    made: list[str] = []
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        t0 = time.perf_counter()
        org = build(f"{base}/{name}", args.people, args.units)
        print(f"postgresql: setup of {args.people} people in {time.perf_counter() - t0:.1f} s (database {name})")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}_b" TEMPLATE "{name}"'))
        made.append(f"{name}_b")
        res = {"open_round": measure("open", f"{base}/{name}", org),
               "baseline": measure("baseline", f"{base}/{name}_b", org)}
        res["open_round"]["rows"] = count_rows(f"{base}/{name}")
        res["baseline"]["rows"] = count_rows(f"{base}/{name}_b")
        return res
    finally:
        with admin.connect() as c:
            for db in made:
                c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"))
                c.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=100_000, help=f"active people (1..{MAX_PEOPLE})")
    ap.add_argument("--units", type=int, default=100, help="units they are spread over (1..1000)")
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("PMFLOW_BENCH_PG_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/test"),
                    help="a PostgreSQL server URL; a database of the run's own is created there and dropped")
    ap.add_argument("--dir", type=Path, default=None, help="where the SQLite files go (default: a temp dir)")
    ap.add_argument("--child", choices=["open", "baseline"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--org", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps((child_open if args.child == "open" else child_baseline)(args.url, args.org)))
        return 0
    if not 1 <= args.people <= MAX_PEOPLE:
        ap.error(f"--people must be within 1..{MAX_PEOPLE}")
    if not 1 <= args.units <= 1000:
        ap.error("--units must be within 1..1000")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not set(backends) <= {"sqlite", "postgresql"}:
        ap.error("--backends: sqlite and/or postgresql")

    missed = False
    for backend in backends:
        res = run_sqlite(args) if backend == "sqlite" else run_postgresql(args)
        o, b = res["open_round"], res["baseline"]
        print(f"\n{backend}: {args.people} people ({o['without_evaluator']} without an evaluator)")
        print(f"  {'':<12}{'seconds':>9}{'peak MB':>9}{'MB at start':>13}  rows (appraisal, competency, event)")
        for name, r in (("open_round", o), ("baseline", b)):
            rows = r["rows"]
            print(f"  {name:<12}{r['seconds']:>9.2f}{r['peak_mb']:>9.0f}{r['rss_before_mb']:>13.0f}"
                  f"  {rows['appraisal']}, {rows['competency']}, {rows['event']}")
        ok_t, ok_m = o["seconds"] < TARGET_SECONDS, o["peak_mb"] < TARGET_MB
        missed |= not (ok_t and ok_m)
        print(f"  open_round / baseline: {o['seconds'] / b['seconds']:.2f}x the time, "
              f"{o['peak_mb'] / b['peak_mb']:.2f}x the peak memory")
        print(f"  target < {TARGET_SECONDS:.0f} s: {'met' if ok_t else 'MISSED'}; "
              f"< {TARGET_MB:.0f} MB: {'met' if ok_m else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
