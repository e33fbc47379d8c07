"""The agency assessments' SAR milestones are reminded of like the individual milestones: the
policy's offsets, one digest per recipient (the agency's head and HR, the province's HR), once
per offset and recipient whatever the ticks and restarts; a submitted SAR stops its reminders.
Run on SQLite and PostgreSQL (the `session` fixture)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from db.models import AgencyMilestone, InboxMessage, NotificationRun, Outbox
from db.session import new_session
from tests.factories import _hash, person, world
from workflow import accounts, engine
from workflow.access import Actor
from workflow.agency_assessments import open_year
from workflow.notifications.digest import reminder_key
from workflow.notifications.fanout import (
    agency_anchors,
    overdue_moment,
    reminder_moment,
    run_agency_overdue,
    run_agency_reminder,
)
from workflow.notifications.scheduler import run_due

PLAN = [
    {"dimension": "effectiveness", "code": "E1", "title": "ร้อยละของโครงการที่แล้วเสร็จ", "weight": 100},
    {"dimension": "service_quality", "code": "Q1", "title": "ความพึงพอใจของผู้รับบริการ", "weight": 100},
    {"dimension": "efficiency", "code": "F1", "title": "ระยะเวลาให้บริการ", "weight": 100},
    {"dimension": "organisation_development", "code": "D1", "title": "การพัฒนาบุคลากร", "weight": 100},
]
PROVINCE_SIDE = {"agency_hr", "agency_head", "hr"}  # the agency's HR and head, the province's HR


def _rayong(session):
    """A province with one agency (its own HR and head), and a second province with its own."""
    worlds = []
    for _ in range(2):
        w = world(session, "rayong", fiscal_year=2570, open_now=False)
        for name, role in (("agency_hr", "hr"), ("agency_head", "authority")):
            p = person(session, w.unit, name)
            acc = accounts.create_account(session, username=f"{name}-{w.org.code}".lower(), password="pw-" + name,
                                          password_hash=_hash("pw-" + name), person=p, roles=[(role, w.unit)])
            w.people[name] = p
            w.actors[name] = accounts.actor_for(session, acc)
        session.commit()
        (a,) = open_year(session, Actor.system(), org_code=w.org.code, fiscal_year=2570).created
        w.assessment_id = a.id
        worlds.append(w)
    session.commit()
    return worlds


def _sar_6(session, w) -> AgencyMilestone:
    m = session.execute(select(AgencyMilestone).where(AgencyMilestone.assessment_id == w.assessment_id,
                                                      AgencyMilestone.code == "sar_6")).scalar_one()
    session.commit()
    return m


def _sent(session, m: AgencyMilestone, key: str, channel: str = "inbox") -> list[int]:
    rows = session.execute(select(Outbox.recipient_person_id).where(
        Outbox.agency_milestone_id == m.id, Outbox.offset_key == key, Outbox.channel == channel)).scalars()
    return sorted(rows)


def _ids(w, names) -> list[int]:
    return sorted(w.people[n].id for n in names)


def test_a_sar_due_in_7_days_is_reminded_once_to_each_recipient(session, engine):
    w, other = _rayong(session)
    m, theirs = _sar_6(session, w), _sar_6(session, other)
    # one sar_6 milestone per province
    assert {a.id for a in agency_anchors(session) if a.code == "sar_6"} == {m.id, theirs.id}
    now = reminder_moment(m.due_on, 7)
    key = reminder_key(7, m.due_on)

    ran = run_due(session, now=now)
    assert {(d.kind, d.milestone_id, d.offset_days) for d in ran} == {("agency", m.id, 7), ("agency", theirs.id, 7)}
    # once to each of the agency's HR and head and the province's HR, in the inbox and by email
    assert _sent(session, m, key) == _ids(w, PROVINCE_SIDE)
    assert _sent(session, m, key, "email") == _ids(w, PROVINCE_SIDE)
    # nobody outside the agency and its province: not the staff, not the other province
    everyone_else = {p.id for n, p in w.people.items() if n not in PROVINCE_SIDE} | {p.id for p in other.people.values()}
    mine = set(session.execute(select(Outbox.recipient_person_id).where(Outbox.agency_milestone_id == m.id)).scalars())
    assert mine and not mine & everyone_else
    assert _sent(session, theirs, key) == _ids(other, PROVINCE_SIDE)
    # the digest names the agency and the SAR, in the recipient's language (Thai by default)
    (msg,) = session.execute(select(InboxMessage).where(InboxMessage.person_id == w.people["agency_head"].id)).scalars()
    assert "รายงานการประเมินตนเอง (SAR) รอบ 6 เดือน" in msg.subject and "อีก 7 วัน" in msg.subject
    assert w.unit.name_th in msg.body and msg.link == f"/api/v1/agency-assessments/{w.assessment_id}"
    session.commit()
    rows = session.execute(select(Outbox.id)).all()

    # the next tick: the run is recorded as finished, nothing runs, nothing is added
    assert run_due(session, now=now + timedelta(minutes=1)) == []
    # a restart that lost the record (a run cut short): the run again decides nothing new
    session.execute(delete(NotificationRun).where(NotificationRun.round_id.is_(None)))
    session.commit()
    with new_session(engine) as fresh:
        again = run_due(fresh, now=now + timedelta(minutes=2))
        assert len(again) == 2
    assert run_agency_reminder(session, m.id, 7, now=now + timedelta(minutes=3)).decided == 0
    assert session.execute(select(Outbox.id)).all() == rows


def test_a_submitted_sar_stops_its_reminder(session):
    w, other = _rayong(session)
    m = _sar_6(session, w)
    hr, agency = w.actors["hr"], w.actors["agency_hr"]
    aid = w.assessment_id
    engine.fire(session, "agency_assessment", aid, "edit_plan", agency, expected_version=1, payload={"kpis": PLAN})
    engine.fire(session, "agency_assessment", aid, "agree_plan", hr, expected_version=2)
    # still owed at 14 days: reminded
    assert run_agency_reminder(session, m.id, 14, now=reminder_moment(m.due_on, 14)).recipients == 3
    engine.fire(session, "agency_assessment", aid, "submit_sar_6", agency, expected_version=3,
                payload={"progress": [{"kpi_id": k["code"], "progress": "ทำแล้ว"} for k in PLAN]})
    r = run_agency_reminder(session, m.id, 7, now=reminder_moment(m.due_on, 7))
    assert (r.recipients, r.decided) == (0, 0)
    assert _sent(session, m, reminder_key(7, m.due_on)) == []
    # and the scheduler no longer looks for it (the other province still owes its SAR)
    assert [d.milestone_id for d in run_due(session, now=reminder_moment(m.due_on, 3))] == [_sar_6(session, other).id]


def test_a_reminder_outside_its_moment_is_skipped(session):
    w, _ = _rayong(session)
    m = _sar_6(session, w)
    early = run_agency_reminder(session, m.id, 7, now=reminder_moment(m.due_on, 7) - timedelta(minutes=1))
    late = run_agency_reminder(session, m.id, 7, now=reminder_moment(m.due_on, 7) + timedelta(days=2))
    assert early.skipped.startswith("too early") and late.skipped.startswith("missed")
    assert session.execute(select(Outbox.id)).all() == []


def test_a_sar_past_its_date_is_reminded_daily_until_submitted(session):
    w, other = _rayong(session)
    m = _sar_6(session, w)
    day_after = overdue_moment(reminder_moment(m.due_on, 0) + timedelta(days=1, hours=1))
    ran = run_due(session, now=day_after)
    assert {(d.kind, d.milestone_id) for d in ran} == {("agency_overdue", m.id),
                                                       ("agency_overdue", _sar_6(session, other).id)}
    key = f"overdue:{day_after.date().isoformat()}"
    assert _sent(session, m, key) == _ids(w, PROVINCE_SIDE)
    (msg,) = session.execute(select(InboxMessage).where(InboxMessage.person_id == w.people["agency_hr"].id)).scalars()
    assert msg.subject.startswith("[เกินกำหนด 1 วัน]")
    assert run_due(session, now=day_after + timedelta(minutes=1)) == []  # once a day
    assert run_agency_overdue(session, m.id, now=day_after).decided == 0
