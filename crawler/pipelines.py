"""Item pipelines: the thin adapter between Scrapy and pipeline.process.Processor.

1. ProcessPagePipeline (300) sends the page's pure half (cleaning, fingerprint, facts) to the Processor's
   page worker processes and commits the result in a thread; without workers the whole page is
   processed in a thread. Either way the reactor keeps downloading meanwhile.
2. RecordOutcomePipeline (400) remembers the fetch in the store (validators, revisit schedule), counts the
   outcome, and records a rejected page as a bad response of its source.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.context import CrawlContext
from crawler.items import PageItem
from crawler.state import HUB_OUTCOME, Fetch

logger = logging.getLogger(__name__)


def _context(crawler: Crawler) -> CrawlContext:
    context = getattr(crawler.spider, "context", None)
    if context is None:
        raise RuntimeError(
            "factwatch item pipelines need a spider with a CrawlContext (crawler.runner.crawl)"
        )
    return context


def _published_of(context: CrawlContext, article_id: int | None) -> datetime | None:
    """The publication date the Processor found, so the revisit schedule counts from the right moment."""
    if article_id is None:
        return None
    from pipeline.store.models import Article

    try:
        with context.store.session() as session:
            article = session.get(Article, article_id)
            return article.published if article is not None else None
    except Exception:
        logger.debug("could not read article %s", article_id, exc_info=True)
        return None


class ProcessPagePipeline:
    """Setting FACTWATCH_PROCESS_THREADS: threads for commits, or whole pages without workers (default 2).

    Extraction is CPU work under the GIL, so more threads mostly add switching; two keep one page's
    database commit overlapping the next page's extraction. Page worker processes are the Processor's
    (crawl.process_workers).
    """

    def __init__(self, crawler: Crawler, threads: int = 2) -> None:
        self.crawler = crawler
        self.executor = ThreadPoolExecutor(
            max_workers=max(threads, 1), thread_name_prefix="factwatch-process"
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler, crawler.settings.getint("FACTWATCH_PROCESS_THREADS", 2))
        crawler.signals.connect(pipeline.close, signal=signals.spider_closed)
        return pipeline

    def close(self) -> None:
        self.executor.shutdown(wait=True)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        context = _context(self.crawler)
        loop = asyncio.get_running_loop()
        prepare = getattr(context.processor, "prepare_async", None)
        # The pure half (cleaning, fingerprint, facts) runs in a worker process when there is one;
        # only the database half comes back to a thread of this process.
        future = prepare(item.page) if prepare is not None else None
        if future is None:
            item.outcome = await loop.run_in_executor(self.executor, self._process, context, item)
            return item
        try:
            prepared = await asyncio.wrap_future(future)
        except Exception as exc:
            item.outcome = self._failed(item, exc)
            return item
        item.outcome = await loop.run_in_executor(self.executor, self._commit, context, item, prepared)
        return item

    @staticmethod
    def _failed(item: PageItem, exc: BaseException) -> Any:
        from types import SimpleNamespace

        logger.error("processing %s failed: %s: %s", item.url, type(exc).__name__, exc)
        return SimpleNamespace(url=item.url, status="rejected", reason=f"processing failed: {exc}")

    @classmethod
    def _commit(cls, context: CrawlContext, item: PageItem, prepared: Any) -> Any:
        try:
            return context.processor.commit(prepared)  # type: ignore[attr-defined]
        except Exception as exc:  # a page that breaks the processor must not break the crawl
            logger.exception("processing %s failed", item.url)
            return cls._failed(item, exc)

    @classmethod
    def _process(cls, context: CrawlContext, item: PageItem) -> Any:
        try:
            return context.processor.process_page(item.page)
        except Exception as exc:  # a page that breaks the processor must not break the crawl
            logger.exception("processing %s failed", item.url)
            return cls._failed(item, exc)


class RecordOutcomePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem) or item.outcome is None:
            return item
        await asyncio.to_thread(self._record, _context(self.crawler), item)
        return item

    @staticmethod
    def _record(context: CrawlContext, item: PageItem) -> None:
        status = str(getattr(item.outcome, "status", "rejected"))
        reason = str(getattr(item.outcome, "reason", ""))
        if status == "rejected" and item.hub:
            # A section page followed for its links: expected to hold no article.
            status = HUB_OUTCOME
        context.record_outcome(item.source, status)
        if status == "rejected":
            context.record_bad(
                url=item.url,
                source=item.source,
                kind="rejected",
                reason=reason or "not an article",
                status=item.page.status,
            )
        published = item.page.hint_published or _published_of(
            context, getattr(item.outcome, "article_id", None)
        )
        context.remember_fetch(
            Fetch(
                url=item.url,
                source=item.source,
                role="article",
                outcome=status,
                status=item.page.status,
                etag=item.etag,
                last_modified=item.last_modified,
                source_lastmod=item.source_lastmod,
                published=published,
                revisit=item.revisit,
                now=item.page.fetched_at,
            )
        )
