"""Organisation KPIs: crossings first, then entering them, the links from agreements, the
cascade tree with coverage on a province -> agency -> people example, the import's row errors,
copying last year's, and starting an agreement from a KPI set or the last round."""
from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import select

from db.models import Kpi, OrgKpi
from db.session import new_session
from tests.factories import KPIS
from workflow.access import Actor
from workflow.reports import load, writers
from workflow.rounds import open_round


def _kpis(client, headers, org, **query):
    return client.get(f"/api/v1/orgs/{org}/kpis", params={"fiscal_year": 2570, **query}, headers=headers)


def _add(client, headers, org, **body):
    return client.post(f"/api/v1/orgs/{org}/kpis", json={"fiscal_year": 2570, **body}, headers=headers)


def _csv(text: str) -> dict:
    return {"file": ("kpis.csv", text.encode("utf-8"), "text/csv")}


def test_another_organisations_hr_gets_404_everywhere(client, as_, w, other):
    hr = as_("hr")
    p1 = _add(client, hr, w.org.code, code="P1", title="ร้อยละของโครงการที่แล้วเสร็จ", weight=30).json()
    stranger = as_("hr", other)
    code = w.org.code
    assert _kpis(client, stranger, code).status_code == 404
    assert _add(client, stranger, code, code="X", title="x").status_code == 404
    assert client.patch(f"/api/v1/orgs/{code}/kpis/{p1['id']}", json={"title": "y"}, headers=stranger).status_code == 404
    assert client.delete(f"/api/v1/orgs/{code}/kpis/{p1['id']}", headers=stranger).status_code == 404
    assert client.post(f"/api/v1/orgs/{code}/kpis/import?fiscal_year=2570", files=_csv("code,title\nX,x\n"),
                       headers=stranger).status_code == 404
    assert client.post(f"/api/v1/orgs/{code}/kpis/copy?from_fiscal_year=2569", headers=stranger).status_code == 404
    # their own KPI addressed through the other organisation's code: not found either
    own = _add(client, stranger, other.org.code, code="O1", title="o").json()
    assert client.patch(f"/api/v1/orgs/{code}/kpis/{own['id']}", json={"title": "y"}, headers=hr).status_code == 404
    # the agency's HR sees the agency, not the province above it
    agency_hr = as_("agency_hr")
    assert _kpis(client, agency_hr, w.unit.code).status_code == 200
    assert _kpis(client, agency_hr, w.org.code).status_code == 404
    # an evaluator is not HR
    assert _kpis(client, as_("evaluator"), w.unit.code).status_code == 404


def _three_levels(client, as_, w):
    hr, agency_hr = as_("hr"), as_("agency_hr")
    p1 = _add(client, hr, w.org.code, code="P1", title="ร้อยละของโครงการที่แล้วเสร็จ", weight=60,
              level_descriptions=["60", "70", "80", "90", "100"]).json()
    p2 = _add(client, hr, w.org.code, code="P2", title="ความพึงพอใจของประชาชน", weight=40).json()
    a1 = _add(client, agency_hr, w.unit.code, code="A1", title="โครงการของหน่วยแล้วเสร็จ", weight=70,
              parent_code="P1").json()
    a2 = _add(client, agency_hr, w.unit.code, code="A2", title="งานประจำของหน่วย", weight=30).json()
    return p1, p2, a1, a2


def _agree(client, as_, w, engine, who, kpis):
    with new_session(engine) as s:
        aid = w.appraisal_of(s, who).id
    r = client.post(f"/api/v1/appraisals/{aid}/events/edit_agreement", json={"payload": {"kpis": kpis}},
                    headers={**as_("evaluator"), "If-Match": '"1"'})
    return aid, r


def test_entering_kpis_and_their_parents(client, as_, w, other):
    p1, p2, a1, a2 = _three_levels(client, as_, w)
    assert a1["parent_id"] == p1["id"] and a2["parent_id"] is None
    hr = as_("hr")
    assert [k["code"] for k in _kpis(client, hr, w.org.code).json()] == ["P1", "P2"]
    # a parent must be above, of the same year; a code once per organisation and year
    r = _add(client, hr, w.unit.code, code="A3", title="x", parent_id=a1["id"])
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "parent_id"
    r = _add(client, hr, w.unit.code, code="A1", title="x", parent_code="NOPE")
    assert r.status_code == 422 and {p["field"] for p in r.json()["problems"]} == {"parent_id", "code"}
    later = client.post(f"/api/v1/orgs/{w.org.code}/kpis", json={"fiscal_year": 2571, "code": "P9", "title": "t"},
                        headers=hr).json()
    r = _add(client, hr, w.unit.code, code="A4", title="x", parent_id=later["id"])
    assert r.status_code == 422 and "2570" in r.json()["problems"][0]["en"]
    r = _add(client, hr, w.unit.code, code="A5", title="x", level_descriptions=["1", "2"])
    assert r.status_code == 422
    # change and retire (DELETE retires: kept, offered no more)
    r = client.patch(f"/api/v1/orgs/{w.unit.code}/kpis/{a2['id']}", json={"weight": 25, "parent_code": "P2"},
                     headers=hr)
    assert r.status_code == 200 and r.json()["weight"] == 25 and r.json()["parent_id"] == p2["id"]
    r = client.delete(f"/api/v1/orgs/{w.unit.code}/kpis/{a2['id']}", headers=hr)
    assert r.status_code == 200 and r.json()["retired"] is True
    assert [k["code"] for k in _kpis(client, hr, w.unit.code).json()] == ["A1"]
    assert [k["code"] for k in _kpis(client, hr, w.unit.code, include_retired=True).json()] == ["A1", "A2"]


def test_agreement_links_are_checked(client, as_, w, other, engine):
    p1, p2, a1, a2 = _three_levels(client, as_, w)
    foreign = _add(client, as_("hr", other), other.org.code, code="O1", title="o").json()
    bad = [{**KPIS[0], "org_kpi_id": foreign["id"]}, {**KPIS[1], "org_kpi_id": 10**6}]
    aid, r = _agree(client, as_, w, engine, "appraisee", bad)
    assert r.status_code == 422
    assert [p["field"] for p in r.json()["problems"]] == ["payload.kpis[0].org_kpi_id", "payload.kpis[1].org_kpi_id"]
    client.delete(f"/api/v1/orgs/{w.unit.code}/kpis/{a2['id']}", headers=as_("hr"))
    aid, r = _agree(client, as_, w, engine, "appraisee", [{**KPIS[0], "org_kpi_id": a2["id"]}, KPIS[1]])
    assert r.status_code == 422 and "retired" in r.json()["problems"][0]["en"]
    aid, r = _agree(client, as_, w, engine, "appraisee", [{**KPIS[0], "org_kpi_id": a1["id"]},
                                                          {**KPIS[1], "org_kpi_id": p1["id"]}])
    assert r.status_code == 200, r.text


def test_cascade_tree_and_coverage_on_three_levels(client, as_, w, other, engine):
    p1, p2, a1, a2 = _three_levels(client, as_, w)
    # appraisee: 60 linked to the agency's A1, 40 unlinked; other: 100 linked straight to the province's P1
    _agree(client, as_, w, engine, "appraisee", [{**KPIS[0], "org_kpi_id": a1["id"]}, KPIS[1]])
    _agree(client, as_, w, engine, "other", [{"title": "ประสานโครงการจังหวัด", "weight": 100, "org_kpi_id": p1["id"]}])
    with new_session(engine) as s:
        report = load.build(s, w.actors["hr"], w.opened.round.id, "kpi_cascade")
    tree = [(r["depth"], r["kind"], r["code"], r["served"]) for r in report.table("tree").rows]
    ap, ot = w.people["appraisee"].code, w.people["other"].code
    assert tree == [(0, "org_kpi", "P1", 2), (1, "org_kpi", "A1", 1), (2, "person", ap, None),
                    (1, "person", ot, None), (0, "org_kpi", "P2", 0), (0, "org_kpi", "A2", 0)]
    assert [r["code"] for r in report.table("uncovered").rows] == ["P2", "A2"]
    shares = {r["code"]: (r["linked_weight"], r["total_weight"], str(r["share"])) for r in report.table("share").rows}
    assert shares == {ap: (60, 100, "60.00"), ot: (100, 100, "100.00")}
    assert report.table("tree").rows[2]["person"] == "appraisee"
    # the province's report is not the agency HR's nor another province's to see
    rid = w.opened.round.id
    assert client.get(f"/api/v1/rounds/{rid}/reports/kpi_cascade", headers=as_("agency_hr")).status_code == 404
    assert client.get(f"/api/v1/rounds/{rid}/reports/kpi_cascade", headers=as_("hr", other)).status_code == 404
    # the same report as CSV and xlsx
    assert "P2" in writers.to_csv(report).decode("utf-8-sig")
    assert writers.to_xlsx(report)[:2] == b"PK"
    r = client.get(f"/api/v1/rounds/{w.opened.round.id}/reports/kpi_cascade?format=json", headers=as_("hr"))
    assert r.status_code == 200 and {t["key"] for t in r.json()["tables"]} >= {"tree", "uncovered", "share"}


def test_import_lists_every_row_problem_and_writes_nothing_until_clean(client, as_, w, other, engine):
    hr = as_("hr")
    _add(client, hr, w.org.code, code="P1", title="ตัวชี้วัดจังหวัด")
    url = f"/api/v1/orgs/{w.unit.code}/kpis"
    bad = ("code,title,weight,level_1,level_2,level_3,level_4,level_5,parent\n"
           "A1,โครงการแล้วเสร็จ,60,1,2,3,4,5,P1\n"
           ",ไม่มีรหัส,10,,,,,,\n"
           "A1,ซ้ำ,10,,,,,,\n"
           "A3,น้ำหนักเกิน,150,,,,,,\n"
           "A4,เป้าไม่ครบ,10,1,2,,,,\n"
           "A5,แม่ไม่มี,10,,,,,,NOPE\n")
    preview = client.post(f"{url}/preview?fiscal_year=2570", files=_csv(bad), headers=hr)
    assert preview.status_code == 200 and preview.json()["clean"] is False
    found = [(p["row"], p["column"]) for p in preview.json()["problems"]]
    assert found == [(3, "code"), (4, "code"), (5, "weight"), (6, "level_3"), (7, "parent")]
    r = client.post(f"{url}/import?fiscal_year=2570", files=_csv(bad), headers=hr)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "row 3.code"
    assert _kpis(client, hr, w.unit.code).json() == []
    # headings in Thai, an .xlsx file; clean: imported; the same file again changes nothing
    book = Workbook()
    ws = book.active
    ws.append(["รหัส", "ตัวชี้วัด", "น้ำหนัก", "ตัวชี้วัดแม่"])
    ws.append(["A1", "โครงการแล้วเสร็จ", 60, "P1"])
    ws.append(["A2", "งานประจำ", 40, None])
    buf = io.BytesIO()
    book.save(buf)
    xlsx = {"file": ("kpis.xlsx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    r = client.post(f"{url}/import?fiscal_year=2570", files=xlsx, headers=hr)
    assert r.status_code == 200 and r.json()["counts"] == {"new": 2, "updated": 0, "unchanged": 0}
    r = client.post(f"{url}/import?fiscal_year=2570", files=xlsx, headers=hr)
    assert r.json()["counts"] == {"new": 0, "updated": 0, "unchanged": 2}
    listed = _kpis(client, hr, w.unit.code).json()
    assert [(k["code"], k["weight"], k["parent_id"] is not None) for k in listed] == [("A1", 60, True), ("A2", 40, False)]
    r = client.post(f"{url}/import?fiscal_year=2570", files={"file": ("k.txt", b"x", "text/plain")}, headers=hr)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "file"


def test_copy_last_year_keeps_the_tree(client, as_, w, other):
    p1, p2, a1, a2 = _three_levels(client, as_, w)
    hr = as_("hr")
    r = client.post(f"/api/v1/orgs/{w.org.code}/kpis/copy?from_fiscal_year=2570", headers=hr)
    assert r.status_code == 200 and [k["code"] for k in r.json()] == ["P1", "P2"]
    r = client.post(f"/api/v1/orgs/{w.unit.code}/kpis/copy?from_fiscal_year=2570", headers=hr)
    copied = {k["code"]: k for k in r.json()}
    new_p1 = next(k for k in _kpis(client, hr, w.org.code, fiscal_year=2571).json() if k["code"] == "P1")
    assert copied["A1"]["fiscal_year"] == 2571 and copied["A1"]["parent_id"] == new_p1["id"]
    again = client.post(f"/api/v1/orgs/{w.unit.code}/kpis/copy?from_fiscal_year=2570", headers=hr)
    assert again.json() == []  # codes already there are kept


def test_start_an_agreement_from_a_kpi_set_or_the_last_round(client, as_, w, other, engine):
    p1, p2, a1, a2 = _three_levels(client, as_, w)
    ev = as_("evaluator")
    kept = client.post(f"/api/v1/orgs/{w.unit.code}/kpi-sets",
                       json={"position": "นักวิเคราะห์", "kpis": [{**KPIS[0], "org_kpi_id": a1["id"]}, KPIS[1]]},
                       headers=ev)
    assert kept.status_code == 200, kept.text
    assert client.get(f"/api/v1/orgs/{w.unit.code}/kpi-sets", headers=as_("hr", other)).status_code == 404
    with new_session(engine) as s:
        aid = w.appraisal_of(s, "appraisee").id
    url = f"/api/v1/appraisals/{aid}/start-agreement"
    r = client.post(f"{url}?source=kpi_set&kpi_set_id={kept.json()['id']}", headers={**ev, "If-Match": '"9"'})
    assert r.status_code == 409
    r = client.post(f"{url}?source=kpi_set&kpi_set_id={kept.json()['id']}", headers={**ev, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["event"] == "edit_agreement" and r.json()["version"] == 2
    r = client.post(f"{url}?source=last_round", headers={**ev, "If-Match": '"2"'})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "source"
    # round 2: start from round 1's KPIs, the link carried within the same fiscal year
    with new_session(engine) as s:
        r2 = open_round(s, org_code=w.org.code, fiscal_year=2570, number=2, actor=Actor.system()).round.id
        from db.models import Appraisal

        aid2 = s.execute(select(Appraisal.id).where(Appraisal.round_id == r2,
                                                    Appraisal.person_id == w.people["appraisee"].id)).scalar_one()
    r = client.post(f"/api/v1/appraisals/{aid2}/start-agreement?source=last_round",
                    headers={**ev, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    with new_session(engine) as s:
        got = [(k.title, k.weight, k.org_kpi_id) for k in s.execute(
            select(Kpi).where(Kpi.appraisal_id == aid2).order_by(Kpi.position)).scalars()]
        assert got == [(KPIS[0]["title"], 60, a1["id"]), (KPIS[1]["title"], 40, None)]
        assert s.get(OrgKpi, a1["id"]).fiscal_year == 2570
    # someone who may not edit the draft: 404 for a stranger, 403 for HR (no role on a draft's agreement)
    r = client.post(f"{url}?source=kpi_set&kpi_set_id={kept.json()['id']}", headers={**as_("hr", other), "If-Match": '"2"'})
    assert r.status_code == 404
