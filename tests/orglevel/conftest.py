"""A Rayong-like world: the province (w.org) with one agency under it (w.unit), the agency's own
HR and head, and a second province whose HR must see nothing of the first."""
from __future__ import annotations

import pytest

from db.session import new_session
from tests.api.conftest import _fresh_address_limits, app, client, login  # noqa: F401  (fixtures)
from tests.factories import _hash, person, world
from workflow import accounts


@pytest.fixture
def w(engine):
    with new_session(engine) as s:
        w = world(s, "rayong", fiscal_year=2570)
        for name, role in (("agency_hr", "hr"), ("agency_head", "authority")):
            p = person(s, w.unit, name)
            acc = accounts.create_account(s, username=f"{name}-{w.org.code}".lower(), password="pw-" + name,
                                          password_hash=_hash("pw-" + name), person=p, roles=[(role, w.unit)])
            w.people[name] = p
            w.actors[name] = accounts.actor_for(s, acc)
        s.commit()
        return w


@pytest.fixture
def other(engine, w):
    """Another province with its own HR (and a world of its own)."""
    with new_session(engine) as s:
        return world(s, "rayong", fiscal_year=2570, open_now=False)


@pytest.fixture
def as_(client, w, other):  # noqa: F811  (the imported fixture)
    cache: dict[str, dict[str, str]] = {}

    def headers(who: str, world_=None) -> dict[str, str]:
        key = f"{id(world_)}:{who}"
        if key not in cache:
            cache[key] = login(client, world_ or w, who)
        return cache[key]

    return headers
