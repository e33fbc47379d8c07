"""Page routes answer 404, 403 and 422 as pages (HTML in the page's language), never JSON;
the API keeps its JSON; a favicon is served."""
from __future__ import annotations

from tests.api.conftest import username


def test_page_errors_are_pages(client, w):
    r = client.post("/api/v1/auth/login", json={"username": username(w, "evaluator"), "password": "pw-evaluator"})
    assert r.status_code == 200  # the session cookie signs the pages in
    for path, status in (("/no-such-page", 404), ("/appraisals/not-a-number", 422), ("/appraisals/999999", 404)):
        r = client.get(path)
        assert r.status_code == status and r.headers["content-type"].startswith("text/html"), (path, r.text[:300])
        assert "<h1>" in r.text
    assert client.get("/announce").status_code == 403  # the authority's page
    client.cookies.set("pmflow_lang", "en")
    assert "Not found" in client.get("/no-such-page").text
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
