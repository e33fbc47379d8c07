"""The HR policy page: provenance with defaults marked, preview (diff and impact), save, and
moving a due date; HR of another organisation sees none of it."""
from __future__ import annotations

import re

from sqlalchemy import select

from db.models import Milestone
from db.session import new_session
from tests.api.conftest import username
from tests.factories import world
from tests.flows import drive
from workflow.policy import preset_text


def _sign_in(client, w, who: str) -> str:
    r = client.post("/api/v1/auth/login", json={"username": username(w, who), "password": f"pw-{who}"})
    assert r.status_code == 200, r.text
    return r.json()["csrf_token"]


def test_hr_sees_provenance_previews_the_impact_and_saves(engine, client, w):
    with new_session(engine) as s:
        drive(s, w, levels=[3, 3], competency_scores=[3, 3, 3, 3, 3])  # announced: 60.00, "fair" in Udon
    csrf = _sign_in(client, w, "hr")
    page = client.get(f"/hr/policy?org={w.org.code}")
    assert page.status_code == 200
    html = page.text
    row = re.search(r'data-key="low_performer.escalate_after_rounds">.*?</tr>', html, re.S).group(0)
    assert 'data-default="1"' in row
    assert "seed 000 3.4" in html and "udon_thani v1" in html
    # start from a preset
    assert "nonthaburi" in client.get(f"/hr/policy?org={w.org.code}&preset=nonthaburi").text
    # preview Nonthaburi (low below 60): the one announced at 60.00 no longer opens a case
    r = client.post("/hr/policy", data={"csrf_token": csrf, "org": w.org.code, "action": "preview",
                                        "text": preset_text("nonthaburi")})
    assert r.status_code == 200, r.text
    assert re.search(r'data-testid="cases-proposed">0<', r.text)
    assert re.search(r'data-testid="rating-changes">0<', r.text)  # 60.00 is fair in both
    assert "+code = &#34;nonthaburi&#34;" in r.text
    # a broken text comes back with the key named, the text kept
    bad = preset_text("nonthaburi").replace("results = 70", "results = 7")
    r = client.post("/hr/policy", data={"csrf_token": csrf, "org": w.org.code, "action": "save", "text": bad})
    assert r.status_code == 422 and "weights" in r.text and "results = 7\n" in r.text
    r = client.post("/hr/policy", data={"csrf_token": csrf, "org": w.org.code, "action": "save",
                                        "text": preset_text("nonthaburi")}, follow_redirects=False)
    assert r.status_code == 303
    assert "nonthaburi v1" in client.get(r.headers["location"]).text


def test_hr_moves_a_due_date_on_the_page(engine, client, w):
    csrf = _sign_in(client, w, "hr")
    r = client.post("/hr/policy/milestones", data={"csrf_token": csrf, "org": w.org.code, "round_id": w.opened.round.id,
                                                   "code": "mid_round_review", "due_date": "2026-01-15"},
                    follow_redirects=False)
    assert r.status_code == 303
    with new_session(engine) as s:
        due = s.execute(select(Milestone.due_on).where(Milestone.round_id == w.opened.round.id,
                                                       Milestone.code == "mid_round_review")).scalar_one()
    assert due.isoformat() == "2026-01-15"
    r = client.post("/hr/policy/milestones", data={"csrf_token": csrf, "org": w.org.code, "round_id": w.opened.round.id,
                                                   "code": "mid_round_review", "due_date": "15/01/2569"})
    assert r.status_code == 422 and "ปปปป-ดด-วว" in r.text


def test_crossing_another_orgs_hr_cannot_read_or_change(engine, client, w):
    with new_session(engine) as s:
        other = world(s, open_now=False)
    csrf = _sign_in(client, other, "hr")
    page = client.get(f"/hr/policy?org={w.org.code}")
    assert page.status_code == 200 and f'value="{w.org.code}"' not in page.text  # only their own organisation is offered
    r = client.post("/hr/policy", data={"csrf_token": csrf, "org": w.org.code, "action": "preview",
                                        "text": preset_text("nonthaburi")})
    assert r.status_code == 403
    r = client.post("/hr/policy/milestones", data={"csrf_token": csrf, "org": w.org.code,
                                                   "round_id": w.opened.round.id, "code": "mid_round_review",
                                                   "due_date": "2026-01-15"})
    assert r.status_code == 403
    csrf = _sign_in(client, w, "appraisee")
    assert client.get("/hr/policy").status_code == 403
