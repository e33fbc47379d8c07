"""Security headers on API answers, safe evidence downloads, and API docs served by pmflow."""
from __future__ import annotations

import re


def test_api_answers_carry_nosniff_no_store_and_frame_denial(client, as_):
    for r in (client.get("/api/v1/auth/me", headers=as_("hr")), client.get("/api/v1/auth/me"),
              client.get("/api/v1/openapi.json")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_evidence_is_downloaded_as_a_file_never_rendered(client, w, as_):
    rid = w.opened.round.id
    name = 'หลักฐาน"; x=.html'
    r = client.post(f"/api/v1/rounds/{rid}/evidence", headers=as_("hr"), data={"step": "agreement"},
                    files={"file": (name, b"<script>alert(1)</script>", "text/html")})
    assert r.status_code == 201, r.text
    got = client.get(f"/api/v1/rounds/{rid}/evidence/{r.json()['id']}", headers=as_("hr"))
    assert got.headers["content-type"] == "application/octet-stream"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=\"") and "filename*=UTF-8''" in disposition
    assert '"; x=' not in disposition and "%E0%B8%AB" in disposition  # quoted, the Thai name encoded
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    pdf = client.post(f"/api/v1/rounds/{rid}/evidence", headers=as_("hr"), data={"step": "agreement"},
                      files={"file": ("m.pdf", b"%PDF-1.4", "application/pdf")}).json()["id"]
    assert client.get(f"/api/v1/rounds/{rid}/evidence/{pdf}", headers=as_("hr")).headers["content-type"] == "application/pdf"


def test_the_api_docs_load_every_asset_from_pmflow_under_the_csp(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "http" not in r.text.replace('href="/', "").replace('src="/', "")  # nothing from elsewhere
    assert "<script>" not in r.text  # no inline script
    for url in re.findall(r'(?:src|href)="([^"]+)"', r.text):
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 50, url
