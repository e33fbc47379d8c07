"""`pmflow report build` and `pmflow report forms` write the files HR sends upward."""
from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.factories import world
from tests.flows import drive


def test_report_and_forms_from_the_cli(session, engine, tmp_path, monkeypatch, request):
    from db.session import default_engine
    from workflow.cli import app

    w = world(session, "ubon_ratchathani")
    drive(session, w, levels=[2, 2], competency_scores=[2, 2, 2, 2, 2])  # 40.00: a case
    monkeypatch.setenv("PMFLOW_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    default_engine.cache_clear()
    request.addfinalizer(lambda: (default_engine().dispose(), default_engine.cache_clear()))
    rid = str(w.opened.round.id)
    session.commit()  # end the test's transaction: SQLite lets one writer in at a time
    out = tmp_path / "report.xlsx"
    r = CliRunner().invoke(app, ["report", "build", "round_report", "--round", rid, "--format", "xlsx", "-o", str(out)])
    assert r.exit_code == 0, r.output
    wb = load_workbook(io.BytesIO(out.read_bytes()))
    cases_sheet = wb[wb.sheetnames[2]]
    assert any(row[1] and "appraisee" in str(row[1]) for row in cases_sheet.iter_rows(values_only=True))
    forms = tmp_path / "forms.zip"
    r = CliRunner().invoke(app, ["report", "forms", "--round", rid, "-o", str(forms)])
    assert r.exit_code == 0, r.output
    assert len(zipfile.ZipFile(forms).namelist()) == 8
    r = CliRunner().invoke(app, ["report", "build", "salaries", "--round", rid, "-o", str(tmp_path / "x")])
    assert r.exit_code == 2 and "salaries" in r.output
