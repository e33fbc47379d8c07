"""The backup and restore README's "Production" section describes, run once: pg_dump of a
database with data, pg_restore into an empty one, and the copy is the same (every table's rows,
the migration revision, an intact audit chain)."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import text

from db.session import make_engine, new_session
from tests.conftest import PG_URL
from tests.factories import world
from tests.flows import drive
from tests.scratch import scratch_database
from workflow import audit

pytestmark = pytest.mark.skipif(shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
                                reason="pg_dump / pg_restore missing: `make pg-client` installs postgresql-client")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _snapshot(engine) -> dict[str, int]:
    with engine.connect() as c:
        tables = [r[0] for r in c.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        counts = {t: c.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}
        counts["alembic_version=" + c.execute(text("SELECT version_num FROM alembic_version")).scalar()] = 1
    return counts


def test_pg_dump_then_pg_restore_gives_the_same_database(pg_engine, tmp_path):
    with new_session(pg_engine) as s:
        w = world(s)
        drive(s, w, "appraisee", until="agreed")
    source = pg_engine.url.render_as_string(hide_password=False)
    dump = tmp_path / "pmflow.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), _libpq(source)],
                   check=True, capture_output=True, timeout=300)
    with scratch_database(PG_URL, "pmflow_restore") as target:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", _libpq(target), str(dump)],
                       check=True, capture_output=True, timeout=300)
        restored = make_engine(target)
        try:
            before, after = _snapshot(pg_engine), _snapshot(restored)
            assert after == before and before["event"] > 0 and before["appraisal"] > 0
            with new_session(restored) as s:
                assert audit.verify(s) == []
        finally:
            restored.dispose()
