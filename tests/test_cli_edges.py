"""The command line refuses bad options cleanly: an unknown preview kind or locale, a report
written into a folder that does not exist; xlsx sheet names are cut at a word."""
from __future__ import annotations

from typer.testing import CliRunner

from workflow.cli import app
from workflow.reports.writers import _sheet_name


def test_notify_preview_refuses_an_unknown_kind_or_locale():
    for args in (["--kind", "nonsense"], ["--locale", "fr"]):
        r = CliRunner().invoke(app, ["notify", "preview", *args])
        assert r.exit_code == 2 and "must be one of" in r.output, r.output
    ok = CliRunner().invoke(app, ["notify", "preview", "--kind", "overdue", "--locale", "en"])
    assert ok.exit_code == 0 and ok.output.startswith("Subject:")


def test_report_into_a_missing_folder_is_a_clean_error(tmp_path):
    out = tmp_path / "no-such-folder" / "r.xlsx"
    r = CliRunner().invoke(app, ["report", "build", "progress", "--round", "1", "-o", str(out)])
    assert r.exit_code == 2 and "does not exist" in r.output, r.output
    assert not out.exists()


def test_sheet_names_are_cut_at_a_word():
    class T:
        key = "by_unit"
        title_th = "ผลการประเมิน แยกตามหน่วยงานและผู้ประเมินทุกระดับชั้น"
        title_en = "Ratings per unit and evaluator at every level"

    assert _sheet_name(T, 0) == "1 ผลการประเมิน"  # the next word does not fit whole
    T.title_th = "การกระจายผลการประเมินแยกตามหน่วยงานทุกระดับ"  # one Thai run, no space to cut at
    assert _sheet_name(T, 1) == "2 Ratings per unit and"
    T.title_th = "สรุปผล"
    assert _sheet_name(T, 2) == "3 สรุปผล"
