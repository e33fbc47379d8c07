"""An SMTP server is configured in these tests (email is off without PMFLOW_SMTP_HOST); the tests
that deliver point the settings at their own loopback server."""
import pytest


@pytest.fixture(autouse=True)
def _smtp_configured(monkeypatch):
    monkeypatch.setenv("PMFLOW_SMTP_HOST", "127.0.0.1")
