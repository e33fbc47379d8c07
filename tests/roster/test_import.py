"""Roster import: a clean file, a file with bad rows (nothing imported), a re-import."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from db.models import Event, Person
from tests.factories import world
from workflow import roster
from workflow.errors import InvalidInput, NotAllowed

HEAD = ["code", "name_th", "position", "position_level", "staff_type", "unit code", "evaluator code",
        "superior code", "email"]


def xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEAD)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], head=HEAD) -> bytes:
    import csv
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(head)
    w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _rows(w):
    unit = w.unit.code
    boss = w.people["evaluator"].code
    return [
        ["R001", "นางสาวสมศรี ใจงาม", "นักวิเคราะห์นโยบายและแผน", "ชำนาญการ", "ข้าราชการ", unit, boss,
         w.people["superior"].code, "somsri@example.go.th"],
        ["R002", "นายสมชาย รักงาน", "เจ้าพนักงานธุรการ", "ปฏิบัติงาน", "permanent_employee", unit, "R001", boss, ""],
        ["R003", "นางมาลี ศรีสุข", "พนักงานบริการ", "", "พนักงานราชการ", unit, "R001", "R002", "malee@example.go.th"],
    ]


def test_a_clean_file_previews_then_imports_with_links(session):
    w = world(session, "udon_thani", open_now=False)
    content = xlsx(_rows(w))
    seen = []
    plan = roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="staff.xlsx", content=content,
                       progress=lambda done, total: seen.append((done, total)))
    assert plan.clean and plan.counts() == {"new": 3, "updated": 0, "unchanged": 0}
    assert [(r.row, r.code, r.action) for r in plan.rows] == [(2, "R001", "new"), (3, "R002", "new"), (4, "R003", "new")]
    assert seen[-1] == (3, 3)
    assert session.execute(select(Person).where(Person.code == "R001")).first() is None  # a preview writes nothing
    done = roster.apply(session, w.actors["hr"], org_code=w.org.code, filename="staff.xlsx", content=content)
    assert done.counts["new"] == 3
    people = {p.code: p for p in session.execute(select(Person).where(Person.code.in_(["R001", "R002", "R003"]))).scalars()}
    assert people["R001"].staff_type == "civil_servant" and people["R003"].staff_type == "government_employee"
    assert people["R002"].evaluator_id == people["R001"].id and people["R003"].superior_id == people["R002"].id
    assert people["R001"].evaluator_id == w.people["evaluator"].id and people["R001"].org_unit_id == w.unit.id
    ev = session.execute(select(Event).where(Event.entity_type == "roster")).scalar_one()
    assert ev.event == "import_people" and ev.actor == w.actors["hr"].name


def test_bad_rows_are_reported_by_row_column_and_rule_and_nothing_is_imported(session):
    w = world(session, "udon_thani", open_now=False)
    rows = _rows(w) + [
        ["R004", "", "x", "", "ข้าราชการ", w.unit.code, "", "", ""],               # row 5: no name
        ["R005", "ก", "x", "", "contractor", "NOPE", "R999", "", "not-an-email"],  # row 6: four problems
        ["R001", "ซ้ำ", "x", "", "ข้าราชการ", w.unit.code, "R001", "", ""],          # row 7: duplicate, self
    ]
    content = csv_bytes(rows)
    plan = roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="staff.csv", content=content)
    got = {(p.row, p.column) for p in plan.problems}
    assert got == {(5, "name_th"), (6, "staff_type"), (6, "unit"), (6, "evaluator"), (6, "email"),
                   (7, "code"), (7, "evaluator")}
    assert all(p.th and p.en for p in plan.problems)
    before = session.execute(select(func.count()).select_from(Person)).scalar()
    with pytest.raises(InvalidInput) as exc:
        roster.apply(session, w.actors["hr"], org_code=w.org.code, filename="staff.csv", content=content)
    assert "row 6.unit" in {p.field for p in exc.value.problems}
    assert "แถวที่ 6" in next(p.th for p in exc.value.problems if p.field == "row 6.unit")
    assert session.execute(select(func.count()).select_from(Person)).scalar() == before
    missing = roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="x.csv",
                          content=csv_bytes([["A", "b"]], head=["code", "name"]))
    assert {(p.row, p.column) for p in missing.problems} == {(1, "staff_type"), (1, "unit")}
    with pytest.raises(InvalidInput):
        roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="x.pdf", content=b"%PDF")
    with pytest.raises(NotAllowed):
        roster.plan(session, w.actors["evaluator"], org_code=w.org.code, filename="staff.csv", content=content)


def test_a_reimport_updates_by_code_without_duplicates(session):
    w = world(session, "udon_thani", open_now=False)
    rows = _rows(w)
    roster.apply(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows))
    count = session.execute(select(func.count()).select_from(Person)).scalar()
    again = roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows))
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 3}
    rows[1][2] = "เจ้าพนักงานธุรการชำนาญงาน"
    rows[2][6] = w.people["evaluator"].code
    changed = roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows))
    by_code = {r.code: r for r in changed.rows}
    assert by_code["R002"].action == "updated" and set(by_code["R002"].changes) == {"position"}
    assert by_code["R003"].changes["evaluator_id"][1] == w.people["evaluator"].id
    assert by_code["R001"].action == "unchanged"
    roster.apply(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows))
    assert session.execute(select(func.count()).select_from(Person)).scalar() == count
    session.expire_all()
    r002 = session.execute(select(Person).where(Person.code == "R002")).scalar_one()
    assert r002.position == "เจ้าพนักงานธุรการชำนาญงาน"


def test_the_cli_previews_refuses_bad_files_and_imports(session, engine, tmp_path, monkeypatch, request):
    from db.session import default_engine
    from workflow.cli import app

    w = world(session, "udon_thani", open_now=False)
    monkeypatch.setenv("PMFLOW_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    default_engine.cache_clear()  # the CLI opens the engine PMFLOW_DATABASE_URL names
    request.addfinalizer(lambda: (default_engine().dispose(), default_engine.cache_clear()))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(_rows(w) + [["R009", "x", "", "", "ข้าราชการ", "NOPE", "", "", ""]]))
    result = CliRunner().invoke(app, ["import", "people", str(bad), "--org", w.org.code, "--yes"])
    assert result.exit_code == 2
    assert "row 5" in result.output and "unit" in result.output
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx(_rows(w)))
    preview = CliRunner().invoke(app, ["import", "people", str(good), "--org", w.org.code, "--dry-run"])
    assert preview.exit_code == 0 and "new 3" in preview.output
    result = CliRunner().invoke(app, ["import", "people", str(good), "--org", w.org.code, "--yes"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.execute(select(func.count()).select_from(Person).where(Person.code.like("R00%"))).scalar() == 3


def test_salaries_are_imported_checked_and_kept_when_the_cell_is_empty(session):
    w = world(session, "udon_thani", open_now=False)
    head = HEAD + ["เงินเดือน"]
    rows = [r + [pay] for r, pay in zip(_rows(w), ["25,000", "31500.5", ""])]
    roster.apply(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows, head))
    pay = dict(session.execute(select(Person.code, Person.salary).where(Person.code.like("R00%"))).all())
    assert {k: (str(v) if v is not None else None) for k, v in pay.items()} == {
        "R001": "25000.00", "R002": "31500.50", "R003": None}
    again = roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows, head))
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 3}
    rows[0][-1], rows[1][-1] = "26,000", "ไม่ทราบ"
    bad = roster.plan(session, w.actors["hr"], org_code=w.org.code, filename="s.csv", content=csv_bytes(rows, head))
    assert [(p.row, p.column) for p in bad.problems] == [(3, "salary")]
    assert {r.code: r.changes.get("salary") for r in bad.rows}["R001"] == ("25000.00", "26000.00")
