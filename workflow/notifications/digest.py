"""One digest per recipient: what they must do before a milestone, with links. Pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from workflow.notifications.pending import Escalation, Item

MAX_LISTED = 50  # a digest lists this many items, then "and N more" with a link to the list

Kind = Literal["reminder", "overdue", "escalation"]


@dataclass(frozen=True)
class MilestoneInfo:
    id: int
    code: str
    name_th: str
    name_en: str
    due_on: date
    round_id: int | None  # none for an agency SAR milestone
    fiscal_year: int
    round_number: int
    agency: bool = False  # `id` is an agency milestone (outbox.agency_milestone_id), not a round's


@dataclass(frozen=True)
class Recipient:
    id: int
    name: str
    email: str = ""
    locale: str = "th"
    superior_id: int | None = None
    org_unit_id: int | None = None


@dataclass
class Digest:
    recipient: Recipient
    kind: Kind
    milestone: MilestoneInfo
    offset_key: str  # the outbox key: "-7@2026-04-10", "overdue:2026-04-03", "escalate:2026-04-03"
    items: list[Item] = field(default_factory=list)
    days_before: int | None = None
    days_overdue: int | None = None
    # escalation: late person -> their items; names of the late people
    late: dict[int, list[Item]] = field(default_factory=dict)
    late_names: dict[int, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.items) + sum(len(v) for v in self.late.values())

    @property
    def link(self) -> str:
        """Where the inbox entry points: the one item, or the list of pending work."""
        if self.kind != "escalation" and len(self.items) == 1:
            return self.items[0].link
        if self.milestone.agency:
            return "/api/v1/agency-assessments"
        return f"/rounds/{self.milestone.round_id}/progress" if self.kind == "escalation" else "/appraisals"


def reminder_key(offset_days: int, due_on: date) -> str:
    """Once per offset *and due date*: a milestone moved to a new date is reminded of again."""
    return f"-{offset_days}@{due_on.isoformat()}"


def overdue_key(today: date) -> str:
    return f"overdue:{today.isoformat()}"


def escalation_key(today: date) -> str:
    return f"escalate:{today.isoformat()}"


def reminders(milestone: MilestoneInfo, offset_days: int, pending: dict[int, list[Item]],
              people: dict[int, Recipient]) -> list[Digest]:
    return [Digest(people[pid], "reminder", milestone, reminder_key(offset_days, milestone.due_on), items,
                   days_before=offset_days)
            for pid, items in pending.items() if pid in people]


def overdue(milestone: MilestoneInfo, today: date, pending: dict[int, list[Item]],
            people: dict[int, Recipient]) -> list[Digest]:
    days = (today - milestone.due_on).days
    return [Digest(people[pid], "overdue", milestone, overdue_key(today), items, days_overdue=days)
            for pid, items in pending.items() if pid in people]


def escalated(milestone: MilestoneInfo, today: date, found: dict[int, Escalation],
              people: dict[int, Recipient]) -> list[Digest]:
    days = (today - milestone.due_on).days
    return [Digest(people[rid], "escalation", milestone, escalation_key(today), [], days_overdue=days,
                   late=e.late, late_names={p: people[p].name for p in e.late if p in people})
            for rid, e in found.items() if rid in people]
