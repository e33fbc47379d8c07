"""The web pages: server-rendered Jinja2, Thai first with an English switch, no external assets.

`install(app)` mounts /static and adds the page routes (one module per page group); the
pages call the same workflow services as the JSON API, and every action goes through
`workflow.engine.fire`.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.pages import announce, appraisal, auth, cases, committee, hr, jobs, org_level, policy, tasks

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)
for module in (auth, tasks, appraisal, committee, hr, policy, cases, announce, jobs, org_level):
    router.include_router(module.router)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(router)
