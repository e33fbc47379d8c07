"""When a reminder job fires: load the facts, compute who has what pending, and record one
outbox row per recipient and channel, exactly once.

The outbox's unique key (milestone, offset, recipient, channel) is the "once": every row is
inserted with ON CONFLICT DO NOTHING in batches, each batch one transaction that also
delivers the in-app inbox messages of the rows it really inserted. A fan-out cut short (a
crash, a restart) is simply run again: rows already decided are skipped, the rest are added;
a second process running the same fan-out at the same time inserts nothing twice.
Email and webhook rows wait in the outbox as `pending` for `channels.deliver_due`.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable, Iterable, Iterator

from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session

from db.models import (
    Account,
    AgencyAssessment,
    AgencyMilestone,
    Appraisal,
    CaseMeasure,
    Committee,
    CommitteeMember,
    InboxMessage,
    LowPerformerCase,
    Milestone,
    OrgUnit,
    Outbox,
    Person,
    PolicyVersion,
    RoleAssignment,
    Round,
    Signature,
)
from workflow import labels, orgs
from workflow.agency_assessments import due_for_milestone, items_for
from workflow.calendar import BANGKOK
from workflow.machines.agency_assessment import MILESTONE_TH, NOT_YET
from workflow.machines.low_performer import MACHINE as CASE_MACHINE
from workflow.machines.low_performer import SETTLED
from workflow.milestones import LOW_PERFORMER_REPORT, NOT_DONE
from workflow.notifications import digest as digests
from workflow.notifications.channels import CHANNELS, channel_rules, resolve_channels
from workflow.notifications.clock import to_utc
from workflow.notifications.digest import Digest, MilestoneInfo, Recipient
from workflow.notifications.pending import (
    SUBMIT_SAR,
    AppraisalFact,
    CaseFact,
    Item,
    RoundFacts,
    escalations,
    overdue_by_milestone,
    pending_for,
)
from workflow.notifications.render import render
from workflow.rounds import policy_of_round, policy_of_version
from workflow.settings import Settings, get_settings

log = logging.getLogger("pmflow.notifications")

SEND_TIME = time(8, 0)  # reminders go at 08:00 Bangkok time, `offset` days before the due date
OVERDUE_TIME = time(8, 30)  # the daily overdue run
BATCH = 1000  # digests per transaction
_IN_CHUNK = 5000  # ids per IN (...) query


def reminder_moment(due_on: date, offset_days: int) -> datetime:
    return datetime.combine(due_on - timedelta(days=offset_days), SEND_TIME, tzinfo=BANGKOK)


def overdue_moment(now: datetime) -> datetime:
    """The latest daily overdue run at or before `now`."""
    local = now.astimezone(BANGKOK)
    today = datetime.combine(local.date(), OVERDUE_TIME, tzinfo=BANGKOK)
    return today if local >= today else today - timedelta(days=1)


@dataclass
class FanOut:
    milestone_id: int | None
    offset_key: str
    recipients: int = 0  # people with something pending
    decided: int = 0  # outbox rows this run inserted (0 when all were decided before)
    skipped: str = ""  # why nothing was done, if so
    by_channel: dict[str, int] = field(default_factory=dict)


# --- facts ---------------------------------------------------------------------------------------
def _chunks(ids: list[int], n: int = _IN_CHUNK) -> Iterator[list[int]]:
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


def _role_people(session: Session, role: str, org: OrgUnit) -> frozenset[int]:
    """People holding `role` on the organisation or any ancestor (their scope covers it)."""
    rows = session.execute(
        select(Account.person_id).join(RoleAssignment, RoleAssignment.account_id == Account.id)
        .where(RoleAssignment.role == role, RoleAssignment.org_unit_id.in_(orgs.path_ids(org.path)),
               Account.active.is_(True), Account.person_id.is_not(None))).scalars()
    return frozenset(rows)


def load_round_facts(session: Session, rnd: Round, states: Iterable[str], *, cases: bool,
                     only: Iterable[int] | None = None) -> RoundFacts:
    """The plain facts the pending rules need, in a few set-based queries (`only`: just these
    appraisals, e.g. the ones HR picked to remind now)."""
    states = sorted(set(states))
    picked = [] if only is None else [Appraisal.id.in_(sorted(set(only)))]
    org = session.get(OrgUnit, rnd.org_unit_id)
    appraisals: list[AppraisalFact] = []
    if states:
        signed: dict[int, set[str]] = defaultdict(set)
        if "draft" in states:
            rows = session.execute(
                select(Signature.appraisal_id, Signature.role)
                .join(Appraisal, and_(Appraisal.id == Signature.appraisal_id,
                                      Signature.revision == Appraisal.agreement_revision))
                .where(Appraisal.round_id == rnd.id, Appraisal.state == "draft",
                       Signature.kind == "agreement", *picked))
            for aid, role in rows:
                signed[aid].add(role)
        rows = session.execute(
            select(Appraisal.id, Appraisal.person_id, Person.name_th, Appraisal.state,
                   Appraisal.evaluator_id, Appraisal.superior_id, Appraisal.acknowledged_at,
                   Appraisal.refusal_witness, Appraisal.superior_opinion, Appraisal.superior2_id,
                   Appraisal.superior2_opinion)
            .join(Person, Person.id == Appraisal.person_id)
            .where(Appraisal.round_id == rnd.id, Appraisal.state.in_(states), *picked)
            .execution_options(yield_per=5000))
        none: frozenset[str] = frozenset()
        frozen = {aid: frozenset(roles) for aid, roles in signed.items()}
        appraisals = [AppraisalFact(r[0], r[1], r[2], r[3], r[4], r[5], frozen.get(r[0], none),
                                    r[6] is not None, bool(r[7]), r[8] is not None, r[9], r[10] is not None)
                      for r in rows]
    committee = frozenset(session.execute(
        select(CommitteeMember.person_id).join(Committee, Committee.id == CommitteeMember.committee_id)
        .where(Committee.round_id == rnd.id)).scalars())
    return RoundFacts(round_id=rnd.id, appraisals=appraisals, committee_ids=committee,
                      hr_ids=_role_people(session, "hr", org),
                      authority_ids=_role_people(session, "authority", org),
                      cases=load_cases(session, org) if cases else ())


def load_cases(session: Session, org: OrgUnit) -> list[CaseFact]:
    """Open low-performer cases of the organisation's subtree with their measures not done."""
    trigger, follow = aliased(Appraisal), aliased(Appraisal)
    rows = session.execute(
        select(LowPerformerCase.id, LowPerformerCase.person_id, Person.name_th, LowPerformerCase.state,
               func.coalesce(follow.evaluator_id, trigger.evaluator_id))
        .join(Person, Person.id == LowPerformerCase.person_id)
        .join(OrgUnit, OrgUnit.id == LowPerformerCase.org_unit_id)
        .join(trigger, trigger.id == LowPerformerCase.appraisal_id)
        .outerjoin(follow, follow.id == LowPerformerCase.follow_up_appraisal_id)
        .where(OrgUnit.path.startswith(org.path),
               LowPerformerCase.state.not_in(sorted(CASE_MACHINE.final)))).all()
    if not rows:
        return []
    open_measures: dict[int, list[str]] = defaultdict(list)
    for ids in _chunks([r[0] for r in rows]):
        for case_id, kind in session.execute(
                select(CaseMeasure.case_id, CaseMeasure.kind)
                .where(CaseMeasure.case_id.in_(ids), CaseMeasure.status.not_in(sorted(SETTLED)))
                .order_by(CaseMeasure.case_id, CaseMeasure.kind)):
            open_measures[case_id].append(kind)
    return [CaseFact(id=r[0], person_id=r[1], person_name=r[2], state=r[3], supervisor_id=r[4],
                     measures_not_done=tuple(open_measures.get(r[0], ()))) for r in rows]


def load_recipients(session: Session, ids: Iterable[int]) -> dict[int, Recipient]:
    out: dict[int, Recipient] = {}
    for chunk in _chunks(sorted(set(ids))):
        for r in session.execute(select(Person.id, Person.name_th, Person.email, Person.locale,
                                        Person.superior_id, Person.org_unit_id, Person.active)
                                 .where(Person.id.in_(chunk))):
            if r.active:
                out[r.id] = Recipient(r.id, r.name_th, r.email or "", r.locale or "th", r.superior_id,
                                      r.org_unit_id)
    return out


def milestone_info(m: Milestone, rnd: Round) -> MilestoneInfo:
    return MilestoneInfo(m.id, m.code, m.name_th, m.name_en, m.due_on, rnd.id, rnd.fiscal_year, rnd.number)


# --- the jobs' bodies ----------------------------------------------------------------------------
def run_reminder(session: Session, milestone_id: int, offset_days: int, *, now: datetime,
                 settings: Settings | None = None, batch: int = BATCH,
                 after_batch: Callable[[int], None] | None = None) -> FanOut:
    """The reminder `offset_days` before a milestone, computed from the data as it is `now`."""
    now = to_utc(now)
    m = session.get(Milestone, milestone_id)
    key = digests.reminder_key(offset_days, m.due_on) if m else f"-{offset_days}"
    rnd = session.get(Round, m.round_id) if m else None
    if m is None or rnd is None or rnd.status != "open":
        return _skip(FanOut(milestone_id, key), "milestone gone or round closed")
    grace = timedelta(hours=policy_of_round(session, rnd.id).reminders.misfire_grace_hours)
    moment = reminder_moment(m.due_on, offset_days)
    if now < moment:
        return _skip(FanOut(milestone_id, key), f"too early: due at {moment.isoformat()}")
    if now - moment > grace:
        return _skip(FanOut(milestone_id, key),
                     f"missed: {moment.isoformat()} passed {now - moment} ago, beyond the grace of {grace}")
    facts = load_round_facts(session, rnd, NOT_DONE.get(m.code, ()), cases=m.code == LOW_PERFORMER_REPORT)
    pending = pending_for(m.code, facts)
    people = load_recipients(session, pending)
    found = digests.reminders(milestone_info(m, rnd), offset_days, pending, people)
    result = FanOut(milestone_id, key, recipients=len(found))
    decide(session, found, now=now, settings=settings, batch=batch, after_batch=after_batch, result=result)
    log.info("reminder %s %s: %d recipients, %d new outbox rows", m.code, key, result.recipients, result.decided)
    return result


def run_overdue(session: Session, round_id: int, *, now: datetime, settings: Settings | None = None,
                batch: int = BATCH, after_batch: Callable[[int], None] | None = None) -> list[FanOut]:
    """The daily overdue run: each late item once a day under its earliest overdue milestone;
    escalated to the late person's superior above and HR after the policy's number of days."""
    now = to_utc(now)
    rnd = session.get(Round, round_id)
    if rnd is None or rnd.status != "open":
        return [_skip(FanOut(None, "overdue"), "round gone or closed")]
    rules = policy_of_round(session, rnd.id).reminders
    scheduled = overdue_moment(now)
    today = scheduled.date()
    if not rules.overdue_daily:
        return [_skip(FanOut(None, digests.overdue_key(today)), "the policy sends no overdue reminders")]
    if now - scheduled > timedelta(hours=rules.misfire_grace_hours):
        return [_skip(FanOut(None, digests.overdue_key(today)),
                      f"missed: the run of {scheduled.isoformat()} is beyond the grace of "
                      f"{rules.misfire_grace_hours} h")]
    milestones = list(session.execute(
        select(Milestone).where(Milestone.round_id == rnd.id, Milestone.due_on < today)
        .order_by(Milestone.due_on, Milestone.id)).scalars())
    if not milestones:
        return []
    states = {s for m in milestones for s in NOT_DONE.get(m.code, ())}
    facts = load_round_facts(session, rnd, states, cases=any(m.code == LOW_PERFORMER_REPORT for m in milestones))
    per_milestone = overdue_by_milestone([(m.id, m.code, m.due_on) for m in milestones], today,
                                         {m.id: pending_for(m.code, facts) for m in milestones})
    late_ids = {p for found in per_milestone.values() for p in found}
    people = load_recipients(session, late_ids)
    superiors = {p: r.superior_id for p, r in people.items()}
    people.update(load_recipients(session, ({s for s in superiors.values() if s} | facts.hr_ids) - set(people)))
    results = []
    for m in milestones:
        found = per_milestone.get(m.id)
        if not found:
            continue
        info = milestone_info(m, rnd)
        todo = digests.overdue(info, today, found, people)
        if (today - m.due_on).days >= rules.escalate_after_days:
            todo += digests.escalated(info, today, escalations(found, superiors, facts.hr_ids), people)
        result = FanOut(m.id, digests.overdue_key(today), recipients=len(todo))
        decide(session, todo, now=now, settings=settings, batch=batch, after_batch=after_batch, result=result)
        results.append(result)
    return results


# --- agency SAR milestones -------------------------------------------------------------------------
@dataclass(frozen=True)
class AgencyAnchor:
    """A province's SAR milestone of a fiscal year (its agencies share the date), named by the
    lowest-numbered agency milestone of that province, code and date: the one id its reminders'
    outbox rows and run key carry, so each recipient gets one digest for all their agencies."""

    id: int
    province_id: int
    fiscal_year: int
    code: str
    due_on: date
    policy_version_id: int
    pending: bool  # some agency still owes this SAR


def agency_anchors(session: Session) -> list[AgencyAnchor]:
    rows = session.execute(
        select(AgencyMilestone.id, AgencyMilestone.code, AgencyMilestone.due_on, AgencyAssessment.province_id,
               AgencyAssessment.fiscal_year, AgencyAssessment.policy_version_id, AgencyAssessment.state)
        .join(AgencyAssessment, AgencyAssessment.id == AgencyMilestone.assessment_id)
        .order_by(AgencyMilestone.id)).all()
    found: dict[tuple[int, int, str, date], AgencyAnchor] = {}
    for mid, code, due_on, province_id, year, pv, state in rows:
        key = (province_id, year, code, due_on)
        owed = state in NOT_YET.get(code, ())
        if key not in found:
            found[key] = AgencyAnchor(mid, province_id, year, code, due_on, pv, owed)
        elif owed and not found[key].pending:
            found[key] = AgencyAnchor(found[key].id, province_id, year, code, due_on, found[key].policy_version_id,
                                      True)
    return sorted(found.values(), key=lambda a: (a.due_on, a.id))


def anchor_of(session: Session, agency_milestone_id: int) -> AgencyAnchor | None:
    m = session.get(AgencyMilestone, agency_milestone_id)
    a = session.get(AgencyAssessment, m.assessment_id) if m else None
    if a is None:
        return None
    return next((x for x in agency_anchors(session) if (x.province_id, x.fiscal_year, x.code, x.due_on)
                 == (a.province_id, a.fiscal_year, m.code, m.due_on)), None)


def agency_milestone_info(anchor: AgencyAnchor) -> MilestoneInfo:
    return MilestoneInfo(anchor.id, anchor.code, MILESTONE_TH[anchor.code],
                         labels.label(labels.AGENCY_MILESTONES, anchor.code, "en"), anchor.due_on, None,
                         anchor.fiscal_year, 0, agency=True)


def _agency_pending(session: Session, anchor: AgencyAnchor) -> dict[int, list[Item]]:
    """Person -> the province's agencies that still owe this SAR (`agency_assessments.due_for_milestone`)."""
    items = [i for i in items_for(session, anchor.code, anchor.due_on) if i.province_id == anchor.province_id]
    return {pid: [Item(SUBMIT_SAR, "agency_assessment", i.assessment_id, i.agency_name) for i in found]
            for pid, found in due_for_milestone(items, anchor.code).items()}


def run_agency_overdue(session: Session, agency_milestone_id: int, *, now: datetime,
                       settings: Settings | None = None, batch: int = BATCH) -> FanOut:
    """The daily overdue reminder of a SAR not submitted by its date, as for the individual
    milestones (the policy's `overdue_daily` and grace), to the same recipients; no escalation
    beyond them: the province's HR is already among them."""
    now = to_utc(now)
    anchor = anchor_of(session, agency_milestone_id)
    scheduled = overdue_moment(now)
    today = scheduled.date()
    key = digests.overdue_key(today)
    if anchor is None:
        return _skip(FanOut(agency_milestone_id, key), "agency milestone gone")
    rules = policy_of_version(session.get(PolicyVersion, anchor.policy_version_id)).reminders
    if not rules.overdue_daily:
        return _skip(FanOut(anchor.id, key), "the policy sends no overdue reminders")
    if anchor.due_on >= today:
        return _skip(FanOut(anchor.id, key), "not overdue")
    if now - scheduled > timedelta(hours=rules.misfire_grace_hours):
        return _skip(FanOut(anchor.id, key), f"missed: the run of {scheduled.isoformat()} is beyond the grace of "
                                              f"{rules.misfire_grace_hours} h")
    pending = _agency_pending(session, anchor)
    found = digests.overdue(agency_milestone_info(anchor), today, pending, load_recipients(session, pending))
    result = FanOut(anchor.id, key, recipients=len(found))
    return decide(session, found, now=now, settings=settings, batch=batch, result=result)


def run_agency_reminder(session: Session, agency_milestone_id: int, offset_days: int, *, now: datetime,
                        settings: Settings | None = None, batch: int = BATCH,
                        after_batch: Callable[[int], None] | None = None) -> FanOut:
    """The reminder `offset_days` before a province's SAR milestone (the policy's reminder
    offsets and grace, the same as a round's milestones): one digest per person who is the
    agency's head or HR, or the province's HR, listing the agencies that still owe the SAR."""
    now = to_utc(now)
    anchor = anchor_of(session, agency_milestone_id)
    key = digests.reminder_key(offset_days, anchor.due_on) if anchor else f"-{offset_days}"
    if anchor is None:
        return _skip(FanOut(agency_milestone_id, key), "agency milestone gone")
    rules = policy_of_version(session.get(PolicyVersion, anchor.policy_version_id)).reminders
    grace = timedelta(hours=rules.misfire_grace_hours)
    moment = reminder_moment(anchor.due_on, offset_days)
    if now < moment:
        return _skip(FanOut(anchor.id, key), f"too early: due at {moment.isoformat()}")
    if now - moment > grace:
        return _skip(FanOut(anchor.id, key),
                     f"missed: {moment.isoformat()} passed {now - moment} ago, beyond the grace of {grace}")
    pending = _agency_pending(session, anchor)
    found = digests.reminders(agency_milestone_info(anchor), offset_days, pending,
                              load_recipients(session, pending))
    result = FanOut(anchor.id, key, recipients=len(found))
    decide(session, found, now=now, settings=settings, batch=batch, after_batch=after_batch, result=result)
    log.info("agency reminder %s %s: %d recipients, %d new outbox rows", anchor.code, key, result.recipients,
             result.decided)
    return result


def _skip(result: FanOut, reason: str) -> FanOut:
    result.skipped = reason
    log.warning("reminder %s %s skipped: %s", result.milestone_id, result.offset_key, reason)
    return result


# --- recording the sends -------------------------------------------------------------------------
def _insert(session: Session, table: type):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def decide(session: Session, found: list[Digest], *, now: datetime, settings: Settings | None = None,
           batch: int = BATCH, after_batch: Callable[[int], None] | None = None,
           result: FanOut | None = None) -> FanOut:
    """Insert one outbox row per digest and enabled channel, batch by batch, each batch one
    transaction; in-app messages are written in the same transaction as their outbox rows.

    Per batch: read which (recipient, channel) rows exist already, render and insert only the
    others (executemany, ON CONFLICT DO NOTHING: a concurrent fan-out of the same reminder can
    only lose the race, never duplicate), then give each new inbox row its message."""
    settings = settings or get_settings()
    now = to_utc(now)
    result = result or FanOut(found[0].milestone.id if found else None, found[0].offset_key if found else "")
    rules, paths = channel_rules(session)
    for start in range(0, len(found), batch):
        part = found[start:start + batch]
        done = _decided_before(session, part)
        rows, links = [], {}
        for d in part:
            org_path = paths.get(d.recipient.org_unit_id, "/") if rules else "/"
            chosen = [c for c in CHANNELS if c in resolve_channels(d.recipient.id, org_path, rules)
                      and (c != "email" or settings.smtp.configured)  # no SMTP server: email is off
                      and (c != "webhook" or settings.webhook_secret)  # never unsigned: no secret, no webhook
                      and (*_anchor(d), d.offset_key, d.recipient.id, c) not in done]
            if not chosen:
                continue
            rendered = render(d, base_url=settings.base_url)
            for channel in chosen:
                agency, mid = _anchor(d)
                row = dict(milestone_id=None if agency else mid, agency_milestone_id=mid if agency else None,
                           offset_key=d.offset_key,
                           recipient_person_id=d.recipient.id, channel=channel, subject=rendered.subject,
                           body=rendered.text, body_html=rendered.html if channel == "email" else "",
                           status="pending", attempts=0, next_attempt_at=now, last_error="",
                           created_at=now, sent_at=None)
                if channel == "inbox":
                    row.update(status="sent", sent_at=now)
                    links[(agency, mid, d.offset_key, d.recipient.id)] = d.link
                elif channel == "email" and not d.recipient.email:
                    row.update(status="failed", next_attempt_at=None, last_error="no email address")
                rows.append(row)
                result.by_channel[channel] = result.by_channel.get(channel, 0) + 1
        if rows:
            for agency, unique in ((False, _UNIQUE), (True, _UNIQUE_AGENCY)):
                kind = [r for r in rows if (r["agency_milestone_id"] is not None) == agency]
                if kind:
                    session.execute(_insert(session, Outbox).on_conflict_do_nothing(index_elements=unique), kind)
            _write_inbox(session, links, now)
            result.decided += len(rows)
        session.commit()
        if after_batch is not None:
            after_batch(start // batch + 1)
    return result


# The outbox's two "send once" keys: a round milestone's reminders, an agency milestone's.
_UNIQUE = ["milestone_id", "offset_key", "recipient_person_id", "channel"]
_UNIQUE_AGENCY = ["agency_milestone_id", "offset_key", "recipient_person_id", "channel"]


def _anchor(d: Digest) -> tuple[bool, int]:
    """Which milestone column an outbox row of this digest names: (agency?, id)."""
    return d.milestone.agency, d.milestone.id


def _column(agency: bool):  # noqa: ANN202 - a column of Outbox
    return Outbox.agency_milestone_id if agency else Outbox.milestone_id


def _groups(part: list[Digest]) -> dict[tuple[bool, int, str], list[int]]:
    out: dict[tuple[bool, int, str], list[int]] = defaultdict(list)
    for d in part:
        out[(*_anchor(d), d.offset_key)].append(d.recipient.id)
    return out


def _decided_before(session: Session, part: list[Digest]) -> set[tuple[bool, int, str, int, str]]:
    done: set[tuple[bool, int, str, int, str]] = set()
    for (agency, mid, key), people in _groups(part).items():
        for chunk in _chunks(people):
            done.update((agency, mid, key, pid, ch) for pid, ch in session.execute(
                select(Outbox.recipient_person_id, Outbox.channel).where(
                    _column(agency) == mid, Outbox.offset_key == key,
                    Outbox.recipient_person_id.in_(chunk))))
    return done


def _write_inbox(session: Session, links: dict[tuple[bool, int, str, int], str], now: datetime) -> None:
    """The in-app message of every inbox row of this batch that has none yet."""
    if not links:
        return
    by_key: dict[tuple[bool, int, str], list[int]] = defaultdict(list)
    for agency, mid, key, pid in links:
        by_key[(agency, mid, key)].append(pid)
    messages = []
    for (agency, mid, key), people in by_key.items():
        for chunk in _chunks(people):
            rows = session.execute(
                select(Outbox.id, Outbox.recipient_person_id, Outbox.subject, Outbox.body)
                .where(_column(agency) == mid, Outbox.offset_key == key, Outbox.channel == "inbox",
                       Outbox.recipient_person_id.in_(chunk),
                       ~select(InboxMessage.id).where(InboxMessage.outbox_id == Outbox.id).exists()))
            messages += [dict(person_id=pid, outbox_id=oid, subject=subject, body=body,
                              link=links[(agency, mid, key, pid)], created_at=now, read_at=None)
                         for oid, pid, subject, body in rows]
    if messages:
        session.execute(_insert(session, InboxMessage), messages)
