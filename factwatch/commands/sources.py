"""`factwatch sources`: how each source has been doing (last success, last error, failures in a row)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from factwatch.commands.common import add_db_arg, add_json_arg, open_store, print_json, print_table


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sources",
        help="health of each crawled source",
        description="Per source: last successful crawl, last error, consecutive failures, last new article "
        "and bad responses by kind.",
    )
    add_db_arg(parser)
    add_json_arg(parser)
    parser.set_defaults(func=run)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    seconds = max(int((now - value).total_seconds()), 0)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def collect(store: Any) -> list[dict[str, Any]]:
    """One dict per source with health and bad-response counts, sorted by name."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from pipeline.store.crawl_models import BadResponse, SourceHealth

    with store.session() as session:
        rows = session.exec(select(SourceHealth).order_by(col(SourceHealth.name))).all()
        counts = session.exec(
            select(BadResponse.source, BadResponse.kind, func.count()).group_by(
                col(BadResponse.source), col(BadResponse.kind)
            )
        ).all()
    by_source: dict[str, dict[str, int]] = {}
    for source, kind, count in counts:
        by_source.setdefault(source or "", {})[kind] = int(count)
    return [
        {
            "name": row.name,
            "url": row.url,
            "kind": row.kind,
            "last_crawl": _iso(row.last_crawl),
            "last_success": _iso(row.last_success),
            "last_error": row.last_error,
            "last_error_at": _iso(row.last_error_at),
            "consecutive_failures": row.consecutive_failures,
            "last_new_item": _iso(row.last_new_item),
            "crawls": row.crawls,
            "pages": row.pages,
            "new_items": row.new_items,
            "bad_responses": dict(sorted(by_source.get(row.name, {}).items())),
        }
        for row in rows
    ]


def run(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        sources = collect(store)
    finally:
        store.close()
    if args.json:
        print_json({"sources": sources})
        return 0
    if not sources:
        print("no source has been crawled yet (run `factwatch run` or `factwatch daemon`)")
        return 0
    now = datetime.now(UTC)
    table = []
    for item in sources:
        last_error = item["last_error"] or ""
        if last_error and item["last_error_at"]:
            last_error = f"{_ago(datetime.fromisoformat(item['last_error_at']), now)}: {last_error}"
        bad = sum(item["bad_responses"].values())
        table.append(
            [
                item["name"],
                item["kind"] or "?",
                _ago(datetime.fromisoformat(item["last_success"]) if item["last_success"] else None, now),
                item["consecutive_failures"],
                _ago(datetime.fromisoformat(item["last_new_item"]) if item["last_new_item"] else None, now),
                bad,
                last_error,
            ]
        )
    print_table(
        ["source", "kind", "last success", "failures", "last new", "bad", "last error"],
        table,
        widths=[24, 8, 12, 8, 12, 6, 60],
    )
    return 0
