"""The pages in a real browser against a live server: the whole cycle by the people whose turn
it is, what each role must not see, errors next to their fields, keyboard-only scoring, phone
width, Thai and English. Screenshots go to test-artifacts/pages/."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from db.models import Appraisal, InboxMessage, LowPerformerCase
from tests.flows import drive
from tests.pages.conftest import shot


def _appraisal_id(site, who: str, w=None) -> int:
    with site.session() as s:
        return (w or site.world).appraisal_of(s, who).id


def _state(site, appraisal_id: int) -> str:
    with site.session() as s:
        return s.get(Appraisal, appraisal_id).state


def _bar_done(page, milestone: str) -> int:
    return int(page.locator(f'[data-milestone="{milestone}"] .bar').get_attribute("data-done"))


def test_login_errors_keep_the_username_and_show_next_to_the_field(site, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{site.url}/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.fill("#username", site.username("evaluator"))
    page.fill("#password", "wrong")
    page.press("#password", "Enter")
    expect(page.locator("#err-password")).to_contain_text("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง")
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#username")).to_have_value(site.username("evaluator"))
    shot(page, "01-login-error")
    page.fill("#password", "pw-evaluator")
    page.press("#password", "Enter")
    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_test_id("user-name")).to_have_text("evaluator")
    headers = page.request.get(f"{site.url}/").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    page.get_by_role("button", name="ออกจากระบบ").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert page.goto(f"{site.url}/").url.startswith(f"{site.url}/login")  # the session is gone
    # a sign-in posted from elsewhere (no login token) is refused
    status = page.evaluate("""async (url) => (await fetch(url, {method: 'POST', headers: {'Content-Type':
        'application/x-www-form-urlencoded'}, body: 'username=x&password=y'})).status""", f"{site.url}/login")
    assert status == 403
    ctx.close()


def test_the_whole_cycle_through_the_pages(site, as_user):
    w = site.world
    aid = _appraisal_id(site, "appraisee")
    with site.session() as s:  # a second appraisal reaches the committee the quick way
        other_id = drive(s, w, "other", until="committee_review")

    # --- the evaluator drafts the agreement -------------------------------------------------
    ev = as_user("evaluator")
    group = ev.locator('[data-group="sign_agreement"]:not([data-own])')  # their staff's, not their own
    expect(group).to_contain_text("appraisee")
    shot(ev, "02-tasks-evaluator")
    group.get_by_role("link", name="appraisee").click()
    expect(ev.get_by_test_id("state")).to_have_text("จัดทำข้อตกลง")

    # a KPI with a weight but no title: the error sits next to the title, the weight is kept
    ev.fill("#kpi-0-weight", "60")
    ev.get_by_role("button", name="บันทึกข้อตกลง").click()
    expect(ev.locator("#kpi-0-title")).to_have_attribute("aria-invalid", "true")
    expect(ev.locator("#kpi-0-weight")).to_have_value("60")
    expect(ev.locator(".error-summary")).to_be_visible()
    shot(ev, "03-agreement-error")

    ev.fill("#kpi-0-title", "ร้อยละของงานที่แล้วเสร็จตามกำหนด")
    for n, text in enumerate(["60%", "70%", "80%", "90%", "100%"], start=1):
        ev.locator("details", has=ev.locator(f"#kpi-0-level{n}")).first.evaluate("d => d.open = true")
        ev.fill(f"#kpi-0-level{n}", text)
    ev.get_by_role("button", name="เพิ่มตัวชี้วัด").click()  # JavaScript adds a row (the blank row stays too)
    rows = ev.locator("[data-kpi-row]")
    expect(rows).to_have_count(3)
    ev.fill("#kpi-1-title", "ความพึงพอใจของผู้รับบริการ")
    ev.fill("#kpi-1-weight", "30")
    expect(ev.locator("[data-weight-total]")).to_have_text("90")
    expect(ev.locator("[data-weight-total]")).to_have_class(re.compile(r"\bbad\b"))
    ev.fill("#kpi-1-weight", "40")
    expect(ev.locator("[data-weight-total]")).to_have_text("100")
    expect(ev.locator("[data-weight-total]")).to_have_class(re.compile(r"\bok\b"))
    ev.get_by_role("button", name="บันทึกข้อตกลง").click()
    expect(ev.locator(".flash")).to_contain_text("บันทึกข้อตกลง")
    ev.get_by_test_id("do-sign_agreement").click()
    expect(ev.get_by_test_id("signatures")).to_contain_text("evaluator")
    shot(ev, "04-agreement-signed-by-evaluator")

    # --- the appraisee signs ----------------------------------------------------------------
    me = as_user("appraisee")
    expect(me.locator('[data-group="sign_agreement"]')).to_be_visible()
    me.goto(f"{site.url}/appraisals/{aid}")
    expect(me.get_by_test_id("do-score")).to_have_count(0)
    me.get_by_test_id("do-sign_agreement").click()
    expect(me.get_by_test_id("signatures")).to_contain_text("appraisee")

    # --- the evaluator confirms, reviews mid-round, and scores ----------------------------------
    ev.goto(f"{site.url}/appraisals/{aid}")
    ev.get_by_test_id("do-agree").click()
    expect(ev.get_by_test_id("state")).to_have_text("ลงนามข้อตกลงแล้ว")
    ev.get_by_role("button", name="ติดตามผลครึ่งรอบ").click()  # empty note: refused, next to the field
    expect(ev.locator("#err-note")).to_contain_text("ต้องบันทึกผลการติดตาม")
    ev.fill("#review_progress-note", "ครึ่งรอบ: เป็นไปตามแผน")
    ev.get_by_role("button", name="ติดตามผลครึ่งรอบ").click()
    expect(ev.get_by_test_id("state")).to_have_text("ระหว่างติดตามผล")

    ev.select_option("#kpi-0-level", "4")
    ev.select_option("#kpi-1-level", "5")
    for j, score in enumerate(["4", "4", "4", "5", "3"]):
        ev.select_option(f"#comp-{j}-score", score)
    # computed in the browser as the user chooses: (60x4 + 40x5)/5 = 88; 20/25 = 80; 88x.7 + 80x.3
    expect(ev.locator('[data-live="results"]')).to_have_text("88.00%")
    expect(ev.locator('[data-live="competency"]')).to_have_text("80.00%")
    expect(ev.locator('[data-live="total"]')).to_have_text("85.60%")
    expect(ev.locator('[data-live="rating"]')).to_have_text("ดีมาก")
    ev.fill("#development_plan", "อบรมการเขียนรายงาน")
    shot(ev, "05-scoring-live")
    ev.get_by_role("button", name="บันทึกคะแนน").click()
    expect(ev.get_by_test_id("total-percent")).to_have_text("85.60%")  # the server's figure
    ev.get_by_test_id("do-evaluate").click()
    expect(ev.get_by_test_id("state")).to_have_text("ประเมินแล้ว")

    # --- the appraisee acknowledges, the superior agrees, the evaluator submits --------------
    me.goto(f"{site.url}/")
    me.locator('[data-group="acknowledge"]').get_by_role("link").click()
    expect(me.get_by_test_id("rating")).to_have_text("ดีมาก")
    me.get_by_test_id("do-acknowledge").click()
    sup = as_user("superior")
    sup.goto(f"{site.url}/appraisals/{aid}")
    sup.get_by_role("button", name="ให้ความเห็นของผู้บังคับบัญชาเหนือขึ้นไป").click()
    ev.goto(f"{site.url}/appraisals/{aid}")
    ev.get_by_test_id("do-submit").click()
    expect(ev.get_by_test_id("state")).to_have_text("คณะกรรมการกลั่นกรอง")
    assert _state(site, aid) == "committee_review"

    # --- HR watches; the committee endorses both at once; HR sees the bars move ----------------
    hr = as_user("hr")
    hr.goto(f"{site.url}/hr")
    before = _bar_done(hr, "committee_review_done")
    shot(hr, "06-hr-before")

    chair = as_user("chair")
    chair.goto(f"{site.url}/committee")
    expect(chair.get_by_test_id("review-count")).to_have_text("2")
    expect(chair.get_by_test_id("chart-unit").locator("svg")).to_be_visible()
    shot(chair, "07-committee")
    chair.get_by_label("เลือกทั้งหมด").check()
    chair.get_by_test_id("endorse-selected").click()
    expect(chair.locator(".flash")).to_contain_text("2")
    expect(chair.get_by_test_id("nothing-to-review")).to_be_visible()
    assert _state(site, aid) == _state(site, other_id) == "reviewed"

    hr.reload()
    assert _bar_done(hr, "committee_review_done") == before + 2
    progress_xlsx = hr.get_by_test_id("reports").locator("a").first.get_attribute("href")
    download = hr.request.get(f"{site.url}{progress_xlsx}")  # the session cookie is enough for a GET
    assert download.status == 200 and download.body()[:2] == b"PK"  # an .xlsx is a zip
    shot(hr, "08-hr-after")

    # --- the authority announces; the appraisee sees the result --------------------------------
    boss = as_user("authority")
    boss.locator('[data-group="announce"]').get_by_role("link", name="appraisee").click()
    boss.get_by_test_id("do-announce").click()
    expect(boss.get_by_test_id("state")).to_have_text("ประกาศผลแล้ว")
    me.goto(f"{site.url}/")
    expect(me.locator(f'tr[data-appraisal="{aid}"]')).to_contain_text("85.60%")
    me.goto(f"{site.url}/appraisals/{aid}")
    expect(me.get_by_test_id("total-percent")).to_have_text("85.60%")
    expect(me.get_by_test_id("history")).to_contain_text("อนุมัติและประกาศผล")
    shot(me, "09-appraisee-result")


def test_each_role_sees_only_its_own(site, as_user):
    w = site.new_world()
    aid = _appraisal_id(site, "appraisee", w)
    # someone else's appraisal: not found, and nothing of it is shown
    for who in ("stranger", "other"):
        page = as_user(who, w=w)
        response = page.goto(f"{site.url}/appraisals/{aid}")
        assert response.status == 404
        expect(page.locator("body")).not_to_contain_text("appraisee")
        assert page.goto(f"{site.url}/appraisals/{aid}/diagram.svg").status == 404
    # the appraisee: no HR or committee pages, no evaluator's or HR's actions
    me = as_user("appraisee", w=w)
    assert me.goto(f"{site.url}/hr").status == 403
    assert me.goto(f"{site.url}/committee").status == 403
    expect(me.get_by_role("link", name="ภาพรวมงานบุคคล")).to_have_count(0)
    me.goto(f"{site.url}/appraisals/{aid}")
    for event in ("withdraw", "hand_over", "score", "endorse", "announce"):
        expect(me.locator(f'form[action$="/events/{event}"]')).to_have_count(0)
    shot(me, "10-appraisee-draft")
    # the evaluator may not withdraw or hand over (HR's actions), nor endorse
    ev = as_user("evaluator", w=w)
    ev.goto(f"{site.url}/appraisals/{aid}")
    for event in ("withdraw", "hand_over", "endorse", "announce"):
        expect(ev.locator(f'form[action$="/events/{event}"]')).to_have_count(0)
    assert ev.goto(f"{site.url}/hr").status == 403
    # HR may withdraw and hand over, but not sign the agreement
    hr = as_user("hr", w=w)
    hr.goto(f"{site.url}/appraisals/{aid}")
    expect(hr.locator('form[action$="/events/withdraw"]')).to_have_count(1)
    expect(hr.locator('form[action$="/events/sign_agreement"]')).to_have_count(0)
    # a form posted without the session's CSRF token is refused and changes nothing
    status = ev.evaluate("""async (url) => (await fetch(url, {method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'note=x'})).status""",
                         f"{site.url}/appraisals/{aid}/events/sign_agreement")
    assert status == 403
    assert _state(site, aid) == "draft"


def test_keyboard_only_scoring(site, as_user):
    w = site.new_world()
    with site.session() as s:
        aid = drive(s, w, "appraisee", until="monitored")
    ev = as_user("evaluator", w=w)
    ev.goto(f"{site.url}/appraisals/{aid}")
    # Tab from the top of the page to the first level, as a keyboard user would
    for _ in range(200):
        ev.keyboard.press("Tab")
        if ev.evaluate("document.activeElement.id") == "kpi-0-level":
            break
    else:
        raise AssertionError("Tab never reached the first KPI level")
    for key in ["3", "4"]:  # KPI levels (typing a digit picks the option that starts with it)
        ev.keyboard.type(key)
        ev.keyboard.press("Tab")
    for key in ["5", "5", "5", "5", "5"]:  # competency scores
        ev.keyboard.type(key)
        ev.keyboard.press("Tab")
    assert ev.evaluate("document.activeElement.id") == "development_plan"
    ev.keyboard.type("สอนงานโดยหัวหน้ากลุ่ม")
    expect(ev.locator('[data-live="total"]')).to_have_text("77.60%")  # (60x3 + 40x4)/5 = 68; 68 x .7 + 100 x .3
    ev.keyboard.press("Tab")
    assert ev.evaluate("document.activeElement.textContent.trim()") == "บันทึกคะแนน"
    ev.keyboard.press("Enter")
    expect(ev.get_by_test_id("total-percent")).to_have_text("77.60%")
    with site.session() as s:
        a = s.get(Appraisal, aid)
        assert str(a.total_percent) == "77.60" and a.development_plan == "สอนงานโดยหัวหน้ากลุ่ม"
    # the focus ring is visible on the focused control
    ev.locator("#kpi-0-level").focus()
    assert ev.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"


def test_phone_width_english_and_the_diagram(site, as_user):
    w = site.new_world()
    with site.session() as s:
        aid = drive(s, w, "appraisee", until="monitored")
    for who, path, name in (("evaluator", "/", "11-tasks-phone"), ("evaluator", f"/appraisals/{aid}", "12-appraisal-phone"),
                            ("hr", "/hr", "13-hr-phone")):
        page = as_user(who, width=360, w=w)
        page.goto(f"{site.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 360, f"{path} is {overflow}px wide at a 360px screen"
        shot(page, name)
    en = as_user("evaluator", lang="en", w=w)
    en.goto(f"{site.url}/appraisals/{aid}")
    expect(en.get_by_test_id("state")).to_have_text("Monitoring")
    expect(en.locator("html")).to_have_attribute("lang", "en")
    shot(en, "14-appraisal-english")
    svg = en.request.get(f"{site.url}/appraisals/{aid}/diagram.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    body = svg.text()
    assert 'data-state="monitored" aria-current="step"' in body
    assert "Return to the evaluator" in body  # drawn from the machine's own table
    en.goto(f"{site.url}/appraisals/{aid}/diagram.svg")
    shot(en, "15-diagram", full_page=False)


def test_low_performer_case_page(site, as_user):
    w = site.new_world()
    with site.session() as s:
        aid = drive(s, w, "appraisee", levels=[1, 1], competency_scores=[1, 1, 1, 1, 1])
        case = s.execute(select(LowPerformerCase).where(LowPerformerCase.appraisal_id == aid)).scalar_one()
    hr = as_user("hr", w=w)
    hr.goto(f"{site.url}/hr")
    expect(hr.locator(f'[data-case="{case.id}"]')).to_be_visible()
    hr.locator(f'[data-case="{case.id}"] a').click()
    expect(hr.get_by_test_id("state")).to_have_text("เปิดกรณี")
    hr.get_by_role("button", name="เห็นชอบแผนพัฒนา").click()  # no plan yet: refused, nothing lost
    expect(hr.locator(".error-summary")).to_be_visible()
    hr.fill("#weakness_analysis", "ขาดทักษะการเขียนรายงาน")
    hr.fill("#development_plan", "สอนงาน 4 สัปดาห์ แล้วอบรม")
    hr.get_by_role("button", name="ลงนามแผนพัฒนา").click()  # HR's half of the joint plan
    expect(hr.get_by_test_id("state")).to_have_text("เปิดกรณี")
    ev = as_user("evaluator", w=w)  # the supervisor agrees it too: the plan is agreed
    ev.goto(f"{site.url}/cases/{case.id}")
    expect(ev.locator("#development_plan")).to_have_value("สอนงาน 4 สัปดาห์ แล้วอบรม")
    ev.get_by_role("button", name="เห็นชอบแผนพัฒนา").click()
    expect(ev.get_by_test_id("state")).to_have_text("จัดทำแผนพัฒนาแล้ว")
    hr.reload()
    hr.get_by_role("button", name="เริ่มการสอนงาน").click()
    expect(hr.get_by_test_id("state")).to_have_text("การสอนงาน")
    hr.set_input_files("#ev-file", files=[{"name": "coaching.txt", "mimeType": "text/plain",
                                           "buffer": "บันทึกการสอนงาน".encode()}])
    hr.fill("#ev-note", "บันทึกการสอนงานครั้งที่ 1")
    hr.get_by_role("button", name="แนบหลักฐาน").click()
    expect(hr.locator('[data-measure="coaching"]')).to_contain_text("coaching.txt")
    shot(hr, "16-case")
    other = as_user("other", w=w)
    assert other.goto(f"{site.url}/cases/{case.id}").status == 404


def test_a_stale_page_is_refused_with_a_message_and_nothing_changes(site, as_user):
    w = site.new_world()
    with site.session() as s:
        aid = drive(s, w, "appraisee", until="evaluated")
    ev = as_user("evaluator", w=w)
    ev.goto(f"{site.url}/appraisals/{aid}")
    with site.session() as s:  # meanwhile the appraisee acknowledges in another window
        from workflow import engine
        engine.fire(s, "appraisal", aid, "acknowledge", w.actors["appraisee"])
    ev.fill("#witness_name", "นายพยาน")
    ev.get_by_role("button", name="บันทึกการไม่ลงนามรับทราบ (มีพยาน)").click()
    expect(ev.locator(".error-summary")).to_contain_text("ข้อมูลถูกแก้ไขแล้ว")
    expect(ev.locator("#witness_name")).to_have_value("นายพยาน")  # what was typed is kept
    with site.session() as s:
        assert s.get(Appraisal, aid).refusal_witness is None


def test_the_committee_returns_one_with_a_required_comment(site, as_user):
    w = site.new_world()
    with site.session() as s:
        aid = drive(s, w, "appraisee", until="committee_review")
        drive(s, w, "other", until="committee_review")
    chair = as_user("chair", w=w)
    chair.goto(f"{site.url}/committee")
    expect(chair.get_by_test_id("review-count")).to_have_text("2")
    chair.locator("summary", has_text="appraisee").click()
    chair.get_by_role("button", name="ส่งคืนผู้ประเมิน").first.click()
    comment = chair.locator(f"#return-{aid}-comment")
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(chair.locator(f"#return-{aid}-err")).to_contain_text("ต้องระบุความเห็น")
    comment.fill("คะแนนสมรรถนะสูงกว่าหลักฐาน")
    chair.locator(f'form[action$="/return/{aid}"] button').click()
    expect(chair.get_by_test_id("review-count")).to_have_text("1")
    assert _state(site, aid) == "evaluated"
    ev = as_user("evaluator", w=w)
    ev.goto(f"{site.url}/appraisals/{aid}")
    expect(ev.get_by_test_id("history")).to_contain_text("คะแนนสมรรถนะสูงกว่าหลักฐาน")


def test_in_app_notifications_on_the_tasks_page(site, as_user):
    w = site.new_world()
    aid = _appraisal_id(site, "appraisee", w)
    with site.session() as s:
        s.add(InboxMessage(person_id=w.people["appraisee"].id, subject="เตือน: ลงนามข้อตกลงภายใน 7 วัน",
                           body="รายการที่รอท่าน: ลงนามข้อตกลง", link=f"/appraisals/{aid}"))
        s.commit()
    me = as_user("appraisee", w=w)
    expect(me.get_by_test_id("unread")).to_contain_text("1")
    expect(me.get_by_role("link", name="เตือน: ลงนามข้อตกลงภายใน 7 วัน")).to_have_attribute("href", f"/appraisals/{aid}")
    shot(me, "17-tasks-inbox")
    me.get_by_role("button", name="ทำเครื่องหมายว่าอ่านแล้วทั้งหมด").click()
    expect(me.get_by_test_id("unread")).to_have_count(0)
    # a person never sees another's messages
    other = as_user("other", w=w)
    expect(other.get_by_text("เตือน: ลงนามข้อตกลงภายใน 7 วัน")).to_have_count(0)


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden' && !el.closest('template'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


def test_every_control_has_a_label_a_screen_reader_can_read(site, as_user):
    w = site.new_world()
    with site.session() as s:
        monitored = drive(s, w, "appraisee", until="monitored")
        in_review = drive(s, w, "other", until="committee_review")
    for who, path in (("evaluator", f"/appraisals/{monitored}"), ("evaluator", "/"),
                      ("hr", f"/appraisals/{monitored}"), ("hr", "/hr"), ("chair", "/committee"),
                      ("superior", f"/appraisals/{in_review}")):
        page = as_user(who, w=w)
        page.goto(f"{site.url}{path}")
        assert page.evaluate(UNLABELLED) == [], (who, path)
        assert page.locator("h1").count() == 1 and page.locator("main#main").count() == 1


def test_hr_opens_a_round_with_errors_next_to_the_fields(site, as_user):
    w = site.new_world()
    hr = as_user("hr", w=w)
    hr.goto(f"{site.url}/hr")
    hr.fill("#fiscal_year", "ปีหน้า")
    hr.get_by_role("button", name="เปิดรอบ", exact=True).click()
    expect(hr.locator("#err-fiscal_year")).to_contain_text("ปีงบประมาณต้องเป็นตัวเลข")
    expect(hr.locator("#fiscal_year")).to_have_value("ปีหน้า")
    hr.fill("#fiscal_year", "2569")
    hr.select_option("#round", "1")  # the world opened round 1/2569 already
    hr.get_by_role("button", name="เปิดรอบ", exact=True).click()
    expect(hr.locator(".error-summary")).to_contain_text("เปิดแล้ว")
    hr.select_option("#round", "2")
    hr.get_by_role("button", name="เปิดรอบ", exact=True).click()
    expect(hr.locator(".flash")).to_contain_text("เปิดรอบการประเมินแล้ว")
    expect(hr.get_by_test_id("progress")).to_contain_text("2/2569")
    with site.session() as s:
        from db.models import Round
        assert s.execute(select(Round).where(Round.org_unit_id == w.org.id, Round.number == 2)).scalar_one()
    # in English, the same refusal reads in English
    en = as_user("hr", w=w, lang="en")
    en.goto(f"{site.url}/hr")
    en.fill("#fiscal_year", "next")
    en.get_by_role("button", name="Open the round").click()
    expect(en.locator("#err-fiscal_year")).to_contain_text("the fiscal year must be a number")


def test_dates_in_thai_digits_by_choice(site, as_user):
    w = site.new_world()
    me = as_user("appraisee", w=w)
    due = me.locator(".due").first
    expect(due).to_contain_text("2568")
    me.get_by_role("link", name="๑๒๓").click()
    expect(me.locator(".due").first).to_contain_text("๒๕๖๘")
    me.get_by_role("link", name="123", exact=True).click()
    expect(me.locator(".due").first).to_contain_text("2568")


def test_differing_opinion_and_withdrawal_need_their_reasons(site, as_user):
    w = site.new_world()
    with site.session() as s:
        aid = drive(s, w, "appraisee", until="evaluated")
        other = drive(s, w, "other", until="agreed")
    sup = as_user("superior", w=w)
    sup.goto(f"{site.url}/appraisals/{aid}")
    sup.get_by_label("มีความเห็นต่าง และให้คะแนนรวมใหม่").check()
    sup.fill("#total_percent", "120")
    sup.get_by_role("button", name="ให้ความเห็นของผู้บังคับบัญชาเหนือขึ้นไป").click()
    expect(sup.locator(".error-summary")).to_be_visible()
    expect(sup.locator("#total_percent")).to_have_value("120")
    expect(sup.get_by_label("มีความเห็นต่าง และให้คะแนนรวมใหม่")).to_be_checked()
    sup.fill("#total_percent", "80.5")
    sup.fill("#opinion-reason", "ผลงานเด่นกว่าที่ประเมิน")
    sup.get_by_role("button", name="ให้ความเห็นของผู้บังคับบัญชาเหนือขึ้นไป").click()
    expect(sup.get_by_test_id("result")).to_contain_text("80.50%")
    hr = as_user("hr", w=w)
    hr.goto(f"{site.url}/appraisals/{other}")
    hr.locator("summary", has_text="ถอนการประเมิน").click()
    hr.locator('form[action$="/events/withdraw"] button').click()
    expect(hr.locator("#err-reason")).to_contain_text("ต้องระบุเหตุผล")
    hr.fill("#withdraw-reason", "ย้ายไปสังกัดอื่น")
    hr.locator('form[action$="/events/withdraw"] button').click()
    expect(hr.get_by_test_id("state")).to_have_text("ถอนการประเมิน")
    expect(hr.get_by_test_id("history")).to_contain_text("ย้ายไปสังกัดอื่น")


def test_what_people_type_is_shown_as_text_never_as_markup(site, as_user):
    w = site.new_world()
    aid = _appraisal_id(site, "appraisee", w)
    evil = '<img src=x onerror="document.title=1">'
    with site.session() as s:
        from workflow import engine
        engine.fire(s, "appraisal", aid, "edit_agreement", w.actors["evaluator"],
                    payload={"kpis": [{"title": evil, "weight": 100}]})
    ev = as_user("evaluator", w=w)
    ev.goto(f"{site.url}/appraisals/{aid}")
    expect(ev.locator("#kpi-0-title")).to_have_value(evil)
    assert ev.locator("img[src=x]").count() == 0 and ev.title() != "1"


def test_other_pages_fit_a_phone_too(site, as_user, browser):
    w = site.new_world()
    with site.session() as s:
        drive(s, w, "appraisee", until="committee_review")
    chair = as_user("chair", width=360, w=w)
    chair.goto(f"{site.url}/committee?lang=x")
    assert chair.evaluate("document.documentElement.scrollWidth") <= 360
    shot(chair, "18-committee-phone")
    chair.get_by_role("link", name="English").click()  # the switch keeps the page and its query
    expect(chair).to_have_url(f"{site.url}/committee?lang=x")
    expect(chair.locator("h1")).to_have_text("Committee review")
    ctx = browser.new_context(viewport={"width": 360, "height": 800})
    page = ctx.new_page()
    page.goto(f"{site.url}/login")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "19-login-phone")
    ctx.close()


def test_hr_sets_the_webhook_on_its_page_and_a_bad_address_is_named(site, as_user):
    hr = as_user("hr")
    hr.goto(f"{site.url}/hr")
    form = hr.get_by_test_id("webhook")
    form.locator("#webhook-target").fill("ftp://chat.example.go.th/hook")
    form.locator("button[type=submit]").click()
    expect(hr.get_by_test_id("webhook")).to_contain_text("http")
    assert hr.locator("#webhook-target").input_value() == "ftp://chat.example.go.th/hook"  # kept for correction
