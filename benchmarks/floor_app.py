"""The app the HTTP benchmark serves (`uvicorn benchmarks.floor_app:app`): pmflow's own, plus
a floor route: one version-checked UPDATE plus one INSERT, with none of the workflow around
it. It skips sign-in and the rules on purpose, so it lives here and never in `api/`."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import JSONResponse
from sqlalchemy import insert, update

from api.deps import SessionDep
from api.main import create_app
from db.models import Appraisal, Event, utcnow

router = APIRouter(prefix="/api/v1/bench", tags=["bench"], include_in_schema=False)


@router.post("/floor/{appraisal_id}")
def floor_write(appraisal_id: Annotated[int, Path(ge=1)], session: SessionDep,
                if_match: Annotated[str, Header(alias="If-Match", max_length=20)]) -> JSONResponse:
    version = int(if_match.strip().strip('"'))
    now = utcnow()
    done = session.execute(update(Appraisal).where(Appraisal.id == appraisal_id, Appraisal.version == version)
                           .values(version=Appraisal.version + 1, updated_at=now))
    if done.rowcount != 1:
        session.rollback()
        return JSONResponse({"message": "stale"}, status_code=409)
    session.execute(insert(Event).values(entity_type="bench_floor", entity_id=appraisal_id, seq=version + 1,
                                         event="floor", actor="bench", at=now, payload="{}", reason="",
                                         prev_hash="", hash=""))
    session.commit()
    return JSONResponse({"id": appraisal_id, "version": version + 1})


app = create_app()
app.include_router(router)
