"""Log lines: `key=value` text or JSON lines, and what restloom logs per request and call.

restloom's own lines are events: a message plus named fields (`record.fields`),
rendered as `graphql operation=Q outcome=ok ms=3.1 ...` in text and as one JSON
object per line in JSON. Every value that reaches a line was checked or built by
restloom (a validated request id, a route template, a GraphQL name); credentials
and query strings never are. uvicorn's access lines lose their query string for
the same reason: a GET may carry a query with secrets in its variables.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import Any, Literal

import orjson

LogFormat = Literal["text", "json"]

FIELDS = "fields"  # the LogRecord attribute carrying an event's fields


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """One event line: `event k=v ...` in text, `{"message": event, k: v, ...}` in JSON."""
    if not logger.isEnabledFor(level):
        return
    text = " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
    logger.log(level, "%s %s", event, text, extra={FIELDS: {"event": event, **fields}})


def _text_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, Mapping):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def _iso_time(created: float) -> str:
    millis = int(created * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{millis:03d}Z"


TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"  # journald and docker add the time


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


class AccessLogScrubber(logging.Filter):
    """Drop the query string from uvicorn's access lines (GET queries carry variables)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn: '%s - "%s %s HTTP/%s" %d' % (client, method, path_with_query, version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            record.args = (args[0], args[1], path, args[3], args[4])
        return True


def configure_logging(level: str, log_format: LogFormat) -> None:
    """The process's logging: one stderr handler on the root logger, uvicorn's lines included.

    Pass `log_config=None` to uvicorn so that its loggers propagate here instead of
    getting handlers (and a text format) of their own.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogScrubber) for f in access.filters):
        access.addFilter(AccessLogScrubber())
