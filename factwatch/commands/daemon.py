"""`factwatch daemon`: every source on its schedule until SIGTERM/SIGINT, then a clean stop."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from factwatch.commands.common import (
    add_config_arg,
    add_crawl_args,
    add_db_arg,
    add_notify_arg,
    archive_dir_for,
    load_app_config,
    open_store,
    sources_from_urls,
)
from factwatch.errors import UserError
from factwatch.settings import resolve_notify


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "daemon",
        help="run every source on its schedule until stopped",
        description=(
            "Crawl every source on its schedule and deliver alerts, until SIGTERM or SIGINT. "
            "Only one daemon runs per database; a second one exits with status 2."
        ),
    )
    add_config_arg(parser)
    add_db_arg(parser)
    add_notify_arg(parser)
    add_crawl_args(parser)
    parser.add_argument(
        "--health-port",
        type=int,
        metavar="N",
        help="serve GET /healthz on this port (env FACTWATCH_HEALTH_PORT; default off; 0 = any free port)",
    )
    parser.add_argument(
        "--health-host",
        metavar="ADDR",
        help="address of the health endpoint (env FACTWATCH_HEALTH_HOST; default 127.0.0.1)",
    )
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="how long a crawl in flight may run on after SIGTERM before it is cancelled (default 20)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Nothing that imports twisted.internet.reactor may run before the daemon installs the asyncio reactor;
    # every import below is free of it.
    from factwatch.daemon import Daemon, DaemonOptions, run_daemon
    from factwatch.health import resolve_health_host, resolve_health_port

    # Library warnings (Scrapy deprecations and the like) become log records, so `--log-format json`
    # yields nothing but JSON lines for a log collector.
    logging.captureWarnings(True)
    if args.shutdown_grace < 0:
        raise UserError("--shutdown-grace: must be zero or more seconds")
    config = load_app_config(args)
    sources = sources_from_urls(args.source) if args.source else list(config.sources)
    if not sources:
        raise UserError("no sources to crawl: add `sources` to the config file or pass --source URL")
    archive_dir = archive_dir_for(args, config)
    options = DaemonOptions(
        config=config,
        sources=sources,
        notify=resolve_notify(args.notify),
        archive_dir=archive_dir,
        health_host=resolve_health_host(args.health_host),
        health_port=resolve_health_port(args.health_port),
        shutdown_grace=args.shutdown_grace,
    )
    store = open_store(args)
    try:
        daemon = Daemon(store, options)
    except BaseException:
        store.close()
        raise
    return run_daemon(daemon)
