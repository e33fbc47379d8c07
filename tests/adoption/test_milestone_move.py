"""HR moves a milestone's due date for one round; the reminders follow the new date."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from db.models import Milestone, Outbox
from db.session import new_session
from tests.api.conftest import login
from tests.factories import world
from workflow import milestone_dates
from workflow.notifications.fanout import reminder_moment, run_reminder

IF_MATCH = {"If-Match": '"1"'}


def _url(w, code="agreement_signed"):
    return f"/api/v1/rounds/{w.opened.round.id}/milestones/{code}"


def test_crossing_only_the_rounds_hr_or_an_admin_moves_a_date(engine, client, w, as_):
    with new_session(engine) as s:
        other = world(s, open_now=False)
    body = {"due_date": "2025-11-15"}
    for headers in (login(client, other, "hr"), as_("evaluator"), as_("authority")):
        assert client.patch(_url(w), json=body, headers={**headers, **IF_MATCH}).status_code == 403
    r = client.patch(_url(w), json=body, headers={**as_("hr"), **IF_MATCH})
    assert r.status_code == 200 and r.json()["due_on"] == "2025-11-15"
    assert client.patch(_url(w), json={"due_date": "2025-11-16"},
                        headers={**as_("admin"), **IF_MATCH}).status_code == 200


def test_bad_dates_and_codes_are_refused_by_field(client, w, as_):
    hr = {**as_("hr"), **IF_MATCH}
    r = client.patch(_url(w), json={"due_date": "2024-01-01"}, headers=hr)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "due_date"
    assert client.patch(_url(w), json={"due_date": "31/10/2568"}, headers=hr).status_code == 422
    assert client.patch(_url(w), json={"due": "2025-11-15"}, headers=hr).status_code == 422
    assert client.patch(_url(w, "no_such"), json={"due_date": "2025-11-15"}, headers=hr).status_code == 404
    assert client.patch("/api/v1/rounds/999999/milestones/agreement_signed", json={"due_date": "2025-11-15"},
                        headers=hr).status_code == 404


def test_the_move_is_kept_with_who_and_when_and_a_reminder_for_the_new_date_goes_out(session):
    w = world(session)
    m = session.execute(select(Milestone).where(Milestone.round_id == w.opened.round.id,
                                                Milestone.code == "agreement_signed")).scalar_one()
    old = m.due_on
    new = old + timedelta(days=20)
    first = run_reminder(session, m.id, 7, now=reminder_moment(old, 7) + timedelta(minutes=1))
    assert first.recipients > 0
    moved = milestone_dates.move_due_date(session, w.actors["hr"], w.opened.round.id, "agreement_signed", new)
    assert moved.due_on == new
    [change] = milestone_dates.changes(session, m.id)
    assert (change.from_date, change.to_date, change.actor) == (old, new, w.actors["hr"].name)
    assert change.changed_at is not None
    # at the old moment nothing more is due; at the new one a reminder for the new date goes out
    stale = run_reminder(session, m.id, 7, now=reminder_moment(old, 7) + timedelta(minutes=2))
    assert stale.recipients == 0
    again = run_reminder(session, m.id, 7, now=reminder_moment(new, 7) + timedelta(minutes=1))
    assert again.recipients == first.recipients and again.decided > 0
    keys = set(session.execute(select(Outbox.offset_key)).scalars())
    assert any(new.isoformat() in k for k in keys) and any(old.isoformat() in k for k in keys)


def test_the_date_rule_is_pure():
    class R:
        starts_on, ends_on = date(2025, 10, 1), date(2026, 3, 31)
    assert milestone_dates.check_due_date(R, date(2026, 4, 30)) == []
    assert milestone_dates.check_due_date(R, date(2025, 9, 30))[0].field == "due_date"
