"""Logs: one JSON object a line (PMFLOW_LOG_FORMAT=json, the default) or plain text, each line
with the request id of the HTTP request it belongs to (`X-Request-ID`, see api/middleware.py).

No personal data goes in a log line: pmflow's own messages name rows by id (person 42,
delivery 17), never by name, email address or national id; the access log records the method,
the path (ids only, no query string) and the status, not the client address or headers.
"""
from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime

from workflow.settings import Settings

request_id: ContextVar[str] = ContextVar("pmflow_request_id", default="")
_make_record = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kw) -> logging.LogRecord:  # noqa: ANN002, ANN003
    """Every log record carries the request id of the request it was written in, if any."""
    record = _make_record(*args, **kw)
    record.request_id = request_id.get()
    return record


if getattr(_make_record, "__name__", "") != "_record_with_request_id":
    logging.setLogRecordFactory(_record_with_request_id)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        rid = getattr(record, "request_id", "")
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
        rid = getattr(record, "request_id", "")
        return f"{text} [request {rid}]" if rid else text


def logging_config(settings: Settings) -> dict:
    """A logging.config.dictConfig for pmflow, uvicorn and APScheduler: one handler on stderr.
    uvicorn applies it in every worker process (`uvicorn.run(log_config=...)`). uvicorn's own
    access log is off: it carries the client's address and the query string; ours
    (api/middleware.py, logger pmflow.access) has neither."""
    formatter = "workflow.logs.JsonFormatter" if settings.log_format == "json" else "workflow.logs.TextFormatter"
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"pmflow": {"()": formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "pmflow", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": settings.log_level.upper()},
        "loggers": {"uvicorn": {"handlers": [], "propagate": True},
                    "uvicorn.error": {"handlers": [], "propagate": True},
                    "uvicorn.access": {"handlers": [], "propagate": False, "level": "CRITICAL"}},
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))
