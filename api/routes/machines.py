"""The machines as data: each kind's states, events, roles and guards (with what each guard
checks, in Thai and English), read from the machine tables themselves, for clients and docs."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ActorDep
from api.errors import responses
from workflow.guard_texts import guard_name, guard_text
from workflow.machines import appraisal, low_performer

router = APIRouter(prefix="/api/v1", tags=["machines"])
MACHINES = {"appraisal": appraisal.MACHINE, "case": low_performer.MACHINE}
KindName = Annotated[Literal["appraisal", "case"], Path(description="the kind of workflow object")]


class GuardOut(BaseModel):
    name: str = Field(examples=["weights_sum_100"])
    th: str = Field(examples=["น้ำหนักตัวชี้วัดรวมเท่ากับ 100"])
    en: str = Field(examples=["the KPI weights sum to 100"])


class TransitionOut(BaseModel):
    event: str = Field(examples=["agree"])
    sources: list[str] = Field(examples=[["draft"]])
    dest: str | None = Field(description="null: a recorded action that keeps the state", examples=["agreed"])
    roles: list[str] = Field(examples=[["appraisee", "evaluator"]])
    guards: list[GuardOut]


class MachineOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "kind": "appraisal", "initial": "draft", "states": ["draft", "agreed"], "final": ["announced", "withdrawn"],
        "events": ["agree"], "roles": ["appraisee", "evaluator"],
        "transitions": [{"event": "agree", "sources": ["draft"], "dest": "agreed", "roles": ["appraisee", "evaluator"],
                         "guards": [{"name": "weights_sum_100", "th": "น้ำหนักตัวชี้วัดรวมเท่ากับ 100",
                                     "en": "the KPI weights sum to 100"}]}]}]})
    kind: str
    initial: str
    states: list[str]
    final: list[str]
    events: list[str]
    roles: list[str]
    transitions: list[TransitionOut]


def machine_out(kind: str) -> MachineOut:
    m = MACHINES[kind]
    return MachineOut(
        kind=kind, initial=m.initial, states=list(m.states), final=sorted(m.final), events=list(m.events),
        roles=sorted({r for row in m.table for r in row.roles}),
        transitions=[TransitionOut(event=row.event, sources=list(row.sources), dest=row.dest, roles=sorted(row.roles),
                                   guards=[GuardOut(name=guard_name(g), th=guard_text(g)[0], en=guard_text(g)[1])
                                           for g in row.guards])
                     for row in m.table])


@router.get("/machines/{kind}", response_model=MachineOut, responses=responses(401, 404, 422),
            summary="A machine's table: states, events, roles, guards / ตารางสถานะ")
def get_machine(kind: KindName, actor: ActorDep) -> MachineOut:
    return machine_out(kind)
