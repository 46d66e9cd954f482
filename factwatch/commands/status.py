"""`factwatch status`: is the daemon alive, what did each source's last crawl do, what waits to go out."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factwatch.commands.common import (
    add_config_arg,
    add_db_arg,
    add_json_arg,
    load_app_config,
    open_store,
    print_json,
    print_table,
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="daemon, sources, last runs, pending alerts, database size",
        description="Show whether a daemon holds this database, each source's last crawl and next run, "
        "alerts waiting for delivery, and the database's size.",
    )
    add_config_arg(parser)
    add_db_arg(parser)
    add_json_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_app_config(args)
    store = open_store(args)
    try:
        report = collect_status(store, config.sources)
    finally:
        store.close()
    if args.json:
        print_json(report)
    else:
        print_status(report)
    return 0


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def collect_status(store: Any, sources: list[Any], now: datetime | None = None) -> dict[str, Any]:
    """Everything `status` shows, as one JSON-ready dict (also what tests and scripts read)."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from factwatch.daemon.lease import read_lease
    from factwatch.daemon.schedule import last_completed_runs, plan_source
    from pipeline.store.models import Alert, Article
    from pipeline.store.ops_models import SourceRun

    now = now or datetime.now(UTC)
    lease = read_lease(store)
    daemon: dict[str, Any] = {"running": False}
    if lease is not None:
        daemon = {
            "running": lease.expires > now,
            "pid": lease.pid,
            "host": lease.host,
            "version": lease.version,
            "since": _iso(lease.acquired),
            "heartbeat": _iso(lease.heartbeat),
            "heartbeat_age_seconds": round((now - lease.heartbeat).total_seconds(), 1),
            "expires": _iso(lease.expires),
        }
    with store.session() as session:
        alert_counts = dict(
            session.exec(select(Alert.state, func.count()).group_by(col(Alert.state))).all()  # type: ignore[call-overload]
        )
        articles = session.exec(select(func.count()).select_from(Article)).one()
        latest_ids = select(func.max(SourceRun.id).label("id")).group_by(col(SourceRun.source)).subquery()
        latest = session.exec(select(SourceRun).join(latest_ids, col(SourceRun.id) == latest_ids.c.id)).all()
    last_runs = {run.source: run for run in latest}
    completed = last_completed_runs(store)
    rows = []
    names = [s.name for s in sources] + sorted(set(last_runs) - {s.name for s in sources})
    by_name = {s.name: s for s in sources}
    for name in names:
        source = by_name.get(name)
        run = last_runs.get(name)
        schedule = next_due = None
        if source is not None:
            try:
                plan = plan_source(source)
            except Exception as exc:
                schedule = f"invalid: {exc}"
            else:
                schedule = plan.describe()
                last = completed.get(name)
                due = plan.next_after(last) if last else None
                next_due = _iso(max(due, now)) if due else "soon"
                if not source.enabled:
                    schedule, next_due = "disabled", None
        rows.append(
            {
                "name": name,
                "url": source.url if source is not None else (run.url if run else None),
                "schedule": schedule,
                "next_due": next_due,
                "last_run": None
                if run is None
                else {
                    "started": _iso(run.started),
                    "finished": _iso(run.finished),
                    "status": run.status,
                    "trigger": run.trigger,
                    "pages": run.pages,
                    "new_articles": run.new_articles,
                    "events": run.events,
                    "errors": run.errors,
                    "message": run.message,
                },
            }
        )
    return {
        "daemon": daemon,
        "sources": rows,
        "alerts": {state: int(alert_counts.get(state, 0)) for state in ("pending", "failed", "delivered")},
        "database": {"dialect": store.dialect, "size_bytes": database_size(store), "articles": int(articles)},
    }


def database_size(store: Any) -> int | None:
    """Bytes on disk: the SQLite file with its WAL, or PostgreSQL's pg_database_size."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    if store.dialect == "sqlite":
        database = make_url(store.url).database
        if not database or database == ":memory:":
            return None
        path = Path(database).expanduser()
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    return None


def _size(n: int | None) -> str:
    if n is None:
        return "unknown size"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def print_status(report: dict[str, Any]) -> None:
    daemon = report["daemon"]
    if daemon["running"]:
        print(
            f"daemon: running, pid {daemon['pid']} on {daemon['host']} since {daemon['since']}, "
            f"last heartbeat {daemon['heartbeat_age_seconds']:.0f}s ago"
        )
    elif "pid" in daemon:
        who = f"pid {daemon['pid']} on {daemon['host']}"
        print(f"daemon: not responding ({who}, lease expired {daemon['expires']})")
    else:
        print("daemon: not running")
    db = report["database"]
    print(f"database: {db['dialect']}, {_size(db['size_bytes'])}, {db['articles']} article(s)")
    alerts = report["alerts"]
    print(f"alerts: {alerts['pending']} pending, {alerts['failed']} failed, {alerts['delivered']} delivered")
    if not report["sources"]:
        print("sources: none configured")
        return
    print()
    rows = []
    for source in report["sources"]:
        run = source["last_run"] or {}
        rows.append(
            [
                source["name"],
                source["schedule"] or "-",
                run.get("started") or "never",
                run.get("status") or "-",
                run.get("pages", "-"),
                run.get("new_articles", "-"),
                source["next_due"] or "-",
                run.get("message") or "",
            ]
        )
    print_table(
        ["source", "schedule", "last run", "status", "pages", "new", "next due", "message"],
        rows,
        widths=[30, 16, 25, 11, 6, 5, 25, 50],
    )
