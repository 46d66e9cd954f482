"""Logging set-up: readable text by default, JSON lines for log collectors, secrets always redacted."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime

from factwatch.settings import resolve_log_level

# scheme://user:password@host  and  scheme://token@host  and  ?password=... / &token=...
_SECRET_PATTERNS = (
    (
        re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<cred>[^/\s@:]+(?::[^/\s@]*)?)@", re.I),
        r"\g<scheme>***@",
    ),
    (
        re.compile(r"(?P<key>[?&](?:pass(?:word)?|pwd|token|secret|key|apikey|api_key|auth)=)[^&\s]+", re.I),
        r"\g<key>***",
    ),
)


def redact(text: str) -> str:
    for pattern, repl in _SECRET_PATTERNS:
        text = pattern.sub(repl, text)
    try:
        from alerts.redact import redact_text
    except ImportError:
        return text
    return redact_text(text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class LibraryTracebackFilter(logging.Filter):
    """Scrapy and Twisted log whole tracebacks for ordinary network failures (a DNS miss, a refused
    connection): keep the one line that says what failed and why, unless DEBUG asks for everything."""

    PREFIXES = ("scrapy.", "twisted", "py.warnings")

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.exc_info
            and record.name.startswith(self.PREFIXES)
            and not logging.getLogger().isEnabledFor(logging.DEBUG)
        ):
            exc = record.exc_info[1]
            record.msg = (
                f"{record.getMessage()} ({type(exc).__name__}: {exc})" if exc else record.getMessage()
            )
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is now, so a replaced stream (tests, daemons) never goes stale."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def setup_logging(level: str | None = None, fmt: str | None = None) -> None:
    level_name = resolve_log_level(level)
    fmt = fmt or os.environ.get("FACTWATCH_LOG_FORMAT") or "text"
    handler = _StderrHandler()
    handler.addFilter(LibraryTracebackFilter())
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_name)
    # Libraries that are chatty at INFO.
    for name in (
        "scrapy",
        "twisted",
        "apscheduler",
        "alembic",
        "trafilatura",
        "htmldate",
        "courlan",
        "filelock",
    ):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level_name)))
