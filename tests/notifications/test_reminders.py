"""Reminders fired with an injected clock: who gets what, once, at each offset; overdue and
escalation. Run on SQLite and PostgreSQL (the `session` fixture)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from db.models import CaseMeasure, LowPerformerCase, Outbox, Person
from tests.factories import world
from tests.flows import drive
from tests.notifications.helpers import (
    at,
    inbox_of,
    milestone,
    overdue_moment,
    recipients,
)
from workflow.notifications.digest import reminder_key
from workflow.notifications.fanout import run_overdue, run_reminder

EVERYONE_IN_ORG = {"authority", "superior", "evaluator", "appraisee", "other", "chair", "member", "hr"}


def test_each_offset_goes_once_and_only_to_people_with_pending_items(session):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    # 14 days before: everyone has an unsigned agreement (HR: the authority has no evaluator).
    r = run_reminder(session, m.id, 14, now=at(m, 14))
    assert r.skipped == "" and r.recipients == 8
    assert recipients(session, w, m, reminder_key(14, m.due_on)) == EVERYONE_IN_ORG
    assert recipients(session, w, m, reminder_key(14, m.due_on), "email") == EVERYONE_IN_ORG
    # Fired again (a restart, a second run): nothing new.
    assert run_reminder(session, m.id, 14, now=at(m, 14, timedelta(minutes=5))).decided == 0

    # The appraisee and "other" finish their agreements: from then on they are not reminded,
    # and their evaluator's digest no longer lists them.
    a1 = drive(session, w, "appraisee", until="agreed")
    a2 = drive(session, w, "other", until="agreed")
    for offset in (7, 3, 1):
        run_reminder(session, m.id, offset, now=at(m, offset))
        assert recipients(session, w, m, reminder_key(offset, m.due_on)) == EVERYONE_IN_ORG - {"appraisee", "other"}
    body = inbox_of(session, w, "evaluator")[-1].body
    assert f"/appraisals/{a1}" not in body and f"/appraisals/{a2}" not in body
    assert f"/appraisals/{w.appraisal_of(session, 'evaluator').id}" in body  # their own, unsigned
    # Each person once per offset and channel.
    dupes = session.execute(select(Outbox.recipient_person_id, Outbox.offset_key, Outbox.channel,
                                   func.count()).group_by(Outbox.recipient_person_id, Outbox.offset_key,
                                                          Outbox.channel).having(func.count() > 1)).all()
    assert dupes == []
    assert len(inbox_of(session, w, "appraisee")) == 1 and len(inbox_of(session, w, "evaluator")) == 4


def test_nothing_for_finished_items(session):
    w = world(session)
    for who in ("appraisee", "other"):
        drive(session, w, who, until="announced")
    m = milestone(session, w, "evaluation_submitted")
    run_reminder(session, m.id, 3, now=at(m, 3))
    got = recipients(session, w, m, reminder_key(3, m.due_on))
    assert "appraisee" not in got and "other" not in got
    assert f"/appraisals/{w.appraisal_of(session, 'appraisee').id}" not in "".join(
        i.body for i in inbox_of(session, w, "evaluator"))


def test_whose_move_is_next_after_evaluation(session):
    w = world(session)
    aid = drive(session, w, "appraisee", until="evaluated")
    m = milestone(session, w, "evaluation_submitted")
    run_reminder(session, m.id, 7, now=at(m, 7))
    link = f"/appraisals/{aid}"
    assert link in inbox_of(session, w, "appraisee")[-1].body  # to acknowledge
    assert "รับทราบผลการประเมิน" in inbox_of(session, w, "appraisee")[-1].body
    assert link in inbox_of(session, w, "superior")[-1].body  # to give an opinion
    assert link not in inbox_of(session, w, "evaluator")[-1].body  # waiting on the others


def test_committee_members_with_appraisals_to_review(session):
    w = world(session)
    aid = drive(session, w, "appraisee", until="committee_review")
    m = milestone(session, w, "committee_review_done")
    run_reminder(session, m.id, 3, now=at(m, 3))
    for who in ("chair", "member"):
        body = inbox_of(session, w, who)[-1].body
        assert f"/appraisals/{aid}" in body and "พิจารณากลั่นกรองผลการประเมิน" in body
    assert "appraisee" not in recipients(session, w, m, reminder_key(3, m.due_on))


def test_report_due_reaches_hr_and_supervisors_of_open_cases(session):
    w = world(session)
    aid = drive(session, w, "appraisee", until="announced", levels=[1, 1], competency_scores=[1, 1, 1, 1, 1])
    case = session.execute(select(LowPerformerCase).where(LowPerformerCase.appraisal_id == aid)).scalar_one_or_none()
    if case is None:  # the cases module is not there to open it: make the row as it would
        case = LowPerformerCase(person_id=w.people["appraisee"].id, appraisal_id=aid,
                                round_id=w.opened.round.id, org_unit_id=w.unit.id)
        session.add(case)
        session.flush()
        for kind in ("coaching", "training", "commitment"):
            session.add(CaseMeasure(case_id=case.id, kind=kind))
    for measure in session.execute(select(CaseMeasure).where(CaseMeasure.case_id == case.id)).scalars():
        measure.status = "done" if measure.kind == "training" else "not_started"
        session.add(measure)
    session.commit()
    m = milestone(session, w, "low_performer_report")
    run_reminder(session, m.id, 1, now=at(m, 1))
    assert recipients(session, w, m, reminder_key(1, m.due_on)) == {"hr", "evaluator"}
    body = inbox_of(session, w, "evaluator")[-1].body
    assert f"/cases/{case.id}" in body and "การสอนงาน" in body and "การอบรม" not in body
    assert f"/rounds/{w.opened.round.id}/report" in inbox_of(session, w, "hr")[-1].body


def test_misfire_within_grace_is_sent_once_beyond_grace_skipped(session, caplog):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    # The server was down at the 14-day moment and came back 13 hours later (grace: 12 h).
    late = run_reminder(session, m.id, 14, now=at(m, 14, timedelta(hours=13)))
    assert late.decided == 0 and "beyond the grace" in late.skipped
    assert "skipped" in caplog.text and "beyond the grace" in caplog.text
    # Down at the 7-day moment, back 2 hours later: sent once.
    assert run_reminder(session, m.id, 7, now=at(m, 7, timedelta(hours=2))).recipients == 8
    assert run_reminder(session, m.id, 7, now=at(m, 7, timedelta(hours=3))).decided == 0
    assert session.execute(select(func.count()).select_from(Outbox).where(
        Outbox.offset_key == reminder_key(14, m.due_on))).scalar() == 0


def test_a_milestone_moved_to_a_later_date_is_reminded_of_again(session):
    w = world(session)
    m = milestone(session, w, "agreement_signed")
    assert run_reminder(session, m.id, 7, now=at(m, 7)).recipients == 8
    first_due = m.due_on
    m.due_on = first_due + timedelta(days=14)  # HR extends the deadline by two weeks
    session.commit()
    # 7 days before the new date the same people, still pending, hear again, once.
    assert run_reminder(session, m.id, 7, now=at(m, 7)).decided == 16  # 8 people x inbox + email
    assert run_reminder(session, m.id, 7, now=at(m, 7, timedelta(minutes=5))).decided == 0
    keys = session.execute(select(Outbox.offset_key).distinct()).scalars().all()
    assert sorted(keys) == sorted({reminder_key(7, first_due), reminder_key(7, m.due_on)})


def test_overdue_daily_then_escalated_to_the_superior_above_and_hr(session):
    w = world(session)
    for who in ("appraisee", "other", "superior"):
        drive(session, w, who, until="agreed") if who != "superior" else None
    m = milestone(session, w, "agreement_signed")
    day1 = overdue_moment(at(m, 0, timedelta(days=1, hours=1)))
    results = run_overdue(session, w.opened.round.id, now=day1)
    key1 = f"overdue:{day1.date().isoformat()}"
    assert [r.milestone_id for r in results] == [m.id]
    late = recipients(session, w, m, key1)
    assert late == EVERYONE_IN_ORG - {"appraisee", "other"}
    assert "เกินกำหนด 1 วัน" in inbox_of(session, w, "evaluator")[-1].subject
    assert recipients(session, w, m, f"escalate:{day1.date().isoformat()}") == set()
    assert run_overdue(session, w.opened.round.id, now=day1 + timedelta(minutes=10))[0].decided == 0

    day3 = day1 + timedelta(days=2)
    run_overdue(session, w.opened.round.id, now=day3)
    assert recipients(session, w, m, f"overdue:{day3.date().isoformat()}") == late
    escalated = recipients(session, w, m, f"escalate:{day3.date().isoformat()}")
    # The evaluator is late: their superior above (the authority) and HR hear of it.
    assert {"authority", "hr"} <= escalated
    hr_msg = inbox_of(session, w, "hr")[-1]
    assert "แจ้งผู้บังคับบัญชา" in hr_msg.subject and "evaluator" in hr_msg.body
    auth_msg = inbox_of(session, w, "authority")[-1]
    assert "evaluator" in auth_msg.body and "เกินกำหนด 3 วัน" in auth_msg.subject


def test_english_for_users_who_chose_it_and_html_is_escaped(session):
    w = world(session)
    ev = session.get(Person, w.people["evaluator"].id)
    ev.locale = "en"
    ap = session.get(Person, w.people["appraisee"].id)
    ap.name_th = "<script>alert(1)</script>"
    session.add_all([ev, ap])
    session.commit()
    m = milestone(session, w, "agreement_signed")
    run_reminder(session, m.id, 14, now=at(m, 14))
    msg = inbox_of(session, w, "evaluator")[-1]
    assert msg.subject.startswith("[Reminder] ") and "Sign the performance agreement" in msg.body
    html = session.execute(select(Outbox.body_html).where(
        Outbox.recipient_person_id == ev.id, Outbox.channel == "email")).scalar_one()
    assert "&lt;script&gt;" in html and "<script>" not in html
    thai = inbox_of(session, w, "superior")[-1]
    assert thai.subject.startswith("[แจ้งเตือน] ลงนามข้อตกลง") and "2568" in thai.subject  # B.E. date
