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


def test_english_mode_and_thai_digits(client, w, engine):
    from api.pages.common import thai_digits_in_text
    from db.session import new_session

    with new_session(engine) as s:
        aid = w.appraisal_of(s, "appraisee").id
    r = client.post("/api/v1/auth/login", json={"username": username(w, "evaluator"), "password": "pw-evaluator"})
    assert r.status_code == 200
    client.cookies.set("pmflow_lang", "en")
    page = client.get(f"/appraisals/{aid}").text
    assert f"/{w.opened.round.fiscal_year - 543}" in page  # the era follows the language
    client.cookies.set("pmflow_lang", "th")
    client.cookies.set("pmflow_digits", "thai")
    page = client.get(f"/appraisals/{aid}").text
    assert "๑/๒๕๖๙" in page  # every number a reader sees, not only dates
    assert 'name="version" value="1"' in page  # form values stay as they are posted
    assert thai_digits_in_text('<p>คะแนน 85.60</p><input value="12"><textarea>3</textarea>') == \
        '<p>คะแนน ๘๕.๖๐</p><input value="12"><textarea>3</textarea>'
    assert thai_digits_in_text("<p>it&#39;s 5</p><a data-keep-digits>123</a>") == \
        "<p>it&#39;s ๕</p><a data-keep-digits>123</a>"
