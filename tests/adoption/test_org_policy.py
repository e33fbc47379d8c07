"""An organisation's own policy: show, set, every version kept, rounds keep theirs, the impact."""
from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

from sqlalchemy import func, select

from db.models import PolicyAttachment, PolicyVersion, Round
from db.session import new_session
from tests.api.conftest import login
from tests.factories import world
from tests.flows import drive
from workflow import org_policy
from workflow.policy import load_preset, preset_text
from workflow.rounds import open_round

TOML = {"Content-Type": "application/toml"}


def _count(s, table) -> int:
    return s.execute(select(func.count()).select_from(table)).scalar_one()


def test_crossing_another_orgs_hr_and_non_hr_may_not_read_or_set(engine, client, w, as_):
    with new_session(engine) as s:
        other = world(s, open_now=False)
    theirs = login(client, other, "hr")
    text = preset_text("udon_thani")
    for headers in (theirs, as_("appraisee"), as_("authority")):
        assert client.get(f"/api/v1/orgs/{w.org.code}/policy", headers=headers).status_code == 403
        r = client.put(f"/api/v1/orgs/{w.org.code}/policy", content=text, headers={**headers, **TOML})
        assert r.status_code == 403
        assert client.get(f"/api/v1/orgs/{w.org.code}/policy/versions", headers=headers).status_code == 403
    assert client.get("/api/v1/orgs/NOPE/policy", headers=as_("hr")).status_code == 404
    assert client.get(f"/api/v1/orgs/{w.org.code}/policy", headers=as_("hr")).status_code == 200
    assert client.get(f"/api/v1/orgs/{w.org.code}/policy", headers=as_("admin")).status_code == 200


def test_show_fed_back_changes_nothing_and_a_change_is_a_new_version_kept_with_who(engine, client, w, as_):
    hr = as_("hr")
    shown = client.get(f"/api/v1/orgs/{w.org.code}/policy", headers=hr)
    assert shown.headers["content-type"].startswith("application/toml")
    same = client.put(f"/api/v1/orgs/{w.org.code}/policy", content=shown.text.encode(), headers={**hr, **TOML})
    assert same.status_code == 200 and same.json()["changed"] is False
    edited = shown.text.replace("escalate_after_rounds = 2", "escalate_after_rounds = 3")
    assert edited != shown.text
    r = client.put(f"/api/v1/orgs/{w.org.code}/policy", content=edited.encode(),
                   headers={**hr, "Content-Type": "text/plain; charset=utf-8"})
    assert r.status_code == 200 and r.json()["changed"] is True and r.json()["version"] == 2
    assert client.get(f"/api/v1/orgs/{w.org.code}/policy", headers=hr).text == edited
    history = client.get(f"/api/v1/orgs/{w.org.code}/policy/versions", headers=hr).json()
    assert [h["version"] for h in history] == [2]
    assert history[0]["actor"] and history[0]["attached_at"]
    with new_session(engine) as s:  # both versions kept
        assert sorted(s.execute(select(PolicyVersion.version).where(PolicyVersion.code == "udon_thani")).scalars()) == [1, 2]
        assert _count(s, PolicyAttachment) == 1


def test_a_broken_policy_is_refused_with_every_key_named_and_nothing_stored(engine, client, w, as_):
    hr = as_("hr")
    text = preset_text("udon_thani")
    broken = text.replace("results = 70", "results = 75").replace('trigger = "rating"', 'trigger = "sometimes"')
    r = client.put(f"/api/v1/orgs/{w.org.code}/policy", content=broken.encode(), headers={**hr, **TOML})
    assert r.status_code == 422, r.text
    fields = {p["field"] for p in r.json()["problems"]}
    assert "weights" in fields and "low_performer.trigger" in fields, fields
    r = client.put(f"/api/v1/orgs/{w.org.code}/policy", content=b"x = ", headers={**hr, **TOML})
    assert r.status_code == 422
    r = client.put(f"/api/v1/orgs/{w.org.code}/policy", json={"x": 1}, headers=hr)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "content-type"
    with new_session(engine) as s:
        assert _count(s, PolicyVersion) == 1 and _count(s, PolicyAttachment) == 0


def test_a_round_keeps_the_version_it_was_opened_with(session):
    w = world(session)
    first = w.opened.round
    old = first.policy_version_id
    text = preset_text("udon_thani").replace("escalate_after_rounds = 2", "escalate_after_rounds = 4")
    result = org_policy.attach(session, w.actors["hr"], w.org.code, text)
    assert result.changed and result.version.id != old
    session.expire_all()
    assert session.get(Round, first.id).policy_version_id == old
    second = open_round(session, org_code=w.org.code, fiscal_year=2569, number=2, actor=w.actors["hr"])
    assert second.round.policy_version_id == result.version.id


def test_impact_counts_rating_changes_and_cases_the_proposed_policy_would_open():
    current = load_preset("udon_thani")  # low: fair (60-69) or needs improvement
    proposed = load_preset("nonthaburi")  # low: below 60
    rows = [org_policy.Announced(1, "civil_servant", Decimal("65.00"), "fair"),
            org_policy.Announced(2, "civil_servant", Decimal("55.00"), "needs_improvement"),
            org_policy.Announced(3, "civil_servant", Decimal("95.00"), "outstanding")]
    i = org_policy.impact(current, proposed, rows)
    assert i.people == 3 and i.cases_current == 2 and i.cases_proposed == 1
    same = org_policy.impact(current, current, rows)
    assert same.rating_changes == 0 and same.cases_proposed == same.cases_current == 2
    stricter = load_preset("udon_thani").model_copy(update={"bands": load_preset("udon_thani").bands.model_copy(
        update={"civil_servant": tuple(b.model_copy(update={"min": Decimal(66)}) if b.code == "fair" else b
                                       for b in current.bands.civil_servant)})})
    i = org_policy.impact(current, stricter, rows)
    assert i.changes == ((1, "fair", "needs_improvement"),)


def test_preview_of_the_last_announced_round(session):
    w = world(session)
    drive(session, w, levels=[1, 1], competency_scores=[1, 1, 1, 1, 1])
    p = org_policy.preview(session, w.actors["hr"], w.org.code, preset_text("nonthaburi"))
    assert p.round.id == w.opened.round.id and p.impact.people == 1
    assert any(line.startswith("+code") for line in p.diff)


def test_cli_show_then_set_round_trip(tmp_path):
    import os

    env = {**os.environ, "PMFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def run(*args, ok=True):
        proc = subprocess.run([sys.executable, "-m", "workflow", *args], env=env, capture_output=True, text=True,
                              timeout=120)
        assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
        return proc

    run("db", "upgrade")
    run("demo")
    shown = run("policy", "show", "--org", "DEMO").stdout
    path = tmp_path / "mine.toml"
    path.write_text(shown, encoding="utf-8")
    assert "nothing changed" in run("policy", "set", "--org", "DEMO", str(path)).stdout
    path.write_text(shown.replace("escalate_after_rounds = 2", "escalate_after_rounds = 3"), encoding="utf-8")
    assert "attached" in run("policy", "set", "--org", "DEMO", str(path)).stdout
    assert "escalate_after_rounds = 3" in run("policy", "show", "--org", "DEMO").stdout
    path.write_text(shown.replace("results = 70", "results = 71"), encoding="utf-8")
    bad = run("policy", "check", str(path), ok=False)
    lines = [ln for ln in bad.stderr.splitlines() if "weights" in ln]
    assert len(lines) == 2  # the problem once, Thai on one line and English on the next


def test_a_unit_inheriting_its_parents_policy_shows_it_and_setting_it_back_changes_nothing(session):
    w = world(session, open_now=False)
    found = org_policy.in_force(session, w.actors["hr"], w.unit.code)
    assert found.inherited_from == w.org.code
    assert not org_policy.attach(session, w.actors["hr"], w.unit.code, found.version.content).changed
    text = found.version.content.replace("escalate_after_rounds = 2", "escalate_after_rounds = 3")
    assert org_policy.attach(session, w.actors["hr"], w.unit.code, text).changed
    assert org_policy.in_force(session, w.actors["hr"], w.unit.code).inherited_from is None
    assert org_policy.in_force(session, w.actors["hr"], w.org.code).version.content == found.version.content
