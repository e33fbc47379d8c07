"""The FastAPI application."""
from __future__ import annotations

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from api import errors
from api.deps import reject_nul
from api.middleware import BodySizeLimit
from api.scheduler import lifespan  # runs the reminder scheduler in the single-process default
from api.settings import get_settings
from api.version import VERSION


def create_app(engine: Engine | None = None) -> FastAPI:
    """The application; `engine` (tests, benchmarks) or else PMFLOW_DATABASE_URL's."""
    app = FastAPI(title="pmflow", version=VERSION,
                  description="ระบบบริหารผลการปฏิบัติงาน / Performance-management workflow",
                  openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs", redoc_url=None, lifespan=lifespan,
                  dependencies=[Depends(reject_nul)], responses=errors.responses(422))
    app.state.engine = engine  # None: api.deps.get_engine opens the default one on first use
    settings = get_settings()
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    _include_routers(app)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": VERSION}

    return app


def _include_routers(app: FastAPI) -> None:
    from api import auth, pages
    from api.routes import accounts, appraisals, cases, committees, inbox, orgs, policies, reports, roster, rounds

    for r in (auth.router, inbox.router, appraisals.router, orgs.router, accounts.router, policies.router,
              rounds.router, committees.router, cases.router, reports.router, roster.router):
        app.include_router(r)
    from api.routes import jobs, machines  # the machine tables as data; background jobs
    app.include_router(machines.router)
    app.include_router(jobs.router)
    from api import openapi_events  # one documented operation per event
    openapi_events.install(app)
    pages.install(app)  # /static and the web pages


app = create_app()
