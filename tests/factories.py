"""Test data builders: an organisation on a preset, people, accounts, an open round."""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from sqlalchemy import select
from sqlmodel import Session

from db.models import Appraisal, Committee, CommitteeMember, OrgUnit, Person
from workflow import accounts, orgs
from workflow.access import Actor
from workflow.policy import preset_text
from workflow.rounds import RoundOpened, open_round, register_policy

_n = count(1)
_hashes: dict[str, str] = {}


def _hash(password: str) -> str:
    """argon2 is slow by design: hash each test password once per run."""
    if password not in _hashes:
        _hashes[password] = accounts.hash_password(password)
    return _hashes[password]


@dataclass
class World:
    org: OrgUnit
    unit: OrgUnit
    actors: dict[str, Actor] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    opened: RoundOpened | None = None

    def appraisal_of(self, session: Session, who: str) -> Appraisal:
        return session.execute(select(Appraisal).where(
            Appraisal.person_id == self.people[who].id,
            Appraisal.round_id == self.opened.round.id)).scalar_one()


def person(session: Session, unit: OrgUnit, name: str, staff_type: str = "civil_servant",
           evaluator: Person | None = None, superior: Person | None = None) -> Person:
    n = next(_n)
    p = Person(code=f"T{n:05d}", name_th=name, staff_type=staff_type, org_unit_id=unit.id,
               evaluator_id=evaluator.id if evaluator else None,
               superior_id=superior.id if superior else None, email=f"{name}@test.local")
    session.add(p)
    session.flush()
    return p


def world(session: Session, preset: str = "udon_thani", *, fiscal_year: int = 2569, number: int = 1,
          staff_type: str = "civil_servant", open_now: bool = True, superior_levels: int = 1,
          above_superior: str = "authority", more_staff: int = 0) -> World:
    """An organisation with: authority, hr, superior, evaluator, appraisee, a committee of two
    (chair + member), another appraisee; accounts for each; a round opened. `more_staff` more
    of the evaluator's staff (more0, more1, ...) in a unit of their own below the first."""
    text = preset_text(preset)
    if superior_levels != 1:
        text = text.replace("superior_levels = 1", f"superior_levels = {superior_levels}")
    pv = register_policy(session, text)
    code = f"ORG{next(_n)}"
    org = orgs.create_unit(session, code=code, name_th=f"องค์กร {code}", kind="province", policy_version_id=pv.id)
    unit = orgs.create_unit(session, code=f"{code}-U", name_th="หน่วย", parent=org)
    w = World(org=org, unit=unit)
    authority = person(session, org, "authority")
    superior = person(session, unit, "superior", evaluator=authority, superior=authority)
    evaluator = person(session, unit, "evaluator", evaluator=superior, superior=authority)
    appraisee = person(session, unit, "appraisee", staff_type, evaluator=evaluator, superior=superior)
    other = person(session, unit, "other", evaluator=evaluator, superior=superior)
    chair = person(session, org, "chair", evaluator=authority, superior=authority)
    member = person(session, org, "member", evaluator=authority, superior=authority)
    hr = person(session, org, "hr", evaluator=authority, superior=authority)
    stranger_org = orgs.create_unit(session, code=f"{code}-X", name_th="ที่อื่น", kind="province")
    stranger = person(session, stranger_org, "stranger")
    scoped = {"authority": [("authority", org)], "hr": [("hr", org)], "chair": [("committee", org)],
              "member": [("committee", org)]}
    for name, p in dict(authority=authority, superior=superior, evaluator=evaluator, appraisee=appraisee,
                        other=other, chair=chair, member=member, hr=hr, stranger=stranger).items():
        acc = accounts.create_account(session, username=f"{name}-{code}".lower(), password="pw-" + name,
                                      password_hash=_hash("pw-" + name), person=p,
                                      roles=scoped.get(name, []))
        w.people[name] = p
        w.actors[name] = accounts.actor_for(session, acc)
    admin = accounts.create_account(session, username=f"admin-{code}".lower(), password="pw-admin",
                                    password_hash=_hash("pw-admin"), is_admin=True)
    w.actors["admin"] = accounts.actor_for(session, admin)
    w.actors["system"] = Actor.system()
    superior.superior_id = w.people[above_superior].id  # the second superior above the appraisee
    if more_staff:
        below = orgs.create_unit(session, code=f"{code}-U-1", name_th="ฝ่าย", parent=unit)
        for name in more_names(more_staff):
            staff(session, w, name, unit=below)
    session.commit()
    if open_now:
        w.opened = open_round(session, org_code=code, fiscal_year=fiscal_year, number=number,
                              actor=Actor.system())
        committee = Committee(org_unit_id=org.id, round_id=w.opened.round.id)
        session.add(committee)
        session.flush()
        session.add(CommitteeMember(committee_id=committee.id, person_id=chair.id, is_chair=True))
        session.add(CommitteeMember(committee_id=committee.id, person_id=member.id))
        session.commit()
    return w


def more_names(n: int) -> list[str]:
    """The names of the people `world(more_staff=n)` adds."""
    return [f"more{i}" for i in range(n)]


def staff(session: Session, w: World, name: str, *, unit: OrgUnit | None = None) -> Person:
    """One more of the evaluator's staff (the superior above them), with an account to sign in
    with, known to the world by `name` like its own people. In a round opened after this."""
    p = person(session, unit or w.unit, name, evaluator=w.people["evaluator"], superior=w.people["superior"])
    acc = accounts.create_account(session, username=f"{name}-{w.org.code}".lower(), password="pw-" + name,
                                  password_hash=_hash("pw-" + name), person=p)
    w.people[name] = p
    w.actors[name] = accounts.actor_for(session, acc)
    return p


KPIS = [
    {"title": "ร้อยละของงานที่แล้วเสร็จตามกำหนด", "source": "strategic", "weight": 60,
     "level_descriptions": ["60%", "70%", "80%", "90%", "100%"]},
    {"title": "ความพึงพอใจของผู้รับบริการ", "source": "role", "weight": 40},
]
