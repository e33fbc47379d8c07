"""A demo organisation: a province with three agencies and 60 people of all three staff types,
an HR officer, a screening committee and an authority, on the Udon Thani policy.

Every demo account's password is DEMO_PASSWORD (printed in the README).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import cycle

from sqlalchemy import select
from sqlmodel import Session

from db.models import Committee, CommitteeMember, OrgUnit, Person
from workflow import accounts, calendar, orgs
from workflow.access import Actor
from workflow.policy import preset_text
from workflow.rounds import RoundOpened, open_round, register_policy

DEMO_ORG = "DEMO"
DEMO_PASSWORD = "demo1234"
_FIRST = ["สมชาย", "สมหญิง", "วิชัย", "อรุณี", "ประเสริฐ", "มาลี", "สุรชัย", "กาญจนา", "ธนพล", "พรทิพย์",
          "อนุชา", "จันทร์เพ็ญ", "ณัฐวุฒิ", "วราภรณ์", "กิตติ", "ศิริพร", "ชัยวัฒน์", "นภาพร", "เอกชัย", "สุภาพร"]
_LAST = ["ใจดี", "รักษ์ไทย", "ศรีสุข", "บุญมา", "แก้วมณี", "ทองคำ", "พูลสวัสดิ์", "วงศ์ใหญ่", "สายทอง",
         "มั่นคง", "เจริญผล", "ดวงแก้ว", "ปัญญาดี"]
_STAFF_TYPES = cycle(["civil_servant", "civil_servant", "government_employee", "permanent_employee"])
AGENCIES = [
    ("DEMO-PO", "สำนักงานจังหวัด", "Provincial Office"),
    ("DEMO-HEALTH", "สำนักงานสาธารณสุขจังหวัด", "Provincial Health Office"),
    ("DEMO-AGRI", "สำนักงานเกษตรจังหวัด", "Provincial Agriculture Office"),
]


@dataclass
class DemoResult:
    created: bool
    people: int
    accounts: dict[str, str]  # username -> what the account is for
    round: RoundOpened | None


def build(session: Session, *, today: date | None = None) -> DemoResult:
    if session.execute(select(OrgUnit.id).where(OrgUnit.code == DEMO_ORG)).first():
        return DemoResult(False, 0, {}, None)
    names = ((f, l) for l in _LAST for f in _FIRST)
    counter = iter(range(1, 10_000))

    def person(unit: OrgUnit, position: str, level: str, evaluator: Person | None,
               superior: Person | None, staff_type: str | None = None) -> Person:
        first, last = next(names)
        n = next(counter)
        p = Person(code=f"D{n:04d}", name_th=f"{first} {last}", position=position, position_level=level,
                   staff_type=staff_type or next(_STAFF_TYPES), org_unit_id=unit.id,
                   evaluator_id=evaluator.id if evaluator else None,
                   superior_id=superior.id if superior else None,
                   email=f"d{n:04d}@demo.pmflow.local", salary=25000 + 250 * n)
        session.add(p)
        session.flush()
        return p

    pv = register_policy(session, preset_text("udon_thani"))
    province = orgs.create_unit(session, code=DEMO_ORG, name_th="จังหวัดตัวอย่าง", name_en="Demo Province",
                                kind="province", policy_version_id=pv.id)
    hr_unit = orgs.create_unit(session, code="DEMO-HR", name_th="กลุ่มงานบริหารทรัพยากรบุคคล",
                               name_en="HR group", kind="unit", parent=province)
    governor = person(province, "ผู้ว่าราชการจังหวัด", "ผู้บริหารระดับสูง", None, None, "civil_servant")
    deputy = person(province, "รองผู้ว่าราชการจังหวัด", "ผู้บริหารระดับสูง", governor, governor, "civil_servant")
    hr_officer = person(hr_unit, "นักทรัพยากรบุคคล", "ชำนาญการ", deputy, governor, "civil_servant")
    heads, evaluator_demo, staff_demo = [], None, None
    for code, th, en in AGENCIES:
        agency = orgs.create_unit(session, code=code, name_th=th, name_en=en, kind="agency", parent=province)
        head = person(agency, f"หัวหน้า{th}", "อำนวยการ", deputy, governor, "civil_servant")
        heads.append(head)
        for u in (1, 2):
            unit = orgs.create_unit(session, code=f"{code}-{u}", name_th=f"{th} กลุ่มงานที่ {u}",
                                    name_en=f"{en} unit {u}", kind="unit", parent=agency)
            supervisor = person(unit, "หัวหน้ากลุ่มงาน", "ชำนาญการพิเศษ", head, deputy, "civil_servant")
            evaluator_demo = evaluator_demo or supervisor
            for _ in range(8):
                staff = person(unit, "เจ้าหน้าที่", "ปฏิบัติการ", supervisor, head)
                if staff_demo is None and staff.staff_type == "civil_servant":
                    staff_demo = staff

    made = {
        "admin": ("ผู้ดูแลระบบ / administrator", None, True, []),
        "hr": ("เจ้าหน้าที่ HR / HR officer", hr_officer, False, [("hr", province)]),
        "governor": ("ผู้มีอำนาจ / authority", governor, False, [("authority", province)]),
        "chair": ("ประธานคณะกรรมการกลั่นกรอง / committee chair", deputy, False, [("committee", province)]),
        "committee1": ("กรรมการ / committee member", heads[1], False, [("committee", province)]),
        "committee2": ("กรรมการ / committee member", heads[2], False, [("committee", province)]),
        "evaluator": ("ผู้ประเมิน / evaluator", evaluator_demo, False, []),
        "superior": ("ผู้บังคับบัญชาเหนือขึ้นไป / superior above", heads[0], False, []),
        "staff": ("ผู้รับการประเมิน / appraisee", staff_demo, False, []),
    }
    hashed = accounts.hash_password(DEMO_PASSWORD)
    for username, (_, who, admin, roles) in made.items():
        accounts.create_account(session, username=username, password=DEMO_PASSWORD, person=who,
                                is_admin=admin, roles=roles, password_hash=hashed)
    people = next(counter) - 1
    session.commit()

    fiscal_year, number = calendar.round_of(today or calendar.today())
    opened = open_round(session, org_code=DEMO_ORG, fiscal_year=fiscal_year, number=number,
                        actor=Actor.system())
    committee = Committee(org_unit_id=province.id, round_id=opened.round.id)
    session.add(committee)
    session.flush()
    for member, chair in ((deputy, True), (heads[1], False), (heads[2], False)):
        session.add(CommitteeMember(committee_id=committee.id, person_id=member.id, is_chair=chair))
    session.commit()
    return DemoResult(True, people, {u: v[0] for u, v in made.items()}, opened)
