"""`factwatch replay`: run archived WARC responses through the same crawl and pipeline as a live run.

Archives are checked before the store is touched: a missing, truncated or non-WARC file ends with one
message naming the file and record offset (exit 2) and nothing replayed. ``--partial`` instead replays
what a damaged file holds before the damage and reports the damage.

Exit status: 0 when the archives answered every request, 1 when the replay ran but some requests were
missing from the archives (or, with ``--partial``, an archive was damaged), 2 for user errors.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from factwatch.commands.common import (
    add_config_arg,
    add_db_arg,
    add_json_arg,
    add_notify_arg,
    load_app_config,
    open_store,
    print_json,
)
from factwatch.settings import resolve_notify


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="run archived WARC responses through the pipeline",
        description=(
            "Replay WARC / WARC.gz archives through the crawler and pipeline with no network: dedup, "
            "change detection and alerts run as in a live crawl. Archives replay in the order given, "
            "each crawl's files as one snapshot."
        ),
    )
    add_config_arg(parser)
    add_db_arg(parser)
    add_notify_arg(parser)
    add_json_arg(parser)
    parser.add_argument(
        "--partial",
        action="store_true",
        help="replay the records a damaged archive holds before the damage, instead of refusing it",
    )
    parser.add_argument(
        "archives", nargs="+", metavar="ARCHIVE", help="WARC or WARC.gz file, or a directory of them"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from alerts.deliver import Dispatcher
    from crawler.replay import replay_blocking
    from crawler.warcindex import open_snapshots
    from pipeline.process import Processor

    config = load_app_config(args)
    notify = resolve_notify(args.notify)
    # Scan (and so validate) every archive before the store changes: a bad file must not leave a
    # half-replayed database behind.
    snapshots = open_snapshots(args.archives, partial=args.partial)
    store = open_store(args)
    try:
        dispatcher = Dispatcher(store, config.routes, config.alerts, notify)
        processor = Processor(store, config)
        try:
            report = replay_blocking(
                args.archives, config=config, processor=processor, store=store, snapshots=snapshots
            )
        finally:
            processor.close()
        delivery = dispatcher.deliver_pending()
    finally:
        store.close()
    if args.json:
        print_json({"replay": report.as_json(), "alerts": _as_dict(delivery)})
    else:
        print(report.summary())
        print(getattr(delivery, "summary", lambda: str(delivery))())
    sys.stdout.flush()
    return 0 if report.ok else 1


def _as_dict(obj: Any) -> Any:
    return obj.as_dict() if hasattr(obj, "as_dict") else str(obj)
