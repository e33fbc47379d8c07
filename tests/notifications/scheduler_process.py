"""A real scheduler process for the kill -9 tests:

    python -m tests.notifications.scheduler_process MOMENT KILL_AT

runs pmflow's SchedulerService on PMFLOW_DATABASE_URL with a clock standing at MOMENT (ISO).
KILL_AT names where it stops to be killed: "decide:N" after N committed fan-out batches of 10
(its deliveries held back, so the kill cuts a decision), "deliver:N" after N recorded sends
(one delivery thread, so the kill falls between two hand-overs), or "none". At that point it
prints "AT <point>" and waits for the parent's SIGKILL. It prints "ACTIVE" once it holds the lock.
"""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from db.session import default_engine
from workflow.notifications import scheduler
from workflow.notifications.clock import FixedClock

ROOT = Path(__file__).resolve().parents[2]


class Proc:
    """The parent's side: a scheduler process started with this module, its stdout lines read
    on a thread (the kill tests and benchmarks/deadline_rush.py --kill-scheduler)."""

    def __init__(self, env: dict[str, str], moment: str, kill_at: str):
        self.p = subprocess.Popen([sys.executable, "-m", "tests.notifications.scheduler_process", moment, kill_at],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.p.stdout:
            self.lines.put(line.strip())

    def wait_for(self, text: str, timeout: float = 90) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if self.lines.get(timeout=0.5).startswith(text):
                    return
            except queue.Empty:
                if self.p.poll() is not None:
                    raise AssertionError(f"scheduler exited {self.p.returncode}: {self.p.stderr.read()[-3000:]}")
        raise AssertionError(f"no {text!r} from the scheduler process")

    def kill9(self) -> None:
        os.kill(self.p.pid, signal.SIGKILL)
        self.p.wait(30)

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(30)


def _stop_here(point: str) -> None:
    print(f"AT {point}", flush=True)
    threading.Event().wait()  # until killed


def main() -> None:
    moment, kill_at = sys.argv[1], sys.argv[2]
    point, _, n = kill_at.partition(":")
    workers = scheduler.DELIVERY_WORKERS
    if point == "decide":
        real_fan_out = scheduler.run_reminder

        def run_reminder(*args, **kw):
            def after_batch(k: int) -> None:
                if k >= int(n):
                    _stop_here(kill_at)
            return real_fan_out(*args, **kw, batch=10, after_batch=after_batch)

        scheduler.run_reminder = run_reminder
        scheduler.deliver_due = lambda *args, **kw: None
    elif point == "deliver":
        real_deliver = scheduler.deliver_due
        workers = 1

        def deliver_due(*args, **kw):
            def after_send(sent: int) -> None:
                if sent >= int(n):
                    _stop_here(kill_at)
            return real_deliver(*args, **kw, after_send=after_send)

        scheduler.deliver_due = deliver_due
    service = scheduler.SchedulerService(default_engine(), clock=FixedClock(datetime.fromisoformat(moment)),
                                         poll=0.2, interval=0.5, workers=workers, name=f"proc-{kill_at}")
    signal.signal(signal.SIGTERM, lambda *_: service.stop_soon())
    threading.Thread(target=lambda: (service.active.wait(), print("ACTIVE", flush=True)), daemon=True).start()
    service.run()


if __name__ == "__main__":
    main()
