"""The authority's announcement: the reviewed appraisals it may announce, with the committee's
view, and announcing many at once (each through the engine, each its own event)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlmodel import Session

from workflow import audit, engine, queries
from workflow.access import Actor
from workflow.errors import WorkflowError


@dataclass(frozen=True)
class Reviewed:
    appraisal_id: int
    version: int
    round_id: int
    person_name: str
    total_percent: str | None
    rating_code: str | None
    endorsed_by: str  # who endorsed it for the committee
    committee_comment: str


def reviewed(session: Session, actor: Actor, *, round_id: int | None = None, limit: int = 500) -> list[Reviewed]:
    """The reviewed appraisals the caller may announce, oldest first."""
    _, rows = queries.list_appraisals(session, actor, queries.AppraisalFilter(round_id=round_id, state="reviewed"),
                                      limit=limit)
    rows = [r for r in rows if "announce" in r.available_events]
    endorsed = audit.latest(session, "appraisal", (r.appraisal.id for r in rows), "endorse")
    out = []
    for r in rows:
        a = r.appraisal
        endorse = endorsed.get(a.id)
        out.append(Reviewed(a.id, a.version, a.round_id, r.person_name,
                            None if a.total_percent is None else f"{a.total_percent:.2f}", a.rating_code,
                            endorse.actor if endorse else "", endorse.reason if endorse else ""))
    return out


def announce_many(session: Session, actor: Actor, appraisal_ids: Iterable[int]) -> list[tuple[int, str | None]]:
    """Announce each; (id, None) when announced, (id, the refusal) when not."""
    results: list[tuple[int, str | None]] = []
    for aid in dict.fromkeys(appraisal_ids):
        try:
            engine.fire(session, "appraisal", aid, "announce", actor)
            results.append((aid, None))
        except WorkflowError as exc:
            session.rollback()
            results.append((aid, str(exc)))
    return results
