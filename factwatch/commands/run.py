"""`factwatch run`: one crawl cycle over the configured sources (or --source URLs), then exit."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from factwatch.commands.common import (
    add_config_arg,
    add_crawl_args,
    add_db_arg,
    add_json_arg,
    add_notify_arg,
    archive_dir_for,
    load_app_config,
    open_store,
    print_json,
    sources_from_urls,
)
from factwatch.settings import resolve_notify


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
    add_crawl_args(parser)
    parser.set_defaults(func=run)


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
        archive_dir = archive_dir_for(args, config)
        try:
            report = crawl_blocking(
                config=config, processor=processor, store=store, sources=sources, archive_dir=archive_dir
            )
        finally:
            processor.close()
        delivery = dispatcher.deliver_pending()
    finally:
        store.close()
    if args.json:
        print_json({"crawl": report.as_dict(), "alerts": delivery.as_dict()})
    else:
        print(report.summary())
        print(delivery.summary())
    sys.stdout.flush()
    return 0
