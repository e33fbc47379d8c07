"""The FastAPI application."""
from __future__ import annotations

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

import workflow.kinds  # noqa: F401  (the workflow kinds and their hooks)
from api import errors, i18n
from api.deps import reject_huge_ids, reject_nul
from api.middleware import BodySizeLimit, RequestId, SecurityHeaders
from api.scheduler import lifespan  # runs the reminder scheduler in the single-process default
from api.version import VERSION
from workflow.settings import get_settings


def create_app(engine: Engine | None = None) -> FastAPI:
    """The application; `engine` (tests, benchmarks) or else PMFLOW_DATABASE_URL's."""
    app = FastAPI(title="pmflow", version=VERSION,
                  description="ระบบบริหารผลการปฏิบัติงาน / Performance-management workflow",
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None, lifespan=lifespan,
                  dependencies=[Depends(reject_nul), Depends(reject_huge_ids)], responses=errors.responses(422))
    app.state.engine = engine  # None: api.deps.get_engine opens the default one on first use
    settings = get_settings()  # with PMFLOW_ENV=production: refuses to build without a secret key
    app.state.settings = settings
    i18n.check_catalogues()  # the pages' compiled catalogues (make setup builds them)
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestId)  # outermost: every answer, even a 413, has its X-Request-ID
    _include_routers(app)
    from api import docs  # the interactive API docs, every asset served from here

    docs.install(app)
    return app


def _include_routers(app: FastAPI) -> None:
    from api import auth, pages
    from api.routes import (
        accounts,
        appraisals,
        cases,
        committees,
        health,
        inbox,
        org_policy,
        orgs,
        policies,
        reports,
        roster,
        rounds,
        tasks,
    )

    for r in (health.router, auth.router, inbox.router, appraisals.router, orgs.router, accounts.router,
              policies.router, rounds.router, committees.router, cases.router, reports.router, roster.router,
              tasks.router, org_policy.router):
        app.include_router(r)
    from api.routes import jobs, machines  # the machine tables as data; background jobs
    app.include_router(machines.router)
    app.include_router(jobs.router)
    from api import openapi_events  # one documented operation per event
    openapi_events.install(app)
    from api.routes import documents  # templates checked at start, case forms, ITA pack
    documents.install(app)
    from api.routes import agency_assessments, kpi_sets, org_kpis  # the organisation level
    for r in (org_kpis.router, kpi_sets.router, agency_assessments.router):
        app.include_router(r)
    pages.install(app)  # /static and the web pages


app = create_app()
