"""Housekeeping the scheduler does every hour: forgetting what no longer needs remembering."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete
from sqlmodel import Session

from db.models import IdempotencyRecord

# A client retries within seconds or minutes; a request repeated a day later is a new request.
IDEMPOTENCY_KEPT = timedelta(hours=24)


def purge_idempotency_records(session: Session, now: datetime) -> int:
    """Delete the stored answers of idempotent requests older than IDEMPOTENCY_KEPT; how many."""
    # In UTC, as stored: SQLite keeps the digits of a time and drops its offset.
    cutoff = (now - IDEMPOTENCY_KEPT).astimezone(timezone.utc)
    done = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    session.commit()
    return done.rowcount
