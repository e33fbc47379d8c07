"""Two organisations on one installation: rounds, milestones, units and policies of one are
out of the other's reach (404 on the object, absent from lists), as appraisals are."""
from __future__ import annotations

import pytest

from db.session import new_session
from tests.factories import world


@pytest.fixture
def two(engine, w):
    with new_session(engine) as s:
        w2 = world(s, "nonthaburi")
        return w2


def test_another_organisations_rounds_units_and_policies_are_out_of_reach(client, as_, w, two):
    mine, theirs = w.opened.round.id, two.opened.round.id
    for who in ("hr", "authority", "chair", "evaluator", "appraisee", "stranger"):
        h = as_(who)
        assert client.get(f"/api/v1/rounds/{theirs}", headers=h).status_code == 404, who
        assert client.get(f"/api/v1/rounds/{theirs}/milestones", headers=h).status_code == 404, who
        assert client.get(f"/api/v1/org-units/{two.org.id}", headers=h).status_code == 404, who
        assert client.get(f"/api/v1/org-units/{two.unit.id}", headers=h).status_code == 404, who
        rounds = {r["id"] for r in client.get("/api/v1/rounds", headers=h).json()["items"]}
        units = {u["id"] for u in client.get("/api/v1/org-units?limit=500", headers=h).json()["items"]}
        assert theirs not in rounds and two.org.id not in units and two.unit.id not in units, who
        policies = {p["code"] for p in client.get("/api/v1/policies/versions", headers=h).json()["items"]}
        assert "nonthaburi" not in policies, who
        if who != "stranger":  # the stranger belongs to a third organisation
            assert client.get(f"/api/v1/rounds/{mine}", headers=h).status_code == 200, who
            assert client.get(f"/api/v1/rounds/{mine}/milestones", headers=h).status_code == 200, who
            assert mine in rounds and w.org.id in units, who
            assert client.get(f"/api/v1/org-units/{w.org.id}", headers=h).status_code == 200, who
    their_policy = client.get(f"/api/v1/rounds/{theirs}", headers=as_("admin")).json()["policy_version_id"]
    assert client.get(f"/api/v1/policies/versions/{their_policy}", headers=as_("hr")).status_code == 404
    mine_policy = client.get(f"/api/v1/rounds/{mine}", headers=as_("hr")).json()["policy_version_id"]
    assert client.get(f"/api/v1/policies/versions/{mine_policy}", headers=as_("hr")).status_code == 200
    # HR sees its organisation's units, not the stranger's organisation beside it
    units = {u["id"] for u in client.get("/api/v1/org-units?limit=500", headers=as_("hr")).json()["items"]}
    assert w.unit.id in units
