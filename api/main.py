"""The FastAPI application."""
from __future__ import annotations

from fastapi import FastAPI

from api.version import VERSION


def create_app() -> FastAPI:
    app = FastAPI(title="pmflow", version=VERSION,
                  description="ระบบบริหารผลการปฏิบัติงาน / Performance-management workflow",
                  openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs", redoc_url=None)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": VERSION}

    return app


app = create_app()
