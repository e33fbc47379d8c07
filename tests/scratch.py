"""A PostgreSQL database of one's own for a test run or a benchmark, dropped at the end."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, text

from db.session import normalise_url


@contextmanager
def scratch_database(server_url: str, prefix: str = "pmflow_scratch") -> Iterator[str]:
    """Create a database with a random name on the server `server_url` points at; yield its URL;
    end its sessions and drop it when the block ends, however it ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    # pre-ping: the server may have been restarted meanwhile (benchmarks/deadline_rush.py --restart-postgres)
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield normalise_url(server_url).rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.connect() as c:
                c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()
