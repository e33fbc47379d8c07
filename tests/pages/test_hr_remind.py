"""HR narrows the overdue list to one evaluator's staff, ticks two and reminds them now, on a
phone-width screen; the people who must act find the message in their inbox."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from db.models import InboxMessage
from tests.pages.conftest import shot


def test_hr_filters_by_evaluator_selects_two_and_reminds_now(site, as_user):
    w = site.new_world()  # its 2569/1 round's milestones have all passed: every draft is overdue
    evaluator = w.people["evaluator"]
    hr = as_user("hr", width=360, w=w)
    hr.goto(f"{site.url}/hr")
    expect(hr.get_by_test_id("unit-progress").locator(f'[data-unit="{w.unit.code}"]')).to_have_attribute(
        "data-depth", "1")
    hr.locator("details:has(#f-evaluator) > summary").click()  # on a phone each section opens on a tap
    hr.select_option("#f-evaluator", str(evaluator.id))
    hr.get_by_test_id("filter-overdue").click()
    rows = hr.get_by_test_id("remind").locator("tbody tr")
    expect(rows).to_have_count(2)  # the evaluator's two staff: appraisee and other
    expect(hr.get_by_test_id("overdue-count")).to_have_text("2")
    for who in ("appraisee", "other"):
        hr.get_by_role("checkbox", name=f"เลือก {who}").check()
    assert hr.evaluate("document.documentElement.scrollWidth") <= 360, "the HR page is wider than a phone"
    shot(hr, "30-hr-remind-phone")
    hr.get_by_test_id("remind-now").click()
    expect(hr.locator(".flash")).to_contain_text("ส่งการแจ้งเตือนแล้ว 3 คน")
    expect(hr.locator("#f-evaluator")).to_have_value(str(evaluator.id))  # the filter is kept
    with site.session() as s:
        got = {pid: n for pid, n in ((w.people[x].id, x) for x in ("evaluator", "appraisee", "other", "superior"))}
        counts = {got[pid]: len(list(s.execute(select(InboxMessage).where(InboxMessage.person_id == pid)).scalars()))
                  for pid in got}
    assert counts == {"evaluator": 1, "appraisee": 1, "other": 1, "superior": 0}
    hr.get_by_role("checkbox", name="เลือก appraisee").check()
    hr.get_by_test_id("remind-now").click()  # the same day again: nobody is reminded twice
    expect(hr.locator(".flash")).to_contain_text("แจ้งเตือนไปแล้ววันนี้ 2 คน")
