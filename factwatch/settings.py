"""Where settings come from: a flag, else the environment, else a default.

| setting      | flag        | environment        | default                                  |
|--------------|-------------|--------------------|------------------------------------------|
| config file  | --config    | FACTWATCH_CONFIG   | the bundled haiti-mss topic              |
| database URL | --db        | FACTWATCH_DB       | sqlite:///factwatch.db (working dir)     |
| notify URLs  | --notify    | FACTWATCH_NOTIFY   | none (space-separated in the variable)   |
| data dir     | --data-dir  | FACTWATCH_DATA     | ./factwatch-data (WARC archive lives here)|
| log level    | --log-level | FACTWATCH_LOG_LEVEL| INFO                                     |
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

DEFAULT_DB = "sqlite:///factwatch.db"
DEFAULT_DATA_DIR = "factwatch-data"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(Exception):
    """A bad flag or environment value; str() is the message to show."""


def resolve_config_path(arg: str | None) -> str | None:
    """None means the bundled topic config."""
    return arg or os.environ.get("FACTWATCH_CONFIG") or None


def resolve_db_url(arg: str | None) -> str:
    url = arg or os.environ.get("FACTWATCH_DB") or DEFAULT_DB
    if "://" not in url:
        # A bare path is a convenience for SQLite users.
        url = f"sqlite:///{url}"
    return url


def resolve_notify(args: Sequence[str] | None) -> list[str]:
    urls = list(args or [])
    env = os.environ.get("FACTWATCH_NOTIFY", "")
    if env.strip():
        urls.extend(shlex.split(env))
    return urls


def resolve_data_dir(arg: str | None) -> Path:
    return Path(arg or os.environ.get("FACTWATCH_DATA") or DEFAULT_DATA_DIR)


def resolve_log_level(arg: str | None) -> str:
    level = (arg or os.environ.get("FACTWATCH_LOG_LEVEL") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(
            f"log level {level!r} is not one of {', '.join(LOG_LEVELS)} (FACTWATCH_LOG_LEVEL / --log-level)"
        )
    return level
