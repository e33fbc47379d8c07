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
