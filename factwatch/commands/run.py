"""`factwatch run`: one crawl cycle over the configured sources (or --source URLs), then exit."""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import urlsplit

from factwatch.commands.common import (
    add_config_arg,
    add_db_arg,
    add_json_arg,
    add_notify_arg,
    load_app_config,
    open_store,
    print_json,
)
from factwatch.errors import UserError
from factwatch.settings import resolve_data_dir, resolve_notify


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="crawl every source once, then exit",
        description="One crawl cycle over all configured sources, then deliver alerts.",
    )
    add_config_arg(parser)
    add_db_arg(parser)
    add_notify_arg(parser)
    add_json_arg(parser)
    parser.add_argument(
        "--source",
        metavar="URL",
        action="append",
        default=[],
        help="crawl this feed, news sitemap or page instead of the configured sources (repeatable)",
    )
    parser.add_argument("--data-dir", help="where the WARC archive is written (env FACTWATCH_DATA)")
    parser.add_argument("--no-archive", action="store_true", help="do not write WARC files")
    parser.set_defaults(func=run)


def sources_from_urls(urls: list[str]) -> list[Any]:
    from crawler.config import SourceConfig

    sources = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserError(f"--source {url!r}: expected an http(s) URL")
        sources.append(SourceConfig(name=parts.hostname, url=url, kind="auto"))
    return sources


def run(args: argparse.Namespace) -> int:
    from alerts.deliver import Dispatcher
    from crawler.runner import crawl_blocking
    from pipeline.process import Processor

    config = load_app_config(args)
    sources = sources_from_urls(args.source) if args.source else None
    notify = resolve_notify(args.notify)
    store = open_store(args)
    try:
        dispatcher = Dispatcher(store, config.routes, config.alerts, notify)
        processor = Processor(store, config)
        archive_dir = (
            None
            if args.no_archive or not config.crawl.archive
            else resolve_data_dir(args.data_dir) / "archive"
        )
        if archive_dir is not None:
            archive_dir.mkdir(parents=True, exist_ok=True)
        report = crawl_blocking(
            config=config, processor=processor, store=store, sources=sources, archive_dir=archive_dir
        )
        delivery = dispatcher.deliver_pending()
    finally:
        store.close()
    if args.json:
        print_json({"crawl": _as_dict(report), "alerts": _as_dict(delivery)})
    else:
        print(getattr(report, "summary", lambda: str(report))())
        print(getattr(delivery, "summary", lambda: str(delivery))())
    sys.stdout.flush()
    return 0


def _as_dict(obj: Any) -> Any:
    if hasattr(obj, "as_dict"):
        return obj.as_dict()
    from dataclasses import asdict, is_dataclass

    return asdict(obj) if is_dataclass(obj) and not isinstance(obj, type) else str(obj)
