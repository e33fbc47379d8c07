"""Smoke test: the real server process (uvicorn, api.main:app) on a loopback port, a temp SQLite file."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from db.migrate import upgrade
from db.session import make_engine, new_session
from tests.api.conftest import username
from tests.factories import world

ROOT = Path(__file__).resolve().parents[2]


def test_real_server(tmp_path):
    url = f"sqlite:///{tmp_path / 'smoke.db'}"
    upgrade(url)
    engine = make_engine(url)
    with new_session(engine) as s:
        w = world(s)
        aid = w.appraisal_of(s, "appraisee").id
    engine.dispose()

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    env = {**os.environ, "PMFLOW_DATABASE_URL": url, "PMFLOW_SECRET_KEY": "smoke-test-secret"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--fd", str(sock.fileno()),
                             "--log-level", "warning"], cwd=ROOT, env=env, pass_fds=[sock.fileno()])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        assert httpx.get(base + "/api/v1/openapi.json").json()["info"]["title"] == "pmflow"
        login = httpx.post(base + "/api/v1/auth/login",
                           json={"username": username(w, "evaluator"), "password": "pw-evaluator"})
        assert login.status_code == 200
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        a = httpx.get(f"{base}/api/v1/appraisals/{aid}", headers=auth)
        assert a.status_code == 200 and a.json()["state"] == "draft" and "edit_agreement" in a.json()["available_events"]
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        sock.close()
