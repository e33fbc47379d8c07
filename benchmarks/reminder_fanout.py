"""Reminder fan-out: 100,000 open appraisals with 10,000 evaluators; one milestone's
reminder to every evaluator with appraisals left to score, through the in-app inbox and email
to a local SMTP sink (aiosmtpd on loopback, in its own process).

    .venv/bin/python benchmarks/reminder_fanout.py                       # SQLite file
    .venv/bin/python benchmarks/reminder_fanout.py --pg postgresql://postgres@127.0.0.1:5432/test

Measures, in a process that did not build the data: the seconds to decide the fan-out (pending
rules, digests, templates, outbox + inbox rows) and to deliver the emails, the peak resident
memory, and the scheduler's job count for the round (which must not depend on the staff).
Setup shortcut: every appraisal is put in state `monitored` with one UPDATE, so each of the
10,000 evaluators has 10 appraisals to score before "evaluation submitted".
"""
from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

EVALUATORS = 10_000
APPRAISEES = 100_000


def setup(url: str, evaluators: int, appraisees: int) -> int:
    """Build the organisation and open the round; returns the round id."""
    from sqlalchemy import insert, text

    from db.migrate import upgrade
    from db.models import Person
    from db.session import make_engine, new_session
    from workflow import orgs
    from workflow.access import Actor
    from workflow.policy import preset_text
    from workflow.rounds import open_round, register_policy

    upgrade(url)
    engine = make_engine(url)
    with new_session(engine) as s:
        pv = register_policy(s, preset_text("default"))
        root = orgs.create_unit(s, code="BENCH", name_th="จังหวัดทดสอบ", kind="province", policy_version_id=pv.id)
        staff = orgs.create_unit(s, code="BENCH-STAFF", name_th="หน่วยงานทดสอบ", parent=root)
        # The evaluators sit in an office of their own: this round appraises the 100,000 staff.
        office = orgs.create_unit(s, code="BENCH-OFFICE", name_th="สำนักผู้ประเมิน", kind="province")
        s.execute(insert(Person), [dict(code=f"E{i:06d}", name_th=f"ผู้ประเมิน {i}", staff_type="civil_servant",
                                        org_unit_id=office.id, email=f"e{i}@bench.local", active=True,
                                        locale="th", position="", position_level="", name_en="")
                                   for i in range(evaluators)])
        first = s.execute(text("SELECT min(id) FROM person WHERE code LIKE 'E%'")).scalar()
        for start in range(0, appraisees, 10_000):
            s.execute(insert(Person), [dict(code=f"A{i:06d}", name_th=f"บุคลากร {i}", staff_type="civil_servant",
                                            org_unit_id=staff.id, evaluator_id=first + i % evaluators,
                                            superior_id=first + (i + 1) % evaluators, email=f"a{i}@bench.local",
                                            active=True, locale="th", position="", position_level="", name_en="")
                                       for i in range(start, min(start + 10_000, appraisees))])
        s.commit()
        opened = open_round(s, org_code="BENCH", fiscal_year=2569, number=1, actor=Actor.system())
        s.execute(text("UPDATE appraisal SET state = 'monitored' WHERE round_id = :r"), {"r": opened.round.id})
        s.commit()
        rid = opened.round.id
    engine.dispose()
    return rid


def _sink(ready, count, stop) -> None:  # noqa: ANN001
    """An SMTP server on loopback that counts what it receives (a separate process)."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
            with count.get_lock():
                count.value += 1
            return "250 OK"

    class Loopback(Controller):
        def _trigger_server(self):  # noqa: ANN202
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    controller = Loopback(Counting(), hostname="127.0.0.1", port=0)
    controller.start()
    ready.put(controller.port)
    stop.wait()
    controller.stop()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str, round_id: int, workers: int = 8) -> dict:
    from sqlalchemy import func, select, text

    from db.models import InboxMessage, Milestone, Outbox
    from db.session import make_engine, new_session
    from workflow.notifications.channels import deliver_due
    from workflow.notifications.fanout import reminder_moment, run_reminder
    from workflow.notifications.scheduler import schedule_round
    from workflow.notifications.settings import Settings, SmtpSettings

    ctx = mp.get_context("spawn")
    ready, count, stop = ctx.Queue(), ctx.Value("i", 0), ctx.Event()
    sink = ctx.Process(target=_sink, args=(ready, count, stop), daemon=True)
    sink.start()
    port = ready.get(timeout=30)
    engine = make_engine(url)
    try:
        with new_session(engine) as s:
            m = s.execute(select(Milestone).where(Milestone.round_id == round_id,
                                                  Milestone.code == "evaluation_submitted")).scalar_one()
            s.commit()
        now = reminder_moment(m.due_on, 7)
        jobs = schedule_round(round_id, engine=engine, now=reminder_moment(m.due_on, 200))
        with engine.connect() as c:
            job_rows = c.execute(text("SELECT count(*) FROM apscheduler_jobs")).scalar()
        settings = Settings(smtp=SmtpSettings(host="127.0.0.1", port=port), base_url="https://pm.example.go.th")
        rss_before = _rss_mb()
        c0 = time.process_time()  # CPU of this process (all threads): the cost without the machine's load
        t0 = time.perf_counter()
        with new_session(engine) as s:
            fan = run_reminder(s, m.id, 7, now=now, settings=settings)
        t1, c1 = time.perf_counter(), time.process_time()
        with new_session(engine) as s:
            sent = deliver_due(s, now=now, settings=settings, workers=workers)
        t2 = time.perf_counter()
        cpu = time.process_time() - c0
        with new_session(engine) as s:
            inbox = s.execute(select(func.count()).select_from(InboxMessage)).scalar()
            outbox = s.execute(select(func.count()).select_from(Outbox)).scalar()
        # Fired again (a restart): nothing new is decided or sent.
        with new_session(engine) as s:
            again = run_reminder(s, m.id, 7, now=now, settings=settings)
            again_sent = deliver_due(s, now=now, settings=settings)
        time.sleep(0.5)
        return dict(recipients=fan.recipients, decided=fan.decided, decide_s=t1 - t0, deliver_s=t2 - t1,
                    total_s=t2 - t0, cpu_s=cpu, decide_cpu_s=c1 - c0, load=os.getloadavg()[0], emails_sent=sent.sent, smtp_received=count.value, inbox=inbox,
                    outbox=outbox, rerun_decided=again.decided, rerun_sent=again_sent.sent,
                    workers=workers, jobs=len(jobs.added), job_rows=job_rows, rss_before_mb=rss_before, peak_rss_mb=_rss_mb())
    finally:
        stop.set()
        sink.join(10)
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", help="a PostgreSQL server URL: a private database is created and dropped")
    ap.add_argument("--evaluators", type=int, default=EVALUATORS)
    ap.add_argument("--appraisees", type=int, default=APPRAISEES)
    ap.add_argument("--workers", type=int, default=8, help="delivery threads (SMTP connections)")
    args = ap.parse_args()
    with contextlib.ExitStack() as stack:
        if args.pg:
            from tests.scratch import scratch_database

            url = stack.enter_context(scratch_database(args.pg, "pmflow_bench"))
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="pmflow-bench-"))
            url = f"sqlite:///{tmp}/bench.db"
        report(args, url)


def report(args: argparse.Namespace, url: str) -> None:
    ctx = mp.get_context("spawn")
    t = time.perf_counter()
    with ctx.Pool(1) as pool:  # the data is built in another process: its memory is not ours
        round_id = pool.apply(setup, (url, args.evaluators, args.appraisees))
    print(f"setup: {args.appraisees:,} appraisals, {args.evaluators:,} evaluators "
          f"({time.perf_counter() - t:.0f} s, not measured)")
    r = measure(url, round_id, args.workers)
    db = "PostgreSQL" if args.pg else "SQLite"
    print(f"{db}: recipients {r['recipients']:,}; decided {r['decided']:,} outbox rows "
          f"({r['inbox']:,} inbox messages) in {r['decide_s']:.1f} s; "
          f"{r['emails_sent']:,} emails delivered in {r['deliver_s']:.1f} s by {r['workers']} threads "
          f"(SMTP sink received {r['smtp_received']:,}); total {r['total_s']:.1f} s, "
          f"CPU {r['cpu_s']:.1f} s of which deciding {r['decide_cpu_s']:.1f} s (load average {r['load']:.1f} on {os.cpu_count()} CPUs)")
    print(f"peak RSS {r['peak_rss_mb']:.0f} MB (before the fan-out {r['rss_before_mb']:.0f} MB); "
          f"scheduler jobs for the round: {r['jobs']} ({r['job_rows']} rows in apscheduler_jobs)")
    print(f"fired again: {r['rerun_decided']} new rows, {r['rerun_sent']} emails")


if __name__ == "__main__":
    os.environ.setdefault("PMFLOW_SCHEDULER", "off")
    main()
