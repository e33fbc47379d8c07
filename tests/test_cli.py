"""The pmflow CLI, run as a user would: a real process on a temporary SQLite database."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PMFLOW = [sys.executable, "-m", "workflow"]


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "PMFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def run(env, *args, ok=True):
    proc = subprocess.run([*PMFLOW, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_upgrade_demo_round_and_audit(env, tmp_path):
    run(env, "db", "upgrade")
    out = run(env, "demo").stdout
    assert "60 people" in out and "demo1234" in out and "governor" in out
    assert "no evaluator" in out  # the governor has nobody above: reported, not skipped
    again = run(env, "demo", "--if-empty").stdout
    assert "already present" in again
    opened = run(env, "round", "open", "--org", "DEMO", "--fiscal-year", "2569", "--round", "2").stdout
    assert "60 appraisals in draft" in opened and "29 พฤศจิกายน 2569" in opened  # Udon reports low performers in the next round (end + 60)
    twice = run(env, "round", "open", "--org", "DEMO", "--fiscal-year", "2569", "--round", "2", ok=False)
    assert twice.returncode == 2 and "already open" in twice.stderr
    assert "intact" in run(env, "audit", "verify").stdout

    import sqlite3

    db = sqlite3.connect(tmp_path / "cli.db")
    db.execute("UPDATE event SET reason = 'แก้ไข' WHERE id = (SELECT max(id) FROM event WHERE entity_type='appraisal')")
    db.commit()
    db.close()
    tampered = run(env, "audit", "verify", ok=False)
    assert tampered.returncode == 1 and "content altered" in tampered.stderr


def test_policy_check(env, tmp_path):
    good = Path("workflow/presets/nonthaburi.toml")
    assert "ok: nonthaburi" in run(env, "policy", "check", str(good)).stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text(encoding="utf-8").replace("results = 70", "results = 75"), encoding="utf-8")
    proc = run(env, "policy", "check", str(bad), ok=False)
    assert proc.returncode == 2 and "weights" in proc.stderr and "100" in proc.stderr
    missing = run(env, "policy", "check", str(tmp_path / "nope.toml"), ok=False)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
