"""A DBAPI connection in one transaction, for the engine's hot path (see workflow/engine.py).

SQLAlchemy's ORM costs 15-95 us of Python per statement; sqlite3 and psycopg cost 2-5 us.
An event is a handful of statements, so the engine reads and writes the common events
through this thin layer, and keeps the ORM for the rare effects that need it. The layer
hides the few differences between the two databases pmflow runs on:

- placeholders: SQL is written with ``%s``; sqlite3 wants ``?``;
- the write lock: SQLite takes it with BEGIN IMMEDIATE (it has no SELECT ... FOR UPDATE);
  PostgreSQL begins implicitly and the statement itself says FOR UPDATE;
- values: SQLite has no dates, decimals nor JSON; they are stored the way SQLAlchemy stores
  them (``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, floats, JSON text), so the ORM reads them back.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from psycopg.types.json import Json
from sqlalchemy import Engine
from sqlalchemy.orm import Session


class Raw:
    def __init__(self, dbapi_connection: Any, dialect: str):
        self.dbc, self.sqlite = dbapi_connection, dialect == "sqlite"

    # --- transactions ------------------------------------------------------------------------
    @classmethod
    def begin(cls, engine: Engine) -> "Raw":
        """A pooled connection of its own, its transaction begun; `close` gives it back."""
        pooled = engine.raw_connection()
        raw = cls(pooled.driver_connection, engine.dialect.name)
        raw._pooled = pooled
        if raw.sqlite:
            raw.dbc.execute("BEGIN IMMEDIATE")
        return raw

    @classmethod
    def within(cls, session: Session) -> "Raw":
        """The session's own connection, inside the session's transaction."""
        conn = session.connection()
        return cls(conn.connection.driver_connection, conn.dialect.name)

    def commit(self) -> None:
        if self.sqlite:
            self.dbc.execute("COMMIT")  # a cached statement; sqlite3's commit() prepares it anew
        else:
            self.dbc.commit()

    def close(self) -> None:
        """Back to the pool; the pool rolls back whatever was not committed."""
        self._pooled.close()

    # --- statements --------------------------------------------------------------------------
    def one(self, sql: str, params: Sequence[Any]) -> Any:
        cur = self.dbc.execute(_dialect_sql(sql, self.sqlite), params)
        return cur.fetchone()

    def all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self.dbc.execute(_dialect_sql(sql, self.sqlite), params).fetchall()

    def execute(self, sql: str, params: Sequence[Any]) -> int:
        return self.dbc.execute(_dialect_sql(sql, self.sqlite), params).rowcount

    def insert(self, table: str, values: Mapping[str, Any], returning: str | None = None) -> Any:
        cols = tuple(values)
        sql = _insert_sql(table, cols, returning)
        row = self.dbc.execute(_dialect_sql(sql, self.sqlite), [self.value(values[c]) for c in cols])
        return row.fetchone()[0] if returning else None

    def update(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        cols, keys = tuple(values), tuple(key)
        sql = _update_sql(table, cols, keys)
        return self.execute(sql, [self.value(values[c]) for c in cols] + [key[k] for k in keys])

    # --- values ------------------------------------------------------------------------------
    def value(self, v: Any) -> Any:
        if type(v) in _AS_IS:
            return v
        if not self.sqlite:
            return Json(v) if isinstance(v, (list, dict)) else v  # a JSON column, not an array
        if isinstance(v, datetime):
            if v.tzinfo is not None:
                v = v.astimezone(timezone.utc).replace(tzinfo=None)
            return v.isoformat(sep=" ", timespec="microseconds")  # as SQLAlchemy writes it
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, (list, dict)):
            return json.dumps(v, ensure_ascii=False)
        return v

    def json(self, v: Any) -> Any:
        """A JSON aggregate as it came back: text from SQLite, already decoded from psycopg."""
        return json.loads(v) if isinstance(v, str) else v


_AS_IS = frozenset({str, int, float, bool, type(None)})


def decimal2(v: Any) -> Decimal | None:
    """A NUMERIC(.., 2) as SQLAlchemy hands it back (SQLite keeps it as a float)."""
    if v is None or isinstance(v, Decimal):
        return v
    return Decimal(f"{v:.2f}")


@lru_cache(maxsize=None)
def _dialect_sql(sql: str, sqlite: bool) -> str:
    return sql.replace("%s", "?") if sqlite else sql


@lru_cache(maxsize=None)
def _insert_sql(table: str, cols: tuple[str, ...], returning: str | None) -> str:
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    return sql + f" RETURNING {returning}" if returning else sql


@lru_cache(maxsize=None)
def _update_sql(table: str, cols: tuple[str, ...], keys: tuple[str, ...]) -> str:
    sets = ", ".join(f"{c} = %s" for c in cols)
    return f"UPDATE {table} SET {sets} WHERE " + " AND ".join(f"{k} = %s" for k in keys)


def python_defaults(table: Any) -> Iterable[tuple[str, Any]]:
    """(column, default) for each column whose default Python supplies (e.g. a timestamp):
    a raw INSERT must supply it itself."""
    for col in table.__table__.columns:
        if col.default is not None and not col.primary_key:
            yield col.name, col.default
