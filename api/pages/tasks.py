"""My tasks: everything waiting for the signed-in user (`workflow.tasks`), and their notifications."""
from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.i18n import N_
from api.pages.common import FormDep, ViewerDep, render
from workflow import tasks
from workflow.calendar import today
from workflow.notifications import inbox as inbox_service
from workflow.notifications import pending

router = APIRouter()
# The heading of each group of tasks (`workflow.tasks.ACTIONS` gives their order).
GROUPS = {
    pending.SIGN_AGREEMENT: N_("Sign performance agreements"),
    pending.CONFIRM_AGREEMENT: N_("Confirm signed agreements"),
    pending.ASSIGN_EVALUATOR: N_("Assign an evaluator"),
    pending.MID_ROUND_REVIEW: N_("Mid-round reviews"),
    pending.SCORE: N_("Score appraisals"),
    pending.ACKNOWLEDGE: N_("Acknowledge your result"),
    pending.GIVE_OPINION: N_("Give your opinion as superior"),
    pending.SUBMIT: N_("Submit to the committee"),
    pending.COMMITTEE_REVIEW: N_("Review in committee"),
    pending.ANNOUNCE: N_("Approve and announce results"),
    pending.CASE_MEASURE: N_("Low-performer case measures"),
}


@router.get("/")
def tasks_page(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    actor = viewer.actor
    day = today()
    groups = tasks.my_tasks(session, actor, day)
    inbox, _, unread = inbox_service.messages(session, actor, limit=20)
    return render(request, "tasks.html", viewer, active="tasks", groups=groups, group_titles=GROUPS,
                  inbox=inbox, unread=unread, mine=tasks.my_appraisals(session, actor), today=day)


@router.post("/inbox/read-all")
def read_all(viewer: ViewerDep, session: SessionDep, _form: FormDep) -> Response:
    inbox_service.mark_all_read(session, viewer.actor, now=datetime.now(UTC))
    return RedirectResponse("/#h-inbox", status_code=303)
