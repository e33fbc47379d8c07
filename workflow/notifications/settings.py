"""Delivery settings from the environment (PMFLOW_SMTP_*, PMFLOW_WEBHOOK_SECRET, PMFLOW_BASE_URL)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class SmtpSettings:
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


@dataclass(frozen=True)
class Settings:
    smtp: SmtpSettings = SmtpSettings()
    webhook_secret: str = ""
    base_url: str = "http://127.0.0.1:8000"


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    security = env.get("PMFLOW_SMTP_SECURITY", "none").lower()
    if security not in ("none", "starttls", "ssl"):
        raise ValueError(f"PMFLOW_SMTP_SECURITY must be none, starttls or ssl, not {security!r}")
    default_port = {"none": 25, "starttls": 587, "ssl": 465}[security]
    smtp = SmtpSettings(
        host=env.get("PMFLOW_SMTP_HOST", ""),
        port=int(env.get("PMFLOW_SMTP_PORT") or default_port),
        security=security,
        user=env.get("PMFLOW_SMTP_USER", ""),
        password=env.get("PMFLOW_SMTP_PASSWORD", ""),
        sender=env.get("PMFLOW_SMTP_FROM", "pmflow@localhost"),
    )
    return Settings(smtp=smtp, webhook_secret=env.get("PMFLOW_WEBHOOK_SECRET", ""),
                    base_url=env.get("PMFLOW_BASE_URL", "http://127.0.0.1:8000").rstrip("/"))
