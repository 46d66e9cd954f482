"""The daemon's loop in-process, with a stand-in crawl: what happens at stop, at start, on lease loss."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import select

from config.loader import load_config
from crawler.config import Schedule, SourceConfig
from factwatch.daemon import Daemon, DaemonOptions
from pipeline.store import Store
from pipeline.store.ops_models import DaemonLease, SourceRun

CONFIG = load_config()


class Dispatcher:
    def __init__(self) -> None:
        self.calls = 0

    def deliver_pending(self) -> None:
        self.calls += 1


def report(pages: int = 1) -> SimpleNamespace:
    return SimpleNamespace(
        pages=pages, outcomes={"new": pages}, errors=[], sources={}, close_reason="finished"
    )


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store.open(db_url)
    yield store
    store.close()


def make_daemon(store: Store, crawl: Any, *, every: str = "1h", **options: Any) -> tuple[Daemon, Dispatcher]:
    source = SourceConfig(
        name="feed", url="http://127.0.0.1:9/feed.xml", schedule=Schedule(every=every, jitter=None)
    )
    dispatcher = Dispatcher()
    opts = DaemonOptions(config=CONFIG, sources=[source], startup_delay=0.05, **options)
    daemon = Daemon(store, opts, crawl=crawl, processor=object(), dispatcher=dispatcher)
    return daemon, dispatcher


def runs(store: Store) -> list[SourceRun]:
    with store.session() as session:
        return list(session.exec(select(SourceRun).order_by(SourceRun.id)).all())  # type: ignore[arg-type]


def serve(daemon: Daemon) -> int:
    daemon.open()
    try:
        return asyncio.run(asyncio.wait_for(daemon.serve(), timeout=30))
    finally:
        daemon.lease.release()
        daemon._heartbeat_stop.set()


def test_stop_lets_the_crawl_in_flight_finish_and_flushes_alerts(store: Store) -> None:
    seen: list[dict[str, Any]] = []

    async def crawl(**kwargs: Any) -> SimpleNamespace:
        seen.append(kwargs)
        daemon.request_stop("test")  # SIGTERM arrives mid-crawl
        await asyncio.sleep(0.3)
        return report(2)

    daemon, dispatcher = make_daemon(store, crawl)
    assert serve(daemon) == 0
    assert [s.name for s in seen[0]["sources"]] == ["feed"]
    [run] = runs(store)
    assert (run.status, run.trigger, run.pages, run.new_articles) == ("ok", "startup", 2, 2)
    assert run.finished is not None
    assert dispatcher.calls >= 1  # the outbox was flushed on the way out
    assert not daemon.health()[0]  # stopping: unhealthy for the orchestrator


def test_crawl_past_the_grace_period_is_cancelled_and_recorded(store: Store) -> None:
    async def crawl(**kwargs: Any) -> SimpleNamespace:
        daemon.request_stop("test")
        await asyncio.sleep(60)
        return report()

    daemon, _ = make_daemon(store, crawl, shutdown_grace=0.2, cancel_grace=1.0)
    assert serve(daemon) == 0
    [run] = runs(store)
    assert run.status == "cancelled" and "test" in (run.message or "")


def test_failing_crawl_is_recorded_and_the_daemon_keeps_going(store: Store) -> None:
    calls = 0

    async def crawl(**kwargs: Any) -> SimpleNamespace:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("feed unreachable")
        daemon.request_stop("test")
        return report()

    daemon, _ = make_daemon(store, crawl, every="1s")
    assert serve(daemon) == 0
    statuses = [(r.status, r.message) for r in runs(store)]
    assert statuses[0] == ("error", "ConnectionError: feed unreachable")
    assert statuses[1][0] == "ok"


def test_recent_run_is_not_repeated_at_start_and_stale_runs_are_marked(store: Store) -> None:
    now = datetime.now(UTC)
    with store.session() as session:
        session.add(SourceRun(source="feed", started=now - timedelta(minutes=5), status="ok"))
        session.add(SourceRun(source="feed", started=now - timedelta(minutes=1), status="running"))
        session.commit()

    async def crawl(**kwargs: Any) -> SimpleNamespace:
        raise AssertionError("crawled although the last run was 5 minutes ago and the schedule is 1h")

    daemon, _ = make_daemon(store, crawl)
    daemon.open()
    try:

        async def main() -> int:
            asyncio.get_running_loop().call_later(1.5, daemon.request_stop, "test")
            return await daemon.serve()

        assert asyncio.run(main()) == 0
        job = daemon.scheduler.get_job("crawl:feed") if daemon.scheduler else None
        assert job is None or job.next_run_time is None or job.next_run_time > now + timedelta(minutes=50)
    finally:
        daemon.lease.release()
        daemon._heartbeat_stop.set()
    assert [r.status for r in runs(store)] == ["ok", "interrupted"]


def test_losing_the_lease_stops_the_daemon_with_status_1(store: Store) -> None:
    async def crawl(**kwargs: Any) -> SimpleNamespace:
        return report()

    daemon, _ = make_daemon(store, crawl, lease_ttl=0.6)
    daemon.open()
    with store.session() as session:
        row = session.get(DaemonLease, "daemon")
        assert row is not None
        row.holder = "someone-else"
        session.add(row)
        session.commit()
    try:
        assert asyncio.run(asyncio.wait_for(daemon.serve(), timeout=20)) == 1
    finally:
        daemon._heartbeat_stop.set()
