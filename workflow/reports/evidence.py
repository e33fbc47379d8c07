"""A round's evidence for the report to the parent organisation: the minutes, circulars and
other documents HR attaches to a PM process step ("มี (หลักฐานประกอบ) เช่น รายงานผลการประชุม",
seed 001). Stored with the file's SHA-256; each upload is an event in the round's history."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlmodel import Session

from db.models import Event, Evidence, OrgUnit, Round
from workflow import audit
from workflow.access import Actor
from workflow.errors import InvalidInput, NotAllowed, NotFound, Problem
from workflow.reports.data import STEPS
from workflow.reports.load import round_for

STEP_CODES = tuple(s[0] for s in STEPS)
MAX_BYTES = 20 * 1024 * 1024


def add(session: Session, actor: Actor, round_id: int, *, step: str, filename: str = "", content: bytes = b"",
        content_type: str = "application/octet-stream", note: str = "") -> Evidence:
    """HR (or an admin) attaches a file, or a note, to one PM step of a round."""
    rnd = session.get(Round, round_id)
    if rnd is None:
        raise NotFound("round", round_id)
    org = session.get(OrgUnit, rnd.org_unit_id)
    if not (actor.is_admin or actor.has_scope("hr", org.path)):
        if actor.has_scope("authority", org.path):
            raise NotAllowed("add round evidence", frozenset({"authority"}))
        raise NotFound("round", round_id)
    problems = []
    if step not in STEP_CODES:
        problems.append(Problem("step", f"ขั้นตอนต้องเป็นหนึ่งใน {', '.join(STEP_CODES)}",
                                f"step must be one of {', '.join(STEP_CODES)}"))
    if not content and not note.strip():
        problems.append(Problem("file", "ต้องแนบไฟล์หรือบันทึก", "a file or a note is required"))
    if content and not filename.strip():
        problems.append(Problem("filename", "ต้องระบุชื่อไฟล์", "a file name is required"))
    if len(content) > MAX_BYTES:
        problems.append(Problem("file", "ไฟล์ใหญ่เกิน 20 MB", "the file is larger than 20 MB"))
    if problems:
        raise InvalidInput(problems)
    try:
        body = content if content else note.encode("utf-8")
        ev = Evidence(round_id=rnd.id, step=step, filename=filename.strip()[:300] if content else "",
                      content_type=content_type if content else "text/plain", sha256=hashlib.sha256(body).hexdigest(),
                      content=content, note=note, uploaded_by=actor.account_id)
        session.add(ev)
        session.flush()
        seq = (session.execute(select(func.max(Event.seq)).where(
            Event.entity_type == "round", Event.entity_id == rnd.id)).scalar() or 0) + 1
        audit.append(session, entity_type="round", entity_id=rnd.id, seq=seq, event="add_evidence",
                     from_state=None, to_state=None, actor_account_id=actor.account_id, actor=actor.name,
                     payload={"evidence_id": ev.id, "step": step, "filename": ev.filename, "sha256": ev.sha256})
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return ev


def of_round(session: Session, actor: Actor, round_id: int) -> list[Evidence]:
    round_for(session, actor, round_id)
    return list(session.execute(select(Evidence).where(Evidence.round_id == round_id, Evidence.case_id.is_(None))
                                .order_by(Evidence.id)).scalars())


def one(session: Session, actor: Actor, round_id: int, evidence_id: int) -> Evidence:
    round_for(session, actor, round_id)
    ev = session.get(Evidence, evidence_id)
    if ev is None or ev.round_id != round_id or ev.case_id is not None:
        raise NotFound("evidence", evidence_id)
    return ev
