"""The interactive API docs at /api/v1/docs: Swagger UI from the `swagger-ui-bundle` package
(Apache-2.0; its licence travels in that package), served by pmflow under the same CSP as the
pages (no CDN, no inline script: the start-up script is a file of ours)."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS = "/api/v1/docs"
ASSETS = "/api/v1/docs-assets"
_START = Path(__file__).resolve().parent / "static" / "swagger-start.js"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pmflow API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-start.js"></script></body></html>"""


def install(app: FastAPI) -> None:
    import swagger_ui_bundle

    app.mount(ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get(DOCS, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_PAGE.format(assets=ASSETS, openapi=app.openapi_url))
