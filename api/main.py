"""The FastAPI application."""
from __future__ import annotations

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from api import errors
from api.deps import reject_nul
from api.middleware import BodySizeLimit
from api.scheduler import lifespan  # the reminder scheduler in the single-process default (issue 5)
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
    _include_routers(app, settings)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": VERSION}

    return app


def _include_routers(app: FastAPI, settings) -> None:  # noqa: ANN001
    # One import and one include line per area.
    from api import auth
    from api.routes import accounts, appraisals, committees, orgs, policies, rounds

    app.include_router(auth.router)
    from api.routes import inbox  # issue 5
    app.include_router(inbox.router)
    app.include_router(appraisals.router)
    app.include_router(orgs.router)
    app.include_router(accounts.router)
    app.include_router(policies.router)
    app.include_router(rounds.router)
    app.include_router(committees.router)
    from api.routes import cases, reports, roster, screening  # issue 4: cases, committee work, reports, roster
    for r in (cases.router, screening.router, reports.router, roster.router):
        app.include_router(r)
    from api.routes import agency_assessments, kpi_sets, org_kpis  # the organisation level
    for r in (org_kpis.router, kpi_sets.router, agency_assessments.router):
        app.include_router(r)
    from api import pages  # the web pages (issue 6): /static and the page routes
    pages.install(app)
    if settings.bench_routes:
        from api.routes import bench

        app.include_router(bench.router)


app = create_app()
