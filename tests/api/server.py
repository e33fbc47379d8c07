"""A real uvicorn server on a free loopback port, in a thread, for tests that need one."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import httpx
import uvicorn


@contextmanager
def running(app) -> Iterator[str]:  # noqa: ANN001
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        httpx.get(base + "/health", timeout=5).raise_for_status()
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def process(database_url: str, *, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    """`uvicorn api.main:app` in its own process(es) on a loopback socket bound to port 0."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    full_env = {**os.environ, "PMFLOW_DATABASE_URL": database_url, "PMFLOW_SECRET_KEY": "test-secret",
                "PMFLOW_SCHEDULER": "off", "PMFLOW_WORKERS": str(workers), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--fd", str(sock.fileno()),
                             "--workers", str(workers), "--log-level", "warning"],
                            cwd=Path(__file__).resolve().parents[2], env=full_env, pass_fds=[sock.fileno()])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        sock.close()
