"""Log output for a service: today's human lines, or one JSON object a line.

Both are the standard library's ``logging`` with a formatter; nothing builds
log strings by hand. Structured fields travel the standard way, as
``extra=`` on the call::

    log.warning("refused %s from %s", kind, who,
                extra={"event": "command.refused", "agent": who, "code": code})

The human format shows the message only; the JSON format adds every such
field, so a log pipeline can filter by ``event``, ``agent``, ``inquiry``,
``code`` or ``elapsed_ms``.
"""
from __future__ import annotations

import json
import logging
import math
import os
import sys
from datetime import datetime, timezone

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: attributes every LogRecord has; anything else on a record came from ``extra=``
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime",
                                                                                 "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in out:
                out[key] = _plain(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def _plain(value):
    """JSON has no NaN or infinity: say null rather than write an invalid line."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: tells the broker's child processes (the materializer) which format to log in
FORMAT_ENV = "GRABDESK_LOG_FORMAT"


def configure(fmt: str, stream=None) -> None:
    """Send every log record to ``stream`` (stderr) in ``fmt``: "text" or "json"."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    os.environ[FORMAT_ENV] = fmt  # inherited by the processes the broker starts
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    root = logging.getLogger()
    handlers = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
    if not handlers:
        handler = logging.StreamHandler(stream or sys.stderr)
        root.addHandler(handler)
        handlers = [handler]
    for handler in handlers:
        handler.setFormatter(formatter)


def configure_child() -> None:
    """In a process the broker started: log at INFO to stderr in the broker's format."""
    logging.getLogger().setLevel(logging.INFO)
    configure(os.environ.get(FORMAT_ENV, "text"))
