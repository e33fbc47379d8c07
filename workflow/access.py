"""Who the caller is, and which roles they hold on a given object. Pure functions.

Organisation-scoped roles (hr, authority, committee, admin) come from role assignments and
reach a whole subtree; the relational ones (appraisee, evaluator, superior) come from the
object itself. A caller with no role on an object may not even see it.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    account_id: int | None
    person_id: int | None
    name: str
    is_admin: bool = False
    # (role, org path) pairs, e.g. ("hr", "/1/")
    scoped_roles: tuple[tuple[str, str], ...] = ()
    is_system: bool = False
    locale: str = "th"

    @classmethod
    def system(cls) -> "Actor":
        return cls(account_id=None, person_id=None, name="system", is_system=True)

    def has_scope(self, role: str, org_path: str) -> bool:
        """Does a `role` assignment of this actor cover the organisation at `org_path`?"""
        return any(r == role and org_path.startswith(p) for r, p in self.scoped_roles)

    def is_hr_of(self, org_path: str) -> bool:
        """May act as the HR of the organisation at `org_path` (its HR, an admin, the system)."""
        return self.is_admin or self.is_system or self.has_scope("hr", org_path)

    def scopes(self, role: str) -> list[str]:
        return [p for r, p in self.scoped_roles if r == role]


@dataclass(frozen=True)
class AppraisalView:
    """The few fields of an appraisal that decide who may act on it."""

    person_id: int
    evaluator_id: int | None
    superior_id: int | None
    org_path: str
    committee_person_ids: frozenset[int] = field(default_factory=frozenset)
    superior2_id: int | None = None  # the second superior above, where the policy has two levels


def appraisal_roles(actor: Actor, a: AppraisalView) -> frozenset[str]:
    if actor.is_system:
        return frozenset({"system"})
    roles: set[str] = set()
    me = actor.person_id
    if me is not None:
        if me == a.person_id:
            roles.add("appraisee")
        if me == a.evaluator_id:
            roles.add("evaluator")
        if me == a.superior_id or me == a.superior2_id:
            roles.add("superior")  # which level's opinion they give follows from who they are
        # A committee member never reviews their own appraisal.
        if me in a.committee_person_ids and me != a.person_id:
            roles.add("committee")
    for role in ("hr", "authority"):
        if actor.has_scope(role, a.org_path):
            roles.add(role)
    if actor.is_admin:
        roles.add("admin")
    return frozenset(roles)


# --- organisations: who sees which units, rounds, milestones and policies ------------------------
@dataclass(frozen=True)
class OrgReach:
    """The organisations a caller may see: the subtrees of their organisation-scoped roles, and
    the line from the root down to each of their own places (their unit, their roles' units).
    The same rule as appraisals: you see your own organisation and what your roles cover, never
    a sibling organisation. Rounds, milestones and policies follow their organisation unit."""

    everything: bool = False
    subtrees: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()

    def sees(self, path: str | None) -> bool:
        if self.everything:
            return True
        if path is None:
            return False
        return any(path.startswith(p) for p in self.subtrees) or any(h.startswith(path) for h in self.lines)

    def clause(self, path_column):  # noqa: ANN001, ANN201  (a SQLAlchemy column of org paths)
        """The same rule as SQL on a column of organisation paths."""
        from sqlalchemy import false, literal, or_, true

        if self.everything:
            return true()
        parts = [path_column.startswith(p) for p in self.subtrees]
        parts += [literal(h).startswith(path_column) for h in self.lines]
        return or_(*parts) if parts else false()


def org_reach(actor: Actor, home_path: str | None) -> OrgReach:
    """`home_path`: the path of the caller's own unit (None: no person behind the account)."""
    if actor.is_admin or actor.is_system:
        return OrgReach(everything=True)
    subtrees = tuple(p for r, p in actor.scoped_roles if r in ("hr", "authority", "committee"))
    lines = subtrees + ((home_path,) if home_path else ())
    return OrgReach(subtrees=subtrees, lines=lines)


def reach_of(session, actor: Actor) -> OrgReach:  # noqa: ANN001  (a Session)
    """`org_reach` with the caller's own unit read from the database."""
    from sqlalchemy import select

    from db.models import OrgUnit, Person

    home = None
    if actor.person_id is not None and not (actor.is_admin or actor.is_system):
        home = session.execute(select(OrgUnit.path).join(Person, Person.org_unit_id == OrgUnit.id)
                               .where(Person.id == actor.person_id)).scalar_one_or_none()
    return org_reach(actor, home)
