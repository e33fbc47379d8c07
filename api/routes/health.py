"""Liveness and readiness for a load balancer or an orchestrator: `/health` answers while the
process runs; `/ready` also needs the database (503 when it cannot answer)."""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import get_engine
from api.version import VERSION

router = APIRouter(tags=["health"])
log = logging.getLogger("pmflow")


@router.get("/health", summary="The process answers")
def health() -> dict[str, str]:
    return {"status": "ok", "version": VERSION}


@router.get("/ready", summary="The process and its database answer (503 when the database cannot)",
            responses={503: {"description": "the database cannot be reached"}})
def ready(request: Request) -> JSONResponse:
    try:
        with get_engine(request).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("not ready: the database cannot be reached (%s)", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "database": "unreachable", "version": VERSION},
                            status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ready", "database": "ok", "version": VERSION})
