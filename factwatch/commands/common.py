"""Small pieces every command shares: the common flags, loading config and store, printing tables."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from factwatch.errors import UserError
from factwatch.settings import resolve_config_path, resolve_data_dir, resolve_db_url


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


def add_crawl_args(parser: argparse.ArgumentParser) -> None:
    """The flags `run` and `daemon` share: which sources to crawl and where the archive goes."""
    parser.add_argument(
        "--source",
        metavar="URL",
        action="append",
        default=[],
        help="crawl this feed, news sitemap or page instead of the configured sources (repeatable)",
    )
    parser.add_argument("--data-dir", help="where the WARC archive is written (env FACTWATCH_DATA)")
    parser.add_argument("--no-archive", action="store_true", help="do not write WARC files")


def sources_from_urls(urls: list[str]) -> list[Any]:
    """`--source` URLs as sources of a detected kind, named by host; repeats numbered (host, host-2, …) so
    each keeps a health record of its own."""
    from crawler.config import SourceConfig

    sources = []
    counts: dict[str, int] = {}
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserError(f"--source {url!r}: expected an http(s) URL")
        counts[parts.hostname] = n = counts.get(parts.hostname, 0) + 1
        name = parts.hostname if n == 1 else f"{parts.hostname}-{n}"
        sources.append(SourceConfig(name=name, url=url, kind="auto"))
    return sources


def archive_dir_for(args: argparse.Namespace, config: Any) -> Path | None:
    """Where this crawl's WARC files go (created), or None when archiving is off."""
    if args.no_archive or not config.crawl.archive:
        return None
    archive_dir = resolve_data_dir(args.data_dir) / "archive"
    archive_dir.mkdir(parents=True, exist_ok=True)
    return archive_dir


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
