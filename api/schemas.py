"""What goes out of (and into) the API: typed shapes, separate from the tables."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

T = TypeVar("T")


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time we store is UTC.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _z(value: datetime) -> str:
    # The one serialiser: every timestamp leaves the API in UTC, ending in Z.
    return _utc(value).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


UtcDateTime = Annotated[datetime, AfterValidator(_utc), PlainSerializer(_z, return_type=str, when_used="json")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(examples=[120], description="how many match the filters")
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])
    next_after: int | None = Field(None, examples=[4211], description=(
        "where the list is ordered by id: pass it as `after` for the next page (keyset paging, "
        "as fast at page 1,000 as at page 1); null when the page came back short"))


# --- workflow events (any kind) -----------------------------------------------------------------
class EventIn(BaseModel):
    """Fire one event. The expected version goes in `If-Match` (or here as `version`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"version": 3, "comment": "ตกลงตามนี้", "payload": {}},
        {"payload": {"kpis": [{"title": "ร้อยละของงานที่แล้วเสร็จตามกำหนด", "weight": 100}]}},
    ]})
    version: int | None = Field(None, ge=0, le=2**31 - 1, description="the version the caller last saw")
    comment: str | None = Field(None, max_length=4000, description="recorded with the event")
    payload: dict[str, Any] | None = Field(None, description="the event's data (see each event)")


class EventResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "kind": "appraisal", "id": 42, "event": "agree", "from_state": "draft", "state": "agreed",
        "version": 5, "event_id": 1234, "available_events": ["change_kpis", "review_progress", "sign_agreement"]}]})
    kind: str
    id: int
    event: str
    from_state: str
    state: str
    version: int
    event_id: int | None
    available_events: list[str]


class HistoryEvent(BaseModel):
    seq: int
    event: str = Field(examples=["agree"])
    from_state: str | None
    to_state: str | None
    actor: str
    actor_account_id: int | None
    at: UtcDateTime
    payload: dict[str, Any]
    reason: str
    hash: str


class ProblemText(BaseModel):
    field: str = Field(examples=["signatures"])
    th: str = Field(examples=["ยังไม่ได้ลงนาม: ผู้รับการประเมิน"])
    en: str = Field(examples=["not yet signed by: appraisee"])


class NextStepOut(BaseModel):
    """One event the caller may fire now, and whether it would succeed."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"event": "agree", "ready": False, "problems": [
            {"field": "signatures", "th": "ยังไม่ได้ลงนาม: ผู้รับการประเมิน", "en": "not yet signed by: appraisee"}],
         "inputs": []},
        {"event": "review_progress", "ready": True, "problems": [],
         "inputs": [{"field": "note", "th": "ต้องบันทึกผลการติดตาม", "en": "a progress note is required"}]}]})
    event: str
    ready: bool = Field(description="every guard holds on what is recorded now")
    problems: list[ProblemText] = Field(description="what the guards would refuse now (empty when ready)")
    inputs: list[ProblemText] = Field(description="payload keys the event needs from the caller")


def next_steps_out(steps) -> list[NextStepOut]:  # noqa: ANN001
    return [NextStepOut(event=s.event, ready=s.ready,
                        problems=[ProblemText(field=p.field, th=p.th, en=p.en) for p in s.problems],
                        inputs=[ProblemText(field=p.field, th=p.th, en=p.en) for p in s.inputs]) for s in steps]


# --- appraisals ---------------------------------------------------------------------------------
class PersonRef(BaseModel):
    id: int
    code: str = Field(examples=["T00012"])
    name_th: str
    name_en: str = ""


class KpiOut(BaseModel):
    id: int
    position: int
    title: str
    source: str = Field(examples=["strategic"])
    weight: int = Field(examples=[60])
    level_descriptions: list[str]
    org_kpi_id: int | None
    evidence: str
    level: int | None = Field(examples=[4])


class CompetencyOut(BaseModel):
    id: int
    position: int
    code: str
    name_th: str
    name_en: str
    expected_level: int
    score: int | None


class SignatureOut(BaseModel):
    id: int
    kind: str = Field(examples=["agreement"])
    role: str = Field(examples=["appraisee"])
    revision: int
    person_id: int | None
    name: str
    signed_at: UtcDateTime


class NoteOut(BaseModel):
    id: int
    author_person_id: int | None
    text: str
    created_at: UtcDateTime


class AppraisalSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 42, "round_id": 3, "person": {"id": 7, "code": "T00007", "name_th": "สมชาย ใจดี", "name_en": ""},
        "org_unit_id": 2, "staff_type": "civil_servant", "evaluator_id": 5, "superior_id": 4,
        "state": "draft", "version": 1, "total_percent": None, "rating_code": None,
        "updated_at": "2026-10-01T08:00:00Z", "roles": ["evaluator"],
        "available_events": ["edit_agreement", "sign_agreement", "agree"]}]})
    id: int
    round_id: int
    person: PersonRef
    org_unit_id: int
    staff_type: str
    evaluator_id: int | None
    superior_id: int | None
    state: str
    version: int
    total_percent: str | None = Field(description="0-100, two decimals, as text")
    rating_code: str | None
    updated_at: UtcDateTime
    roles: list[str] = Field(description="the caller's roles on this appraisal")
    available_events: list[str] = Field(description="the events the caller may fire now")


class OpenCaseOut(BaseModel):
    """The person's low-performer case still open from an earlier round, and its plan."""

    id: int
    round_id: int
    state: str
    consecutive_low_rounds: int
    weakness_analysis: str
    development_plan: str
    development_plan_items: list[dict] = Field(default_factory=list)
    plan_revision: int


class AppraisalOut(AppraisalSummary):
    open_case: OpenCaseOut | None = Field(None, description=(
        "the person's low-performer case still open from an earlier round (shown to the evaluator)"))
    agreement_revision: int
    results_percent: str | None
    competency_percent: str | None
    development_plan: str
    acknowledged_at: UtcDateTime | None
    refusal_witness: str | None
    refused_on: date | None
    superior_opinion: str | None
    superior_total_percent: str | None
    superior_reason: str | None
    superior2_id: int | None = Field(None, description="the second superior above, where the policy has two levels")
    superior2_opinion: str | None = None
    superior2_total_percent: str | None = None
    superior2_reason: str | None = None
    kpis: list[KpiOut]
    competencies: list[CompetencyOut]
    signatures: list[SignatureOut]
    progress_notes: list[NoteOut]
    next_steps: list[NextStepOut] = Field(default_factory=list, description=(
        "each event in available_events with `ready` and, when not ready, the problems its guards report now"))
