"""The daemon: every source on its schedule, alerts delivered, clean stop, one instance per database.

One process, one event loop. APScheduler's AsyncIOScheduler and Scrapy share the asyncio loop through
Twisted's AsyncioSelectorReactor, and each source's job awaits `crawler.runner.crawl(...)` in-process.

Why in-process and not one subprocess per crawl (measured 2026-11 on the 2-vCPU development VM with
a loopback site, bench/daemon_memory.py and a `factwatch run` child timed per crawl):
- start-up: a child per crawl took 4.7-10.8 s wall for a 3-article feed (2.0 s of it imports alone:
  Scrapy, Twisted, trafilatura, lxml; then migrations check, Processor and dedup index rebuilt from the
  store, which grows with the archive), and peaked at 185-190 MB each time. In the daemon a repeat
  crawl of an unchanged feed takes 0.05-0.1 s and a crawl with new articles ~1-2.5 s.
- memory: the in-process daemon stays flat: 189 MB after cycle 5, 191 MB after cycle 50 (ratio 1.01,
  150 new articles), with trafilatura's caches reset after each crawl. The usual reason for children —
  leaks piling up in a long-lived process — does not show, and one resident process of that size is
  cheaper than a daemon plus a child of the same size.
- control: stopping a crawl at a safe point is Scrapy's graceful `Crawler.stop_async()` (see
  crawlstop.py), and the Processor's lock serialises writes, instead of signals and exit codes.
Scaling out beyond one machine is a different question (Scrapyd nodes + PostgreSQL; see the README).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, update
from sqlmodel import col

from crawler.config import SourceConfig
from factwatch.daemon.lease import DEFAULT_TTL_SECONDS, Lease, LeaseLost
from factwatch.daemon.schedule import SourcePlan, first_run_time, last_completed_runs, plan_sources
from factwatch.health import DEFAULT_HEALTH_HOST, HealthServer
from pipeline.store import Store, redact_url
from pipeline.store.ops_models import (
    RUN_CANCELLED,
    RUN_ERROR,
    RUN_INTERRUPTED,
    RUN_OK,
    RUN_RUNNING,
    SourceRun,
)

logger = logging.getLogger(__name__)

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
ALERTS_JOB = "alerts:deliver"
PRUNE_JOB = "maintenance:prune-runs"

CrawlFn = Callable[..., Awaitable[Any]]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class DaemonOptions:
    """Everything the daemon needs besides the store; the CLI fills it from flags, env and config."""

    config: Any  # config.models.AppConfig
    sources: list[SourceConfig]
    notify: list[str] = field(default_factory=list)
    archive_dir: Path | None = None
    health_host: str = DEFAULT_HEALTH_HOST
    health_port: int | None = None
    alerts_every: float = 30.0
    lease_ttl: float = DEFAULT_TTL_SECONDS
    shutdown_grace: float = 20.0  # how long a crawl in flight may take to finish after SIGTERM
    cancel_grace: float = 5.0  # after asking a crawl to stop (then after cancelling it), how long to wait
    stale_loop_seconds: float = 30.0  # health turns 503 when the loop has not ticked for this long
    history_days: int = 90  # source_run rows older than this are pruned daily
    startup_delay: float = 1.0  # an overdue source's first crawl waits this long after start


class Daemon:
    """Runs the schedule until `request_stop()`: `open()` takes the lease, `serve()` runs, `close()` tidies.

    `crawl`, `processor` and `dispatcher` are seams for tests; by default they are the real
    `crawler.runner.crawl`, `pipeline.process.Processor` and `alerts.deliver.Dispatcher`.
    """

    def __init__(
        self,
        store: Store,
        options: DaemonOptions,
        *,
        crawl: CrawlFn | None = None,
        processor: Any = None,
        dispatcher: Any = None,
    ) -> None:
        self.store = store
        self.options = options
        self.plans: list[SourcePlan] = plan_sources(options.sources)  # bad schedules fail before the lease
        self.lease = Lease(store, ttl=options.lease_ttl)
        self._crawl = crawl
        self.processor = processor
        self.dispatcher = dispatcher
        self.scheduler: AsyncIOScheduler | None = None
        self.health_server: HealthServer | None = None
        self.cycles = 0  # crawls finished (any outcome) since start
        self.exit_code = 0
        self._stop_reason: str | None = None
        self._stop_event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._tokens: dict[str, str] = {}  # source name -> token its crawler registered under
        self._real_crawler = False  # Scrapy crawls (not a test's stand-in) can be stopped gracefully
        self._overdue: set[str] = set()
        self._deliver_lock: asyncio.Lock | None = None
        self._tick = time.monotonic()
        self._store_ok_at = 0.0
        self._heartbeat_stop = threading.Event()
        self._heartbeat_thread: threading.Thread | None = None
        self._signals = 0
        self._started_at = _now()

    # -- lifecycle -------------------------------------------------------------------------------------

    def open(self) -> None:
        """Take the lease (LeaseHeld if another daemon runs) and tidy what a dead predecessor left."""
        self.lease.acquire()
        self._store_ok_at = time.monotonic()
        interrupted = self._mark_interrupted_runs()
        if interrupted:
            logger.warning(
                "%s crawl(s) of a previous daemon were interrupted; their sources run again soon", interrupted
            )
        if self.processor is None:
            from pipeline.process import Processor

            self.processor = Processor(self.store, self.options.config)
        if self.dispatcher is None:
            from alerts.deliver import Dispatcher

            self.dispatcher = Dispatcher(
                self.store, self.options.config.routes, self.options.config.alerts, self.options.notify
            )
        if self.options.health_port is not None:
            self.health_server = HealthServer(
                self.health, host=self.options.health_host, port=self.options.health_port
            ).start()
        self._heartbeat_thread = threading.Thread(target=self._heartbeat, name="lease-heartbeat", daemon=True)
        self._heartbeat_thread.start()

    def close(self) -> None:
        self._heartbeat_stop.set()
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join(timeout=5)
        if self.health_server is not None:
            self.health_server.stop()
        close_processor = getattr(self.processor, "close", None)
        if close_processor is not None:
            close_processor()
        self.lease.release()
        self.store.close()

    async def serve(self) -> int:
        """Run until stopped; returns the exit status (0 after SIGTERM/SIGINT, 1 if the lease was lost)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stop_event = asyncio.Event()
        self._deliver_lock = asyncio.Lock()
        if self._stop_reason is not None:  # stop requested before the loop ran
            self._stop_event.set()
        self._install_signal_handlers(loop)
        if self._crawl is None:
            from crawler.runner import crawl

            self._crawl = crawl
            self._real_crawler = True
        ticker = loop.create_task(self._ticker())
        scheduler = self._build_scheduler(loop)
        self.scheduler = scheduler
        scheduler.start()
        logger.info(
            "daemon started: %s source(s) on %s, pid %s",
            len(self.plans),
            redact_url(self.store.url),
            os.getpid(),
        )
        try:
            await self._stop_event.wait()
            await self._shutdown(scheduler)
        finally:
            ticker.cancel()
            self._remove_signal_handlers(loop)
        return self.exit_code

    def request_stop(self, reason: str, exit_code: int = 0) -> None:
        """Stop taking new work; the crawl in flight gets `shutdown_grace` seconds to finish."""
        if self._stop_reason is None:
            self._stop_reason = reason
            self.exit_code = exit_code
            logger.info("stopping: %s", reason)
        elif exit_code and not self.exit_code:
            self.exit_code = exit_code
        if self._stop_event is not None:
            self._stop_event.set()

    @property
    def stopping(self) -> bool:
        return self._stop_reason is not None

    # -- scheduling --------------------------------------------------------------------------------------

    def _build_scheduler(self, loop: asyncio.AbstractEventLoop) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(
            event_loop=loop,
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        now = _now()
        last_runs = last_completed_runs(self.store)
        for position, plan in enumerate(self.plans):
            delay = timedelta(seconds=self.options.startup_delay)
            first, overdue = first_run_time(plan, last_runs.get(plan.name), now, position, delay=delay)
            if overdue:
                self._overdue.add(plan.name)
            scheduler.add_job(
                self._crawl_job,
                plan.trigger,
                args=[plan],
                id=plan.job_id,
                name=f"crawl {plan.name}",
                next_run_time=first,
                misfire_grace_time=plan.misfire_grace,
            )
            logger.info(
                "source %s: %s, first run %s%s",
                plan.name,
                plan.describe(),
                first.isoformat(timespec="seconds"),
                " (overdue)" if overdue else "",
            )
        scheduler.add_job(
            self._deliver_job,
            IntervalTrigger(seconds=self.options.alerts_every, timezone=UTC),
            id=ALERTS_JOB,
            name="deliver alerts",
            next_run_time=now + timedelta(seconds=1),
            misfire_grace_time=int(max(self.options.alerts_every, 1)),
        )
        scheduler.add_job(
            self._prune_job,
            IntervalTrigger(days=1, timezone=UTC),
            id=PRUNE_JOB,
            name="prune run history",
            next_run_time=now + timedelta(minutes=5),
            misfire_grace_time=3600,
        )
        return scheduler

    async def _crawl_job(self, plan: SourcePlan) -> None:
        if self.stopping:
            return
        task = asyncio.current_task()
        assert task is not None and self._crawl is not None
        trigger = "startup" if plan.name in self._overdue else "schedule"
        self._overdue.discard(plan.name)
        try:
            run_id = await asyncio.to_thread(self._open_run, plan, trigger)
        except Exception as exc:  # store unreachable: skip this run, the schedule tries again
            logger.error("crawl %s skipped, cannot record the run: %s", plan.name, exc)
            return
        if self.stopping:  # the stop came while the run was being recorded
            self._close_run(run_id, RUN_CANCELLED, f"not started: {self._stop_reason}", None)
            return
        self._running[plan.name] = task
        token = f"{plan.name}#{run_id}"
        self._tokens[plan.name] = token
        status, message, report = RUN_OK, None, None
        started = time.monotonic()
        logger.info("crawl %s: started (%s)", plan.name, trigger)
        try:
            report = await self._crawl(
                config=self.options.config,
                processor=self.processor,
                store=self.store,
                sources=[plan.source],
                archive_dir=self.options.archive_dir,
                extra_settings=self._stop_settings(token),
            )
            status, message = _judge(report, plan.name)
            if self.stopping and getattr(report, "close_reason", None) == "shutdown":
                status, message = RUN_CANCELLED, f"stopped at a safe point: {self._stop_reason}"
        except asyncio.CancelledError:
            status, message = RUN_CANCELLED, f"cancelled: {self._stop_reason or 'stopping'}"
            raise
        except Exception as exc:  # one source failing must never stop the daemon
            status, message = RUN_ERROR, f"{type(exc).__name__}: {exc}"
            logger.error(
                "crawl %s failed: %s", plan.name, message, exc_info=logger.isEnabledFor(logging.DEBUG)
            )
        finally:
            self._running.pop(plan.name, None)
            self._tokens.pop(plan.name, None)
            self._forget_token(token)
            # Recorded synchronously: a cancelled task may not await again.
            self._close_run(run_id, status, message, report)
            self.cycles += 1
            counts = _counts(report)
            logger.info(
                "crawl %s: %s in %.1fs, %s page(s), %s new, %s event(s), %s error(s)%s",
                plan.name,
                status,
                time.monotonic() - started,
                counts["pages"],
                counts["new_articles"],
                counts["events"],
                counts["errors"],
                f" ({message})" if message and status != RUN_OK else "",
            )
            _release_memory()
            self._nudge_delivery()

    async def _deliver_job(self) -> None:
        await self.deliver_alerts()

    async def deliver_alerts(self) -> Any:
        """Send pending alerts in a worker thread; one delivery at a time (the dispatcher backs off)."""
        assert self._deliver_lock is not None
        async with self._deliver_lock:
            try:
                return await asyncio.to_thread(self.dispatcher.deliver_pending)
            except Exception as exc:
                logger.error("alert delivery failed: %s: %s", type(exc).__name__, exc)
                return None

    def _nudge_delivery(self) -> None:
        if self.scheduler is not None and not self.stopping:
            job = self.scheduler.get_job(ALERTS_JOB)
            if job is not None:
                job.modify(next_run_time=_now())

    async def _prune_job(self) -> None:
        await asyncio.to_thread(self._prune_runs)

    # -- shutdown ----------------------------------------------------------------------------------------

    async def _shutdown(self, scheduler: AsyncIOScheduler) -> None:
        # pause() stops new runs without cancelling the ones in flight (shutdown() would cancel them).
        scheduler.pause()
        running = list(self._running.values())
        if running:
            logger.info(
                "waiting up to %.1fs for %s crawl(s) in flight: %s",
                self.options.shutdown_grace,
                len(running),
                ", ".join(self._running),
            )
            _done, pending = await asyncio.wait(running, timeout=self.options.shutdown_grace)
            if pending:
                logger.warning("stopping %s crawl(s) still running at a safe point", len(pending))
                await self._stop_crawls_gracefully()
                _done, pending = await asyncio.wait(pending, timeout=self.options.cancel_grace)
            if pending:
                logger.warning("cancelling %s crawl(s) that did not stop in time", len(pending))
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending, timeout=self.options.cancel_grace)
        # Flush the outbox: what the last crawls produced goes out before we exit.
        try:
            await asyncio.wait_for(self.deliver_alerts(), timeout=max(self.options.shutdown_grace, 5.0))
        except TimeoutError:
            logger.warning("alert delivery still running at exit; pending alerts go out on the next start")
        scheduler.shutdown(wait=False)
        logger.info("daemon stopped after %s crawl(s)", self.cycles)

    def _stop_settings(self, token: str) -> dict[str, Any] | None:
        if not self._real_crawler:
            return None
        from factwatch.daemon import crawlstop

        return crawlstop.extra_settings(token)

    def _forget_token(self, token: str) -> None:
        if self._real_crawler:
            from factwatch.daemon import crawlstop

            crawlstop.forget(token)

    async def _stop_crawls_gracefully(self) -> None:
        """Ask every running crawl to stop at a safe point, all at once, bounded by cancel_grace."""
        if not self._real_crawler or not self._tokens:
            return
        from factwatch.daemon import crawlstop

        stops = [asyncio.ensure_future(crawlstop.stop(token)) for token in list(self._tokens.values())]
        _done, pending = await asyncio.wait(stops, timeout=self.options.cancel_grace)
        if pending:
            logger.warning("%s crawl(s) did not acknowledge the stop in time", len(pending))

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError):  # not the main thread, or not a Unix loop
                return

    def _remove_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                return

    def _on_signal(self, sig: signal.Signals) -> None:
        self._signals += 1
        if self._signals == 1:
            self.request_stop(f"{sig.name} received")
            return
        # A second signal: do not wait for the crawl in flight to finish by itself.
        logger.warning("%s received again: stopping crawls now", sig.name)
        if self._loop is not None and self._running:
            self._loop.create_task(self._stop_crawls_gracefully())

    # -- health ------------------------------------------------------------------------------------------

    async def _ticker(self) -> None:
        while True:
            self._tick = time.monotonic()
            await asyncio.sleep(1.0)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Called from the health server's thread: only reads plain attributes."""
        now = time.monotonic()
        loop_lag = now - self._tick
        scheduler_ok = bool(self.scheduler is not None and self.scheduler.running and not self.stopping)
        loop_ok = loop_lag < self.options.stale_loop_seconds
        # The heartbeat writes the lease row every ttl/3: a recent success proves the store is writable.
        store_ok = now - self._store_ok_at < self.options.lease_ttl
        detail = {
            "scheduler": scheduler_ok,
            "loop_lag_seconds": round(loop_lag, 2),
            "store": store_ok,
            "lease": self.lease.held,
            "crawling": sorted(self._running),
            "crawls_finished": self.cycles,
            "sources": len(self.plans),
            "pid": os.getpid(),
            "started": self._started_at.isoformat(timespec="seconds"),
        }
        if self._stop_reason:
            detail["stopping"] = self._stop_reason
        return scheduler_ok and loop_ok and store_ok and self.lease.held, detail

    def _heartbeat(self) -> None:
        interval = max(self.lease.ttl.total_seconds() / 3, 0.2)
        while not self._heartbeat_stop.wait(interval):
            try:
                self.lease.renew()
                self._store_ok_at = time.monotonic()
            except LeaseLost as exc:
                logger.error("%s; stopping", exc)
                if self._loop is not None:
                    self._loop.call_soon_threadsafe(self.request_stop, "lease lost", 1)
                return
            except Exception as exc:  # database briefly unreachable: keep trying until the lease expires
                logger.warning("lease heartbeat failed: %s: %s", type(exc).__name__, exc)

    # -- run history -------------------------------------------------------------------------------------

    def _mark_interrupted_runs(self) -> int:
        with self.store.engine.begin() as conn:
            result = conn.execute(
                update(SourceRun)
                .where(col(SourceRun.status) == RUN_RUNNING)
                .values(
                    status=RUN_INTERRUPTED,
                    finished=_now(),
                    message="daemon stopped before the crawl finished",
                )
            )
        return int(result.rowcount or 0)

    def _open_run(self, plan: SourcePlan, trigger: str) -> int:
        with self.store.session() as session:
            run = SourceRun(source=plan.name, url=plan.source.url, trigger=trigger, holder=self.lease.token)
            session.add(run)
            session.commit()
            assert run.id is not None
            return run.id

    def _close_run(self, run_id: int, status: str, message: str | None, report: Any) -> None:
        try:
            with self.store.session() as session:
                run = session.get(SourceRun, run_id)
                if run is None:
                    return
                run.status, run.finished = status, _now()
                run.message = (message or None) and message[:2000]
                for name, value in _counts(report).items():
                    setattr(run, name, value)
                session.add(run)
                session.commit()
        except Exception as exc:  # the run stays "running" and is marked interrupted on next start
            logger.error("could not record the end of crawl run %s: %s", run_id, exc)

    def _prune_runs(self) -> None:
        cutoff = _now() - timedelta(days=self.options.history_days)
        with self.store.engine.begin() as conn:
            result = conn.execute(
                delete(SourceRun).where(col(SourceRun.started) < cutoff, col(SourceRun.status) != RUN_RUNNING)
            )
        if result.rowcount:
            logger.info(
                "pruned %s crawl run(s) older than %s days", result.rowcount, self.options.history_days
            )


def _counts(report: Any) -> dict[str, int]:
    if report is None:
        return {"pages": 0, "new_articles": 0, "events": 0, "errors": 0}
    outcomes = getattr(report, "outcomes", None) or {}
    return {
        "pages": int(getattr(report, "pages", 0) or 0),
        "new_articles": int(outcomes.get("new", 0)) + int(outcomes.get("version", 0)),
        "events": int(getattr(report, "events", 0) or 0),
        "errors": len(getattr(report, "errors", None) or ()),
    }


def _judge(report: Any, source: str) -> tuple[str, str | None]:
    """The source's own error (root unreachable, bad feed) fails the run; bad single pages do not."""
    runs = getattr(report, "sources", None) or {}
    run = runs.get(source)
    error = getattr(run, "error", None) if run is not None else None
    if error:
        return RUN_ERROR, str(error)
    errors = getattr(report, "errors", None) or []
    if errors:
        first = errors[0]
        url, reason = first if isinstance(first, tuple) and len(first) == 2 else ("", str(first))
        return RUN_OK, f"{len(errors)} bad response(s), first: {reason} {url}".strip()
    return RUN_OK, None


def _release_memory() -> None:
    """trafilatura (with htmldate, courlan, justext) keeps module-level LRU caches that only grow."""
    try:
        from trafilatura.meta import reset_caches
    except ImportError:  # pragma: no cover - trafilatura is a dependency
        gc.collect()
        return
    # htmldate logs an ERROR on every call when charset_normalizer's functions lack cache_clear (its
    # compiled builds); the other caches are still cleared, so that line is noise here.
    noisy = logging.getLogger("htmldate.meta")
    level = noisy.level
    noisy.setLevel(logging.CRITICAL)
    try:
        reset_caches()  # ends with gc.collect()
    finally:
        noisy.setLevel(level)


# -- running on Scrapy's reactor ---------------------------------------------------------------------------


def install_asyncio_reactor() -> None:
    """Install Twisted's asyncio reactor; must run before anything imports twisted.internet.reactor."""
    from scrapy.utils.reactor import install_reactor, is_asyncio_reactor_installed, is_reactor_installed

    if is_reactor_installed() and not is_asyncio_reactor_installed():
        raise RuntimeError("a non-asyncio Twisted reactor was installed before the daemon started")
    install_reactor(ASYNCIO_REACTOR)


def run_on_reactor(main: Callable[[], Awaitable[int]]) -> int:
    """Run `main()` on the asyncio loop driven by the Twisted reactor, then stop the reactor.

    reactor.run() (not loop.run_until_complete) so Twisted's start-up triggers fire: its thread pool,
    which Scrapy uses for DNS and deferToThread, only starts when the reactor runs.
    """
    install_asyncio_reactor()
    from twisted.internet import reactor as installed

    reactor: Any = installed  # the interfaces Twisted declares do not cover the reactor's real methods

    outcome: dict[str, Any] = {}

    def start() -> None:
        future = asyncio.ensure_future(main())

        def done(fut: asyncio.Future[int]) -> None:
            if fut.cancelled():
                outcome["code"] = 1
            elif fut.exception() is not None:
                outcome["error"] = fut.exception()
            else:
                outcome["code"] = fut.result()
            reactor.callLater(0, reactor.stop)

        future.add_done_callback(done)

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    if "error" in outcome:
        raise outcome["error"]
    return int(outcome.get("code", 1))


def run_daemon(daemon: Daemon) -> int:
    """Open (lease, processor, health), serve on the reactor until stopped, and always clean up."""

    # Until the loop's own handlers are in place, a SIGTERM during start-up still means "stop cleanly".
    def early_stop(signum: int, _frame: Any) -> None:
        daemon.request_stop(f"{signal.Signals(signum).name} received")

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, early_stop)
    try:
        daemon.open()
        return run_on_reactor(daemon.serve)
    finally:
        daemon.close()
