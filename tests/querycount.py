"""How many SQL statements a block of code sends: the measure of the query-count tests (a page,
a list route or a service takes the same number however many rows it shows)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, event
from sqlmodel import Session


@contextmanager
def counting(bind: Engine | Session) -> Iterator[list[str]]:
    """The statements sent on `bind` (an engine, or the one a session uses) while the block
    runs, in order: every cursor execution, whichever session or thread sends it."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def counted_get(session: Session, client: TestClient, path: str, **kw) -> tuple[Response, int]:
    """GET `path` through the app on the session's engine: the answer (200, or the test fails)
    and how many statements it took. The test's own transaction ends first (on SQLite every
    transaction holds the write lock), and the path is fetched once before it is counted, so
    what the process reads once and keeps (a policy, a template) is not counted against it."""
    session.commit()
    assert client.get(path, **kw).status_code == 200
    with counting(session) as seen:
        r = client.get(path, **kw)
    assert r.status_code == 200, r.text[:300]
    return r, len(seen)
