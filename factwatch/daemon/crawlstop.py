"""Lets the daemon stop a crawl in flight at a safe point: Scrapy's graceful `Crawler.stop_async()`.

`crawler.runner.crawl` builds its own AsyncCrawlerRunner, so the daemon cannot reach the Crawler object;
this extension, added through `extra_settings`, registers each crawler under the token the daemon chose.
A graceful stop lets downloads in flight and items in the pipeline finish (each page is one transaction
in the Processor), and `crawl()` then returns its report normally; cancelling the asyncio task instead
would leave Scrapy's engine running with nobody awaiting it.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals

logger = logging.getLogger(__name__)

TOKEN_SETTING = "FACTWATCH_STOP_TOKEN"
EXTENSION_PATH = "factwatch.daemon.crawlstop.CrawlRegistry"

_crawlers: dict[str, list[Any]] = {}


def extra_settings(token: str) -> dict[str, Any]:
    return {"EXTENSIONS": {EXTENSION_PATH: 0}, TOKEN_SETTING: token}


def crawlers_for(token: str) -> list[Any]:
    return list(_crawlers.get(token, ()))


async def stop(token: str) -> int:
    """Ask every crawler of this token to stop gracefully; returns how many were asked."""
    crawlers = crawlers_for(token)
    for crawler in crawlers:
        logger.info("stopping crawl %s at a safe point", token)
        await crawler.stop_async()
    return len(crawlers)


class CrawlRegistry:
    """Scrapy extension: keeps the crawler findable by its token while it runs."""

    def __init__(self, crawler: Any, token: str) -> None:
        self.crawler = crawler
        self.token = token

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlRegistry:
        token = crawler.settings.get(TOKEN_SETTING)
        ext = cls(crawler, token or "")
        if token:
            _crawlers.setdefault(token, []).append(crawler)
            crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self) -> None:
        registered = _crawlers.get(self.token, [])
        if self.crawler in registered:
            registered.remove(self.crawler)
        if not registered:
            _crawlers.pop(self.token, None)


def forget(token: str) -> None:
    """Drop a token whose crawl ended without closing its spider (a crawl that failed to start)."""
    _crawlers.pop(token, None)
