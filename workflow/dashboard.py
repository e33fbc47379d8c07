"""The HR dashboard's contents: the rounds HR may follow, the chosen round's milestones,
progress per unit as the unit hierarchy (`workflow.progress`), its overdue appraisals
filtered by unit, milestone and evaluator, its low-performer cases, and the organisations
where HR may open a round; and "remind now" for overdue appraisals HR picks. The page and
any JSON route render this."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import select
from sqlmodel import Session

from db.models import Appraisal, InboxMessage, Milestone, OrgUnit, Outbox, Person, Round
from workflow import cases, labels, milestones, orgs, progress, queries, rounds
from workflow.access import Actor
from workflow.calendar import local_date, round_of
from workflow.errors import InvalidInput, NotAllowed, NotFound, Problem
from workflow.machines.appraisal import OPEN_STATES
from workflow.notifications.clock import to_utc
from workflow.notifications.fanout import load_round_facts
from workflow.notifications.pending import Item, next_actions
from workflow.notifications.render import locale_of, render_text

OVERDUE_LIMIT = 200  # the overdue list shows this many; the total is counted in full


def may_use(actor: Actor) -> bool:
    return actor.is_admin or bool(actor.scopes("hr"))


def hr_rounds(session: Session, actor: Actor) -> list[tuple[Round, OrgUnit]]:
    """The newest hundred rounds of the organisations the caller follows as HR (admin: all)."""
    stmt = (select(Round, OrgUnit).join(OrgUnit, OrgUnit.id == Round.org_unit_id)
            .order_by(Round.starts_on.desc(), Round.id.desc()))
    if not actor.is_admin:
        stmt = stmt.where(orgs.within(actor.scopes("hr")))
    return list(session.execute(stmt.limit(100)).all())


def openable_orgs(session: Session, actor: Actor) -> list[OrgUnit]:
    """Organisations where the caller may open a round: those with a policy, and their own roots."""
    paths = queries.managed_scopes(actor)
    if not paths:
        return []
    rows = session.execute(select(OrgUnit).where(orgs.within(paths))
                           .order_by(OrgUnit.path).limit(300)).scalars()
    return [u for u in rows if u.policy_version_id is not None or u.path in paths]


@dataclass(frozen=True)
class OverdueFilter:
    """What the overdue list is narrowed to (None: any)."""

    unit_id: int | None = None  # the unit and everything below it
    milestone: str | None = None  # overdue for this milestone (`milestones.due_at`)
    evaluator_id: int | None = None


@dataclass
class Dashboard:
    rounds: list[tuple[Round, OrgUnit]]
    chosen: tuple[Round, OrgUnit] | None
    open_orgs: list[OrgUnit]
    default_year: int  # what the "open a round" form suggests
    default_number: int
    milestones: list[Milestone] = field(default_factory=list)
    units: list[progress.UnitProgress] = field(default_factory=list)
    tree: list[progress.TreeRow] = field(default_factory=list)  # the units as the hierarchy has them
    filters: OverdueFilter = OverdueFilter()
    evaluators: list[tuple[int, str]] = field(default_factory=list)  # of the round's overdue appraisals
    overall: progress.UnitProgress | None = None
    overdue: list[queries.Listed] = field(default_factory=list)
    overdue_total: int = 0
    cases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def due_of(self) -> dict[str, date]:
        return {m.code: m.due_on for m in self.milestones}


def _checked(out: Dashboard, f: OverdueFilter) -> None:
    """A milestone the round does not have, or a unit outside its organisation, is bad input."""
    problems = []
    if f.milestone is not None and not milestones.due_at(f.milestone):
        problems.append(Problem("milestone", f"ไม่มีหมุดหมาย {f.milestone} ที่ตรวจการเลยกำหนดได้",
                                f"{f.milestone} is not a milestone an appraisal can be overdue for"))
    if f.unit_id is not None and f.unit_id not in {r.unit.id for r in out.tree}:
        problems.append(Problem("unit", "หน่วยงานนี้ไม่มีผู้รับการประเมินในรอบนี้",
                                "this unit has no appraisals in the round"))
    if problems:
        raise InvalidInput(problems)


def hr_dashboard(session: Session, actor: Actor, round_id: int | None, today: date,
                 filters: OverdueFilter = OverdueFilter()) -> Dashboard:
    """The chosen round (or else the newest that still has work, or else the newest) as HR
    follows it, its overdue list narrowed by `filters` in SQL."""
    followed = hr_rounds(session, actor)
    chosen = next(((r, o) for r, o in followed if r.id == round_id), None) if round_id else None
    if chosen is None and followed:
        busy = set(session.execute(select(Appraisal.round_id).where(
            Appraisal.round_id.in_([r.id for r, _ in followed]), Appraisal.state.in_(OPEN_STATES)).distinct()).scalars())
        chosen = next(((r, o) for r, o in followed if r.id in busy), followed[0])
    out = Dashboard(followed, chosen, openable_orgs(session, actor), *round_of(today), filters=filters)
    if chosen:
        rnd, org = chosen
        out.milestones = rounds.milestones_of(session, rnd.id)
        out.units, out.overall = progress.round_progress(session, rnd.id, [m.code for m in out.milestones])
        out.tree = progress.unit_tree(session, out.units, org)
        _checked(out, filters)
        overdue = queries.AppraisalFilter(round_id=rnd.id, overdue=True)
        out.evaluators = queries.evaluators_of(session, actor, overdue, today=today)
        narrowed = queries.AppraisalFilter(round_id=rnd.id, overdue=True, unit_id=filters.unit_id,
                                           milestone=filters.milestone, evaluator_id=filters.evaluator_id)
        out.overdue_total, out.overdue = queries.list_appraisals(
            session, actor, narrowed, limit=OVERDUE_LIMIT, today=today)
        out.cases = cases.cases_out(session, actor, cases.list_cases(session, actor, round_id=rnd.id))
    return out


# --- remind now ----------------------------------------------------------------------------------
REMIND_KEY = "now:"  # outbox offset_key "now:<Bangkok day>": one remind-now message per person a day
REMIND_TEMPLATE = "remind_now"  # workflow/notifications/templates/remind_now.<th|en>.txt


@dataclass(frozen=True)
class Reminded:
    people: list[str]  # names of those sent a message now
    already: list[str]  # names of those reminded earlier today (not sent again)


def remind_now(session: Session, actor: Actor, appraisal_ids: Iterable[int], *, now: datetime,
               base_url: str = "") -> Reminded:
    """HR reminds, now, whoever must act next on each picked appraisal (`pending.next_actions`):
    one in-app message per person listing their items, in their language, recorded as an
    outbox `inbox` row keyed by the day so nobody gets a second one the same day. Only HR of
    the appraisal's organisation may; one id not theirs refuses the lot, nothing written."""
    ids = sorted(set(appraisal_ids))
    if not ids:
        raise InvalidInput([Problem("appraisal", "เลือกอย่างน้อยหนึ่งรายการ", "select at least one appraisal")])
    if len(ids) > OVERDUE_LIMIT:
        raise InvalidInput([Problem("appraisal", f"เลือกได้ไม่เกิน {OVERDUE_LIMIT} รายการต่อครั้ง",
                                    f"select at most {OVERDUE_LIMIT} appraisals at a time")])
    if not actor.scopes("hr"):
        raise NotAllowed("remind_now", frozenset())
    rows = {aid: (rid, path) for aid, rid, path in session.execute(
        select(Appraisal.id, Appraisal.round_id, OrgUnit.path).join(OrgUnit, OrgUnit.id == Appraisal.org_unit_id)
        .where(Appraisal.id.in_(ids)))}
    for aid in ids:  # another organisation's appraisal is not found, as if it did not exist
        if aid not in rows or not actor.has_scope("hr", rows[aid][1]):
            raise NotFound("appraisal", aid)
    by_round: dict[int, list[int]] = defaultdict(list)
    for aid, (rid, _) in rows.items():
        by_round[rid].append(aid)
    found: dict[int, set[Item]] = defaultdict(set)
    due: dict[int, list[tuple[date, int]]] = defaultdict(list)  # person -> (due, milestone id) of their items
    for rid, picked in by_round.items():
        rnd = session.get(Round, rid)
        of_round = {m.code: m for m in rounds.milestones_of(session, rid)}
        facts = load_round_facts(session, rnd, milestones.STATE_DEADLINE, cases=False, only=picked)
        for a in facts.appraisals:
            m = of_round.get(milestones.STATE_DEADLINE[a.state])
            for who, it in next_actions(a, committee_ids=facts.committee_ids, hr_ids=facts.hr_ids,
                                        authority_ids=facts.authority_ids):
                found[who].add(it)
                if m is not None:
                    due[who].append((m.due_on, m.id))
    key = REMIND_KEY + local_date(now).isoformat()
    people = {p.id: p for p in session.execute(select(Person).where(Person.id.in_(found))).scalars()}
    earlier = set(session.execute(select(Outbox.recipient_person_id).where(
        Outbox.offset_key == key, Outbox.channel == "inbox", Outbox.recipient_person_id.in_(found))).scalars())
    sent, already, stamp = [], [], to_utc(now)
    for pid in sorted(found):
        person = people[pid]
        if pid in earlier:
            already.append(person.name_th)
            continue
        if not due[pid]:
            continue  # nothing of theirs has a milestone to key the reminder on
        items = sorted(found[pid])
        locale = locale_of(person.locale)
        subject, body = render_text(REMIND_TEMPLATE, locale, dict(
            name=person.name_th, count=len(items),
            rows=[(labels.label(labels.ACTIONS, it.action, locale), it.subject_name, base_url + it.link)
                  for it in items]))
        row = Outbox(milestone_id=min(due[pid])[1], offset_key=key, recipient_person_id=pid, channel="inbox",
                     subject=subject[:500], body=body, status="sent", created_at=stamp, sent_at=stamp)
        session.add(row)
        session.flush()
        session.add(InboxMessage(person_id=pid, outbox_id=row.id, subject=subject[:500], body=body,
                                 link=items[0].link if len(items) == 1 else "/", created_at=stamp))
        sent.append(person.name_th)
    session.commit()
    return Reminded(sent, already)
