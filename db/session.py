"""The engine: one per process, from PMFLOW_DATABASE_URL (SQLite file by default)."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

DEFAULT_URL = "sqlite:///var/pmflow.db"


def database_url() -> str:
    return os.environ.get("PMFLOW_DATABASE_URL", DEFAULT_URL)


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs; we use the psycopg 3 driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, **kw) -> Engine:
    url = normalise_url(url or database_url())
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)
        _sqlite_serialised_writes(engine)
        return engine
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 20)
    return create_engine(url, pool_pre_ping=True, **kw)


def _sqlite_serialised_writes(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE: SQLite has no SELECT ... FOR UPDATE, so a
    transaction takes the write lock when it begins; read-then-write races cannot happen."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache(maxsize=None)
def default_engine() -> Engine:
    return make_engine()


def new_session(engine: Engine | None = None) -> Session:
    return Session(engine or default_engine(), expire_on_commit=False)
