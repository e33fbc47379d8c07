"""Staff types: permanent employees paid in steps, the expected competency level by position
level, the roster's wordings for staff types."""
from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import select

from db.models import Appraisal, Competency
from tests.factories import world
from workflow.access import Actor
from workflow.policy import load_preset
from workflow.reward import Candidate, plan
from workflow.rounds import open_round


def test_permanent_employees_are_paid_in_steps_and_acceptable_no_longer_gets_nothing():
    rules = load_preset("nonthaburi").reward
    found = plan(rules, [
        Candidate(1, "announced", D("20000"), "", "outstanding", "permanent_employee"),
        Candidate(2, "announced", None, "", "acceptable", "permanent_employee"),  # no salary needed for steps
        Candidate(3, "announced", D("20000"), "", "needs_improvement", "permanent_employee"),
        Candidate(4, "announced", D("30000"), "", "very_good", "civil_servant"),
    ])
    by = {r.key: r for r in found.raises}
    assert (by[1].steps, by[2].steps, by[3].steps) == (D(1), D("0.5"), D(0))
    assert by[1].amount == 0 and by[1].base_kind == "steps"
    assert by[4].steps is None and by[4].amount > 0 and by[4].base_kind == "salary"
    assert found.eligible_salaries == D("30000")  # step-paid people take nothing from the percent pool
    assert not found.left_out


def test_default_presets_pay_permanent_employees_in_steps_too():
    rules = load_preset("udon_thani").reward
    [r] = plan(rules, [Candidate(1, "reviewed", None, "", "fair", "permanent_employee")]).raises
    assert r.steps == D("0.5")


def test_a_round_sets_the_expected_competency_level_from_the_position_level(session):
    w = world(session, "ubon_ratchathani", open_now=False)
    w.people["appraisee"].position_level = "ชำนาญการพิเศษ"
    w.people["other"].position_level = "ปฏิบัติการ"
    session.commit()
    opened = open_round(session, org_code=w.org.code, fiscal_year=2569, number=1, actor=Actor.system())
    levels = dict(session.execute(
        select(Appraisal.person_id, Competency.expected_level).join(Competency, Competency.appraisal_id == Appraisal.id)
        .where(Appraisal.round_id == opened.round.id)).all())
    assert levels[w.people["appraisee"].id] == 3
    assert levels[w.people["other"].id] == 1
    assert levels[w.people["evaluator"].id] == 3  # no level on record: the policy's default


def test_the_roster_accepts_the_wordings_offices_use():
    from workflow.roster import staff_type_of

    assert staff_type_of("ข้าราชการครูและบุคลากรทางการศึกษา") == "civil_servant"
    assert staff_type_of("Teachers and educational personnel") == "civil_servant"
    assert staff_type_of("  ครู ") == "civil_servant"
    assert staff_type_of("เจ้าหน้าที่อื่นของรัฐ") == "other_state_official"
    assert staff_type_of("Other state officials") == "other_state_official"
    assert staff_type_of("permanent_employee") == "permanent_employee"
    assert staff_type_of("พนักงานราชการ") == "government_employee"
    assert staff_type_of("ลูกจ้างชั่วคราว") is None


def test_other_state_officials_have_default_bands_and_a_rule():
    p = load_preset("udon_thani")
    assert p.band_for("other_state_official", D("75")).code == "good"
    assert p.is_default("bands.other_state_official")


def test_a_roster_with_teachers_and_other_state_officials_imports_their_staff_types(session):
    import csv
    import io

    from db.models import Person
    from workflow import roster

    w = world(session, "sesao12", open_now=False)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["code", "name_th", "position", "position_level", "ประเภทบุคลากร", "unit code"])
    out.writerow(["K001", "ครูสมใจ", "ครู", "ชำนาญการ", "ข้าราชการครูและบุคลากรทางการศึกษา", w.unit.code])
    out.writerow(["K002", "นายสมาน", "เจ้าหน้าที่", "", "เจ้าหน้าที่อื่นของรัฐ", w.unit.code])
    content = buf.getvalue().encode("utf-8")
    assert roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=content).clean
    roster.apply(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=content)
    types = dict(session.execute(select(Person.code, Person.staff_type).where(Person.code.in_(["K001", "K002"]))).all())
    assert types == {"K001": "civil_servant", "K002": "other_state_official"}
    # a round opens for them with their staff types
    opened = open_round(session, org_code=w.org.code, fiscal_year=2569, number=1, actor=Actor.system())
    staff = dict(session.execute(select(Person.code, Appraisal.staff_type).join(Appraisal, Appraisal.person_id == Person.id)
                                 .where(Appraisal.round_id == opened.round.id, Person.code.in_(["K001", "K002"]))).all())
    assert staff == types
