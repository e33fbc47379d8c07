"""The one pattern by which HTTP fires a workflow event, for every engine kind.

`fire(kind="appraisal", ...)` serves `POST /api/v1/appraisals/{id}/events/{event}`;
the low-performer cases use the same function with `kind="case"`.

Idempotency: with an `Idempotency-Key` header, the key and the answer are stored in the same
transaction as the event (table idempotency_record, unique per account and key), so a retry
after a lost answer replays the stored answer instead of firing twice; the same key with a
different request is refused (422). A concurrent duplicate waits on the unique index for the
first to commit, then replays its answer. Refusals (4xx) are stored too: a retry gets the
same answer.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Callable, Mapping

from fastapi import Header
from fastapi.responses import JSONResponse
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.errors import error_body, responses
from api.schemas import EventIn, EventResult
from db.models import IdempotencyRecord
from workflow import engine, queries
from workflow.access import Actor
from workflow.errors import Conflict, InvalidInput, NotFound, Problem, VersionRequired, WorkflowError

IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=40,
                                       description='the version the caller last saw, e.g. "3"')]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                              description="any unique string; a retry with the same key is safe")]
EVENT_RESPONSES = responses(401, 403, 404, 409, 413, 422, 428)
_VERSION = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')

Visible = Callable[[Session, Actor, Any], frozenset[str]]


def expected_version(if_match: str | None, body: EventIn | None) -> int | None:
    from_body = body.version if body is not None else None
    if if_match is None:
        return from_body
    m = _VERSION.match(if_match)
    if m is None or int(m.group(1)) > 2**31 - 1:
        raise InvalidInput([Problem("If-Match", 'If-Match ต้องเป็นเลขฉบับ เช่น "3"',
                                    'If-Match must be a version number, e.g. "3"')])
    version = int(m.group(1))
    if from_body is not None and from_body != version:
        raise InvalidInput([Problem("version", "เลขฉบับใน If-Match และในข้อมูลไม่ตรงกัน",
                                    "the version in If-Match and in the body differ")])
    return version


def required_version(session: Session, kind: str, entity_id: int, version: int | None,
                     actor: Actor | None = None) -> int:
    """The expected version, which every event must carry: none -> VersionRequired (428) with
    the current one, or NotFound when `actor` (if given) may not see the object."""
    if version is not None:
        return version
    row = session.get(engine.kind_of(kind).table, entity_id)
    if row is None or (actor is not None and not queries.visible_roles(session, kind, actor, row)):
        raise NotFound(kind, entity_id)
    raise VersionRequired(row.version)


def form_version(form: Mapping[str, Any]) -> int | None:
    """The hidden `version` field of a page's event form (None when absent or not a number)."""
    text = str(form.get("version") or "")
    return int(text) if text.isdigit() and len(text) <= 10 and int(text) <= 2**31 - 1 else None


def payload_of(body: EventIn | None) -> dict[str, Any]:
    payload = dict(body.payload or {}) if body is not None else {}
    if body is not None and body.comment is not None:
        payload["comment"] = body.comment
    return payload


def _request_hash(kind: str, entity_id: int, event: str, if_match: str | None, body: EventIn | None) -> str:
    data = {"kind": kind, "id": entity_id, "event": event, "if_match": if_match,
            "body": body.model_dump(mode="json") if body is not None else None}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _replay(rec: IdempotencyRecord, request_hash: str) -> JSONResponse:
    if rec.request_hash != request_hash:
        status, body, _ = error_body(InvalidInput([Problem(
            "Idempotency-Key", "ใช้รหัสนี้กับคำขออื่นไปแล้ว", "this key was already used for a different request")]))
        return JSONResponse(body, status_code=status)
    if rec.status_code == 0:  # the first request with this key has not finished
        status, body, _ = error_body(Conflict("คำขอนี้กำลังดำเนินการ กรุณาลองใหม่",
                                              "a request with this key is still in progress; retry shortly"))
        return JSONResponse(body, status_code=status)
    return JSONResponse(json.loads(rec.body), status_code=rec.status_code, headers={"Idempotent-Replay": "true"})


def _stored(session: Session, account_id: int, key: str) -> IdempotencyRecord | None:
    return session.execute(select(IdempotencyRecord).where(
        IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key)).scalar_one_or_none()


def _store_error(session: Session, account_id: int, key: str, request_hash: str, status: int, body: dict) -> None:
    try:
        session.add(IdempotencyRecord(account_id=account_id, key=key, request_hash=request_hash,
                                      status_code=status, body=json.dumps(body, ensure_ascii=False)))
        session.commit()
    except IntegrityError:
        session.rollback()


def default_visible(kind_name: str) -> Visible:
    return lambda session, actor, row: queries.visible_roles(session, kind_name, actor, row)


def fire(*, kind: str, entity_id: int, event: str, body: EventIn | None, if_match: str | None,
         idempotency_key: str | None, session: Session, actor: Actor,
         visible: Visible | None = None) -> JSONResponse:
    """Fire `event` on the `kind` object `entity_id` as `actor`; the answer as a response."""
    visible = visible or default_visible(kind)
    k = engine.kind_of(kind)
    key = idempotency_key if actor.account_id is not None else None
    request_hash = _request_hash(kind, entity_id, event, if_match, body) if key else ""
    if key:
        rec = _stored(session, actor.account_id, key)
        if rec is not None:
            session.rollback()
            return _replay(rec, request_hash)
    try:
        version = expected_version(if_match, body)
        if event in k.machine.events:  # an unknown event is a 404 from the engine, version or not
            version = required_version(session, kind, entity_id, version)
        payload = payload_of(body)
        if key:
            session.add(IdempotencyRecord(account_id=actor.account_id, key=key,
                                          request_hash=request_hash, status_code=0, body=""))
            session.flush()
        # One transaction: the event, the stored answer for its key, then COMMIT. The answer's
        # available_events come from the roles the engine found, without reading the row again.
        fired = engine.fire_within(session, kind, entity_id, event, actor, expected_version=version,
                                   payload=payload)
        result = EventResult(kind=kind, id=fired.id, event=fired.event, from_state=fired.from_state,
                             state=fired.state, version=fired.version, event_id=fired.event_id,
                             available_events=k.machine.allowed(fired.state,
                                                                queries.seen(kind, fired.roles, fired.state)))
        out = result.model_dump(mode="json")
        if key:
            session.execute(update(IdempotencyRecord).where(
                IdempotencyRecord.account_id == actor.account_id, IdempotencyRecord.key == key)
                .values(status_code=200, body=json.dumps(out, ensure_ascii=False)))
        session.commit()
    except IntegrityError:  # a concurrent request with the same key committed first
        session.rollback()
        rec = _stored(session, actor.account_id, key) if key else None
        session.rollback()
        if rec is None:
            raise
        return _replay(rec, request_hash)
    except WorkflowError as exc:
        session.rollback()
        # The engine hides rows the caller holds no role on; an appraisal outside committee
        # review is hidden from the committee too. Only failures can concern such a row (the
        # committee has no event outside review), so the check costs nothing on success.
        if not isinstance(exc, NotFound) or exc.what != kind:
            row = session.get(k.table, entity_id)
            if row is None or not visible(session, actor, row):
                exc = NotFound(kind, entity_id)
            session.rollback()
        status, out, headers = error_body(exc)
        if key and not isinstance(exc, VersionRequired):  # a retry with If-Match is a new request
            _store_error(session, actor.account_id, key, request_hash, status, out)
        return JSONResponse(out, status_code=status, headers=headers)
    except BaseException:
        session.rollback()
        raise
    return JSONResponse(out, status_code=200, headers={"ETag": f'"{fired.version}"'})
