"""Low-performer cases as an engine kind, and the link between appraisals and cases.

- An appraisal entering ``announced`` whose result meets the policy's trigger
  (``Policy.is_low_performer``) opens a case in the same transaction (the hook below).
- The same announcement first moves any open case of the same person from an earlier round:
  that appraisal becomes the case's follow-up (``follow_up_appraisal_id``) and its result
  closes the case as improved, counts one more low round, or escalates it. The link is made
  when the follow-up appraisal is *announced*, not when its round opens: opening a round is
  one bulk insert for the whole organisation and knows nothing of cases, while the
  announcement is the moment the result exists and the case must move; until then
  ``follow_up_candidate`` shows which appraisal will be the follow-up.
- Escalation flags the case and writes an inbox message to HR and the authority: the system
  flags, people decide.

The rules are in ``machines/low_performer.py`` (the table); this module does the I/O.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlmodel import Session

from db.models import (Account, Appraisal, CaseMeasure, Evidence, InboxMessage, LowPerformerCase,
                       OrgUnit, Person, RoleAssignment, Round, Signature)
from workflow import engine
from workflow.access import Actor
from workflow.appraisals import KIND as APPRAISAL_KIND
from workflow.errors import InvalidInput, NotFound, Problem
from workflow.labels import MEASURE_TH, STATE_TH, STATUS_TH
from workflow.machines.low_performer import MACHINE, MEASURES, OPEN_STATES, CaseFacts, CaseRules
from workflow.rounds import policy_of_round

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


# --- payload shapes --------------------------------------------------------------------------------
class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str | None = Field(None, max_length=4000)


class PlanIn(_In):
    weakness_analysis: str | None = Field(None, max_length=8000)
    development_plan: str | None = Field(None, max_length=8000)


class MeasureIn(_In):
    measure: Literal["coaching", "training", "commitment"] | None = None
    status: Literal["not_started", "in_progress", "done"] | None = None
    note: str | None = Field(None, max_length=8000)


class SkipIn(_In):
    measure: Literal["coaching", "training", "commitment"] | None = None
    reason: str | None = Field(None, max_length=4000)


class EvidenceIn(_In):
    measure: Literal["coaching", "training", "commitment"] | None = None
    note: str | None = Field(None, max_length=8000)
    evidence_id: int | None = Field(None, ge=1, le=2**31 - 1)
    filename: str | None = Field(None, max_length=300)
    sha256: str | None = Field(None, max_length=64)


class NoteIn(_In):
    note: str | None = Field(None, max_length=8000)


class ResultIn(_In):
    appraisal_id: int = Field(ge=1, le=2**31 - 1)
    low: bool
    total_percent: str | None = None
    rating: str | None = None


PAYLOADS: dict[str, type[_In]] = {
    "edit_plan": PlanIn, "agree_plan": PlanIn,
    "begin_coaching": NoteIn, "begin_training": NoteIn, "begin_commitment": NoteIn,
    "update_measure": MeasureIn, "skip_measure": SkipIn, "add_evidence": EvidenceIn,
    "record_follow_up": NoteIn, "record_decision": NoteIn,
    "close_improved": ResultIn, "still_low": ResultIn, "escalate": ResultIn,
}


validate = engine.payload_validator(PAYLOADS, _In)


# --- roles and facts -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseView:
    """The few fields of a case that decide who may act on it."""

    person_id: int
    supervisor_ids: frozenset[int]
    org_path: str


def case_roles(actor: Actor, v: CaseView) -> frozenset[str]:
    if actor.is_system:
        return frozenset({"system"})
    roles: set[str] = set()
    if actor.person_id is not None:
        if actor.person_id == v.person_id:
            roles.add("appraisee")
        if actor.person_id in v.supervisor_ids and actor.person_id != v.person_id:
            roles.add("supervisor")
    for role in ("hr", "authority"):
        if actor.has_scope(role, v.org_path):
            roles.add(role)
    if actor.is_admin:
        roles.add("admin")  # sees every case; the table gives admins no event
    return frozenset(roles)


def view_of(session: Session, c: LowPerformerCase) -> CaseView:
    ids = [c.appraisal_id] + ([c.follow_up_appraisal_id] if c.follow_up_appraisal_id else [])
    evaluators = session.execute(select(Appraisal.evaluator_id).where(Appraisal.id.in_(ids))).scalars()
    org = session.get(OrgUnit, c.org_unit_id)
    return CaseView(person_id=c.person_id, supervisor_ids=frozenset(e for e in evaluators if e),
                    org_path=org.path if org else "/")


def roles(session: Session, actor: Actor, c: LowPerformerCase) -> frozenset[str]:
    return case_roles(actor, view_of(session, c))


def measures_of(session: Session, case_id: int) -> list[CaseMeasure]:
    rows = {m.kind: m for m in session.execute(
        select(CaseMeasure).where(CaseMeasure.case_id == case_id)).scalars()}
    return [rows[k] for k in MEASURES if k in rows]


def rules_of(session: Session, round_id: int) -> CaseRules:
    lp = policy_of_round(session, round_id).low_performer
    return CaseRules(measures=tuple(lp.measures), min_measures=lp.min_measures,
                     skippable=tuple(lp.skippable), escalate_after_rounds=lp.escalate_after_rounds)


def facts(session: Session, c: LowPerformerCase) -> CaseFacts:
    measures = measures_of(session, c.id)
    kind_of_measure = {m.id: m.kind for m in measures}
    evidence: dict[str, int] = {}
    for mid in session.execute(select(Evidence.measure_id).where(Evidence.case_id == c.id)).scalars():
        if mid in kind_of_measure:
            evidence[kind_of_measure[mid]] = evidence.get(kind_of_measure[mid], 0) + 1
    signed = session.execute(select(Signature.role).where(
        Signature.case_id == c.id, Signature.kind == "commitment")).scalars()
    return CaseFacts(rules=rules_of(session, c.round_id), measures={m.kind: m.status for m in measures},
                     evidence=evidence, commitment_signed_by=frozenset(signed),
                     weakness_analysis=c.weakness_analysis or "", development_plan=c.development_plan or "",
                     consecutive_low_rounds=c.consecutive_low_rounds)


# --- effects -------------------------------------------------------------------------------------
def _measure(session: Session, c: LowPerformerCase, kind: str) -> CaseMeasure:
    m = session.execute(select(CaseMeasure).where(CaseMeasure.case_id == c.id,
                                                  CaseMeasure.kind == kind)).scalar_one_or_none()
    if m is None:  # cases opened before a measure was added to the policy
        m = CaseMeasure(case_id=c.id, kind=kind)
        session.add(m)
        session.flush()
    return m


def _plan(session, c, p, actor, held) -> None:
    for key in ("weakness_analysis", "development_plan"):
        if key in p:
            setattr(c, key, p[key])


def _begin(kind: str):
    def effect(session, c, p, actor, held) -> Mapping[str, Any]:
        m = _measure(session, c, kind)
        if m.status == "not_started":
            m.status = "in_progress"
        if p.get("note"):
            m.note = _append(m.note, p["note"])
        session.add(m)
        return {"measure": kind, "status": m.status}
    return effect


def _append(old: str, new: str) -> str:
    return f"{old}\n{new}".strip() if old else new


def _update_measure(session, c, p, actor, held) -> Mapping[str, Any]:
    m = _measure(session, c, p["measure"])
    previous, m.status = m.status, p["status"]
    if p.get("note"):
        m.note = _append(m.note, p["note"])
        if p["status"] == "done" and not _evidence_count(session, c.id, m.id):
            _note_evidence(session, c, m, p["note"], actor)
    session.add(m)
    return {"previous_status": previous}


def _skip_measure(session, c, p, actor, held) -> Mapping[str, Any]:
    m = _measure(session, c, p["measure"])
    previous, m.status = m.status, "skipped"
    m.note = _append(m.note, p["reason"])
    session.add(m)
    return {"previous_status": previous}


def _evidence_count(session: Session, case_id: int, measure_id: int) -> int:
    return len(session.execute(select(Evidence.id).where(
        Evidence.case_id == case_id, Evidence.measure_id == measure_id)).all())


def _note_evidence(session: Session, c: LowPerformerCase, m: CaseMeasure | None, note: str,
                   actor: Actor) -> Evidence:
    ev = Evidence(case_id=c.id, measure_id=m.id if m else None, round_id=c.round_id, filename="",
                  content_type="text/plain", sha256=hashlib.sha256(note.encode("utf-8")).hexdigest(),
                  content=b"", note=note, uploaded_by=actor.account_id)
    session.add(ev)
    session.flush()
    return ev


def _add_evidence(session, c, p, actor, held) -> Mapping[str, Any]:
    m = _measure(session, c, p["measure"]) if p.get("measure") else None
    if p.get("evidence_id"):
        ev = session.get(Evidence, p["evidence_id"])
        if ev is None or ev.case_id != c.id:
            raise InvalidInput([Problem("payload.evidence_id", "ไม่พบไฟล์หลักฐานของกรณีนี้",
                                        "no such evidence file on this case")])
        ev.measure_id = m.id if m else None
        if p.get("note"):
            ev.note = p["note"]
        session.add(ev)
    else:
        ev = _note_evidence(session, c, m, p["note"], actor)
    return {"evidence_id": ev.id, "sha256": ev.sha256}


def _sign_commitment(session, c, p, actor, held) -> Mapping[str, Any]:
    signed_as = sorted(held & {"appraisee", "supervisor"})
    for role in signed_as:
        session.add(Signature(case_id=c.id, kind="commitment", role=role, person_id=actor.person_id,
                              name=actor.name))
    return {"signed_as": signed_as}


def _measure_note(session, c, p, actor, held) -> None:
    pass  # the note is the event's payload: the history is the record


def _closed(session, c, p, actor, held) -> None:
    c.follow_up_appraisal_id = p["appraisal_id"]


def _still_low(session, c, p, actor, held) -> Mapping[str, Any]:
    c.follow_up_appraisal_id = p["appraisal_id"]
    c.consecutive_low_rounds += 1
    return {"consecutive_low_rounds": c.consecutive_low_rounds}


def _escalate(session, c, p, actor, held) -> Mapping[str, Any]:
    c.follow_up_appraisal_id = p["appraisal_id"]
    c.consecutive_low_rounds += 1
    c.flagged_for_action = True
    person = session.get(Person, c.person_id)
    notified = notify_org_roles(
        session, c, ("hr", "authority"),
        subject=f"เสนอพิจารณา: {person.name_th} มีผลการปฏิบัติงานต่ำ {c.consecutive_low_rounds} รอบติดต่อกัน "
                f"/ Flagged: {c.consecutive_low_rounds} consecutive low rounds",
        body=(f"{person.name_th} ({person.code}) มีผลการประเมินต่ำกว่าเกณฑ์ {c.consecutive_low_rounds} รอบติดต่อกัน "
              "ระบบได้ทำเครื่องหมายกรณีนี้เพื่อให้ผู้มีอำนาจพิจารณาดำเนินการตามกฎ ก.พ. "
              "ว่าด้วยการสั่งให้ข้าราชการออกจากราชการกรณีไม่สามารถปฏิบัติราชการให้มีประสิทธิภาพ พ.ศ. 2552 "
              "ระบบไม่ได้ตัดสินใจแทน\n"
              f"{person.name_th} ({person.code}) has had {c.consecutive_low_rounds} consecutive low rounds. "
              "The case is flagged for the authority to consider; the system decides nothing."))
    return {"consecutive_low_rounds": c.consecutive_low_rounds, "notified_person_ids": notified}


EFFECTS = {
    "edit_plan": _plan, "agree_plan": _plan,
    "begin_coaching": _begin("coaching"), "begin_training": _begin("training"),
    "begin_commitment": _begin("commitment"),
    "update_measure": _update_measure, "skip_measure": _skip_measure,
    "add_evidence": _add_evidence, "sign_commitment": _sign_commitment,
    "record_follow_up": _measure_note, "record_decision": _measure_note,
    "close_improved": _closed, "still_low": _still_low, "escalate": _escalate,
}

KIND = engine.register(engine.Kind(
    name="case", table=LowPerformerCase, machine=MACHINE, roles=roles, facts=facts,
    validate=validate, effects=EFFECTS,
))


# --- notifications (in-app inbox rows; the notification service delivers the rest) ---------------
def org_role_people(session: Session, org_path: str, role_names: tuple[str, ...]) -> list[int]:
    """People holding one of these roles on the organisation at `org_path` or an ancestor."""
    rows = session.execute(
        select(Account.person_id, OrgUnit.path).join(RoleAssignment, RoleAssignment.account_id == Account.id)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
        .where(RoleAssignment.role.in_(role_names), Account.active.is_(True), Account.person_id.is_not(None))
    ).all()
    return sorted({pid for pid, path in rows if org_path.startswith(path)})


def notify_org_roles(session: Session, c: LowPerformerCase, role_names: tuple[str, ...], *,
                     subject: str, body: str, extra_people: tuple[int, ...] = ()) -> list[int]:
    org = session.get(OrgUnit, c.org_unit_id)
    people = sorted(set(org_role_people(session, org.path, role_names)) | set(extra_people))
    for pid in people:
        session.add(InboxMessage(person_id=pid, subject=subject[:500], body=body, link=f"/cases/{c.id}"))
    return people


# --- the appraisal's announcement opens and moves cases -----------------------------------------
def on_appraisal_announced(session: Session, a: Appraisal, actor: Actor) -> None:
    """Runs inside the announcing transaction (engine on_enter hook)."""
    if a.total_percent is None:
        return
    policy = policy_of_round(session, a.round_id)
    low = policy.is_low_performer(a.staff_type, a.total_percent)
    result = {"appraisal_id": a.id, "low": low, "total_percent": str(a.total_percent),
              "rating": a.rating_code}
    continued = False
    for c in _open_cases_before(session, a):
        rules = rules_of(session, c.round_id)
        if not low:
            event = "close_improved"
        elif c.consecutive_low_rounds + 1 >= rules.escalate_after_rounds:
            event = "escalate"
        else:
            event = "still_low"
        engine.fire_within(session, "case", c.id, event, Actor.system(), payload=result)
        continued = continued or low
    if low and not continued:
        open_case(session, a)


def _open_cases_before(session: Session, a: Appraisal) -> list[LowPerformerCase]:
    this_round = session.get(Round, a.round_id)
    rows = session.execute(
        select(LowPerformerCase).join(Round, Round.id == LowPerformerCase.round_id)
        .where(LowPerformerCase.person_id == a.person_id,
               LowPerformerCase.state.in_(OPEN_STATES),
               LowPerformerCase.round_id != a.round_id,
               Round.starts_on < this_round.starts_on)
        .order_by(LowPerformerCase.id)).scalars()
    return list(rows)


def open_case(session: Session, a: Appraisal) -> LowPerformerCase:
    rules = rules_of(session, a.round_id)
    c = LowPerformerCase(person_id=a.person_id, appraisal_id=a.id, round_id=a.round_id,
                         org_unit_id=a.org_unit_id, state="opened", version=0, consecutive_low_rounds=1)
    session.add(c)
    session.flush()
    for kind in MEASURES:
        in_policy = kind in rules.measures
        session.add(CaseMeasure(case_id=c.id, kind=kind, status="not_started" if in_policy else "skipped",
                                note="" if in_policy else "ไม่อยู่ในมาตรการตามนโยบาย / not a measure of the policy"))
    engine.record(session, "case", c, "opened", Actor.system(),
                  {"appraisal_id": a.id, "total_percent": str(a.total_percent), "rating": a.rating_code})
    person = session.get(Person, a.person_id)
    notify_org_roles(
        session, c, ("hr",), extra_people=tuple(p for p in (a.evaluator_id,) if p),
        subject=f"เปิดกรณีผู้มีผลการปฏิบัติงานต่ำ: {person.name_th} / Low-performer case opened",
        body=(f"ผลการประเมินของ {person.name_th} ({person.code}) ร้อยละ {a.total_percent} ต่ำกว่าเกณฑ์ของนโยบาย "
              "กรุณาร่วมกันวิเคราะห์จุดอ่อนและจัดทำแผนพัฒนารายบุคคล\n"
              f"{person.name_th}'s result ({a.total_percent}%) meets the policy's low-performer trigger: "
              "analyse the weaknesses and agree a development plan."))
    return c


def announcement_is_quiet(env: engine.Env) -> bool:
    """From the appraisal's snapshot alone: the announcement opens no case and moves none
    (no result, or a result above the trigger and no open case in another round)."""
    a = env.row
    if a.total_percent is None:
        return True
    return not env.policy().is_low_performer(a.staff_type, a.total_percent) and not a.open_cases_elsewhere


ANNOUNCED = engine.Hook(run=on_appraisal_announced, quiet=announcement_is_quiet)
if ANNOUNCED not in APPRAISAL_KIND.on_enter.setdefault("announced", []):
    APPRAISAL_KIND.on_enter["announced"].append(ANNOUNCED)


# --- services: evidence, listing, one case --------------------------------------------------------
def add_evidence_file(session: Session, case_id: int, actor: Actor, *, filename: str, content: bytes,
                      content_type: str = "application/octet-stream", measure: str | None = None,
                      note: str = "", expected_version: int | None = None) -> engine.Fired:
    """Store an uploaded file with its SHA-256 and record it on the case, in one transaction."""
    problems = []
    if not filename.strip():
        problems.append(Problem("filename", "ต้องระบุชื่อไฟล์", "a file name is required"))
    if not content:
        problems.append(Problem("file", "ไฟล์ว่างเปล่า", "the file is empty"))
    if len(content) > MAX_EVIDENCE_BYTES:
        problems.append(Problem("file", "ไฟล์ใหญ่เกิน 20 MB", "the file is larger than 20 MB"))
    if problems:
        raise InvalidInput(problems)
    if session.get(LowPerformerCase, case_id) is None:
        raise NotFound("case", case_id)
    digest = hashlib.sha256(content).hexdigest()
    ev = Evidence(case_id=case_id, round_id=None, filename=filename.strip()[:300], content_type=content_type,
                  sha256=digest, content=content, note=note, uploaded_by=actor.account_id)
    session.add(ev)
    session.flush()  # rolled back with the event if anything below refuses it
    payload = {"evidence_id": ev.id, "filename": ev.filename, "sha256": digest}
    if measure:
        payload["measure"] = measure
    if note:
        payload["note"] = note
    return engine.fire(session, "case", case_id, "add_evidence", actor,
                       expected_version=expected_version, payload=payload)


def get_case(session: Session, actor: Actor, case_id: int) -> LowPerformerCase:
    c = session.get(LowPerformerCase, case_id)
    if c is None or not roles(session, actor, c):
        raise NotFound("case", case_id)
    return c


def evidence_file(session: Session, actor: Actor, case_id: int, evidence_id: int) -> Evidence:
    get_case(session, actor, case_id)
    ev = session.get(Evidence, evidence_id)
    if ev is None or ev.case_id != case_id:
        raise NotFound("evidence", evidence_id)
    return ev


def list_cases(session: Session, actor: Actor, *, round_id: int | None = None,
               state: str | None = None) -> list[LowPerformerCase]:
    follow = Appraisal.__table__.alias("follow_up")
    stmt = (select(LowPerformerCase).join(OrgUnit, OrgUnit.id == LowPerformerCase.org_unit_id)
            .join(Appraisal, Appraisal.id == LowPerformerCase.appraisal_id)
            .outerjoin(follow, follow.c.id == LowPerformerCase.follow_up_appraisal_id))
    if not actor.is_admin and not actor.is_system:
        who = []
        if actor.person_id is not None:  # the same people as `case_roles`
            who += [LowPerformerCase.person_id == actor.person_id, Appraisal.evaluator_id == actor.person_id,
                    follow.c.evaluator_id == actor.person_id]
        who += [OrgUnit.path.startswith(p) for r, p in actor.scoped_roles if r in ("hr", "authority")]
        if not who:
            return []
        stmt = stmt.where(or_(*who))
    if round_id is not None:
        stmt = stmt.where(LowPerformerCase.round_id == round_id)
    if state is not None:
        stmt = stmt.where(LowPerformerCase.state == state)
    return list(session.execute(stmt.order_by(LowPerformerCase.id)).scalars())


def follow_up_candidate(session: Session, c: LowPerformerCase) -> Appraisal | None:
    """The appraisal that will be the follow-up: the person's appraisal in the next later round."""
    if c.follow_up_appraisal_id:
        return session.get(Appraisal, c.follow_up_appraisal_id)
    start = session.get(Round, c.round_id).starts_on
    return session.execute(
        select(Appraisal).join(Round, Round.id == Appraisal.round_id)
        .where(Appraisal.person_id == c.person_id, Round.starts_on > start)
        .order_by(Round.starts_on).limit(1)).scalar_one_or_none()


def case_out(session: Session, actor: Actor, c: LowPerformerCase) -> dict[str, Any]:
    """The case as the API and the pages show it."""
    person = session.get(Person, c.person_id)
    evidence = list(session.execute(select(Evidence).where(Evidence.case_id == c.id)
                                    .order_by(Evidence.id)).scalars())
    signatures = list(session.execute(select(Signature).where(Signature.case_id == c.id)
                                      .order_by(Signature.id)).scalars())
    follow = follow_up_candidate(session, c)
    return {
        "id": c.id, "state": c.state, "state_th": STATE_TH[c.state], "version": c.version,
        "available_events": engine.available_events(session, "case", c, actor),
        "person": {"id": person.id, "code": person.code, "name_th": person.name_th},
        "appraisal_id": c.appraisal_id, "round_id": c.round_id, "org_unit_id": c.org_unit_id,
        "follow_up_appraisal_id": c.follow_up_appraisal_id,
        "follow_up_candidate_id": follow.id if follow else None,
        "consecutive_low_rounds": c.consecutive_low_rounds, "flagged_for_action": c.flagged_for_action,
        "weakness_analysis": c.weakness_analysis, "development_plan": c.development_plan,
        "measures": [
            {"kind": m.kind, "name_th": MEASURE_TH[m.kind], "status": m.status, "status_th": STATUS_TH[m.status],
             "note": m.note,
             "evidence": [{"id": e.id, "filename": e.filename, "sha256": e.sha256, "note": e.note,
                           "size": len(e.content or b"")} for e in evidence if e.measure_id == m.id]}
            for m in measures_of(session, c.id)
        ],
        "evidence": [{"id": e.id, "filename": e.filename, "sha256": e.sha256, "note": e.note,
                      "measure_id": e.measure_id} for e in evidence],
        "commitment_signed_by": sorted({s.role for s in signatures if s.kind == "commitment"}),
        "updated_at": c.updated_at.isoformat() if c.updated_at else None,
    }

