"""Small pieces every command shares: the common flags, loading config and store, printing tables."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from factwatch.settings import resolve_config_path, resolve_db_url


def add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="topic config YAML (env FACTWATCH_CONFIG; default: bundled haiti-mss)",
    )


def add_db_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (env FACTWATCH_DB; default sqlite:///factwatch.db)",
    )


def add_notify_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--notify",
        metavar="URL",
        action="append",
        default=[],
        help="apprise URL to notify, repeatable (env FACTWATCH_NOTIFY, space-separated)",
    )


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts instead of a table")


def load_app_config(args: argparse.Namespace) -> Any:
    from config.loader import load_config

    return load_config(resolve_config_path(getattr(args, "config", None)))


def open_store(args: argparse.Namespace) -> Any:
    from pipeline.store import Store

    return Store.open(resolve_db_url(getattr(args, "db", None)))


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def shorten(value: Any, width: int) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, widths: Sequence[int] | None = None
) -> None:
    """A plain aligned table; long cells are shortened so a row fits a terminal line."""
    cells = [[shorten(c, (widths[i] if widths else 60)) for i, c in enumerate(row)] for row in rows]
    sizes = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join(h.upper().ljust(sizes[i]) for i, h in enumerate(headers))
    print(line.rstrip())
    for row in cells:
        print("  ".join(c.ljust(sizes[i]) for i, c in enumerate(row)).rstrip())
