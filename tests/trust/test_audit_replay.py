"""`audit verify` replays each appraisal's and case's chain and compares the row with it."""
from __future__ import annotations

from sqlalchemy import text
from typer.testing import CliRunner

from tests.factories import world
from tests.flows import drive
from workflow import audit


def test_rows_that_match_their_history_verify_clean(session):
    w = world(session)
    drive(session, w, "appraisee", levels=[1, 1], competency_scores=[1, 1, 1, 1, 1])  # announced, a case opens
    drive(session, w, "other", until="committee_review")
    assert audit.verify(session) == []


def test_an_edited_state_version_or_result_is_caught_and_named(session):
    w = world(session)
    announced = drive(session, w, "appraisee")
    reviewed = drive(session, w, "other", until="committee_review")
    session.execute(text("UPDATE appraisal SET state = 'announced' WHERE id = :id"), {"id": reviewed})
    session.execute(text("UPDATE appraisal SET total_percent = 99.99 WHERE id = :id"), {"id": announced})
    session.commit()
    found = {(f.entity_type, f.entity_id): f.problem for f in audit.verify(session)}
    assert set(found) == {("appraisal", reviewed), ("appraisal", announced)}
    assert "state is 'announced'" in found[("appraisal", reviewed)]
    assert "99.99" in found[("appraisal", announced)]


def test_the_cli_fails_naming_an_edited_row(session, engine, monkeypatch, request):
    from db.session import default_engine
    from workflow.cli import app

    w = world(session)
    aid = w.appraisal_of(session, "appraisee").id
    session.commit()  # SQLite: let the CLI's connection write
    monkeypatch.setenv("PMFLOW_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    default_engine.cache_clear()
    request.addfinalizer(lambda: (default_engine().dispose(), default_engine.cache_clear()))
    assert CliRunner().invoke(app, ["audit", "verify"]).exit_code == 0
    session.execute(text("UPDATE appraisal SET state = 'agreed' WHERE id = :id"), {"id": aid})
    session.commit()
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and f"appraisal {aid}" in result.output and "agreed" in result.output
