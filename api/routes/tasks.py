"""My tasks over HTTP: what the page shows (`workflow.tasks`), as JSON."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ActorDep, SessionDep
from api.errors import responses
from workflow import labels, tasks
from workflow.calendar import today

router = APIRouter(prefix="/api/v1", tags=["tasks"])


class TaskOut(BaseModel):
    link: str = Field(examples=["/appraisals/42"])
    subject: str = Field(description="whose appraisal or case it is")
    state: str
    due: date | None = Field(description="the due date of the milestone this task works towards")
    overdue: bool


class TaskGroup(BaseModel):
    action: str = Field(examples=["sign_agreement"])
    th: str
    en: str
    tasks: list[TaskOut]


@router.get("/tasks", response_model=list[TaskGroup], responses=responses(401),
            summary="Everything waiting for the caller, grouped by what to do / งานที่รอท่าน")
def my_tasks(session: SessionDep, actor: ActorDep) -> list[TaskGroup]:
    groups = tasks.my_tasks(session, actor, today())
    return [TaskGroup(action=code, th=labels.ACTIONS[code][0], en=labels.ACTIONS[code][1],
                      tasks=[TaskOut(link=t.link, subject=t.subject, state=t.state, due=t.due, overdue=t.overdue)
                             for t in items])
            for code, items in groups.items()]
