"""The server runs the reminder scheduler itself in the single-process default (one worker,
PMFLOW_SCHEDULER not "off"); with several workers `pmflow scheduler` runs it instead."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    from workflow.notifications.scheduler import SchedulerService, in_process_enabled

    service = None
    if in_process_enabled(getattr(app.state, "settings", None)):
        from db.session import default_engine

        service = SchedulerService(getattr(app.state, "engine", None) or default_engine(), name="in-process").start()
    app.state.scheduler = service
    try:
        yield
    finally:
        if service is not None:
            service.stop()
