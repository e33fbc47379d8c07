"""Stored answers of idempotent requests are kept for a day, then forgotten."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from db.models import IdempotencyRecord
from tests.factories import world
from workflow.calendar import BANGKOK
from workflow.housekeeping import IDEMPOTENCY_KEPT, purge_idempotency_records


def test_records_older_than_a_day_are_purged_and_newer_ones_kept(session):
    w = world(session, open_now=False)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    account_id = w.actors["evaluator"].account_id
    for key, age in (("old", IDEMPOTENCY_KEPT + timedelta(minutes=1)), ("fresh", IDEMPOTENCY_KEPT - timedelta(minutes=1))):
        session.add(IdempotencyRecord(account_id=account_id, key=key, request_hash="h", status_code=200,
                                      body="{}", created_at=now - age))
    session.commit()
    # The scheduler's clock speaks Bangkok time: the same instant must give the same answer.
    assert purge_idempotency_records(session, now.astimezone(BANGKOK)) == 1
    assert session.execute(select(IdempotencyRecord.key)).scalars().all() == ["fresh"]
