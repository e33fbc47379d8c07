"""Roster import stays inside the importing organisation, refuses what the database would
refuse in the preview already, and refuses oversized files while streaming them."""
from __future__ import annotations

import io
import re
import time

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from db.models import Person
from tests.factories import world
from tests.roster.test_import import HEAD, _rows, csv_bytes, xlsx
from workflow import roster
from workflow.errors import InvalidInput


def test_a_code_of_another_organisation_is_a_row_problem_never_a_match(session):
    w = world(session, "udon_thani", open_now=False)
    stranger = w.people["stranger"]  # in another organisation
    before = (stranger.name_th, stranger.org_unit_id, stranger.evaluator_id, stranger.email)
    linked = _rows(w) + [["R010", "คนใหม่", "x", "", "ข้าราชการ", w.unit.code, stranger.code, "", ""]]
    plan = roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(linked))
    assert {(p.row, p.column) for p in plan.problems} == {(5, "evaluator")}
    rows = _rows(w) + [[stranger.code, "ชื่อใหม่", "x", "", "ข้าราชการ", w.unit.code, "R001", "", "new@example.go.th"]]
    plan = roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows))
    got = {(p.row, p.column) for p in plan.problems}
    assert got == {(5, "code")}
    assert all(p.th and p.en for p in plan.problems)
    # The preview shows nothing of the other organisation's person (no changes against their row).
    assert stranger.code not in {r.code for r in plan.rows if r.action != "new"}
    assert "ชื่อใหม่" not in repr(plan.as_dict()["rows"]) or all(
        r["changes"] == {} for r in plan.as_dict()["rows"] if r["code"] == stranger.code)
    with pytest.raises(InvalidInput):
        roster.apply(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows))
    session.expire_all()
    again = session.get(Person, stranger.id)
    assert (again.name_th, again.org_unit_id, again.evaluator_id, again.email) == before


def test_nul_bytes_and_too_long_values_are_caught_by_the_preview(session):
    w = world(session, "udon_thani", open_now=False)
    rows = _rows(w)
    rows[0][1] = "สมศรี\x00"
    rows[1][3] = "ร" * 101      # position_level holds 100
    rows[2][8] = "a" * 320 + "@x.th"  # email holds 320
    plan = roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows))
    got = {(p.row, p.column) for p in plan.problems}
    assert {(2, "name_th"), (3, "position_level"), (4, "email")} <= got
    with pytest.raises(InvalidInput):
        roster.apply(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows))
    assert session.execute(select(Person).where(Person.code == "R001")).first() is None


def _blank_bomb(blank_rows: int = 3_000_000) -> bytes:
    """A small xlsx with a heading and then millions of empty <row> elements (they compress to
    almost nothing), and one real row at the end."""
    import zipfile

    wb = Workbook()
    wb.active.append(HEAD)
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                rows = "<row/>" * blank_rows
                last = blank_rows + 2
                data = re.sub(rb'<dimension ref="[^"]*" ?/>', f'<dimension ref="A1:I{last}"/>'.encode(), data)
                data = data.replace(b"</sheetData>", (rows + f'<row r="{last}"><c r="A{last}" t="inlineStr">'
                                                      f'<is><t>R001</t></is></c></row></sheetData>').encode())
            dst.writestr(item, data)
    return out.getvalue()


def test_a_small_xlsx_with_millions_of_blank_rows_is_refused_fast(session):
    w = world(session, "udon_thani", open_now=False)
    content = _blank_bomb()
    assert len(content) < 1_000_000
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as exc:
        roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="bomb.xlsx", content=content)
    assert time.perf_counter() - started < 5
    assert "empty rows" in exc.value.problems[0].en


def test_too_many_columns_and_huge_cells_are_refused(session):
    w = world(session, "udon_thani", open_now=False)
    wide = HEAD + [f"c{i}" for i in range(roster.MAX_COLUMNS + 5)]
    with pytest.raises(InvalidInput) as exc:
        roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="s.csv",
                    content=csv_bytes([r + ["x"] * (roster.MAX_COLUMNS + 5) for r in _rows(w)], head=wide))
    assert "columns" in exc.value.problems[0].en
    rows = _rows(w)
    rows[0][2] = "ก" * (roster.MAX_CELL + 1)
    with pytest.raises(InvalidInput) as exc:
        roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="s.xlsx", content=xlsx(rows))
    assert "longer than" in exc.value.problems[0].en


def test_the_http_preview_stays_inside_the_organisation(engine):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from db.session import new_session
    from tests.api.conftest import login

    with new_session(engine) as s:
        w = world(s, "udon_thani", open_now=False)
        rows = [[w.people["stranger"].code, "x", "", "", "ข้าราชการ", w.unit.code, "", "", ""]]
    with TestClient(create_app(engine)) as client:
        headers = login(client, w, "hr")
        r = client.post(f"/api/v1/orgs/{w.org.code}/roster/preview", headers=headers,
                        files={"file": ("s.csv", csv_bytes(rows), "text/csv")})
        assert r.status_code == 200, r.text
        body = r.json()
        assert not body["clean"] and [(p["row"], p["column"]) for p in body["problems"]] == [(2, "code")]
        assert "salary" not in r.text and "@test.local" not in r.text
        r = client.post(f"/api/v1/orgs/{w.org.code}/roster/preview", headers=headers,
                        files={"file": ("bomb.xlsx", _blank_bomb(), "application/octet-stream")})
        assert r.status_code == 422 and r.json()["problems"][0]["field"] == "file"
