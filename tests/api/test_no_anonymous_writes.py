"""Nothing in the API changes data without sign-in: every unsafe route refuses an anonymous call."""
from __future__ import annotations

import re

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
OPEN_DOORS = {"/api/v1/auth/login"}  # signing in is how one gets a session


def test_every_unsafe_api_route_refuses_an_anonymous_caller(app, client, w):
    checked = 0
    for path, ops in app.openapi()["paths"].items():
        for method in {m.upper() for m in ops} & UNSAFE:
            if path in OPEN_DOORS:
                continue
            url = re.sub(r"\{[^}]+\}", "1", path)
            r = client.request(method, url, json={}, headers={"If-Match": '"1"'})
            assert r.status_code in (401, 403), (method, path, r.status_code)
            checked += 1
    assert checked > 10


def test_no_benchmark_route_in_the_product(app, client):
    """The floor route the HTTP benchmark measures lives in benchmarks/floor_app.py only."""
    assert not any("/bench" in p for p in app.openapi()["paths"])
    assert client.post("/api/v1/bench/floor/1", headers={"If-Match": '"0"'}).status_code == 404
