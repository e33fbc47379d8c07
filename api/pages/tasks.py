"""My tasks: everything waiting for the signed-in user (`workflow.tasks`), and their notifications."""
from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.pages.common import FormDep, ViewerDep, lang_of, render
from workflow import labels, tasks
from workflow.calendar import today
from workflow.notifications import inbox as inbox_service
from workflow.rounds import rounds_by_id

router = APIRouter()


@router.get("/")
def tasks_page(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    actor = viewer.actor
    day = today()
    groups = tasks.my_tasks(session, actor, day)
    lang = lang_of(request, viewer)
    titles = {code: labels.label(labels.ACTIONS, code, lang) for code in groups}
    inbox, _, unread = inbox_service.messages(session, actor, limit=20)
    own, rounds = tasks.by_round(groups)
    round_rows = rounds_by_id(session, rounds)
    return render(request, "tasks.html", viewer, active="tasks", groups=groups, group_titles=titles,
                  own=own, rounds=rounds, round_rows=round_rows,
                  inbox=inbox, unread=unread, mine=tasks.my_appraisals(session, actor), today=day)


@router.post("/inbox/read-all")
def read_all(viewer: ViewerDep, session: SessionDep, _form: FormDep) -> Response:
    inbox_service.mark_all_read(session, viewer.actor, now=datetime.now(UTC))
    return RedirectResponse("/#h-inbox", status_code=303)
