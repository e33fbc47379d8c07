"""GET /api/v1/tasks answers what the My tasks page shows: the same service."""
from __future__ import annotations

from db.session import new_session
from workflow import calendar, tasks


def test_tasks_route_answers_the_service(client, w, as_, engine):
    r = client.get("/api/v1/tasks", headers=as_("evaluator"))
    assert r.status_code == 200
    with new_session(engine) as s:
        expected = tasks.my_tasks(s, w.actors["evaluator"], calendar.today())
    got = {g["action"]: [t["link"] for t in g["tasks"]] for g in r.json()}
    assert got == {code: [t.link for t in items] for code, items in expected.items()}
    sign = next(g for g in r.json() if g["action"] == "sign_agreement")
    assert sign["th"] == "ลงนามข้อตกลงการปฏิบัติราชการ" and sign["en"] == "Sign the performance agreement"
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/api/v1/tasks", headers=as_("stranger")).json() == []
