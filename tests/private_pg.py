"""A PostgreSQL server of one's own, for the tests and benchmarks that stop and restart it: the
server on 127.0.0.1:5432 is shared by every session on the machine and must never be restarted.

`private_cluster()` runs initdb (trust authentication, fsync off: the data is thrown away) in a
temporary directory, starts `postgres` on a free loopback port with its unix socket in that
directory, yields a `Cluster` whose `url` names its `postgres` database, and removes everything
when the block ends, however it ends. initdb and postgres refuse to run as root, so as root they
run as the `postgres` user, who owns the directory.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PROGRAMS = ("initdb", "pg_ctl", "postgres")
SERVER_USER = "postgres"  # who runs the server when we are root (Debian's package creates it)
SETTINGS = {  # appended to postgresql.conf: throwaway data, and room for several worker pools
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


def binaries() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres (on PATH, else Debian's
    /usr/lib/postgresql/N/bin, newest first); None when PostgreSQL's server is not installed."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += [Path(d) for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for d in candidates:
        if all((d / p).is_file() for p in PROGRAMS):
            return d
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One initialised data directory and the server running on it."""

    def __init__(self, bindir: Path, home: Path) -> None:
        self.bindir, self.home = bindir, home
        self.data, self.log = home / "data", home / "server.log"
        self.port = 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str, timeout: float = 120) -> None:
        as_user = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*as_user, str(self.bindir / program), *args], capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} {' '.join(args)} failed ({done.returncode}): "
                               f"{done.stdout}{done.stderr}{tail}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        self.port = _free_port()
        lines = [f"{k} = {v}" for k, v in {**SETTINGS, "port": str(self.port),
                                            "unix_socket_directories": f"'{self.home}'"}.items()]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# pmflow's private test cluster\n" + "\n".join(lines) + "\n")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log))

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session (as an operator's restart does), `immediate`
        is a crash; waits until it is down."""
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", str(self.data))

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop (fast), stay down `down_seconds`, start again."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A started throwaway cluster; stopped and deleted when the block ends."""
    bindir = binaries()
    if bindir is None:
        raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed")
    home = Path(tempfile.mkdtemp(prefix="pmflow-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(home, SERVER_USER, SERVER_USER)
        cluster = Cluster(bindir, home)
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running():
                cluster.stop("immediate")
    finally:
        shutil.rmtree(home, ignore_errors=True)
