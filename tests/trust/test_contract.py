"""The HTTP contract for malformed requests: unreadable JSON is a 422 of the error shape, and a
405 lists every method the path answers."""
from __future__ import annotations

import re


def test_unparsable_json_is_a_documented_422(client, as_, app):
    for url in ("/api/v1/auth/login", "/api/v1/accounts", "/api/v1/rounds"):
        r = client.post(url, content=b'{"username": ', headers={**as_("admin"), "content-type": "application/json"})
        assert r.status_code == 422, url
        body = r.json()
        assert set(body) >= {"message", "problems"} and body["problems"][0]["field"] == "body"
        assert body["problems"][0]["th"] and body["problems"][0]["en"]
    assert "422" in app.openapi()["paths"]["/api/v1/auth/login"]["post"]["responses"]


def test_405_lists_every_allowed_method(client, app):
    checked = 0
    for path, item in app.openapi()["paths"].items():
        methods = {m.upper() for m in item}
        url = re.sub(r"\{[^}]+\}", "1", path)
        r = client.request("PUT" if "PUT" not in methods else "TRACE", url)
        if r.status_code != 405:
            continue
        allow = {m.strip() for m in r.headers["allow"].split(",")}
        assert methods <= allow, (path, methods, allow)
        checked += 1
    assert checked > 20
