"""The screening committee (คณะกรรมการกลั่นกรองผลการประเมิน): per organisation and round,
a chair and members. Its review list is the organisation's appraisals in ``committee_review``
(never a member's own), with the rating distribution per unit and per evaluator next to the
policy's guideline distribution; it endorses in bulk or returns one with a comment. Every
decision goes through the engine, so it is an event with its decider.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlmodel import Session

from db.models import Appraisal, Committee, CommitteeMember, OrgUnit, Person, Round
from workflow import engine, queries
from workflow.access import Actor
from workflow.errors import Conflict, InvalidInput, NotAllowed, NotFound, Problem, WorkflowError
from workflow.reports.distribution import distribution, guideline_gap, overall
from workflow.rounds import policy_of_round


# --- committees ----------------------------------------------------------------------------------
def _may_manage(actor: Actor, org: OrgUnit) -> bool:
    return actor.is_admin or actor.has_scope("hr", org.path)


def create_committee(session: Session, actor: Actor, *, round_id: int, chair_person_id: int,
                     member_person_ids: Iterable[int] = (), name_th: str | None = None) -> Committee:
    """HR (or an admin) of the round's organisation sets up its committee for the round."""
    rnd = session.get(Round, round_id)
    if rnd is None:
        raise NotFound("round", round_id)
    org = session.get(OrgUnit, rnd.org_unit_id)
    if not _may_manage(actor, org):
        raise NotAllowed("create_committee", frozenset())
    members = [chair_person_id, *[m for m in member_person_ids if m != chair_person_id]]
    missing = [pid for pid in members if session.get(Person, pid) is None]
    if missing:
        raise InvalidInput([Problem("member_person_ids", f"ไม่พบบุคคล {missing}", f"no such people: {missing}")])
    if len(set(members)) != len(members):
        raise InvalidInput([Problem("member_person_ids", "รายชื่อกรรมการซ้ำกัน", "a member is listed twice")])
    exists = session.execute(select(Committee.id).where(Committee.round_id == round_id,
                                                        Committee.org_unit_id == org.id)).first()
    if exists:
        raise Conflict("รอบนี้มีคณะกรรมการกลั่นกรองแล้ว", "this round already has a screening committee")
    try:
        c = Committee(org_unit_id=org.id, round_id=round_id,
                      **({"name_th": name_th} if name_th else {}))
        session.add(c)
        session.flush()
        for pid in members:
            session.add(CommitteeMember(committee_id=c.id, person_id=pid, is_chair=pid == chair_person_id))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return c


def committees_page(session: Session, actor: Actor, *, round_id: int | None = None, limit: int | None = None,
                    offset: int = 0) -> tuple[int, list[Committee]]:
    """The committees the caller may see (`queries.visible_committees`), counted, one page of them."""
    where = [queries.visible_committees(actor)]
    if round_id is not None:
        where.append(Committee.round_id == round_id)
    total = session.execute(select(func.count()).select_from(Committee).where(*where)).scalar_one()
    rows = list(session.execute(select(Committee).where(*where).order_by(Committee.id)
                                .limit(limit).offset(offset)).scalars())
    return total, rows


def list_committees(session: Session, actor: Actor, *, round_id: int | None = None) -> list[Committee]:
    return committees_page(session, actor, round_id=round_id)[1]


def get_committee(session: Session, actor: Actor, committee_id: int) -> Committee:
    c = session.execute(select(Committee).where(Committee.id == committee_id,
                                                queries.visible_committees(actor))).scalar_one_or_none()
    if c is None:
        raise NotFound("committee", committee_id)
    return c


def committees_out(session: Session, rows: list[Committee]) -> list[dict[str, Any]]:
    """The committees as the API shows them, with their members (the chair first, then in the
    order they were appointed): one query for all the members."""
    members: dict[int, list[dict[str, Any]]] = {c.id: [] for c in rows}
    if rows:
        for m, p in session.execute(
                select(CommitteeMember, Person).join(Person, Person.id == CommitteeMember.person_id)
                .where(CommitteeMember.committee_id.in_(members))
                .order_by(CommitteeMember.is_chair.desc(), CommitteeMember.id)).all():
            members[m.committee_id].append({"person_id": p.id, "code": p.code, "name_th": p.name_th,
                                            "is_chair": m.is_chair})
    return [{"id": c.id, "org_unit_id": c.org_unit_id, "round_id": c.round_id, "name_th": c.name_th,
             "members": members[c.id]} for c in rows]


def committee_out(session: Session, c: Committee) -> dict[str, Any]:
    return committees_out(session, [c])[0]


# --- the review list -----------------------------------------------------------------------------
@dataclass
class ReviewList:
    committee_id: int
    items: list[dict[str, Any]]
    bands: list[dict[str, str]]
    by_unit: list[dict[str, Any]]
    by_evaluator: list[dict[str, Any]]
    overall: dict[str, Any]
    guideline: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def band_codes(policy) -> list[dict[str, str]]:  # noqa: ANN001
    """Every band code of the policy, in order (civil servants' first), with its names."""
    seen: dict[str, dict[str, str]] = {}
    for staff_type in ("civil_servant", "permanent_employee", "government_employee"):
        for b in policy.bands.get(staff_type, ()):
            seen.setdefault(b.code, {"code": b.code, "th": b.th, "en": b.en})
    return list(seen.values())


def review_list(session: Session, actor: Actor, committee_id: int) -> ReviewList:
    c = get_committee(session, actor, committee_id)
    org = session.get(OrgUnit, c.org_unit_id)
    stmt = (select(Appraisal, Person, OrgUnit).join(Person, Person.id == Appraisal.person_id)
            .join(OrgUnit, OrgUnit.id == Appraisal.org_unit_id)
            .where(Appraisal.round_id == c.round_id, Appraisal.state == "committee_review",
                   OrgUnit.path.startswith(org.path))
            .order_by(OrgUnit.path, Person.code))
    if actor.person_id is not None:  # a member never reviews their own appraisal
        stmt = stmt.where(Appraisal.person_id != actor.person_id)
    rows = session.execute(stmt).all()
    evaluators = {p.id: p for p in session.execute(select(Person).where(
        Person.id.in_({a.evaluator_id for a, _, _ in rows if a.evaluator_id}))).scalars()}
    policy = policy_of_round(session, c.round_id)
    bands = band_codes(policy)
    codes = [b["code"] for b in bands]
    items = [{
        "appraisal_id": a.id, "version": a.version, "person": {"id": p.id, "code": p.code, "name_th": p.name_th},
        "position": p.position, "staff_type": a.staff_type,
        "unit": {"id": u.id, "code": u.code, "name_th": u.name_th},
        "evaluator": ({"id": a.evaluator_id, "name_th": evaluators[a.evaluator_id].name_th}
                      if a.evaluator_id in evaluators else None),
        "results_percent": _s(a.results_percent), "competency_percent": _s(a.competency_percent),
        "total_percent": _s(a.total_percent), "rating": a.rating_code,
        "superior_opinion": a.superior_opinion, "superior_total_percent": _s(a.superior_total_percent),
        "superior2_opinion": a.superior2_opinion, "superior2_total_percent": _s(a.superior2_total_percent),
    } for a, p, u in rows]
    units = distribution(((u.id, f"{u.code} {u.name_th}", a.rating_code) for a, _, u in rows), codes)
    by_eval = distribution(((a.evaluator_id, evaluators[a.evaluator_id].name_th if a.evaluator_id in evaluators
                             else "-", a.rating_code) for a, _, _ in rows), codes)
    everyone = overall(units)
    guideline = {k: str(v) for k, v in policy.guideline_distribution.items()}
    out_overall = everyone.as_dict(codes)
    if policy.guideline_distribution:
        out_overall["gap_to_guideline"] = {k: str(v) for k, v in
                                           guideline_gap(everyone, policy.guideline_distribution, codes).items()}
    return ReviewList(c.id, items, bands, [g.as_dict(codes) for g in units],
                      [g.as_dict(codes) for g in by_eval], out_overall, guideline)


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


# --- decisions -----------------------------------------------------------------------------------
def bulk_endorse(session: Session, actor: Actor, appraisal_ids: Iterable[int], *,
                 comment: str | None = None) -> list[dict[str, Any]]:
    """Endorse each appraisal through the engine, one event (and one transaction) each, so one
    refusal does not undo the others. Returns a result per item, in the order given."""
    results = []
    payload = {"comment": comment} if comment else {}
    for aid in dict.fromkeys(appraisal_ids):  # once each, order kept
        try:
            fired = engine.fire(session, "appraisal", aid, "endorse", actor, payload=payload)
            results.append({"appraisal_id": aid, "ok": True, "state": fired.state, "version": fired.version})
        except WorkflowError as exc:
            results.append({"appraisal_id": aid, "ok": False, "error": type(exc).__name__,
                            "message": str(exc),
                            "problems": [p.__dict__ for p in getattr(exc, "problems", [])]})
    return results


def return_to_evaluator(session: Session, actor: Actor, appraisal_id: int, comment: str, *,
                        expected_version: int | None = None) -> engine.Fired:
    return engine.fire(session, "appraisal", appraisal_id, "return_to_evaluator", actor,
                       expected_version=expected_version, payload={"comment": comment})
