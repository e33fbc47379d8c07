"""The tables. Plain data, no rules: the rules live in `workflow/`.

Every table works on SQLite and PostgreSQL alike. Times are stored in UTC; dates are dates.
Schema changes go through Alembic (`db/migrations`), never `create_all` outside tests.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kw)


# --- organisations, people, accounts --------------------------------------------------------------
class OrgUnit(SQLModel, table=True):
    """A node of the organisation tree: province or area office, agency or group, unit."""

    __tablename__ = "org_unit"
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)
    name_th: str = Field(max_length=300)
    name_en: str = Field(default="", max_length=300)
    kind: str = Field(default="unit", max_length=32)  # province, area_office, agency, group, unit
    parent_id: Optional[int] = Field(default=None, foreign_key="org_unit.id", index=True)
    # Materialised path "/1/4/9/" so a subtree is one LIKE query.
    path: str = Field(default="/", max_length=1000, index=True)
    # The policy this organisation runs its cycle with (None: inherit from the nearest ancestor).
    policy_version_id: Optional[int] = Field(default=None, foreign_key="policy_version.id")


class Person(SQLModel, table=True):
    __tablename__ = "person"
    id: Optional[int] = Field(default=None, primary_key=True)
    # The staff number HR uses; the key a roster import matches on.
    code: str = Field(unique=True, max_length=64)
    name_th: str = Field(max_length=300)
    name_en: str = Field(default="", max_length=300)
    position: str = Field(default="", max_length=300)
    position_level: str = Field(default="", max_length=100)
    staff_type: str = Field(max_length=32)  # civil_servant, permanent_employee, government_employee
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    evaluator_id: Optional[int] = Field(default=None, foreign_key="person.id", index=True)
    superior_id: Optional[int] = Field(default=None, foreign_key="person.id", index=True)
    email: str = Field(default="", max_length=320)
    salary: Optional[Decimal] = Field(default=None, sa_type=Numeric(12, 2))
    active: bool = Field(default=True)
    locale: str = Field(default="th", max_length=8)


class Account(SQLModel, table=True):
    __tablename__ = "account"
    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=150)
    password_hash: str = Field(max_length=300)
    person_id: Optional[int] = Field(default=None, foreign_key="person.id", index=True)
    is_admin: bool = Field(default=False)
    active: bool = Field(default=True)
    failed_logins: int = Field(default=0)
    locked_until: Optional[datetime] = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = _ts()


class RoleAssignment(SQLModel, table=True):
    """An organisation-scoped role: hr, authority, committee or admin over a subtree."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("account_id", "role", "org_unit_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    role: str = Field(max_length=32)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)


class AuthToken(SQLModel, table=True):
    """A bearer token or browser session; only its hash is stored."""

    __tablename__ = "auth_token"
    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=128)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(default="bearer", max_length=16)  # bearer | cookie
    csrf_token: str = Field(default="", max_length=128)
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    revoked: bool = Field(default=False)
    # The tokens one sign-in issued (its bearer token and its cookie session) share this: signing
    # out with either ends both.
    sign_in: str = Field(default="", max_length=32, index=True)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per account AND source address: a lock here stops one source guessing one
    account's password without letting anyone lock the account for everyone else."""

    __tablename__ = "login_throttle"
    account_id: int = Field(foreign_key="account.id", primary_key=True)
    source: str = Field(max_length=64, primary_key=True)
    failures: int = Field(default=0)
    locked_until: Optional[datetime] = Field(default=None, sa_type=DateTime(timezone=True))


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("account_id", "key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=128)
    status_code: int
    body: str = Field(sa_type=Text)
    created_at: datetime = _ts()


# --- policy, calendar ----------------------------------------------------------------------------
class PolicyVersion(SQLModel, table=True):
    """One immutable version of a policy file; a round keeps the version it was opened with."""

    __tablename__ = "policy_version"
    __table_args__ = (UniqueConstraint("code", "version"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=64)
    version: int = Field(default=1)
    content: str = Field(sa_type=Text)  # the TOML text as loaded
    content_hash: str = Field(max_length=64)
    created_at: datetime = _ts()


class PolicyAttachment(SQLModel, table=True):
    """An organisation attached a policy version: who and when. Every attachment is kept; the
    organisation's `policy_version_id` is the one in force."""

    __tablename__ = "policy_attachment"
    id: Optional[int] = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    policy_version_id: int = Field(foreign_key="policy_version.id")
    account_id: Optional[int] = Field(default=None, foreign_key="account.id")
    actor: str = Field(max_length=300)
    attached_at: datetime = _ts()


class Round(SQLModel, table=True):
    __tablename__ = "round"
    __table_args__ = (UniqueConstraint("org_unit_id", "fiscal_year", "number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    fiscal_year: int  # Buddhist era, e.g. 2569
    number: int  # 1 or 2
    starts_on: date
    ends_on: date
    policy_version_id: int = Field(foreign_key="policy_version.id")
    status: str = Field(default="open", max_length=16)  # open | closed
    opened_at: datetime = _ts()


class Milestone(SQLModel, table=True):
    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("round_id", "code"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    code: str = Field(max_length=64)
    due_on: date
    name_th: str = Field(default="", max_length=300)
    name_en: str = Field(default="", max_length=300)


class MilestoneChange(SQLModel, table=True):
    """HR moved a milestone's due date for one round: from, to, who and when."""

    __tablename__ = "milestone_change"
    id: Optional[int] = Field(default=None, primary_key=True)
    milestone_id: int = Field(foreign_key="milestone.id", index=True)
    from_date: date
    to_date: date
    account_id: Optional[int] = Field(default=None, foreign_key="account.id")
    actor: str = Field(max_length=300)
    changed_at: datetime = _ts()


# --- the appraisal -------------------------------------------------------------------------------
class Appraisal(SQLModel, table=True):
    __tablename__ = "appraisal"
    __table_args__ = (
        UniqueConstraint("round_id", "person_id"),
        Index("ix_appraisal_round_state", "round_id", "state"),
        # A round's appraisals in id order: a list's pages, without walking other rounds' rows.
        Index("ix_appraisal_round_id", "round_id", "id"),
        # A round's counts by unit and state (the dashboard, the progress report) and the
        # visibility test of HR's lists read this index alone, never the table.
        Index("ix_appraisal_round_unit_state", "round_id", "org_unit_id", "state",
              postgresql_include=["person_id", "evaluator_id", "superior_id", "superior2_id"]),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    # Snapshots taken at opening: a person who moves keeps this round's unit and staff type.
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    staff_type: str = Field(max_length=32)
    evaluator_id: Optional[int] = Field(default=None, foreign_key="person.id", index=True)
    superior_id: Optional[int] = Field(default=None, foreign_key="person.id", index=True)
    state: str = Field(default="draft", max_length=32)
    # Equals the number of events in this appraisal's history: the optimistic lock and a
    # tamper check (a deleted event makes the chain shorter than the version).
    version: int = Field(default=0)
    agreement_revision: int = Field(default=1)
    results_percent: Optional[Decimal] = Field(default=None, sa_type=Numeric(5, 2))
    competency_percent: Optional[Decimal] = Field(default=None, sa_type=Numeric(5, 2))
    total_percent: Optional[Decimal] = Field(default=None, sa_type=Numeric(5, 2))
    rating_code: Optional[str] = Field(default=None, max_length=32)
    development_plan: str = Field(default="", sa_type=Text)
    acknowledged_at: Optional[datetime] = Field(default=None, sa_type=DateTime(timezone=True))
    refusal_witness: Optional[str] = Field(default=None, max_length=300)
    refused_on: Optional[date] = None
    superior_opinion: Optional[str] = Field(default=None, max_length=16)  # agree | differ
    superior_total_percent: Optional[Decimal] = Field(default=None, sa_type=Numeric(5, 2))
    superior_reason: Optional[str] = Field(default=None, sa_type=Text)
    # The superior above the superior above, where the policy asks for a second opinion
    # (superior_levels = 2); taken at opening like superior_id.
    superior2_id: Optional[int] = Field(default=None, foreign_key="person.id", index=True)
    superior2_opinion: Optional[str] = Field(default=None, max_length=16)  # agree | differ
    superior2_total_percent: Optional[Decimal] = Field(default=None, sa_type=Numeric(5, 2))
    superior2_reason: Optional[str] = Field(default=None, sa_type=Text)
    updated_at: datetime = _ts()


class Kpi(SQLModel, table=True):
    __tablename__ = "kpi"
    id: Optional[int] = Field(default=None, primary_key=True)
    appraisal_id: int = Field(foreign_key="appraisal.id", index=True)
    position: int = Field(default=0)
    title: str = Field(max_length=500)
    source: str = Field(default="role", max_length=16)  # strategic | role | assigned
    weight: int
    level_descriptions: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    org_kpi_id: Optional[int] = Field(default=None, foreign_key="org_kpi.id", index=True)
    evidence: str = Field(default="", sa_type=Text)
    level: Optional[int] = None


class Competency(SQLModel, table=True):
    __tablename__ = "competency"
    id: Optional[int] = Field(default=None, primary_key=True)
    appraisal_id: int = Field(foreign_key="appraisal.id", index=True)
    position: int = Field(default=0)
    code: str = Field(max_length=64)
    name_th: str = Field(max_length=300)
    name_en: str = Field(default="", max_length=300)
    expected_level: int = Field(default=3)
    score: Optional[int] = None


class Signature(SQLModel, table=True):
    __tablename__ = "signature"
    id: Optional[int] = Field(default=None, primary_key=True)
    appraisal_id: Optional[int] = Field(default=None, foreign_key="appraisal.id", index=True)
    case_id: Optional[int] = Field(default=None, foreign_key="low_performer_case.id", index=True)
    kind: str = Field(max_length=32)  # agreement | acknowledgment | refusal_witness | commitment | plan
    role: str = Field(max_length=32)  # appraisee | evaluator | superior | witness
    revision: int = Field(default=1)
    person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    name: str = Field(default="", max_length=300)
    signed_at: datetime = _ts()


class ProgressNote(SQLModel, table=True):
    __tablename__ = "progress_note"
    id: Optional[int] = Field(default=None, primary_key=True)
    appraisal_id: int = Field(foreign_key="appraisal.id", index=True)
    author_person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    text: str = Field(sa_type=Text)
    created_at: datetime = _ts()


class OrgKpi(SQLModel, table=True):
    """An organisation's KPI that individual KPIs cascade from (Rayong's cascade)."""

    __tablename__ = "org_kpi"
    __table_args__ = (UniqueConstraint("org_unit_id", "fiscal_year", "code", name="uq_org_kpi_org_year_code"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    fiscal_year: int
    code: str = Field(max_length=64)
    title: str = Field(max_length=500)
    parent_id: Optional[int] = Field(default=None, foreign_key="org_kpi.id")
    weight: int = Field(default=0)  # whole percent of the organisation's plan
    level_descriptions: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # targets 1..5
    # Retired, never deleted: individual KPIs may still point at it.
    retired: bool = Field(default=False)


class KpiSet(SQLModel, table=True):
    """KPIs kept for a position in an organisation: an evaluator starts an agreement from it."""

    __tablename__ = "kpi_set"
    __table_args__ = (UniqueConstraint("org_unit_id", "position", name="uq_kpi_set_org_position"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    position: str = Field(max_length=300)
    kpis: list[dict] = Field(default_factory=list, sa_column=Column(JSON))  # as an agreement's KPIs
    updated_at: datetime = _ts()


# --- the agency assessment (Rayong: an agency assessed in four dimensions) -------------------------
class AgencyAssessment(SQLModel, table=True):
    """One per agency per fiscal year. The plan, levels and result are JSON texts written by the
    engine's pure effects; the dimensions are the policy's, copied at opening."""

    __tablename__ = "agency_assessment"
    __table_args__ = (UniqueConstraint("org_unit_id", "fiscal_year", name="uq_agency_assessment_org_year"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)  # the agency
    province_id: int = Field(foreign_key="org_unit.id", index=True)  # who assesses it (its parent)
    fiscal_year: int
    policy_version_id: int = Field(foreign_key="policy_version.id")
    state: str = Field(default="draft", max_length=32)
    version: int = Field(default=0)
    dimensions: str = Field(default="[]", sa_type=Text)  # [{code, th, en, weight}]
    plan: str = Field(default="[]", sa_type=Text)  # [{id, dimension, code, title, weight, levels, org_kpi_id}]
    levels: str = Field(default="{}", sa_type=Text)  # {kpi id: level 1..5}
    result: str = Field(default="{}", sa_type=Text)  # dimension percents and the working
    total_percent: Optional[Decimal] = Field(default=None, sa_type=Numeric(5, 2))
    rating_code: Optional[str] = Field(default=None, max_length=32)
    review_comment: str = Field(default="", sa_type=Text)
    updated_at: datetime = _ts()


class AgencyMilestone(SQLModel, table=True):
    """An agency assessment's due dates (the SARs at 6, 9 and 12 months of the fiscal year)."""

    __tablename__ = "agency_milestone"
    __table_args__ = (UniqueConstraint("assessment_id", "code", name="uq_agency_milestone_code"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="agency_assessment.id", index=True)
    code: str = Field(max_length=32)  # sar_6 | sar_9 | sar_12
    due_on: date


class AgencySar(SQLModel, table=True):
    """A self-assessment report's line: progress on one KPI of the plan, with its evidence."""

    __tablename__ = "agency_sar"
    id: Optional[int] = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="agency_assessment.id", index=True)
    milestone: str = Field(max_length=32)  # sar_6 | sar_9 | sar_12
    kpi_id: str = Field(max_length=64)  # the plan's KPI id
    progress: str = Field(default="", sa_type=Text)
    level: Optional[int] = None  # the agency's own estimate, 1..5
    evidence: str = Field(default="", sa_type=Text)
    author_person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    created_at: datetime = _ts()


# --- committee and low-performer cases -----------------------------------------------------------
class Committee(SQLModel, table=True):
    __tablename__ = "committee"
    __table_args__ = (UniqueConstraint("org_unit_id", "round_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    round_id: Optional[int] = Field(default=None, foreign_key="round.id", index=True)
    name_th: str = Field(default="คณะกรรมการกลั่นกรองผลการประเมิน", max_length=300)


class CommitteeMember(SQLModel, table=True):
    __tablename__ = "committee_member"
    __table_args__ = (UniqueConstraint("committee_id", "person_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    committee_id: int = Field(foreign_key="committee.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    is_chair: bool = Field(default=False)


class LowPerformerCase(SQLModel, table=True):
    __tablename__ = "low_performer_case"
    __table_args__ = (UniqueConstraint("appraisal_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    appraisal_id: int = Field(foreign_key="appraisal.id")  # the triggering appraisal
    # The next round's appraisal of the same person, whose announced result moves the case on.
    follow_up_appraisal_id: Optional[int] = Field(default=None, foreign_key="appraisal.id")
    round_id: int = Field(foreign_key="round.id", index=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    state: str = Field(default="opened", max_length=32)
    version: int = Field(default=0)
    consecutive_low_rounds: int = Field(default=1)
    weakness_analysis: str = Field(default="", sa_type=Text)
    development_plan: str = Field(default="", sa_type=Text)
    # The individual development plan: [{area, topic, method, due_on}], what to develop, how, by when.
    development_plan_items: list[dict] = Field(default_factory=list, sa_column=Column(JSON))
    # A still-low follow-up opens a new revision of the plan, agreed again by the supervisor and HR.
    plan_revision: int = Field(default=1)
    flagged_for_action: bool = Field(default=False)
    updated_at: datetime = _ts()


class CaseMeasure(SQLModel, table=True):
    __tablename__ = "case_measure"
    __table_args__ = (UniqueConstraint("case_id", "kind"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="low_performer_case.id", index=True)
    kind: str = Field(max_length=32)  # coaching | training | commitment | job_assignment | job_rotation
    status: str = Field(default="not_started", max_length=16)  # not_started | in_progress | done | skipped
    note: str = Field(default="", sa_type=Text)


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"
    id: Optional[int] = Field(default=None, primary_key=True)
    case_id: Optional[int] = Field(default=None, foreign_key="low_performer_case.id", index=True)
    measure_id: Optional[int] = Field(default=None, foreign_key="case_measure.id")
    round_id: Optional[int] = Field(default=None, foreign_key="round.id")
    # For a round's evidence (the report to the parent organisation): the PM step it supports.
    step: Optional[str] = Field(default=None, max_length=64)
    filename: str = Field(max_length=300)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_type=LargeBinary)
    note: str = Field(default="", sa_type=Text)
    uploaded_by: Optional[int] = Field(default=None, foreign_key="account.id")
    uploaded_at: datetime = _ts()


class HrCriteria(SQLModel, table=True):
    """An organisation's HR criteria for a fiscal year as HR fills in Ubon's form (recruitment,
    appointment, development, reward and discipline): what it uses and the evidence it names."""

    __tablename__ = "hr_criteria"
    __table_args__ = (UniqueConstraint("org_unit_id", "fiscal_year"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    fiscal_year: int
    items: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by: Optional[int] = Field(default=None, foreign_key="account.id")
    updated_at: datetime = _ts()


# --- notifications -------------------------------------------------------------------------------
class Outbox(SQLModel, table=True):
    """One message decided for one recipient: the unique key makes each reminder go out once."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("milestone_id", "offset_key", "recipient_person_id", "channel"),
                      UniqueConstraint("agency_milestone_id", "offset_key", "recipient_person_id", "channel",
                                       name="uq_outbox_agency_key"),
                      CheckConstraint("(milestone_id IS NULL) <> (agency_milestone_id IS NULL)",
                                      name="ck_outbox_one_milestone"),
                      Index("ix_outbox_status_next", "status", "next_attempt_at"),
                      # The deliveries due, in id order: the waiting few among every message sent.
                      Index("ix_outbox_pending", "id", postgresql_where=text("status = 'pending'"),
                            sqlite_where=text("status = 'pending'")))
    id: Optional[int] = Field(default=None, primary_key=True)
    # A round's milestone, or an agency assessment's SAR milestone: exactly one of the two.
    milestone_id: Optional[int] = Field(default=None, foreign_key="milestone.id", index=True)
    agency_milestone_id: Optional[int] = Field(default=None, foreign_key="agency_milestone.id", index=True)
    offset_key: str = Field(max_length=32)  # "-14", "-7", ..., "overdue:2026-04-03"
    recipient_person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(max_length=16)  # email | inbox | webhook
    subject: str = Field(default="", max_length=500)
    body: str = Field(default="", sa_type=Text)
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = Field(default=0)
    next_attempt_at: Optional[datetime] = Field(default=None, sa_type=DateTime(timezone=True))
    last_error: str = Field(default="", sa_type=Text)
    created_at: datetime = _ts()
    sent_at: Optional[datetime] = Field(default=None, sa_type=DateTime(timezone=True))
    body_html: str = Field(default="", sa_type=Text)  # the HTML part of an email


class InboxMessage(SQLModel, table=True):
    __tablename__ = "inbox_message"
    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    outbox_id: Optional[int] = Field(default=None, foreign_key="outbox.id", index=True)
    subject: str = Field(max_length=500)
    body: str = Field(sa_type=Text)
    link: str = Field(default="", max_length=500)
    created_at: datetime = _ts()
    read_at: Optional[datetime] = Field(default=None, sa_type=DateTime(timezone=True))


class NotificationRun(SQLModel, table=True):
    """A reminder fan-out or a day's overdue run that finished: the periodic job skips it. A run
    cut short has no row, so the next tick (here or on the standby) finishes it."""

    __tablename__ = "notification_run"
    __table_args__ = (UniqueConstraint("round_id", "run_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: Optional[int] = Field(default=None, foreign_key="round.id")  # none: an agency SAR reminder
    run_key: str = Field(max_length=80)  # "reminder:<milestone>:-7@2026-03-21", "daily:2026-03-25", "agency:..."
    finished_at: datetime = _ts()
    outcome: str = Field(default="", max_length=500)  # recipients and rows decided, or why skipped


class ChannelSetting(SQLModel, table=True):
    """A channel switched on or off for an organisation (person_id None) or one person."""

    __tablename__ = "channel_setting"
    __table_args__ = (UniqueConstraint("org_unit_id", "person_id", "channel"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    org_unit_id: Optional[int] = Field(default=None, foreign_key="org_unit.id")
    person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    channel: str = Field(max_length=16)
    enabled: bool = Field(default=True)
    target: str = Field(default="", max_length=500)  # webhook URL


# --- the audit log -------------------------------------------------------------------------------
class Event(SQLModel, table=True):
    """Append-only history, hash-chained per entity: who, when, from, to, what, why."""

    __tablename__ = "event"
    __table_args__ = (UniqueConstraint("entity_type", "entity_id", "seq"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    entity_type: str = Field(max_length=32)  # appraisal | case | round | ...
    entity_id: int
    seq: int  # 1, 2, ... within the entity; equals the entity's version after the event
    event: str = Field(max_length=64)
    from_state: Optional[str] = Field(default=None, max_length=32)
    to_state: Optional[str] = Field(default=None, max_length=32)
    actor_account_id: Optional[int] = Field(default=None, foreign_key="account.id")
    actor: str = Field(default="", max_length=200)  # a readable name, or "system"
    at: datetime = _ts()
    payload: str = Field(default="{}", sa_type=Text)  # canonical JSON
    reason: str = Field(default="", sa_type=Text)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Job(SQLModel, table=True):
    """Long work run in the background (a round's forms, a large report): its state, progress
    and, when done, its result to download. `owner` names the process that runs it, so a job
    whose process is gone is marked interrupted rather than left running."""

    __tablename__ = "job"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # "round_forms"
    account_id: Optional[int] = Field(default=None, foreign_key="account.id", index=True)
    round_id: Optional[int] = Field(default=None, foreign_key="round.id")
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="queued", max_length=16)  # queued | running | done | failed | interrupted
    done: int = 0
    total: int = 0
    message: str = Field(default="", max_length=2000)
    owner: str = Field(default="", max_length=120)
    result: Optional[bytes] = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    result_name: str = Field(default="", max_length=200)
    result_type: str = Field(default="", max_length=100)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    finished_at: Optional[datetime] = Field(default=None, sa_type=DateTime(timezone=True))
