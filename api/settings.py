"""Settings from the environment, read once per process."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache

log = logging.getLogger("pmflow")
DEV_SECRET = "pmflow-development-secret-change-me"


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    cookie_secure: bool
    max_body_bytes: int = 1_000_000
    cookie_name: str = "pmflow_session"
    csrf_header: str = "X-CSRF-Token"
    csrf_field: str = "csrf_token"
    bench_routes: bool = False
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated in
    # PMFLOW_TRUSTED_PROXIES); from anyone else the header is ignored. Default: none.
    trusted_proxies: tuple[str, ...] = ()


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@lru_cache(maxsize=None)
def get_settings() -> Settings:
    from db.session import database_url

    secret = os.environ.get("PMFLOW_SECRET_KEY", "")
    if not secret:
        log.warning("PMFLOW_SECRET_KEY is not set: using the development key (never in production)")
        secret = DEV_SECRET
    return Settings(
        database_url=database_url(),
        secret_key=secret,
        cookie_secure=_flag("PMFLOW_COOKIE_SECURE"),
        max_body_bytes=int(os.environ.get("PMFLOW_MAX_BODY_BYTES", "1000000")),
        bench_routes=_flag("PMFLOW_BENCH_ROUTES"),
        trusted_proxies=tuple(x.strip() for x in os.environ.get("PMFLOW_TRUSTED_PROXIES", "").split(",") if x.strip()),
    )
