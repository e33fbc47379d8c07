"""One organisation out of another's reach: scoped admin roles, hand-over targets."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Account, Appraisal, RoleAssignment
from tests.factories import world
from workflow import account_admin, accounts, engine
from workflow.errors import InvalidInput


def test_an_admin_role_row_scoped_to_a_unit_makes_nobody_admin(session):
    w = world(session, "udon_thani", open_now=False)
    account = session.execute(select(Account).where(Account.person_id == w.people["hr"].id)).scalar_one()
    session.add(RoleAssignment(account_id=account.id, role="admin", org_unit_id=w.unit.id))  # an old row
    session.commit()
    actor = accounts.actor_for(session, account)
    assert not actor.is_admin and ("admin", w.unit.path) not in actor.scoped_roles


def test_granting_an_admin_role_is_refused(session):
    w = world(session, "udon_thani", open_now=False)
    account = session.execute(select(Account).where(Account.person_id == w.people["other"].id)).scalar_one()
    with pytest.raises(InvalidInput) as exc:
        account_admin.grant(session, w.actors["admin"], account_id=account.id, role="admin", org_unit_id=w.unit.id)
    assert exc.value.problems[0].field == "role"


def test_the_api_refuses_an_admin_role_and_a_unit_admin_cannot_list_accounts(client, w, as_, engine):
    from db.session import new_session
    from tests.api.conftest import login

    acc = w.actors["other"].account_id
    r = client.post(f"/api/v1/accounts/{acc}/roles", json={"role": "admin", "org_unit_id": w.unit.id},
                    headers=as_("admin"))
    assert r.status_code == 422 and r.json()["problems"][0]["field"].endswith("role")
    with new_session(engine) as s:
        s.add(RoleAssignment(account_id=acc, role="admin", org_unit_id=w.unit.id))
        s.commit()
    headers = login(client, w, "other")
    assert client.get("/api/v1/accounts", headers=headers).status_code == 403
    assert client.get("/api/v1/auth/me", headers=headers).json()["is_admin"] is False


def test_hand_over_only_to_someone_inside_the_organisation(session):
    w = world(session, "udon_thani")
    a = w.appraisal_of(session, "appraisee")
    with pytest.raises(InvalidInput) as exc:
        engine.fire(session, "appraisal", a.id, "hand_over", w.actors["hr"], expected_version=a.version,
                    payload={"evaluator_id": w.people["stranger"].id, "reason": "ย้าย"})
    assert exc.value.problems[0].field == "payload.evaluator_id"
    session.expire_all()
    again = session.get(Appraisal, a.id)
    assert again.evaluator_id == w.people["evaluator"].id and again.version == a.version
    fired = engine.fire(session, "appraisal", a.id, "hand_over", w.actors["hr"], expected_version=a.version,
                        payload={"evaluator_id": w.people["superior"].id, "reason": "ย้าย"})
    session.expire_all()
    assert session.get(Appraisal, a.id).evaluator_id == w.people["superior"].id
    assert fired is not None
