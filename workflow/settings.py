"""The one settings object: every PMFLOW_* environment variable, read once per process.

`get_settings()` reads the environment on first use and keeps the answer; tests change the
environment and call `reset_settings()`. Every field's environment name is PMFLOW_ + the field
name in capitals (`smtp_host` <- PMFLOW_SMTP_HOST); an empty variable counts as unset.

With PMFLOW_ENV=production the object refuses to be built without a PMFLOW_SECRET_KEY of its
own (the development key is refused too), so the server and the scheduler refuse to start.
README's "Production" section lists every setting (a test checks the table against this class).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.session import DEFAULT_URL as DEFAULT_DATABASE_URL

log = logging.getLogger("pmflow")

DEV_SECRET = "pmflow-development-secret-change-me"
_SMTP_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class SettingsError(RuntimeError):
    """The environment names an impossible setting: the message says which and why."""


@dataclass(frozen=True)
class SmtpSettings:
    """The SMTP part, as the email sender uses it."""

    host: str = ""
    port: int = 25
    security: str = "none"  # none | starttls | ssl
    user: str = ""
    password: str = ""
    sender: str = "pmflow@localhost"
    timeout: float = 30.0

    @property
    def configured(self) -> bool:
        return bool(self.host)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PMFLOW_", env_ignore_empty=True, extra="ignore",
                                      frozen=True)

    env: Literal["development", "production"] = Field(
        "development", description="production: refuse to start without a secret key of its own")
    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL; postgresql://user@host/db in production")
    secret_key: str = Field("", description="hashes session and bearer tokens; required in production")
    cookie_secure: bool = Field(False, description="1 behind HTTPS: the session cookie is sent over HTTPS only")
    cookie_name: str = Field("pmflow_session", description="the session cookie's name")
    max_body_bytes: int = Field(1_000_000, gt=0, description="request bodies larger than this are refused (413)")
    trusted_proxies: str = Field(
        "", description="comma-separated addresses of the reverse proxies whose X-Forwarded-For is believed")
    log_format: Literal["json", "text"] = Field("json", description="json: one JSON object a line with a request id")
    log_level: str = Field("INFO", description="the root log level")
    workers: int = Field(1, ge=1, description="HTTP worker processes (`pmflow serve --workers N` sets it)")
    scheduler: bool = Field(True, description="off: a one-worker server does not run the reminder scheduler itself")
    scheduler_interval_seconds: float = Field(
        60.0, gt=0, description="how often the scheduler asks what is due now (reminders, overdue runs, deliveries)")
    smtp_host: str = Field("", description="the SMTP server; unset: no email is sent")
    smtp_port: int | None = Field(None, description="default 25, 587 with starttls, 465 with ssl")
    smtp_security: Literal["none", "starttls", "ssl"] = Field("none", description="none, starttls or ssl")
    smtp_user: str = Field("", description="SMTP login (none when empty)")
    smtp_password: str = Field("", description="SMTP password")
    smtp_from: str = Field("pmflow@localhost", description="the sender address")
    smtp_timeout: float = Field(30.0, gt=0, description="seconds to wait for the SMTP server on each step")
    webhook_secret: str = Field("", description="the HMAC-SHA256 key webhooks are signed with; required for webhooks")
    base_url: str = Field("http://127.0.0.1:8000", description="the address links in messages point to")
    templates_dir: str = Field("", description="a folder of the organisation's own document templates (same file names override ours)")

    csrf_header: str = "X-CSRF-Token"  # fixed names, not read from the environment in practice
    csrf_field: str = "csrf_token"

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.env == "production":
            if not self.secret_key:
                raise ValueError("PMFLOW_SECRET_KEY must be set when PMFLOW_ENV=production")
            if self.secret_key == DEV_SECRET:
                raise ValueError("PMFLOW_SECRET_KEY is the development key; set a secret of your own in production")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if not self.secret_key:  # development only (production refused above)
            object.__setattr__(self, "secret_key", DEV_SECRET)
        return self

    # views the callers use
    @property
    def smtp(self) -> SmtpSettings:
        return SmtpSettings(host=self.smtp_host, port=self.smtp_port or _SMTP_PORTS[self.smtp_security],
                            security=self.smtp_security, user=self.smtp_user, password=self.smtp_password,
                            sender=self.smtp_from, timeout=self.smtp_timeout)

    @property
    def proxies(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.trusted_proxies.split(",") if p.strip())

    @property
    def runs_scheduler_in_process(self) -> bool:
        """Does the server run the scheduler itself? Only with one worker and unless switched off."""
        return self.scheduler and self.workers == 1


def settings_table() -> str:
    """The Markdown table of every setting (README's "Production" section; a test keeps it equal)."""
    rows = ["| variable | default | what |", "|---|---|---|"]
    for name, f in Settings.model_fields.items():
        if not f.description:
            continue
        default = f.default
        shown = "" if default in ("", None) else str(default).lower() if isinstance(default, bool) else str(default)
        rows.append(f"| `PMFLOW_{name.upper()}` | {f'`{shown}`' if shown else '(empty)'} | {f.description} |")
    return "\n".join(rows)


def load_settings(**overrides) -> Settings:  # noqa: ANN003 - field values
    """Read the environment now (overrides win); a bad value raises SettingsError naming it."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise SettingsError(f"invalid settings: {problems}") from None


def _describe(error: dict) -> str:
    loc = [str(x) for x in error.get("loc", ()) if x]
    name = "PMFLOW_" + loc[0].upper() if loc else ""
    message = error.get("msg", "").removeprefix("Value error, ")
    return f"{name}: {message}" if name else message


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    settings = load_settings()
    if settings.secret_key == DEV_SECRET:
        log.warning("PMFLOW_SECRET_KEY is not set: using the development key (never in production)")
    return settings


def reset_settings() -> None:
    """Forget the settings read so far (tests that change the environment)."""
    get_settings.cache_clear()
