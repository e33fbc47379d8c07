"""Schemathesis against our OpenAPI document: generated requests (signed in as an admin, who
may see everything) never get a 5xx, and every answer matches the declared schema, status
codes and content type. Bounded: a few examples per operation, on SQLite."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from db.session import new_session
from tests.factories import world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_state(engine):
    with new_session(engine) as s:
        w = world(s)
    app = create_app(engine)
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        token = c.post("/api/v1/auth/login", json={"username": f"admin-{w.org.code}".lower(),
                                                  "password": "pw-admin"}).json()["access_token"]
    return app, {"Authorization": f"Bearer {token}"}


def test_api_conforms_to_its_schema(api_state):
    from hypothesis import given

    app, headers = api_state
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        op = result.ok()
        if not op.path.startswith("/api/v1/") or op.path in ("/api/v1/auth/logout", "/api/v1/auth/password"):
            continue  # would sign the test's admin out; covered in test_auth

        @settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def run(case):  # noqa: ANN001
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    assert not failures, "\n\n".join(failures)
