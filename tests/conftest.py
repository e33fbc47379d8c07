"""Fixtures: a migrated database per test, on SQLite and (when PMFLOW_TEST_DATABASE_URL is set)
on PostgreSQL, in a database of its own created for this run and dropped at the end."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from db.migrate import upgrade
from tests.scratch import scratch_database
from db.session import make_engine, new_session

PG_URL = os.environ.get("PMFLOW_TEST_DATABASE_URL")
# Apps built in tests never start the reminder scheduler (tests that want one start it themselves).
os.environ.setdefault("PMFLOW_SCHEDULER", "off")
PG_SKIP = "PostgreSQL tests skipped: set PMFLOW_TEST_DATABASE_URL (CI's .ci/run sets it)"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database():
    """A database of this run's own on the PostgreSQL server, migrated, dropped at the end."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    with scratch_database(PG_URL, "pmflow_test") as url:
        upgrade(url)
        yield url


def _pg_engine(url: str):
    engine = make_engine(url)
    with engine.begin() as c:
        tables = [r[0] for r in c.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))]
        if tables:
            c.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path, sqlite_template):
    """A clean, migrated database: each test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "pmflow.db"
        shutil.copy(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
    else:
        eng = _pg_engine(request.getfixturevalue("pg_database"))
    yield eng
    eng.dispose()


@pytest.fixture
def pg_engine(request):
    """PostgreSQL only: for concurrency tests."""
    eng = _pg_engine(request.getfixturevalue("pg_database"))
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    with new_session(engine) as s:
        yield s
