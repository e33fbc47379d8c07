"""Read the rows a report needs (a few grouped queries per round), check who may see it, and
hand the rows to the pure builders in ``data.py``."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Callable

from sqlalchemy import case, func, select
from sqlmodel import Session

from db.models import (
    Appraisal,
    CaseMeasure,
    Competency,
    Event,
    Evidence,
    Kpi,
    LowPerformerCase,
    Milestone,
    OrgKpi,
    OrgUnit,
    Person,
    PolicyVersion,
    ProgressNote,
    Round,
    Signature,
)
from workflow import calendar
from workflow.access import Actor
from workflow.calendar import thai_date
from workflow.committees import band_codes
from workflow.errors import InvalidInput, NotFound, Problem
from workflow.progress import state_counts
from workflow.reports import data, hr_criteria
from workflow.reports import low_performers as lp
from workflow.reports.model import Report
from workflow.rounds import policy_of_round

REPORTS = ("progress", "round_report", "distribution", "announcement", "ranking", "kpi_cascade", "reward",
           "low_performers", "agency_assessment")


def round_for(session: Session, actor: Actor, round_id: int) -> tuple[Round, OrgUnit]:
    """The round, if the caller is HR, the authority or an admin of its organisation."""
    rnd = session.get(Round, round_id)
    if rnd is None:
        raise NotFound("round", round_id)
    org = session.get(OrgUnit, rnd.org_unit_id)
    if not (actor.is_admin or actor.has_scope("hr", org.path) or actor.has_scope("authority", org.path)):
        raise NotFound("round", round_id)  # not theirs to see
    return rnd, org


def meta_of(session: Session, rnd: Round, org: OrgUnit, today: date, digits: str) -> data.Meta:
    pv = session.get(PolicyVersion, rnd.policy_version_id)
    return data.Meta(org.code, org.name_th, rnd.fiscal_year, rnd.number, rnd.starts_on, rnd.ends_on, today,
                     policy=f"{pv.code} v{pv.version}", date_text=partial(thai_date, digits=digits),
                     digits=digits)


def units_of(session: Session, org: OrgUnit) -> list[data.Unit]:
    return [data.Unit(u.id, u.code, u.name_th) for u in session.execute(
        select(OrgUnit).where(OrgUnit.path.startswith(org.path)).order_by(OrgUnit.path)).scalars()]


def _counts(session: Session, column, where) -> dict[int, int]:  # noqa: ANN001
    return dict(session.execute(select(column, func.count()).where(where).group_by(column)).all())


def appraisal_rows(session: Session, rnd: Round) -> list[data.AppraisalRow]:
    ids = select(Appraisal.id).where(Appraisal.round_id == rnd.id)
    kpis = _counts(session, Kpi.appraisal_id, Kpi.appraisal_id.in_(ids))
    cascaded = _counts(session, Kpi.appraisal_id, Kpi.appraisal_id.in_(ids) & Kpi.org_kpi_id.is_not(None))
    notes = _counts(session, ProgressNote.appraisal_id, ProgressNote.appraisal_id.in_(ids))
    signed: dict[int, set[str]] = {}
    for aid, role, rev, current in session.execute(
            select(Signature.appraisal_id, Signature.role, Signature.revision, Appraisal.agreement_revision)
            .join(Appraisal, Appraisal.id == Signature.appraisal_id)
            .where(Appraisal.round_id == rnd.id, Signature.kind == "agreement")):
        if rev == current:
            signed.setdefault(aid, set()).add(role)
    evaluator = Person.__table__.alias("evaluator")
    rows = session.execute(
        select(Appraisal.id, Appraisal.staff_type, Appraisal.org_unit_id, Appraisal.evaluator_id, Appraisal.state,
               Appraisal.total_percent, Appraisal.rating_code,
               func.length(func.trim(func.coalesce(Appraisal.development_plan, ""))) > 0,
               Appraisal.acknowledged_at.is_not(None), Appraisal.refusal_witness, Appraisal.superior_opinion,
               Person.code, Person.name_th, Person.position, evaluator.c.name_th, Person.position_level,
               Person.salary)
        .join(Person, Person.id == Appraisal.person_id)
        .outerjoin(evaluator, evaluator.c.id == Appraisal.evaluator_id)
        .where(Appraisal.round_id == rnd.id).order_by(Person.code)).all()
    return [data.AppraisalRow(
        id=aid, person_code=code, person_name=name, position=position or "", staff_type=staff_type,
        unit_id=unit_id, evaluator_id=evaluator_id, evaluator_name=ename or "", state=state,
        total_percent=total, rating_code=rating, kpis=kpis.get(aid, 0), cascaded_kpis=cascaded.get(aid, 0),
        agreement_signed={"appraisee", "evaluator"} <= signed.get(aid, set()), progress_notes=notes.get(aid, 0),
        development_plan=bool(has_plan), acknowledged=bool(acknowledged), refused_with_witness=bool(witness),
        superior_opinion=opinion is not None, position_level=level or "", salary=salary,
    ) for (aid, staff_type, unit_id, evaluator_id, state, total, rating, has_plan, acknowledged, witness, opinion,
           code, name, position, ename, level, salary) in rows]


def case_rows(session: Session, rnd: Round) -> list[data.CaseRow]:
    """Every case opened in this round, and every case whose follow-up is in this round."""
    follow_ids = select(Appraisal.id).where(Appraisal.round_id == rnd.id)
    cases = list(session.execute(
        select(LowPerformerCase, Person, Appraisal).join(Person, Person.id == LowPerformerCase.person_id)
        .join(Appraisal, Appraisal.id == LowPerformerCase.appraisal_id)
        .where((LowPerformerCase.round_id == rnd.id) | LowPerformerCase.follow_up_appraisal_id.in_(follow_ids))
        .order_by(Person.code)).all())
    ids = [c.id for c, _, _ in cases]
    measures: dict[int, dict[str, str]] = {}
    kind_of: dict[int, tuple[int, str]] = {}
    for m in session.execute(select(CaseMeasure).where(CaseMeasure.case_id.in_(ids))).scalars():
        measures.setdefault(m.case_id, {})[m.kind] = m.status
        kind_of[m.id] = (m.case_id, m.kind)
    evidence: dict[int, dict[str, int]] = {}
    for mid in session.execute(select(Evidence.measure_id).where(Evidence.case_id.in_(ids))).scalars():
        if mid in kind_of:
            cid, kind = kind_of[mid]
            evidence.setdefault(cid, {}).setdefault(kind, 0)
            evidence[cid][kind] += 1
    follow_notes = _counts(session, Event.entity_id, (Event.entity_type == "case") & Event.entity_id.in_(ids)
                           & (Event.event == "record_follow_up"))
    return [data.CaseRow(id=c.id, person_code=p.code, person_name=p.name_th, unit_id=c.org_unit_id,
                         total_percent=a.total_percent, rating_code=a.rating_code, state=c.state,
                         consecutive_low_rounds=c.consecutive_low_rounds, flagged_for_action=c.flagged_for_action,
                         measures=measures.get(c.id, {}), evidence=evidence.get(c.id, {}),
                         follow_up_notes=follow_notes.get(c.id, 0)) for c, p, a in cases]


def _live_ids(rnd: Round):  # noqa: ANN202
    return select(Appraisal.id).where(Appraisal.round_id == rnd.id, Appraisal.state != "withdrawn")


def source_rows(session: Session, rnd: Round) -> list[data.SourceRow]:
    """Per KPI source: KPIs, appraisals with one, the mean level reached (of those scored)."""
    return [data.SourceRow(source, kpis, people, round(Decimal(mean), 2) if mean is not None else None)
            for source, kpis, people, mean in session.execute(
                select(Kpi.source, func.count(), func.count(func.distinct(Kpi.appraisal_id)), func.avg(Kpi.level))
                .where(Kpi.appraisal_id.in_(_live_ids(rnd))).group_by(Kpi.source)).all()]


def competency_rows(session: Session, rnd: Round) -> list[data.CompetencyRow]:
    """Per competency: appraisals scored, the mean score, and how many reached the expected level."""
    at_expected = func.sum(case((Competency.score >= Competency.expected_level, 1), else_=0))
    return [data.CompetencyRow(code, name, scored, round(Decimal(mean), 2) if mean is not None else None,
                               int(reached or 0))
            for code, name, scored, mean, reached in session.execute(
                select(Competency.code, func.min(Competency.name_th), func.count(Competency.score),
                       func.avg(Competency.score), at_expected)
                .where(Competency.appraisal_id.in_(_live_ids(rnd))).group_by(Competency.code)
                .order_by(func.min(Competency.position), Competency.code)).all()]


def cascade_rows(session: Session, rnd: Round, org: OrgUnit) -> list[data.CascadeRow]:
    unit = OrgUnit.__table__.alias("kpi_unit")
    org_kpis = list(session.execute(
        select(OrgKpi).join(OrgUnit, OrgUnit.id == OrgKpi.org_unit_id)
        .where(OrgUnit.path.startswith(org.path), OrgKpi.fiscal_year == rnd.fiscal_year)
        .order_by(OrgKpi.code)).scalars())
    linked = session.execute(
        select(Kpi, Person, unit.c.name_th).join(Appraisal, Appraisal.id == Kpi.appraisal_id)
        .join(Person, Person.id == Appraisal.person_id).join(unit, unit.c.id == Appraisal.org_unit_id)
        .where(Appraisal.round_id == rnd.id, Kpi.org_kpi_id.is_not(None))
        .order_by(Person.code, Kpi.position)).all()
    by_org_kpi: dict[int, list] = {}
    for k, p, uname in linked:
        by_org_kpi.setdefault(k.org_kpi_id, []).append((k, p, uname))
    rows = []
    for ok in org_kpis:
        owner = session.get(OrgUnit, ok.org_unit_id)
        items = by_org_kpi.get(ok.id, [])
        if not items:
            rows.append(data.CascadeRow(ok.code, ok.title, owner.name_th))
        for k, p, uname in items:
            rows.append(data.CascadeRow(ok.code, ok.title, uname, p.code, p.name_th, k.title, k.weight, k.level))
    return rows


def cascade_tree(session: Session, rnd: Round, org: OrgUnit) -> data.CascadeTree:
    """The tree's inputs: the live organisation KPIs of the round's fiscal year in the
    organisation's subtree and above it (a province's KPI an agency serves), the round's linked
    individual KPIs, and each person's total and linked weight."""
    above = [int(x) for x in org.path.strip("/").split("/") if x]
    nodes = [data.OrgKpiNode(k.id, k.parent_id, k.code, k.title, k.weight, u.name_th, u.path)
             for k, u in session.execute(
                 select(OrgKpi, OrgUnit).join(OrgUnit, OrgUnit.id == OrgKpi.org_unit_id)
                 .where(OrgUnit.path.startswith(org.path) | OrgUnit.id.in_(above),
                        OrgKpi.fiscal_year == rnd.fiscal_year, OrgKpi.retired.is_(False))).all()]
    unit = OrgUnit.__table__.alias("kpi_unit")
    rows = session.execute(
        select(Kpi.org_kpi_id, Kpi.title, Kpi.weight, Kpi.level, Person.code, Person.name_th, unit.c.name_th)
        .join(Appraisal, Appraisal.id == Kpi.appraisal_id).join(Person, Person.id == Appraisal.person_id)
        .join(unit, unit.c.id == Appraisal.org_unit_id)
        .where(Appraisal.round_id == rnd.id, Appraisal.state != "withdrawn")
        .order_by(Person.code, Kpi.position, Kpi.id)).all()
    links = [data.CascadeLink(okid, code, name, uname, title, weight, level)
             for okid, title, weight, level, code, name, uname in rows if okid is not None]
    people: dict[str, list] = {}
    for okid, _, weight, _, code, name, uname in rows:
        entry = people.setdefault(code, [name, uname, 0, 0])
        entry[2] += weight
        entry[3] += weight if okid is not None else 0
    return data.cascade_tree(nodes, links, [data.PersonWeights(code, n, u, t, l)
                                            for code, (n, u, t, l) in people.items()])


def attached_evidence(session: Session, rnd: Round) -> dict[str, list[str]]:
    """Files and notes HR attached to each PM step of the round (see reports/evidence.py)."""
    out: dict[str, list[str]] = {}
    for step, filename, note in session.execute(
            select(Evidence.step, Evidence.filename, Evidence.note)
            .where(Evidence.round_id == rnd.id, Evidence.case_id.is_(None), Evidence.step.is_not(None))
            .order_by(Evidence.id)):
        out.setdefault(step, []).append(filename or note)
    return out


def milestones_of(session: Session, rnd: Round) -> list[tuple[str, str, date]]:
    return [(m.code, m.name_th, m.due_on) for m in session.execute(
        select(Milestone).where(Milestone.round_id == rnd.id).order_by(Milestone.due_on)).scalars()]


def check_request(name: str, digits: str) -> None:
    """A report that exists, with digits we can write: refused before any work is done."""
    if name not in REPORTS:
        raise InvalidInput([Problem("report", f"ไม่มีรายงานชื่อ {name}", f"no report {name!r}; one of {', '.join(REPORTS)}")])
    if digits not in ("arabic", "thai"):
        raise InvalidInput([Problem("digits", "ตัวเลขต้องเป็น arabic หรือ thai", "digits must be 'arabic' or 'thai'")])


def build(session: Session, actor: Actor, round_id: int, name: str, *, today: date | None = None,
          digits: str = "arabic") -> Report:
    """Build report `name` for a round (one of REPORTS)."""
    check_request(name, digits)
    rnd, org = round_for(session, actor, round_id)
    meta = meta_of(session, rnd, org, today or calendar.today(), digits)
    policy = policy_of_round(session, rnd.id)
    bands = [data.Band(**b) for b in band_codes(policy)]
    units = units_of(session, org)
    def low_performers() -> Report:
        return lp.low_performers(meta, bands, units, lp.load_cases(session, rnd, org), rnd.id,
                                 policy.milestones["low_performer_report"].covers)

    builders: dict[str, Callable[[], Report]] = {
        "progress": lambda: data.round_progress(meta, units, state_counts(session, rnd.id), milestones_of(session, rnd)),
        "round_report": lambda: _with_low_performers(
            data.round_report(meta, bands, units, appraisal_rows(session, rnd), case_rows(session, rnd),
                              attached_evidence(session, rnd), source_rows(session, rnd), competency_rows(session, rnd),
                              hr_criteria.for_report(session, org.id, rnd.fiscal_year)), low_performers()),
        "low_performers": low_performers,
        "distribution": lambda: data.rating_distribution(meta, bands, units, appraisal_rows(session, rnd),
                                                         dict(policy.guideline_distribution)),
        "announcement": lambda: data.announcement_list(meta, bands, units, appraisal_rows(session, rnd)),
        "ranking": lambda: data.ranking(meta, bands, units, appraisal_rows(session, rnd)),
        "kpi_cascade": lambda: data.kpi_cascade(meta, cascade_rows(session, rnd, org), cascade_tree(session, rnd, org)),
        "reward": lambda: data.reward(meta, bands, units, appraisal_rows(session, rnd), policy.reward),
        "agency_assessment": lambda: _agency_report(session, actor, meta, rnd, org),
    }
    return builders[name]()


def _with_low_performers(report: Report, lows: Report) -> Report:
    """The round report carries the low-performer report's table of cases open during the round."""
    table = lows.table("cases")
    table.key = "low_performers"
    report.tables.append(table)
    return report


def _agency_report(session: Session, actor: Actor, meta: data.Meta, rnd: Round, org: OrgUnit) -> Report:
    """The agencies under the round's organisation assessed in the round's fiscal year."""
    from workflow.agency_assessments import result_rows
    from workflow.machines.agency_assessment import STATE_TH

    return data.agency_assessment(meta, result_rows(session, actor, org, rnd.fiscal_year), STATE_TH)
