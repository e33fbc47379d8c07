"""Engine vs a peer: one human-task appraisal flow, run by SpiffWorkflow and by pmflow's engine.

The flow measured is five human steps: agree, monitor, evaluate, review, announce.

* SpiffWorkflow: a BPMN process of five user tasks (the XML is below). As a web app backed by
  Spiff would do it, each step is one request: BEGIN IMMEDIATE, read the instance's serialized
  state, deserialize, complete the ready user task, run the engine steps, serialize, write it
  back with a version-checked UPDATE, COMMIT. A second variant ("kept in memory") keeps the
  workflow object alive between steps and only serializes and writes: Spiff's best case.
* pmflow: `workflow.engine.fire` with its role check, version check (expected_version), guards,
  effects and the hash-chained audit event, one committed transaction per event. pmflow needs
  six events for the same five steps, because its "review" is two: the evaluator submits to the
  committee (`submit`) and the committee endorses (`endorse`). So an instance is
  agree, review_progress (monitor), evaluate, submit, endorse, announce. The data the guards
  look at (KPIs and their levels, competency scores, both agreement signatures, the development
  plan, the appraisee's acknowledgment, the superior's opinion) is entered in the setup with
  bulk SQL and is not timed: only the state-changing events are.
* The floor: plain sqlite3, per step one version-checked UPDATE plus one INSERT of a log row,
  each step committed; it runs as many steps per instance as pmflow (six). Printed too: the same
  floor on pmflow's own tables (the appraisal row, a full hash-chained event row), which is
  what pmflow's rows cost the database before any rule runs, and "pmflow's statements": that
  plus the engine's snapshot query, i.e. every statement of an event and none of the Python.

All three use a SQLite file of their own in WAL mode with synchronous=NORMAL and BEGIN IMMEDIATE
(pmflow's settings, db/session.py), one process, one connection, instances one after another.
Figures: transitions (steps) per second, the ratio pmflow/Spiff (target >= 3), and pmflow's share
of the floor (target >= 50 %). Flows (complete instances) per second are printed too.

    .venv/bin/python benchmarks/engine_vs_spiff.py --instances 1000
    .venv/bin/python benchmarks/engine_vs_spiff.py --instances 300 --profile 30   # + cProfile
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_INSTANCES = 100_000
SPIFF_STEPS = ["agree", "monitor", "evaluate", "review", "announce"]
# (event, who fires it, payload): the same five steps in pmflow, "review" being submit + endorse.
PMFLOW_STEPS = [
    ("agree", "evaluator", {}),
    ("review_progress", "evaluator", {"note": "ครึ่งรอบ: เป็นไปตามแผน"}),
    ("evaluate", "evaluator", {}),
    ("submit", "evaluator", {}),
    ("endorse", "chair", {}),
    ("announce", "authority", {}),
]


def sqlite_connect(path: Path) -> sqlite3.Connection:
    """pmflow's SQLite settings (db/session.py): WAL, synchronous=NORMAL, we emit BEGIN ourselves."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


# --- SpiffWorkflow -------------------------------------------------------------------------------
def bpmn_xml() -> str:
    ids = ["start", *SPIFF_STEPS, "end"]
    tasks = "\n    ".join(f'<bpmn:userTask id="{s}" name="{s}"/>' for s in SPIFF_STEPS)
    flows = "\n    ".join(f'<bpmn:sequenceFlow id="flow{i}" sourceRef="{a}" targetRef="{b}"/>'
                          for i, (a, b) in enumerate(zip(ids, ids[1:])))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="appraisal_defs"
                  targetNamespace="http://pmflow.local/bpmn">
  <bpmn:process id="appraisal" name="Appraisal" isExecutable="true">
    <bpmn:startEvent id="start"/>
    {tasks}
    <bpmn:endEvent id="end"/>
    {flows}
  </bpmn:process>
</bpmn:definitions>
"""


def run_spiff(workdir: Path, n: int, warm: int, *, reload_each_step: bool) -> tuple[float, float, int]:
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser()
    parser.add_bpmn_str(bpmn_xml().encode("utf-8"))
    spec = parser.get_spec("appraisal")
    serializer = BpmnWorkflowSerializer()

    path = workdir / ("spiff_reload.db" if reload_each_step else "spiff_memory.db")
    conn = sqlite_connect(path)
    conn.execute("CREATE TABLE instance (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, "
                 "state TEXT NOT NULL, completed INTEGER NOT NULL DEFAULT 0)")
    # Setup (not timed): warm + n started instances, each waiting at its first user task.
    live = {}
    conn.execute("BEGIN")
    for i in range(1, warm + n + 1):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        conn.execute("INSERT INTO instance (id, version, state) VALUES (?, 1, ?)",
                     (i, serializer.serialize_json(wf)))
        if not reload_each_step:
            live[i] = wf
    conn.execute("COMMIT")

    steps = 0
    for i in range(1, warm + n + 1):
        if i == warm + 1:  # the first `warm` instances are not timed
            steps, started, cpu = 0, time.perf_counter(), time.process_time()
        version = 1
        for name in SPIFF_STEPS:
            conn.execute("BEGIN IMMEDIATE")
            if reload_each_step:
                (text,) = conn.execute("SELECT state FROM instance WHERE id = ?", (i,)).fetchone()
                wf = serializer.deserialize_json(text)
            else:
                wf = live[i]
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            assert task is not None and task.task_spec.name == name, (i, name, task)
            task.data["done_by"] = "evaluator"
            task.run()
            wf.do_engine_steps()
            cur = conn.execute(
                "UPDATE instance SET state = ?, version = version + 1, completed = ? "
                "WHERE id = ? AND version = ?",
                (serializer.serialize_json(wf), int(wf.is_completed()), i, version))
            assert cur.rowcount == 1
            conn.execute("COMMIT")
            version += 1
            steps += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    done = conn.execute("SELECT count(*) FROM instance WHERE completed = 1").fetchone()[0]
    assert done == warm + n, (done, warm + n)
    conn.close()
    return elapsed, cpu, steps


# --- the floor: plain sqlite3 --------------------------------------------------------------------
def run_floor(workdir: Path, n: int, warm: int, steps_per_instance: int) -> tuple[float, float, int]:
    conn = sqlite_connect(workdir / "floor.db")
    conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL)")
    conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, seq INTEGER NOT NULL, "
                 "event TEXT NOT NULL, at TEXT NOT NULL, UNIQUE (item_id, seq))")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO item VALUES (?, 'draft', 1)", [(i,) for i in range(1, warm + n + 1)])
    conn.execute("COMMIT")
    states = [f"s{k}" for k in range(1, steps_per_instance + 1)]
    steps = 0
    for i in range(1, warm + n + 1):
        if i == warm + 1:
            steps, started, cpu = 0, time.perf_counter(), time.process_time()
        for version, state in enumerate(states, start=1):
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute("UPDATE item SET state = ?, version = version + 1 WHERE id = ? AND version = ?",
                               (state, i, version))
            assert cur.rowcount == 1
            conn.execute("INSERT INTO log (item_id, seq, event, at) VALUES (?, ?, ?, ?)",
                         (i, version + 1, state, datetime.now(timezone.utc).isoformat()))
            conn.execute("COMMIT")
            steps += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return elapsed, cpu, steps


def run_floor_on_pmflow_tables(path: Path, ids: list[int], warm: int, steps_per_instance: int,
                               read: bool = False) -> tuple[float, float, int]:
    """The same floor on pmflow's own tables, after pmflow's run: per step a version-checked
    UPDATE of the appraisal row (state, version, updated_at) and an INSERT of a full event row
    (its two hashes, payload, actor...), committed; with plain sqlite3, no rules. What pmflow's
    rows alone cost the database: its pages, indexes and the WAL they make. With `read`, each
    step first runs the engine's own snapshot query (row, roles' inputs, facts, previous hash):
    every statement pmflow's direct path runs, and none of its Python."""
    from workflow.appraisals import _SNAPSHOT_SQL

    read_sql = _SNAPSHOT_SQL["sqlite"].replace("%s", "?") if read else None
    conn = sqlite_connect(path)
    versions = dict(conn.execute("SELECT id, version FROM appraisal").fetchall())
    at = datetime.now(timezone.utc).isoformat(sep=" ", timespec="microseconds")[:26]
    steps = 0
    for i, a in enumerate(ids):
        if i == warm:
            steps, started, cpu = 0, time.perf_counter(), time.process_time()
        for k in range(steps_per_instance):
            version = versions[a]
            conn.execute("BEGIN IMMEDIATE")
            if read_sql:
                assert conn.execute(read_sql, (a, a, a)).fetchone() is not None
            cur = conn.execute("UPDATE appraisal SET state = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?",
                               (f"s{k}", version + 1, at, a, version))
            assert cur.rowcount == 1
            conn.execute("INSERT INTO event (entity_type, entity_id, seq, event, from_state, to_state, "
                         "actor_account_id, actor, at, payload, reason, prev_hash, hash) "
                         "VALUES ('bench_floor', ?, ?, 'floor', 'a', 'b', NULL, 'ผู้ประเมิน', ?, '{}', '', ?, ?)",
                         (a, version + 1, at, "0" * 64, "f" * 64))
            conn.execute("COMMIT")
            versions[a] = version + 1
            steps += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return elapsed, cpu, steps


# --- pmflow --------------------------------------------------------------------------------------
def setup_pmflow(workdir: Path, n: int):
    """A migrated SQLite file; an organisation (tests/factories.world) plus n appraisees of one
    evaluator, a round opened, and with bulk SQL the data every guard of the flow wants."""
    from sqlalchemy import insert, select, update

    from db.migrate import upgrade
    from db.models import Appraisal, Committee, CommitteeMember, Competency, Kpi, Person, Signature, utcnow
    from db.session import make_engine, new_session
    from tests.factories import KPIS, world
    from workflow.access import Actor
    from workflow.rounds import open_round

    url = f"sqlite:///{workdir / 'pmflow.db'}"
    upgrade(url)
    engine = make_engine(url)
    with new_session(engine) as s:
        w = world(s, open_now=False)
        ev, sup = w.people["evaluator"], w.people["superior"]
        s.execute(insert(Person), [
            dict(code=f"B{i:06d}", name_th=f"ผู้รับการประเมิน {i}", staff_type="civil_servant",
                 org_unit_id=w.unit.id, evaluator_id=ev.id, superior_id=sup.id, email="", active=True,
                 locale="th", name_en="", position="", position_level="")
            for i in range(n)])
        s.commit()
        opened = open_round(s, org_code=w.org.code, fiscal_year=2569, number=1, actor=Actor.system())
        committee = Committee(org_unit_id=w.org.id, round_id=opened.round.id)
        s.add(committee)
        s.flush()
        s.add(CommitteeMember(committee_id=committee.id, person_id=w.people["chair"].id, is_chair=True))
        s.add(CommitteeMember(committee_id=committee.id, person_id=w.people["member"].id))
        rows = s.execute(select(Appraisal.id, Appraisal.person_id, Appraisal.agreement_revision).join(
            Person, Person.id == Appraisal.person_id).where(
            Appraisal.round_id == opened.round.id, Person.code.like("B%")).order_by(Appraisal.id)).all()
        ids = [r.id for r in rows]
        s.execute(insert(Kpi), [
            dict(appraisal_id=a, position=j, title=k["title"], source=k["source"], weight=k["weight"],
                 level_descriptions=k.get("level_descriptions", []), evidence="", level=level)
            for a in ids for j, (k, level) in enumerate(zip(KPIS, (4, 5)))])
        s.execute(update(Competency).where(Competency.appraisal_id.in_(
            select(Appraisal.id).where(Appraisal.round_id == opened.round.id))).values(score=4))
        s.execute(insert(Signature), [
            dict(appraisal_id=r.id, kind="agreement", role=role, revision=r.agreement_revision,
                 person_id=(r.person_id if role == "appraisee" else ev.id), name=role, signed_at=utcnow())
            for r in rows for role in ("appraisee", "evaluator")])
        s.execute(update(Appraisal).where(Appraisal.id.in_(ids)).values(
            development_plan="อบรมการเขียนรายงาน", acknowledged_at=utcnow(), superior_opinion="agree"))
        s.commit()
    return engine, ids, w.actors


def run_pmflow(engine, ids: list[int], warm: int, actors,
               profile: cProfile.Profile | None = None) -> tuple[float, float, int]:
    from db.session import new_session
    from workflow import engine as wf_engine

    wf_engine.kind_of("appraisal")  # import the kinds before timing
    steps = 0
    with new_session(engine) as s:
        for i, a in enumerate(ids):
            if i == warm:  # the first `warm` instances are not timed
                if profile:
                    profile.enable()
                steps, started, cpu = 0, time.perf_counter(), time.process_time()
            version = 1
            for event, who, payload in PMFLOW_STEPS:
                fired = wf_engine.fire(s, "appraisal", a, event, actors[who],
                                       expected_version=version, payload=payload)
                version = fired.version
                steps += 1
                s.expunge_all()  # a request per step: each starts with an empty session
            assert fired.state == "announced", fired
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profile:
            profile.disable()
    return elapsed, cpu, steps


def verify_pmflow(engine, n: int) -> None:
    from sqlalchemy import func, select

    from db.models import Appraisal
    from db.session import new_session
    from workflow import audit

    with new_session(engine) as s:
        announced = s.execute(select(func.count()).select_from(Appraisal).where(
            Appraisal.state == "announced")).scalar_one()
        assert announced == n, (announced, n)
        findings = audit.verify(s)
        assert not findings, findings[:5]


# --- main ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", type=int, default=1000, help=f"instances per engine (1..{MAX_INSTANCES})")
    ap.add_argument("--dir", type=Path, default=None, help="where the SQLite files go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite files")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="cProfile the pmflow run and print the top N functions")
    ap.add_argument("--warmup", type=int, default=20, help="untimed instances run first by each engine (0..1000)")
    ap.add_argument("--skip-spiff", action="store_true", help="pmflow and the floor only")
    args = ap.parse_args(argv)
    if not 1 <= args.instances <= MAX_INSTANCES:
        ap.error(f"--instances must be within 1..{MAX_INSTANCES}")
    if not 0 <= args.warmup <= 1000:
        ap.error("--warmup must be within 0..1000")

    workdir = Path(tempfile.mkdtemp(prefix="pmflow_bench_", dir=args.dir))
    try:
        n, warm = args.instances, args.warmup
        print(f"{n} timed instances (+{warm} untimed first, to warm caches); SQLite files in {workdir}")
        results: dict[str, tuple[float, float, int]] = {}
        if not args.skip_spiff:
            results["spiff (reload per step)"] = run_spiff(workdir, n, warm, reload_each_step=True)
            results["spiff (kept in memory)"] = run_spiff(workdir, n, warm, reload_each_step=False)
        results["floor (sqlite3)"] = run_floor(workdir, n, warm, len(PMFLOW_STEPS))
        t0 = time.perf_counter()
        engine, ids, actors = setup_pmflow(workdir, warm + n)
        print(f"pmflow setup (not timed in the figures): {time.perf_counter() - t0:.1f} s")
        profile = cProfile.Profile() if args.profile else None
        results["pmflow"] = run_pmflow(engine, ids, warm, actors, profile)
        verify_pmflow(engine, warm + n)
        engine.dispose()
        results["floor (pmflow's tables)"] = run_floor_on_pmflow_tables(
            workdir / "pmflow.db", ids, warm, len(PMFLOW_STEPS))
        results["pmflow's statements"] = run_floor_on_pmflow_tables(
            workdir / "pmflow.db", ids, warm, len(PMFLOW_STEPS), read=True)

        per_flow = {"pmflow": len(PMFLOW_STEPS), "floor (sqlite3)": len(PMFLOW_STEPS),
                    "floor (pmflow's tables)": len(PMFLOW_STEPS), "pmflow's statements": len(PMFLOW_STEPS)}
        print(f"\n{'engine':<26}{'steps':>7}{'seconds':>9}{'steps/s':>9}{'flows/s':>9}{'ms/step':>9}"
              f"{'cpu ms/step':>13}")
        rate, cpu_rate = {}, {}
        for name, (secs, cpu, steps) in results.items():
            rate[name], cpu_rate[name] = steps / secs, steps / cpu
            flows = steps / per_flow.get(name, len(SPIFF_STEPS)) / secs
            print(f"{name:<26}{steps:>7}{secs:>9.2f}{rate[name]:>9.0f}{flows:>9.1f}{1000 * secs / steps:>9.3f}"
                  f"{1000 * cpu / steps:>13.3f}")
        print("(steps/s from wall time; the cpu column is this process's CPU time, which other load on\n"
              " the machine disturbs less; SQLite runs in-process, so both count the database's work)")
        pm, pm_cpu = rate["pmflow"], cpu_rate["pmflow"]
        print()
        for name in ("spiff (reload per step)", "spiff (kept in memory)"):
            if name in rate:
                ratio = pm / rate[name]
                flows_ratio = ratio * len(SPIFF_STEPS) / len(PMFLOW_STEPS)
                print(f"pmflow / {name}: {ratio:.2f}x per transition ({pm_cpu / cpu_rate[name]:.2f}x by cpu), "
                      f"{flows_ratio:.2f}x per flow; target >= 3x per transition: "
                      f"{'met' if ratio >= 3 else 'MISSED'}")
        share = pm / rate["floor (sqlite3)"]
        print(f"pmflow / floor: {100 * share:.1f} % ({100 * pm_cpu / cpu_rate['floor (sqlite3)']:.1f} % by cpu); "
              f"target >= 50 %: {'met' if share >= 0.5 else 'MISSED'}")
        own, stmts, floor = rate["floor (pmflow's tables)"], rate["pmflow's statements"], rate["floor (sqlite3)"]
        print(f"floor on pmflow's tables / the floor: {100 * own / floor:.0f} % (what pmflow's rows cost); "
              f"pmflow's statements alone / the floor: {100 * stmts / floor:.0f} % (pmflow's ceiling, no Python); "
              f"pmflow / its statements alone: {100 * pm / stmts:.0f} %")
        if profile:
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out).strip_dirs()
            stats.sort_stats("cumulative").print_stats(args.profile)
            stats.sort_stats("tottime").print_stats(args.profile)
            print(out.getvalue())
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
