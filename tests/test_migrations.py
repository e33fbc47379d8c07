"""The models and the migrations describe the same schema: Alembic's autogenerate compare (what
`alembic check` runs) finds no difference on a freshly migrated database, SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables)


def test_the_migrated_schema_equals_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "compare_server_default": False})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], "\n".join(map(str, diff))
