"""Run one crawl: `await crawl(...)` inside a running asyncio reactor, or `crawl_blocking(...)` once.

The Processor and the Store reach Scrapy's components through a CrawlContext passed to the spider as its
`context` keyword (see crawler.context); settings come from crawler.settings.build_settings.

A Twisted reactor cannot be restarted, so `crawl_blocking` works once per process. A daemon installs the
asyncio reactor once and awaits `crawl` as often as it likes; tests run each scenario in a subprocess.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from crawler.config import SourceConfig
from crawler.context import CrawlContext, CrawlReport, PageProcessor, SourceRun
from crawler.settings import ASYNCIO_REACTOR, build_settings

T = TypeVar("T")

if TYPE_CHECKING:
    from config.models import AppConfig
    from pipeline.store import Store

logger = logging.getLogger(__name__)

__all__ = ["CrawlReport", "SourceRun", "crawl", "crawl_blocking"]


async def crawl(
    *,
    config: AppConfig,
    processor: PageProcessor,
    store: Store,
    sources: list[SourceConfig] | None = None,
    extra_settings: dict[str, Any] | None = None,
    archive_dir: Path | None = None,
) -> CrawlReport:
    """Crawl the sources once (config.sources when None; disabled ones skipped) plus due revisits."""
    from scrapy.crawler import AsyncCrawlerRunner
    from scrapy.settings import Settings

    from crawler.spiders.news import NewsSpider

    chosen = [source for source in (config.sources if sources is None else sources) if source.enabled]
    context = CrawlContext(config=config, processor=processor, store=store, sources=chosen)
    settings = build_settings(config.crawl, chosen, archive_dir=archive_dir, extra=extra_settings)
    started = time.monotonic()
    runner = AsyncCrawlerRunner(Settings(settings))
    _active_runners.add(runner)
    try:
        await runner.crawl(NewsSpider, context=context)
    finally:
        _active_runners.discard(runner)
        context.report.seconds = time.monotonic() - started
        await asyncio.to_thread(finish, context)
    logger.info("%s", context.report.summary())
    return context.report


def finish(context: CrawlContext) -> None:
    """After the spider closed: keep root validators (only after a clean finish) and update source health."""
    report = context.report
    state = context.state
    context.flush_fetches()
    if report.close_reason == "finished":
        for url, info in context.pending_roots.items():
            try:
                state.record_fetch(
                    url=url,
                    source=info["source"],
                    role=info["role"],
                    outcome="fetched",
                    status=info["status"],
                    etag=info["etag"],
                    last_modified=info["last_modified"],
                )
            except Exception:
                logger.exception("could not remember validators of %s", url)
    for run in report.sources.values():
        error = run.error
        if error is None and not run.fetched:
            if report.close_reason != "finished":
                # Stopped (daemon shutdown) before this source answered: no news about its health.
                logger.info("source %s not reached before the crawl stopped", run.name)
                continue
            error = "no answer from the source"
            run.error = error
        try:
            state.update_health(
                name=run.name,
                url=run.url,
                kind=run.kind,
                error=error,
                pages=run.pages,
                new_items=run.new,
                bad_responses=run.bad,
                last_new_item=run.last_new_item,
            )
        except Exception:
            logger.exception("could not update the health of source %s", run.name)
            continue
        _notify_health(context, run)


def _notify_health(context: CrawlContext, run: SourceRun) -> None:
    """Hand the run to alerts.health, which applies the alert policy (error, recovery, silence)."""
    try:
        from alerts.health import record_source_result
    except ImportError:
        logger.debug("alerts.health is not available; no source health alerts")
        return
    try:
        with context.store.session() as session:
            record_source_result(
                session,
                run.name,
                ok=run.error is None,
                error=run.error,
                new_items=run.new,
                settings=context.config.alerts,
                url=run.url,
                topic=context.config.topic.name,
            )
            session.commit()
    except Exception:
        logger.exception("alerts.health failed for source %s", run.name)


class CrawlInterrupted(KeyboardInterrupt):
    """The reactor was stopped (a second signal) before the crawl returned its report: the CLI says
    "interrupted" and exits 130, as for Ctrl-C."""


# Runners of the crawls in flight in this process, so a signal can stop them at a safe point.
_active_runners: set[Any] = set()


async def stop_active_crawls() -> int:
    """Ask every crawl in flight to stop gracefully: pages in flight finish, nothing is half-stored."""
    runners = list(_active_runners)
    for runner in runners:
        await runner.stop()
    return len(runners)


def _install_stop_signals(reactor: Any) -> None:
    """First SIGTERM/SIGINT: stop crawling at a safe point and let the command finish (alerts are still
    delivered); a second one: stop the reactor at once. Each page is its own transaction either way."""
    import signal

    from scrapy.utils.defer import deferred_from_coro

    received: list[int] = []

    def handler(signum: int, _frame: Any) -> None:
        received.append(signum)
        if len(received) == 1:
            logger.warning(
                "%s received: stopping the crawl at a safe point (again to stop now)",
                signal.Signals(signum).name,
            )
            reactor.callFromThread(lambda: deferred_from_coro(stop_active_crawls()))
        else:
            reactor.callFromThread(reactor.stop)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)


def run_once_in_reactor(make: Callable[[], Awaitable[T]], what: str) -> T:
    """Install the asyncio reactor, await one coroutine in it, stop. Once per process: a Twisted reactor
    cannot restart, so long-lived callers (the daemon, tests crawling twice) await inside one reactor."""
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.reactor import install_reactor, is_asyncio_reactor_installed, is_reactor_installed

    if is_reactor_installed():
        if not is_asyncio_reactor_installed():
            raise RuntimeError(
                "a non-asyncio Twisted reactor is installed; factwatch needs " + ASYNCIO_REACTOR
            )
    else:
        install_reactor(ASYNCIO_REACTOR)
    from twisted.internet import reactor as installed

    reactor: Any = installed  # the interfaces do not describe run(installSignalHandlers=...)
    if reactor.running:
        raise RuntimeError(f"{what} called inside a running reactor; await it instead")
    if getattr(reactor, "_startedBefore", False):
        raise RuntimeError(
            f"{what} runs once per process (a Twisted reactor cannot restart); "
            "run further crawls with `await crawl()` inside one reactor, or in a new process"
        )
    outcome: dict[str, Any] = {}

    async def main() -> None:
        try:
            outcome["result"] = await make()
        except BaseException as exc:  # re-raised below, outside the reactor
            outcome["error"] = exc

    deferred = deferred_from_coro(main())
    deferred.addBoth(lambda _: reactor.callLater(0, reactor.stop))
    if threading.current_thread() is threading.main_thread():
        _install_stop_signals(reactor)
    reactor.run(installSignalHandlers=False)
    if "error" in outcome:
        raise outcome["error"]
    if "result" not in outcome:
        raise CrawlInterrupted(f"{what} was stopped before it finished; pages already processed are stored")
    result: T = outcome["result"]
    return result


def crawl_blocking(**kwargs: Any) -> CrawlReport:
    """Install the asyncio reactor, run one crawl, stop. Once per process (reactors do not restart)."""
    return run_once_in_reactor(lambda: crawl(**kwargs), "crawl_blocking")
