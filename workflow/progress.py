"""How far a round has come, per unit: one grouped query, counted by `milestones.tally`.

The HR dashboard and the progress report both read `state_counts` and `milestones.tally`, so
their figures are the same by construction (`tests/test_progress.py`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from db.models import Appraisal, OrgUnit
from workflow import milestones, orgs
from workflow.milestones import Tally


def state_counts(session: Session, round_id: int) -> dict[int, dict[str, int]]:
    """Unit id -> state -> how many of the round's appraisals are in it."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for unit_id, state, n in session.execute(
            select(Appraisal.org_unit_id, Appraisal.state, func.count()).where(Appraisal.round_id == round_id)
            .group_by(Appraisal.org_unit_id, Appraisal.state)):
        out[unit_id][state] = n
    return dict(out)


def summed(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Several units' counts per state, added up."""
    out: dict[str, int] = defaultdict(int)
    for states in counts:
        for s, n in states.items():
            out[s] += n
    return dict(out)


@dataclass(frozen=True)
class UnitProgress:
    unit: OrgUnit | None  # None: the whole round
    tally: Tally

    @property
    def total(self) -> int:
        return self.tally.total

    @property
    def done(self) -> dict[str, int]:
        return self.tally.done

    @property
    def states(self) -> dict[str, int]:
        return dict(self.tally.states)


def round_progress(session: Session, round_id: int, codes: Iterable[str]) -> tuple[list[UnitProgress], UnitProgress]:
    """Per unit (in path order) and for the whole round: how many appraisals passed each milestone."""
    counts = state_counts(session, round_id)
    codes = [c for c in codes if milestones.not_done(c)]
    units = {u.id: u for u in session.execute(select(OrgUnit).where(OrgUnit.id.in_(counts))).scalars()}
    rows = [UnitProgress(units[uid], milestones.tally(st, codes)) for uid, st in counts.items() if uid in units]
    rows.sort(key=lambda r: r.unit.path)
    return rows, UnitProgress(None, milestones.tally(summed(counts.values()), codes))


@dataclass(frozen=True)
class TreeRow:
    """One unit of the round's organisation as the hierarchy has it: `depth` below the
    organisation (0 for the organisation itself); `progress` None for a unit that has no
    appraisals of its own and is shown because units below it have."""

    unit: OrgUnit
    depth: int
    progress: UnitProgress | None


def unit_tree(session: Session, units: Iterable[UnitProgress], root: OrgUnit) -> list[TreeRow]:
    """The counted units with every unit between them and `root`, parents before children
    (each path compared id by id, so /1/10/ never sorts between /1/2/ and its children)."""
    counted = {u.unit.id: u for u in units if u.unit is not None}
    top = len(orgs.path_ids(root.path))
    ids: set[int] = set()
    for u in counted.values():
        chain = orgs.path_ids(u.unit.path)
        ids.update(chain[max(top - 1, 0):] if root.id in chain else chain[-1:])
    found = {u.id: u for u in session.execute(select(OrgUnit).where(OrgUnit.id.in_(ids))).scalars()}
    found.update({i: u.unit for i, u in counted.items()})
    rows = sorted(found.values(), key=lambda o: orgs.path_ids(o.path))
    return [TreeRow(o, max(len(orgs.path_ids(o.path)) - top, 0), counted.get(o.id)) for o in rows]
