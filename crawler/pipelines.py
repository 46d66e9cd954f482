"""Item pipelines: the thin adapter between Scrapy and pipeline.process.Processor.

1. ProcessPagePipeline (300) hands the page to the Processor in a worker thread (extraction is CPU work
   and the Processor commits to the database), so the reactor keeps downloading meanwhile.
2. RecordOutcomePipeline (400) remembers the fetch in the store (validators, revisit schedule), counts the
   outcome, and records a rejected page as a bad response of its source.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Self

from scrapy.crawler import Crawler

from crawler.context import CrawlContext
from crawler.items import PageItem
from crawler.state import Fetch

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
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        context = _context(self.crawler)
        item.outcome = await asyncio.to_thread(self._process, context, item)
        return item

    @staticmethod
    def _process(context: CrawlContext, item: PageItem) -> Any:
        try:
            return context.processor.process_page(item.page)
        except Exception as exc:  # a page that breaks the processor must not break the crawl
            logger.exception("processing %s failed", item.url)
            from types import SimpleNamespace

            return SimpleNamespace(url=item.url, status="rejected", reason=f"processing failed: {exc}")


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
