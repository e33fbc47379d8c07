"""Low-performer cases as an engine kind, and the link between appraisals and cases.

- An appraisal entering ``announced`` whose result meets the policy's trigger
  (``Policy.is_low_performer``) opens a case in the same transaction (the hook
  ``on_appraisal_announced``, wired in ``workflow/kinds.py``).
- The same announcement first moves any open case of the same person from an earlier round:
  that appraisal becomes the case's follow-up (``follow_up_appraisal_id``) and its result
  closes the case as improved, opens a new revision of the plan (still low), or escalates it.
  The link is made when the follow-up appraisal is *announced*, not when its round opens:
  the announcement is the moment the result exists and the case must move; until then
  ``follow_up_candidates`` shows which appraisal will be the follow-up.
- Escalation flags the case under the rule of the person's staff type (policy data) and
  writes an inbox message to HR and the authority: the system flags, people decide.

The rules are in ``machines/low_performer.py`` (the table); this module reads and decides.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date
from types import SimpleNamespace
from typing import Any, Iterable, Literal, Mapping, NamedTuple, Sequence

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from db.models import (
    Appraisal,
    CaseMeasure,
    Evidence,
    InboxMessage,
    LowPerformerCase,
    OrgUnit,
    Person,
    Round,
    Signature,
)
from db.raw import Raw
from workflow import audit, engine
from workflow.access import Actor
from workflow.errors import InvalidInput, NotFound, Problem
from workflow.labels import MEASURE_TH, STATE_TH, STATUS_TH
from workflow.machines.low_performer import MACHINE, MEASURES, OPEN_STATES, PHASES, CaseFacts, CaseRules
from workflow.next_steps import NextStep, steps
from workflow.notifications.render import render_text
from workflow.rounds import policies_by_round, policy_by_version

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
Measure = Literal["coaching", "training", "commitment", "job_assignment", "job_rotation"]


# --- payload shapes --------------------------------------------------------------------------------
class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str | None = Field(None, max_length=4000)


class PlanItem(BaseModel):
    """One line of the individual development plan: what to develop, how, and by when
    (seeds 000/003 3.1)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    area: Literal["knowledge", "skill", "competency"]
    topic: str = Field(min_length=1, max_length=500)
    method: str = Field(min_length=1, max_length=1000)
    due_on: date


class PlanIn(_In):
    weakness_analysis: str | None = Field(None, max_length=8000)
    development_plan: str | None = Field(None, max_length=8000)
    development_plan_items: list[PlanItem] | None = Field(None, max_length=30)


class MeasureIn(_In):
    measure: Measure | None = None
    status: Literal["not_started", "in_progress", "done"] | None = None
    note: str | None = Field(None, max_length=8000)


class SkipIn(_In):
    measure: Measure | None = None
    reason: str | None = Field(None, max_length=4000)


class EvidenceIn(_In):
    measure: Measure | None = None
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
    "edit_plan": PlanIn, "sign_plan": PlanIn, "agree_plan": PlanIn,
    "begin_coaching": NoteIn, "begin_training": NoteIn, "begin_commitment": NoteIn,
    "update_measure": MeasureIn, "skip_measure": SkipIn, "add_evidence": EvidenceIn,
    "record_follow_up": NoteIn, "record_decision": NoteIn,
    "close_improved": ResultIn, "still_low": ResultIn, "escalate": ResultIn,
}


validate = engine.payload_validator(PAYLOADS, _In)


# --- roles ---------------------------------------------------------------------------------------
def case_roles(actor: Actor, *, person_id: int, supervisor_ids: frozenset[int], org_path: str) -> frozenset[str]:
    if actor.is_system:
        return frozenset({"system"})
    roles: set[str] = set()
    if actor.person_id is not None:
        if actor.person_id == person_id:
            roles.add("appraisee")
        if actor.person_id in supervisor_ids and actor.person_id != person_id:
            roles.add("supervisor")
    for role in ("hr", "authority"):
        if actor.has_scope(role, org_path):
            roles.add(role)
    if actor.is_admin:
        roles.add("admin")  # sees every case; the table gives admins no event
    return frozenset(roles)


def roles(session: Session, actor: Actor, c: LowPerformerCase) -> frozenset[str]:
    return roles_of_cases(session, actor, [c])[c.id]


def roles_of_cases(session: Session, actor: Actor, rows: Sequence[LowPerformerCase]) -> dict[int, frozenset[str]]:
    """Case id -> the caller's roles on it (`case_roles`), for many cases in one query: the
    supervisors are the evaluators of the appraisal that opened it and of its follow-up."""
    if not rows:
        return {}
    follow = aliased(Appraisal)
    found = {cid: (path, evaluators) for cid, path, *evaluators in session.execute(
        select(LowPerformerCase.id, OrgUnit.path, Appraisal.evaluator_id, follow.evaluator_id)
        .outerjoin(OrgUnit, OrgUnit.id == LowPerformerCase.org_unit_id)
        .outerjoin(Appraisal, Appraisal.id == LowPerformerCase.appraisal_id)
        .outerjoin(follow, follow.id == LowPerformerCase.follow_up_appraisal_id)
        .where(LowPerformerCase.id.in_([c.id for c in rows])))}
    out = {}
    for c in rows:
        path, evaluators = found.get(c.id, ("/", ()))
        out[c.id] = case_roles(actor, person_id=c.person_id, supervisor_ids=frozenset(e for e in evaluators if e),
                               org_path=path or "/")
    return out


def rules_of(policy: Any) -> CaseRules:
    lp = policy.low_performer
    return CaseRules(measures=tuple(lp.measures), min_measures=lp.min_measures,
                     skippable=tuple(lp.skippable), escalate_after_rounds=lp.escalate_after_rounds)


def case_facts(rules: CaseRules, measures: Mapping[int, tuple[str, str]], evidence: Mapping[int | None, int],
               signed: Iterable[tuple[str, str, int]], *, plan_revision: int, weakness_analysis: str | None,
               development_plan: str | None, plan_items: int, consecutive_low_rounds: int,
               held: frozenset[str]) -> CaseFacts:
    """What the guards see of a case, from what is recorded: its measures (measure id -> (kind,
    status)), how many evidence items each measure id has, its signatures (kind, role, revision).
    The engine's snapshot and the lists' next steps both build it here."""
    signed = list(signed)
    return CaseFacts(rules=rules, measures={kind: status for kind, status in measures.values()},
                     evidence={measures[mid][0]: n for mid, n in evidence.items() if mid in measures},
                     commitment_signed_by=frozenset(r for k, r, _ in signed if k == "commitment"),
                     plan_signed_by=frozenset(r for k, r, rev in signed if k == "plan" and rev == plan_revision),
                     weakness_analysis=weakness_analysis or "", development_plan=development_plan or "",
                     plan_items=plan_items, consecutive_low_rounds=consecutive_low_rounds, caller_roles=held)


# --- the engine's reader -------------------------------------------------------------------------
_CASE_SQL = """
SELECT c.id, c.person_id, c.appraisal_id, c.follow_up_appraisal_id, c.round_id, c.org_unit_id, c.state,
       c.version, c.consecutive_low_rounds, c.weakness_analysis, c.development_plan,
       c.development_plan_items, c.plan_revision, a.staff_type, o.path, pv.id, pv.content_hash,
       (SELECT hash FROM event WHERE entity_type = 'case' AND entity_id = c.id AND seq = c.version),
       (SELECT evaluator_id FROM appraisal WHERE id = c.appraisal_id),
       (SELECT evaluator_id FROM appraisal WHERE id = c.follow_up_appraisal_id)
  FROM low_performer_case c JOIN appraisal a ON a.id = c.appraisal_id
  JOIN org_unit o ON o.id = c.org_unit_id JOIN round r ON r.id = c.round_id
  LEFT JOIN policy_version pv ON pv.id = r.policy_version_id
 WHERE c.id = %s"""


def snapshot(raw: Raw, case_id: int, actor: Actor, *, lock: bool = True) -> engine.Snapshot | None:
    found = raw.one(_CASE_SQL + ("" if raw.sqlite or not lock else "\n   FOR UPDATE OF c"), (case_id,))
    if found is None:
        return None
    (id_, person_id, appraisal_id, follow_up_id, round_id, org_unit_id, state, version, low_rounds,
     weakness, plan, plan_items, plan_revision, staff_type, org_path, policy_id, policy_hash, prev_hash,
     *evaluators) = found
    policy = policy_by_version(raw, policy_id, policy_hash)
    rules = rules_of(policy)
    measures = {kind: (mid, status, note) for mid, kind, status, note in raw.all(
        "SELECT id, kind, status, note FROM case_measure WHERE case_id = %s", (case_id,))}
    missing = [m for m in rules.measures if m not in measures]
    if missing and lock:  # a case opened before the policy listed this measure: add it now
        for kind in missing:
            mid = raw.insert("case_measure", {"case_id": case_id, "kind": kind, "status": "not_started",
                                              "note": ""}, returning="id")
            measures[kind] = (mid, "not_started", "")
    evidence = dict(raw.all("SELECT measure_id, count(*) FROM evidence WHERE case_id = %s GROUP BY measure_id",
                            (case_id,)))
    signed = raw.all("SELECT kind, role, revision FROM signature WHERE case_id = %s", (case_id,))
    held = case_roles(actor, person_id=person_id, supervisor_ids=frozenset(e for e in evaluators if e),
                      org_path=org_path or "/")
    items = raw.json(plan_items) or []
    row = SimpleNamespace(id=id_, person_id=person_id, appraisal_id=appraisal_id, follow_up_appraisal_id=follow_up_id,
                          round_id=round_id, org_unit_id=org_unit_id, state=state, version=version,
                          consecutive_low_rounds=low_rounds, staff_type=staff_type, plan_revision=plan_revision,
                          measures=measures, org_path=org_path or "/")
    facts = case_facts(rules, {mid: (kind, status) for kind, (mid, status, _) in measures.items()}, evidence, signed,
                       plan_revision=plan_revision, weakness_analysis=weakness, development_plan=plan,
                       plan_items=len(items), consecutive_low_rounds=low_rounds, held=held)
    return engine.Snapshot(row=row, roles=held, facts=facts, prev_hash=prev_hash or audit.GENESIS, policy=policy)


# --- effects: pure, Env -> Changes ----------------------------------------------------------------
Insert = engine.Insert


def _append(old: str, new: str) -> str:
    return f"{old}\n{new}".strip() if old else new


def _plan_columns(p: Mapping[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in ("weakness_analysis", "development_plan", "development_plan_items") if k in p}


def _plan_signatures(e: engine.Env) -> tuple[Insert, ...]:
    return tuple(Insert(Signature, dict(case_id=e.row.id, kind="plan", role=role, revision=e.row.plan_revision,
                                        person_id=e.actor.person_id, name=e.actor.name, signed_at=e.now))
                 for role in sorted(e.roles & {"hr", "supervisor"} - e.facts.plan_signed_by))


def _edit_plan(e: engine.Env) -> engine.Changes:
    return engine.Changes(set=_plan_columns(e.payload))


def _sign_plan(e: engine.Env) -> engine.Changes:
    signs = _plan_signatures(e)
    return engine.Changes(set=_plan_columns(e.payload), add=signs,
                          record={"signed_as": [s.values["role"] for s in signs], "plan_revision": e.row.plan_revision})


def _measure_update(e: engine.Env, kind: str, status: str | None, note: str | None) -> tuple[type, int, dict]:
    mid, old_status, old_note = e.row.measures[kind]
    values: dict[str, Any] = {}
    if status is not None:
        values["status"] = status
    if note:
        values["note"] = _append(old_note, note)
    return (CaseMeasure, mid, values)


def _begin(kind: str):
    def effect(e: engine.Env) -> engine.Changes:
        if kind not in e.row.measures:  # a phase the policy does not list: nothing to track
            return engine.Changes(record={"measure": kind})
        status = "in_progress" if e.row.measures[kind][1] == "not_started" else None
        update = _measure_update(e, kind, status, e.payload.get("note"))
        return engine.Changes(update=(update,) if update[2] else (),
                              record={"measure": kind, "status": status or e.row.measures[kind][1]})
    effect.__name__ = f"begin_{kind}"
    return effect


def _note_evidence(e: engine.Env, measure: str | None, note: str) -> Insert:
    return Insert(Evidence, dict(case_id=e.row.id, measure_id=e.row.measures[measure][0] if measure else None,
                                 round_id=e.row.round_id, filename="", content_type="text/plain",
                                 sha256=hashlib.sha256(note.encode("utf-8")).hexdigest(), content=b"",
                                 note=note, uploaded_by=e.actor.account_id, uploaded_at=e.now),
                  record_id_as="evidence_id")


def _update_measure(e: engine.Env) -> engine.Changes:
    p = e.payload
    measure = p["measure"]
    add = ()
    if p["status"] == "done" and p.get("note") and not e.facts.evidence.get(measure):
        add = (_note_evidence(e, measure, p["note"]),)
    return engine.Changes(update=(_measure_update(e, measure, p["status"], p.get("note")),), add=add,
                          record={"previous_status": e.row.measures[measure][1]})


def _skip_measure(e: engine.Env) -> engine.Changes:
    measure = e.payload["measure"]
    return engine.Changes(update=(_measure_update(e, measure, "skipped", e.payload["reason"]),),
                          record={"previous_status": e.row.measures[measure][1]})


def _evidence_file(raw: Raw, snap: engine.Snapshot, p: Mapping[str, Any]) -> Any:
    """The uploaded file an `add_evidence` names, if it belongs to this case."""
    if not p.get("evidence_id"):
        return None
    return raw.one("SELECT id, sha256 FROM evidence WHERE id = %s AND case_id = %s", (p["evidence_id"], snap.row.id))


def _add_evidence(e: engine.Env) -> engine.Changes:
    p = e.payload
    measure = p.get("measure")
    if measure and measure not in e.row.measures:
        raise InvalidInput([Problem("payload.measure", "มาตรการนี้ไม่อยู่ในนโยบายของหน่วยงาน",
                                    "this measure is not one of the policy's")])
    if not p.get("evidence_id"):
        new = _note_evidence(e, measure, p["note"])
        return engine.Changes(add=(new,), record={"sha256": new.values["sha256"]})
    if e.inputs is None:
        raise InvalidInput([Problem("payload.evidence_id", "ไม่พบไฟล์หลักฐานของกรณีนี้",
                                    "no such evidence file on this case")])
    values: dict[str, Any] = {"measure_id": e.row.measures[measure][0] if measure else None}
    if p.get("note"):
        values["note"] = p["note"]
    return engine.Changes(update=((Evidence, e.inputs[0], values),),
                          record={"evidence_id": e.inputs[0], "sha256": e.inputs[1]})


def _sign_commitment(e: engine.Env) -> engine.Changes:
    signed_as = sorted(e.roles & {"appraisee", "supervisor"} - e.facts.commitment_signed_by)
    return engine.Changes(add=tuple(Insert(Signature, dict(case_id=e.row.id, kind="commitment", role=role,
                                                           person_id=e.actor.person_id, name=e.actor.name,
                                                           signed_at=e.now)) for role in signed_as),
                          record={"signed_as": signed_as})


def _closed(e: engine.Env) -> engine.Changes:
    return engine.Changes(set={"follow_up_appraisal_id": e.payload["appraisal_id"]})


def _still_low(e: engine.Env) -> engine.Changes:
    """One more low round: a new revision of the plan, its measures started again."""
    revision = e.row.plan_revision + 1
    restart = tuple((CaseMeasure, mid, {"status": "not_started"}) for kind, (mid, status, _) in e.row.measures.items()
                    if status != "not_started" and (kind in e.facts.rules.measures))
    return engine.Changes(set={"follow_up_appraisal_id": e.payload["appraisal_id"], "plan_revision": revision,
                               "consecutive_low_rounds": e.row.consecutive_low_rounds + 1},
                          update=restart,
                          record={"consecutive_low_rounds": e.row.consecutive_low_rounds + 1,
                                  "plan_revision": revision})


OCSC_RULE = ("กฎ ก.พ. ว่าด้วยการสั่งให้ข้าราชการออกจากราชการกรณีไม่สามารถปฏิบัติราชการให้มีประสิทธิภาพ"
             "และเกิดประสิทธิผล พ.ศ. 2552", "the OCSC rule of 2009 on removal for inefficiency")


def escalation_rule(policy: Any, staff_type: str) -> tuple[str, str]:
    """The rule a flagged case is considered under, for the person's staff type (policy data)."""
    rule = getattr(policy.low_performer, "escalation_rule", None)
    return rule(staff_type) if rule else OCSC_RULE


def _escalate(e: engine.Env) -> engine.Changes:
    rule_th, rule_en = escalation_rule(e.policy, e.row.staff_type)
    return engine.Changes(set={"follow_up_appraisal_id": e.payload["appraisal_id"], "flagged_for_action": True,
                               "consecutive_low_rounds": e.row.consecutive_low_rounds + 1},
                          record={"consecutive_low_rounds": e.row.consecutive_low_rounds + 1,
                                  "rule_th": rule_th, "rule_en": rule_en})


CHANGES = {
    "edit_plan": _edit_plan, "sign_plan": _sign_plan,
    "agree_plan": lambda e: engine.Changes(set=_plan_columns(e.payload), add=_plan_signatures(e)),
    "begin_coaching": _begin("coaching"), "begin_training": _begin("training"),
    "begin_commitment": _begin("commitment"),
    "update_measure": _update_measure, "skip_measure": _skip_measure,
    "add_evidence": _add_evidence, "sign_commitment": _sign_commitment,
    "close_improved": _closed, "still_low": _still_low, "escalate": _escalate,
}
READS = {"add_evidence": _evidence_file}


# --- hooks: in the transaction of the event that fires them ---------------------------------------
def notify(raw: Raw, case_id: int, people: list[int], template: str, context: dict[str, Any]) -> None:
    """An inbox message to each person, in their language, from a template."""
    for person_id, locale in raw.all(
            f"SELECT id, locale FROM person WHERE id IN ({', '.join(['%s'] * len(people))})", people) if people else ():
        subject, body = render_text(template, "en" if locale == "en" else "th", context)
        raw.insert("inbox_message", engine.with_defaults(InboxMessage, {
            "person_id": person_id, "subject": subject[:500], "body": body, "link": f"/cases/{case_id}"}))


def org_role_people(raw: Raw, org_path: str, role_names: tuple[str, ...]) -> list[int]:
    """People holding one of these roles on the organisation at `org_path` or an ancestor."""
    rows = raw.all("SELECT a.person_id, o.path FROM account a JOIN role_assignment ra ON ra.account_id = a.id "
                   "JOIN org_unit o ON o.id = ra.org_unit_id WHERE ra.role IN ("
                   + ", ".join(["%s"] * len(role_names)) + ") AND a.active = %s AND a.person_id IS NOT NULL",
                   (*role_names, True))
    return sorted({pid for pid, path in rows if org_path.startswith(path)})


def _person(raw: Raw, person_id: int) -> dict[str, Any]:
    name, code = raw.one("SELECT name_th, code FROM person WHERE id = %s", (person_id,))
    return {"name": name, "code": code}


def on_escalated(raw: Raw, env: engine.Env, fired: engine.Fired) -> None:
    c = env.row
    rule_th, rule_en = escalation_rule(env.policy, c.staff_type)
    notify(raw, c.id, org_role_people(raw, c.org_path, ("hr", "authority")), "case_escalated",
           {**_person(raw, c.person_id), "rounds": c.consecutive_low_rounds + 1, "rule_th": rule_th,
            "rule_en": rule_en})


def on_appraisal_announced(raw: Raw, env: engine.Env, fired: engine.Fired) -> None:
    """An announced result opens a case, or moves the person's open cases of earlier rounds."""
    a = env.row
    if a.total_percent is None:
        return
    low = env.policy.is_low_performer(a.staff_type, a.total_percent)
    if not low and not a.open_cases_elsewhere:
        return
    result = {"appraisal_id": a.id, "low": low, "total_percent": str(a.total_percent), "rating": a.rating_code}
    earlier = raw.all(
        "SELECT lc.id, lc.consecutive_low_rounds, pv.id, pv.content_hash FROM low_performer_case lc "
        "JOIN round r ON r.id = lc.round_id JOIN policy_version pv ON pv.id = r.policy_version_id "
        "WHERE lc.person_id = %s AND lc.round_id <> %s AND lc.state IN ("
        + ", ".join(["%s"] * len(OPEN_STATES)) + ") "
        "AND r.starts_on < (SELECT starts_on FROM round WHERE id = %s) ORDER BY lc.id",
        (a.person_id, a.round_id, *OPEN_STATES, a.round_id))
    for case_id, low_rounds, policy_id, policy_hash in earlier:
        limit = rules_of(policy_by_version(raw, policy_id, policy_hash)).escalate_after_rounds
        event = "close_improved" if not low else "escalate" if low_rounds + 1 >= limit else "still_low"
        engine.fire_raw(raw, engine.kind_of("case"), case_id, event, Actor.system(), payload=result)
    if low and not earlier:
        open_case(raw, a, env.policy, env.now)


def open_case(raw: Raw, a: Any, policy: Any, now: Any) -> int:
    """A new case for an announced low result, its measures as the policy lists them."""
    rules = rules_of(policy)
    case_id = raw.insert("low_performer_case", engine.with_defaults(LowPerformerCase, dict(
        person_id=a.person_id, appraisal_id=a.id, round_id=a.round_id, org_unit_id=a.org_unit_id,
        state="opened", version=1, consecutive_low_rounds=1, plan_revision=1, updated_at=now)), returning="id")
    for kind in MEASURES:
        if kind in rules.measures:
            raw.insert("case_measure", {"case_id": case_id, "kind": kind, "status": "not_started", "note": ""})
        elif kind in PHASES:  # a phase of the machine the policy leaves out
            raw.insert("case_measure", {"case_id": case_id, "kind": kind, "status": "skipped",
                                        "note": "ไม่อยู่ในมาตรการตามนโยบาย / not a measure of the policy"})
    engine.append_event(raw, "case", case_id, 1, "opened", Actor.system(), from_state=None, to_state="opened",
                        payload={"appraisal_id": a.id, "total_percent": str(a.total_percent),
                                 "rating": a.rating_code}, at=now)
    people = org_role_people(raw, a.round_org_path, ("hr",))
    notify(raw, case_id, sorted(set(people) | {p for p in (a.evaluator_id,) if p}), "case_opened",
           {**_person(raw, a.person_id), "total_percent": str(a.total_percent)})
    return case_id


def kind() -> engine.Kind:
    """The low-performer case kind, built by `workflow.kinds`."""
    return engine.Kind(name="case", table=LowPerformerCase, machine=MACHINE, snapshot=snapshot,
                       validate=validate, payloads=PAYLOADS, default_payload=_In, changes=CHANGES, reads=READS, roles=roles,
                       on_enter={"escalated": [on_escalated]})


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


def open_case_of(session: Session, person_id: int, before: date) -> LowPerformerCase | None:
    """The person's open case from a round that started before `before`: what the evaluator of
    their next appraisal must see."""
    return session.execute(
        select(LowPerformerCase).join(Round, Round.id == LowPerformerCase.round_id)
        .where(LowPerformerCase.person_id == person_id, LowPerformerCase.state.in_(OPEN_STATES),
               Round.starts_on < before)
        .order_by(LowPerformerCase.id.desc()).limit(1)).scalar_one_or_none()


def follow_up_candidates(session: Session, rows: Sequence[LowPerformerCase]) -> dict[int, int | None]:
    """Case id -> the appraisal that is, or will be, its follow-up: the one linked, or else the
    person's appraisal in the next later round (None while there is none), in one query."""
    out = {c.id: c.follow_up_appraisal_id for c in rows}
    unlinked = [c.id for c in rows if not c.follow_up_appraisal_id]
    if unlinked:
        opened_in, later = aliased(Round), aliased(Round)
        for case_id, appraisal_id in session.execute(
                select(LowPerformerCase.id, Appraisal.id)
                .join(opened_in, opened_in.id == LowPerformerCase.round_id)
                .join(Appraisal, Appraisal.person_id == LowPerformerCase.person_id)
                .join(later, later.id == Appraisal.round_id)
                .where(LowPerformerCase.id.in_(unlinked), later.starts_on > opened_in.starts_on)
                .order_by(later.starts_on.desc(), Appraisal.id.desc())):
            out[case_id] = appraisal_id  # the last one written is the soonest
    return out


def _by_case(session: Session, table: type, case_ids: list[int]) -> dict[int, list[Any]]:
    """Rows of `table` for many cases in one query, grouped by case, in id order."""
    out: dict[int, list[Any]] = {i: [] for i in case_ids}
    for row in session.execute(select(table).where(table.case_id.in_(case_ids)).order_by(table.id)).scalars():
        out[row.case_id].append(row)
    return out


class Filed(NamedTuple):
    """A piece of evidence as a list shows it: its size counted by the database, the file left there."""
    id: int
    case_id: int
    measure_id: int | None
    filename: str
    sha256: str
    note: str
    size: int


def _evidence_by_case(session: Session, case_ids: list[int]) -> dict[int, list[Filed]]:
    out: dict[int, list[Filed]] = {i: [] for i in case_ids}
    for row in session.execute(
            select(Evidence.id, Evidence.case_id, Evidence.measure_id, Evidence.filename, Evidence.sha256,
                   Evidence.note, func.coalesce(func.length(Evidence.content), 0))
            .where(Evidence.case_id.in_(case_ids)).order_by(Evidence.id)):
        out[row[1]].append(Filed(*row))
    return out


def case_out(session: Session, actor: Actor, c: LowPerformerCase) -> dict[str, Any]:
    """The case as the API and the pages show it."""
    return cases_out(session, actor, [c])[0]


def cases_out(session: Session, actor: Actor, rows: Sequence[LowPerformerCase]) -> list[dict[str, Any]]:
    """The cases as the API and the pages show them, each with the caller's next steps on it
    (`next_steps.steps` on the facts the engine would see): read for all of them in a constant
    number of queries, however many there are."""
    if not rows:
        return []
    ids = [c.id for c in rows]
    people = {p.id: p for p in session.execute(select(Person).where(Person.id.in_({c.person_id for c in rows})))
              .scalars()}
    evidence, signatures = _evidence_by_case(session, ids), _by_case(session, Signature, ids)
    measures = _by_case(session, CaseMeasure, ids)
    follow = follow_up_candidates(session, rows)
    held = roles_of_cases(session, actor, rows)
    policies = policies_by_round(session, {c.round_id for c in rows})
    out = []
    for c in rows:
        of_case = {m.kind: m for m in measures[c.id]}
        facts = case_facts(rules_of(policies[c.round_id]), {m.id: (m.kind, m.status) for m in measures[c.id]},
                           Counter(e.measure_id for e in evidence[c.id]),
                           ((s.kind, s.role, s.revision) for s in signatures[c.id]),
                           plan_revision=c.plan_revision, weakness_analysis=c.weakness_analysis,
                           development_plan=c.development_plan, plan_items=len(c.development_plan_items or []),
                           consecutive_low_rounds=c.consecutive_low_rounds, held=held[c.id])
        out.append(_out(c, people[c.person_id], [of_case[k] for k in MEASURES if k in of_case], evidence[c.id],
                        signatures[c.id], follow[c.id], held[c.id],
                        steps(MACHINE, c.state, held[c.id], facts, PAYLOADS, _In)))
    return out


def _out(c: LowPerformerCase, person: Person, measures: list[CaseMeasure], evidence: list[Filed],
         signatures: list[Signature], follow_up_candidate_id: int | None, held: frozenset[str],
         next_steps: list[NextStep]) -> dict[str, Any]:
    return {
        "id": c.id, "state": c.state, "state_th": STATE_TH[c.state], "version": c.version,
        "available_events": MACHINE.allowed(c.state, held),
        "person": {"id": person.id, "code": person.code, "name_th": person.name_th},
        "appraisal_id": c.appraisal_id, "round_id": c.round_id, "org_unit_id": c.org_unit_id,
        "follow_up_appraisal_id": c.follow_up_appraisal_id,
        "follow_up_candidate_id": follow_up_candidate_id,
        "consecutive_low_rounds": c.consecutive_low_rounds, "flagged_for_action": c.flagged_for_action,
        "weakness_analysis": c.weakness_analysis, "development_plan": c.development_plan,
        "development_plan_items": c.development_plan_items or [], "plan_revision": c.plan_revision,
        "plan_agreed_by": sorted({s.role for s in signatures if s.kind == "plan" and s.revision == c.plan_revision}),
        "measures": [
            {"kind": m.kind, "name_th": MEASURE_TH[m.kind], "status": m.status, "status_th": STATUS_TH[m.status],
             "note": m.note,
             "evidence": [{"id": e.id, "filename": e.filename, "sha256": e.sha256, "note": e.note,
                           "size": e.size} for e in evidence if e.measure_id == m.id]}
            for m in measures
        ],
        "evidence": [{"id": e.id, "filename": e.filename, "sha256": e.sha256, "note": e.note,
                      "measure_id": e.measure_id} for e in evidence],
        "commitment_signed_by": sorted({s.role for s in signatures if s.kind == "commitment"}),
        "updated_at": c.updated_at.isoformat() if c.updated_at else None,
        "next_steps": next_steps,
    }
