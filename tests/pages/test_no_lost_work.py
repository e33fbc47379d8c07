"""Typed work is never lost, a returned appraisal says so, and the authority announces many
with one confirmation."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from db.models import Appraisal
from tests.flows import drive
from tests.pages.conftest import shot


def _draft(site, who="appraisee"):
    w = site.new_world()
    with site.session() as s:
        return w, w.appraisal_of(s, who).id


def test_typed_kpis_survive_pressing_sign(site, as_user):
    w, aid = _draft(site)
    ev = as_user("evaluator", w=w)
    ev.goto(f"{site.url}/appraisals/{aid}")
    ev.fill("#kpi-0-title", "ร้อยละของงานที่แล้วเสร็จตามกำหนด")
    ev.fill("#kpi-0-weight", "100")
    ev.get_by_test_id("do-sign_agreement").click()  # no separate save first
    expect(ev.get_by_test_id("signatures")).to_contain_text("evaluator")
    expect(ev.locator("#kpi-0-title")).to_have_value("ร้อยละของงานที่แล้วเสร็จตามกำหนด")
    with site.session() as s:
        a = s.get(Appraisal, aid)
        assert a.agreement_revision >= 1
    # pressing Sign again with nothing changed does not start a new revision (signatures stay)
    me = as_user("appraisee", w=w)
    me.goto(f"{site.url}/appraisals/{aid}")
    me.get_by_test_id("do-sign_agreement").click()
    expect(me.get_by_test_id("signatures")).to_contain_text("appraisee")
    expect(me.get_by_test_id("signatures")).to_contain_text("evaluator")
    shot(me, "20-typed-kpi-signed")


def test_unsaved_input_warns_before_leaving(site, as_user):
    w, aid = _draft(site)
    ev = as_user("evaluator", w=w)
    ev.goto(f"{site.url}/appraisals/{aid}")
    ev.fill("#kpi-0-title", "งานที่ยังไม่ได้บันทึก")
    ev.get_by_role("link", name="งานของฉัน").first.click()
    ev.wait_for_url(f"{site.url}/")
    assert ev.dialogs, "leaving with unsaved input asked nothing"


def test_a_returned_appraisal_says_so(site, as_user):
    w = site.new_world()
    with site.session() as s:
        aid = drive(s, w, until="committee_review")
    chair = as_user("chair", w=w)
    chair.goto(f"{site.url}/committee")
    chair.locator("summary", has_text="ส่งคืน").first.click()
    chair.locator("textarea[name=comment]").first.fill("โปรดทบทวนระดับตัวชี้วัดที่ 2")
    chair.get_by_role("button", name="ส่งคืนผู้ประเมิน").first.click()
    ev = as_user("evaluator", w=w)
    ev.goto(f"{site.url}/appraisals/{aid}")
    banner = ev.get_by_test_id("returned")
    expect(banner).to_contain_text("โปรดทบทวนระดับตัวชี้วัดที่ 2")
    expect(banner).to_contain_text("chair")
    expect(banner).to_contain_text("ส่งแบบประเมินอีกครั้ง")
    shot(ev, "21-returned-banner")


def test_the_authority_announces_many_with_one_confirmation(site, as_user):
    w = site.new_world()
    with site.session() as s:
        ids = [drive(s, w, "appraisee", until="reviewed"), drive(s, w, "other", until="reviewed")]
    boss = as_user("authority", w=w)
    boss.goto(f"{site.url}/announce")
    expect(boss.get_by_test_id("reviewed-count")).to_have_text("2")
    boss.locator("input[data-select-all]").check()
    boss.get_by_test_id("announce-selected").click()
    expect(boss.locator(".flash")).to_contain_text("2")
    assert len(boss.dialogs) == 1 and "2" in boss.dialogs[0] and "ย้อนกลับไม่ได้" in boss.dialogs[0]
    with site.session() as s:
        assert {s.get(Appraisal, i).state for i in ids} == {"announced"}
    shot(boss, "22-announced-many")


def test_forms_build_in_the_background_to_a_download(site, as_user):
    w = site.new_world()
    hr = as_user("hr", w=w)
    hr.goto(f"{site.url}/hr?round={w.opened.round.id}")
    hr.get_by_test_id("start-forms").click()
    hr.wait_for_url(f"{site.url}/jobs/*")
    expect(hr.get_by_test_id("job-progress")).to_be_visible()
    link = hr.get_by_test_id("job-download")
    expect(link).to_be_visible(timeout=120_000)
    expect(hr.get_by_test_id("job-progress")).to_have_attribute("value", "100")
    with hr.expect_download() as d:
        link.click()
    assert d.value.suggested_filename.endswith(".zip")
    shot(hr, "23-forms-job-done")


def test_a_report_pdf_is_made_in_the_background_to_a_download(site, as_user):
    """A report laid out as pages can take long for a large round: its PDF button starts a job
    and shows its progress; the file arrives when it is done."""
    w = site.new_world()
    rid = w.opened.round.id
    hr = as_user("hr", w=w)
    hr.goto(f"{site.url}/hr?round={rid}")
    hr.get_by_test_id("report-job-progress-pdf").click()
    hr.wait_for_url(f"{site.url}/jobs/*")
    expect(hr.locator("h1")).to_have_text(re.compile("กำลังจัดทำรายงาน|Preparing the report"))
    link = hr.get_by_test_id("job-download")
    expect(link).to_be_visible(timeout=120_000)
    with hr.expect_download() as d:
        link.click()
    assert d.value.suggested_filename == f"progress-round-{rid}.pdf"
    assert Path(d.value.path()).read_bytes()[:5] == b"%PDF-"


def test_the_case_page_names_its_appraisal_and_fits_a_phone(site, as_user):
    from sqlalchemy import select

    from db.models import LowPerformerCase
    from workflow import engine

    w = site.new_world()
    with site.session() as s:
        aid = drive(s, w, "appraisee", levels=[1, 1], competency_scores=[1, 1, 1, 1, 1])
        cid = s.execute(select(LowPerformerCase.id).where(LowPerformerCase.appraisal_id == aid)).scalar_one()
        engine.fire(s, "case", cid, "sign_plan", w.actors["evaluator"],
                    payload={"weakness_analysis": "ก", "development_plan": "ข"})  # the plan is joint
        for event, payload in (("agree_plan", {}), ("begin_coaching", {}),
                               ("update_measure", {"measure": "coaching", "status": "in_progress"})):
            engine.fire(s, "case", cid, event, w.actors["hr"], payload=payload)
    hr = as_user("hr", w=w, width=360)
    hr.goto(f"{site.url}/cases/{cid}")
    trigger = hr.get_by_test_id("trigger")
    expect(trigger).to_contain_text(w.people["appraisee"].name_th)
    expect(trigger).to_contain_text("%")
    expect(hr.locator("#um-measure")).to_have_value("coaching")
    expect(hr.locator("#um-status")).to_have_value("in_progress")  # starts at the current status
    hr.select_option("#um-measure", "training")
    expect(hr.locator("#um-status")).to_have_value("not_started")
    box = hr.locator("#ev-file").locator("xpath=ancestor::fieldset").bounding_box()
    assert box["x"] + box["width"] <= 360, box
    assert hr.evaluate("document.documentElement.scrollWidth") <= 360
    shot(hr, "24-case-360")


def test_my_tasks_keep_my_own_appraisal_apart_and_group_by_round(site, as_user):
    w = site.new_world()
    ev = as_user("evaluator", w=w)
    own = ev.get_by_test_id("own-tasks")
    staff = ev.locator(f'[data-round="{w.opened.round.id}"]')
    expect(staff).to_contain_text("appraisee")
    expect(staff).to_contain_text(str(w.opened.round.number))
    from workflow import tasks
    from workflow.calendar import today

    with site.session() as s:
        mine = [t for ts in tasks.my_tasks(s, w.actors["evaluator"], today()).values() for t in ts if t.own]
    expect(own).to_have_count(1 if mine else 0)
    expect(staff).not_to_contain_text(w.people["evaluator"].name_th)  # their own is not among their staff's


def test_by_round_keeps_the_own_apart():
    from datetime import date

    from workflow.tasks import Task, by_round

    t = lambda action, rid, own=False: Task(action, "/x", f"{action}-{rid}", "draft", date(2026, 1, 1), False,  # noqa: E731
                                            round_id=rid, own=own)
    groups = {"sign_agreement": [t("sign_agreement", 1, own=True), t("sign_agreement", 2)],
              "score": [t("score", 1), t("score", 2)]}
    own, rounds = by_round(groups)
    assert [x.subject for x in own] == ["sign_agreement-1"]
    assert list(rounds) == [2, 1]
    assert {c: [x.subject for x in ts] for c, ts in rounds[1].items()} == {"score": ["score-1"]}


def test_the_hr_dashboard_folds_its_sections_on_a_phone(site, as_user):
    w = site.new_world()
    hr = as_user("hr", w=w, width=360)
    hr.goto(f"{site.url}/hr")
    expect(hr.locator("[data-collapsible] details")).not_to_have_count(0)
    height = hr.evaluate("document.documentElement.scrollHeight")
    hr.locator("[data-collapsible] summary").first.click()  # a tap opens one
    assert hr.evaluate("document.documentElement.scrollHeight") > height
    shot(hr, "25-hr-phone")
