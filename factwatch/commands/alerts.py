"""`factwatch alerts`: the outbox and its delivery state; `flush` delivers pending alerts; `test` probes.

Nothing here prints a route URL unredacted: alert titles and errors were redacted when stored, and URLs
shown by `test` pass through alerts.redact.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from factwatch.commands.common import (
    add_config_arg,
    add_db_arg,
    add_json_arg,
    add_notify_arg,
    load_app_config,
    open_store,
    print_json,
    print_table,
)
from factwatch.errors import UserError
from factwatch.settings import resolve_notify


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "alerts",
        help="show alerts and their delivery state; flush or test delivery",
        description="Alerts in the outbox with their delivery state and attempts. "
        "`alerts flush` delivers pending alerts now; `alerts test` sends a sample through each route.",
    )
    add_db_arg(parser)
    add_json_arg(parser)
    parser.add_argument(
        "--state", choices=("pending", "delivered", "failed"), help="only alerts in this state"
    )
    parser.add_argument("--limit", type=int, default=200, help="newest N alerts (default 200; 0 = all)")
    parser.set_defaults(func=run)
    sub = parser.add_subparsers(dest="alerts_command", metavar="ACTION")

    flush = sub.add_parser(
        "flush",
        help="deliver pending alerts now, ignoring backoff",
        description="Deliver pending alerts now, ignoring backoff and digest windows; failed alerts get one "
        "more try. The daemon does this by itself with backoff.",
    )
    _add_common(flush)
    add_json_arg(flush)
    flush.set_defaults(func=run_flush)

    test = sub.add_parser(
        "test",
        help="send a sample alert through each route and report what happened",
        description="Send a sample alert through each configured route (or one) and report, per URL, "
        "whether it was accepted. Nothing is written to the outbox.",
    )
    _add_common(test)
    test.add_argument("--route", metavar="NAME", help="only this route (`notify` is the --notify URLs)")
    test.set_defaults(func=run_test)


def _add_common(parser: argparse.ArgumentParser) -> None:
    add_config_arg(parser)
    add_db_arg(parser)
    add_notify_arg(parser)
    # `factwatch alerts --db X flush` must keep X: a subcommand's unset flag must not overwrite it
    for action in parser._actions:
        if action.dest in ("db", "config"):
            action.default = argparse.SUPPRESS


# ---- factwatch alerts -----------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def collect(store: Any, *, state: str | None = None, limit: int = 0) -> list[dict[str, Any]]:
    """Alerts newest first, with the fields `--json` promises plus a few for the table."""
    from sqlmodel import col, select

    from pipeline.store.models import Alert, AlertDelivery

    with store.session() as session:
        query = select(Alert).order_by(col(Alert.created).desc(), col(Alert.id).desc())
        if state:
            query = query.where(Alert.state == state)
        if limit > 0:
            query = query.limit(limit)
        alerts = session.exec(query).all()
        ids = [a.id for a in alerts]
        routes: dict[int, list[str]] = {}
        if ids:
            for delivery in session.exec(
                select(AlertDelivery).where(col(AlertDelivery.alert_id).in_(ids))
            ).all():
                routes.setdefault(delivery.alert_id, []).append(f"{delivery.route}:{delivery.state}")
    return [
        {
            "id": a.id,
            "event": a.event,
            "fact": a.fact,
            "entity": a.entity,
            "title": a.title,
            "state": a.state,
            "attempts": a.attempts,
            "created": _iso(a.created),
            "_routes": sorted(routes.get(a.id or 0, [])),
            "_next_attempt": _iso(a.next_attempt),
            "_last_error": a.last_error,
        }
        for a in alerts
    ]


def run(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        alerts = collect(store, state=args.state, limit=args.limit)
    finally:
        store.close()
    if args.json:
        print_json({"alerts": [{k: v for k, v in a.items() if not k.startswith("_")} for a in alerts]})
        return 0
    if not alerts:
        print("No alerts yet.")
        return 0
    rows = [
        [
            a["id"],
            (a["created"] or "")[:16].replace("T", " "),
            a["event"],
            a["state"],
            a["attempts"],
            " ".join(a["_routes"]),
            a["title"],
        ]
        for a in alerts
    ]
    print_table(
        ["id", "created", "event", "state", "tries", "routes", "title"],
        rows,
        widths=[8, 16, 16, 9, 5, 30, 70],
    )
    problems = [a for a in alerts if a["state"] != "delivered" and a["_last_error"]]
    for a in problems[:10]:
        retry = f", next try {a['_next_attempt'][:16].replace('T', ' ')}" if a["_next_attempt"] else ""
        print(f"  #{a['id']} {a['state']}{retry}: {a['_last_error']}")
    return 0


# ---- factwatch alerts flush / test ----------------------------------------------------------------------


def make_dispatcher(args: argparse.Namespace, store: Any) -> Any:
    from alerts.deliver import Dispatcher

    config = load_app_config(args)
    return Dispatcher(store, config.routes, config.alerts, resolve_notify(getattr(args, "notify", None)))


def run_flush(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        dispatcher = make_dispatcher(args, store)
        if not dispatcher.routes:
            raise UserError(
                "no alert routes: add `routes:` to the config or pass --notify URL (FACTWATCH_NOTIFY)"
            )
        report = dispatcher.deliver_pending(force=True)
    finally:
        store.close()
    if getattr(args, "json", False):
        print_json(report.as_dict())
    else:
        print(
            f"alerts: {report.delivered} delivered, {report.failed} failed (will retry), "
            f"{report.gave_up} gave up, {report.digests} digests, {report.waiting} busy elsewhere"
        )
        for error in report.errors[:20]:
            print(f"  {error}")
    sys.stdout.flush()
    return 1 if report.failed or report.gave_up else 0


def sample_payload(topic: str | None = None) -> dict[str, Any]:
    """A made-up alert that exercises every field a template can use."""
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "topic": topic,
        "fact": "sample_fact",
        "entity": None,
        "old_value": 100,
        "new_value": 120,
        "evidence": "This is a test message from factwatch; no fact has changed.",
        "url": "https://example.org/factwatch-test",
        "publisher": "factwatch",
        "published": now.isoformat(),
        "independent_sources": 2,
        "history": [
            {
                "value": 100,
                "published": "2025-01-01",
                "url": "https://example.org/a",
                "publisher": "Example A",
            },
            {
                "value": 120,
                "published": now.date().isoformat(),
                "url": "https://example.org/b",
                "publisher": "B",
            },
        ],
        "tags": [],
    }


def run_test(args: argparse.Namespace) -> int:
    from alerts.deliver import build_routes, send_test
    from alerts.render import Message, render_alert

    config = load_app_config(args)
    available = build_routes(config.routes, resolve_notify(getattr(args, "notify", None)))
    routes = [r for r in available if not args.route or r.name == args.route]
    if args.route and not routes:
        known = ", ".join(r.name for r in available) or "none"
        raise UserError(f"--route {args.route!r}: no such route with URLs (known: {known})")
    if not routes:
        raise UserError(
            "no alert routes: add `routes:` to the config or pass --notify URL (FACTWATCH_NOTIFY)"
        )
    failures = 0
    payload = sample_payload(config.topic.name)
    for route in routes:
        rendered = render_alert(
            "change",
            payload,
            fmt=route.config.format,
            title_template=route.config.title_template,
            body_template=route.config.body_template,
            history_url=config.alerts.history_url,
        )
        message = Message(title=f"[test] {rendered.title}", body=rendered.body, format=rendered.format)
        for shown, ok, error in send_test(route, message, config.alerts):
            failures += 0 if ok else 1
            print(f"{route.name}  {shown}  {'ok' if ok else 'FAILED: ' + (error or 'unknown error')}")
    sys.stdout.flush()
    return 1 if failures else 0
