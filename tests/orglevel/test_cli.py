"""`pmflow agency open`, run as a user would: a real process on a temporary SQLite database."""
from __future__ import annotations

import os
import subprocess
import sys

from db.migrate import upgrade
from db.session import make_engine, new_session
from tests.factories import world


def test_agency_open_from_the_command_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    eng = make_engine(url)
    with new_session(eng) as s:
        rayong = world(s, "rayong", open_now=False)
        udon = world(s, "udon_thani", open_now=False)
    eng.dispose()
    env = {**os.environ, "PMFLOW_DATABASE_URL": url}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "workflow", "agency", "open", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    done = run("--org", rayong.org.code, "--fiscal-year", "2570")
    assert done.returncode == 0, done.stderr
    assert "1 agency assessments opened" in done.stdout and "sar_6 2027-04-15" in done.stdout
    again = run("--org", rayong.org.code, "--fiscal-year", "2570")
    assert "0 agency assessments opened" in again.stdout and "1 already open" in again.stdout
    refused = run("--org", udon.org.code, "--fiscal-year", "2570")
    assert refused.returncode == 2 and "[agency]" in refused.stderr
