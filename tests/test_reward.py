"""The reward stage: the raise pool of a round shared by rating (workflow/reward.py)."""
from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import update

from db.models import Person
from tests.factories import world
from tests.flows import drive
from workflow.errors import InvalidInput
from workflow.policy import RewardRules, load_preset, parse, preset_text
from workflow.reports import load
from workflow.reward import Candidate, base_of, plan

BASES = {"ชำนาญการ": {"lower": "20000", "mid": "30000", "upper": "40000"}}
PEOPLE = [
    Candidate(1, "announced", D("25000"), "ชำนาญการ", "outstanding"),   # below the mid-point: lower base
    Candidate(2, "announced", D("35000"), "ชำนาญการ", "very_good"),     # above it: upper base
    Candidate(3, "reviewed", D("18333"), "ปฏิบัติการ", "good"),          # no base for the level: the salary
    Candidate(4, "draft", D("30000"), "ชำนาญการ", None),                 # not reviewed yet
    Candidate(5, "announced", None, "ชำนาญการ", "good"),                 # no salary on record
]


def rules(**kw) -> RewardRules:
    return RewardRules(bases=BASES, **kw)


def test_bases_split_at_the_mid_point():
    r = rules()
    assert base_of(r, "ชำนาญการ", D("29999.99")) == (D("20000"), "lower")
    assert base_of(r, "ชำนาญการ", D("30000")) == (D("40000"), "upper")
    assert base_of(r, "อาวุโส", D("50000")) == (D("50000"), "salary")


def test_within_the_pool_each_raise_is_its_ratings_percent_of_the_base_rounded_up_to_ten_baht():
    p = plan(rules(pool_percent=D(5)), PEOPLE)
    assert p.eligible_salaries == D("78333") and p.pool == D("3916.65")
    assert p.factor == 1 and p.suggested == D("2760")
    assert [(r.key, r.base, r.percent, r.amount) for r in p.raises] == [
        (1, D("20000"), D("4.5"), D("900")), (2, D("40000"), D("3.5"), D("1400")),
        (3, D("18333"), D("2.5"), D("460"))]  # 458.33 rounded up
    assert p.total == D("2760") and p.remaining == D("1156.65")
    assert [k for k, _ in p.left_out] == [4, 5]


def test_over_the_pool_every_percent_is_scaled_alike_and_the_pool_is_never_exceeded():
    p = plan(rules(), PEOPLE)  # 3 %: the pool is 2,349.99 for 2,760 suggested
    assert p.pool == D("2349.99") and p.factor == D("0.8514")
    assert [(r.percent, r.amount) for r in p.raises] == [
        (D("3.83"), D("760")), (D("2.98"), D("1190")), (D("2.13"), D("390"))]
    assert p.total == D("2340") <= p.pool
    # the order by rating holds after scaling
    assert p.raises[0].percent > p.raises[1].percent > p.raises[2].percent


def test_a_policy_with_raises_outside_its_limits_is_refused_naming_the_key():
    text = preset_text("default") + '\n[reward.percent_by_rating]\noutstanding = 7\n'
    with pytest.raises(InvalidInput) as exc:
        parse(text)
    assert any(p.field.startswith("reward") for p in exc.value.problems)
    bad_base = preset_text("default") + '\n[reward.bases."ชำนาญการ"]\nlower = 30000\nmid = 20000\nupper = 40000\n'
    with pytest.raises(InvalidInput) as exc:
        parse(bad_base)
    assert any("reward.bases" in p.field for p in exc.value.problems)
    assert load_preset("udon_thani").reward.pool_percent == 3


def test_the_reward_report_of_a_round(session):
    w = world(session)
    aid = drive(session, w)  # announced: 85.60 %, very good
    session.execute(update(Person).values(salary=D("30000"), position_level="ชำนาญการ"))
    session.commit()
    report = load.build(session, w.actors["hr"], w.opened.round.id, "reward")
    pool = {r["item"]: r["value"] for r in report.table("pool").rows}
    assert pool["เงินเดือนของผู้มีสิทธิ / eligible salaries"] == "30,000.00"  # only the announced one
    # 3.5 % of 30,000 is 1,050 against a pool of 900: scaled by 0.8571 to 899.96, down to 890
    assert pool["วงเงิน ร้อยละ 3 / pool (3 %)"] == "900.00"
    assert pool["ยอดเลื่อนรวม / total raises"] == "890.00"
    unit = report.table(f"unit_{w.unit.id}").rows
    assert [(r["code"], r["base_kind"]) for r in unit] == [
        (w.people["appraisee"].code, "เงินเดือน / salary (no base in the policy)")]
    assert len(report.table("left_out").rows) == 7  # the round's seven others are still drafts
    assert aid


def test_the_reward_report_writes_to_every_format(session):
    from workflow.reports import writers

    w = world(session)
    drive(session, w)
    session.execute(update(Person).values(salary=D("25000"), position_level="ชำนาญการ"))
    session.commit()
    report = load.build(session, w.actors["hr"], w.opened.round.id, "reward", digits="thai")
    for fmt in ("json", "csv", "xlsx", "pdf"):
        assert len(writers.write(report, fmt)) > 100, fmt
