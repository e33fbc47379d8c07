"""Logs: one JSON object a line (PMFLOW_LOG_FORMAT=json, the default) or plain text, each line
with the request id of the HTTP request it belongs to (`X-Request-ID`, see api/middleware.py).

No personal data goes in a log line: pmflow's own messages name rows by id (person 42,
delivery 17), never by name, email address or national id; the access log records the method,
the path (ids only, no query string) and the status, not the client address or headers.
"""
from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from workflow.settings import Settings

request_id: ContextVar[str] = ContextVar("pmflow_request_id", default="")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        rid = getattr(record, "request_id", "") or request_id.get()
        if rid:
            line["request_id"] = rid
        for key in ("method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = request_id.get()
        return f"{text} [request {rid}]" if rid else text


def configure_logging(settings: Settings) -> None:
    """Route pmflow's, uvicorn's and APScheduler's logs through one handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # uvicorn's access log carries the client's address and the query string: ours replaces it
    logging.getLogger("uvicorn.access").disabled = True
