"""An organisation's own template replaces ours by file name, and a broken one is refused at
load with an error naming the file."""
from __future__ import annotations

import pytest

from tests.documents.pdftext import flat, pdf_flat
from workflow.documents.render import TEMPLATES, TemplateError, _checked, check_templates, render, sample, template_path
from workflow.settings import reset_settings


@pytest.fixture
def own_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PMFLOW_TEMPLATES_DIR", str(tmp_path))
    reset_settings()
    yield tmp_path
    monkeypatch.delenv("PMFLOW_TEMPLATES_DIR")
    reset_settings()
    _checked.clear()


def test_an_own_template_replaces_ours_by_file_name(own_dir):
    letterhead = (TEMPLATES / "summary_form.typ").read_text(encoding="utf-8").replace(
        "#for (i, f) in data.forms.enumerate() {", "#align(center)[สำนักงานเทศบาลตำบลศักดิ์สิทธิ์]\n#for (i, f) in data.forms.enumerate() {")
    (own_dir / "summary_form.typ").write_text(letterhead, encoding="utf-8")
    assert template_path("summary_form") == own_dir / "summary_form.typ"
    assert template_path("report") == TEMPLATES / "report.typ"  # the others stay ours
    text = pdf_flat(render("summary_form", sample("summary_form")))
    assert flat("สำนักงานเทศบาลตำบลศักดิ์สิทธิ์") in text and flat("นายศักดิ์สิทธิ์ ปิ่นแก้ว") in text


def test_a_broken_own_template_is_refused_at_load_naming_the_file(own_dir):
    (own_dir / "commitment.typ").write_text("#let data = json(\"data.json\")\n#data.no_such_field\n",
                                            encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        check_templates()
    assert str(own_dir / "commitment.typ") in str(err.value)


def test_the_api_refuses_to_start_with_a_broken_template(own_dir, engine):
    from api.main import create_app

    (own_dir / "report.typ").write_text("#table(", encoding="utf-8")
    with pytest.raises(TemplateError, match="report.typ"):
        create_app(engine)
