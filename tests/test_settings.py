"""The one settings object: every PMFLOW_* variable, typed, read once; production refuses to
start without a secret key of its own."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from db.session import database_url
from workflow.settings import DEV_SECRET, Settings, SettingsError, get_settings, load_settings, reset_settings


def test_read_once_until_reset(monkeypatch):
    monkeypatch.setenv("PMFLOW_MAX_BODY_BYTES", "2000")
    first = get_settings()
    monkeypatch.setenv("PMFLOW_MAX_BODY_BYTES", "3000")
    assert get_settings() is first and first.max_body_bytes == 2000
    reset_settings()
    assert get_settings().max_body_bytes == 3000


def test_types_defaults_and_empty_values(monkeypatch):
    for name in [n for n in os.environ if n.startswith("PMFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PMFLOW_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("PMFLOW_SMTP_HOST", "mail.example.go.th")
    monkeypatch.setenv("PMFLOW_SCHEDULER", "off")
    monkeypatch.setenv("PMFLOW_WORKERS", "")  # empty: the default
    monkeypatch.setenv("PMFLOW_BASE_URL", "https://pm.example.go.th/")
    monkeypatch.setenv("PMFLOW_COOKIE_SECURE", "1")
    s = load_settings()
    assert s.smtp.port == 587 and s.smtp.configured and s.smtp.timeout == 30.0
    assert s.scheduler is False and s.workers == 1 and not s.runs_scheduler_in_process
    assert s.base_url == "https://pm.example.go.th" and s.cookie_secure is True
    assert s.secret_key == DEV_SECRET and s.env == "development"
    assert s.database_url == database_url()  # the engine's default reads the same variable


def test_a_bad_value_is_named(monkeypatch):
    monkeypatch.setenv("PMFLOW_SMTP_SECURITY", "tls")
    with pytest.raises(SettingsError, match="PMFLOW_SMTP_SECURITY"):
        load_settings()
    monkeypatch.setenv("PMFLOW_SMTP_SECURITY", "none")
    monkeypatch.setenv("PMFLOW_MAX_BODY_BYTES", "lots")
    with pytest.raises(SettingsError, match="PMFLOW_MAX_BODY_BYTES"):
        load_settings()


def test_production_needs_a_secret_of_its_own(monkeypatch):
    monkeypatch.setenv("PMFLOW_ENV", "production")
    monkeypatch.delenv("PMFLOW_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="PMFLOW_SECRET_KEY must be set"):
        load_settings()
    monkeypatch.setenv("PMFLOW_SECRET_KEY", DEV_SECRET)
    with pytest.raises(SettingsError, match="development key"):
        load_settings()
    monkeypatch.setenv("PMFLOW_SECRET_KEY", "a-real-secret-of-this-installation")
    assert load_settings().secret_key == "a-real-secret-of-this-installation"
    assert Settings(env="development").secret_key == "a-real-secret-of-this-installation"


def test_the_server_refuses_to_start_in_production_without_a_secret(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMFLOW_")}
    env.update(PMFLOW_ENV="production", PMFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    done = subprocess.run([sys.executable, "-m", "workflow", "serve", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "PMFLOW_SECRET_KEY must be set" in done.stderr
    # importing the app (what a process manager running uvicorn directly does) fails too
    done = subprocess.run([sys.executable, "-c", "import api.main"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "PMFLOW_SECRET_KEY must be set" in done.stderr


def test_the_readme_lists_every_setting_as_the_object_has_it():
    from pathlib import Path

    from workflow.settings import settings_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert settings_table() in readme
    fields = [n for n, f in Settings.model_fields.items() if f.description]
    assert len(fields) >= 20 and all(f"`PMFLOW_{n.upper()}`" in readme for n in fields)


def test_a_standby_with_bad_settings_exits_before_taking_the_lock(tmp_path):
    from db.migrate import upgrade

    db = tmp_path / "pmflow.db"
    upgrade(f"sqlite:///{db}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMFLOW_")}
    env.update(PMFLOW_DATABASE_URL=f"sqlite:///{db}", PMFLOW_SMTP_SECURITY="tls")
    done = subprocess.run([sys.executable, "-m", "workflow", "scheduler"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "PMFLOW_SMTP_SECURITY" in done.stderr
    assert not db.with_suffix(".scheduler.lock").exists()  # the lock was never even tried
