"""Scrapy settings for factwatch: the ordered chains, and politeness derived from the config.

Reading this module tells you the whole flow of a request:

  downloader (process_request, low numbers first; responses travel back high numbers first)
      50  ConditionalRequestMiddleware   If-None-Match / If-Modified-Since from the store
     100  RobotsTxtMiddleware (Scrapy)   robots.txt obeyed when crawl.obey_robots
     500  ResponseGuardMiddleware        non-HTML, oversized, empty, broken encoding -> bad response
     550  BackoffRetryMiddleware         429/5xx/timeouts retried with exponential backoff
     600  RedirectMiddleware (Scrapy)    capped at crawl.max_redirects, so loops end as bad responses
     950  WarcArchiveMiddleware          every exchange to WARC (when FACTWATCH_ARCHIVE_DIR is set)
     960  SourceKindMiddleware           tells feed / sitemap / listing apart for `auto` sources
  spider  crawler.spiders.news.NewsSpider
  items
     300  ProcessPagePipeline            Processor: pure half in page workers, commit in a thread
     400  RecordOutcomePipeline          crawl state, revisit schedule, rejected pages as bad responses
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.config import CrawlSettings, SourceConfig

logger = logging.getLogger(__name__)

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

DOWNLOADER_MIDDLEWARES: dict[str, int | None] = {
    "crawler.middlewares.conditional.ConditionalRequestMiddleware": 50,
    "crawler.middlewares.guard.ResponseGuardMiddleware": 500,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry.BackoffRetryMiddleware": 550,
    "crawler.archive.WarcArchiveMiddleware": 950,
    "crawler.middlewares.sourcekind.SourceKindMiddleware": 960,
}

ITEM_PIPELINES: dict[str, int] = {
    "crawler.pipelines.ProcessPagePipeline": 300,
    "crawler.pipelines.RecordOutcomePipeline": 400,
}

EXTENSIONS: dict[str, int | None] = {
    # Nobody should be able to drive an unattended crawler over a socket.
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
}

RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]


def download_slots(sources: list[SourceConfig], crawl: CrawlSettings) -> dict[str, dict[str, Any]]:
    """Per-host concurrency and delay for sources that override the crawl-wide politeness."""
    slots: dict[str, dict[str, Any]] = {}
    for source in sources:
        if source.concurrency is None and source.download_delay is None:
            continue
        host = urlsplit(source.url).hostname
        if not host:
            continue
        slot = slots.setdefault(host, {})
        slot["concurrency"] = min(
            slot.get("concurrency", 10**6), source.concurrency or crawl.concurrent_per_domain
        )
        delay = source.download_delay if source.download_delay is not None else crawl.download_delay
        slot["delay"] = max(slot.get("delay", 0.0), delay)
        slot["jitter"] = 0.5
    return slots


def build_settings(
    crawl: CrawlSettings,
    sources: list[SourceConfig],
    *,
    archive_dir: Path | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The complete settings dict for one crawl; `extra` is merged last (replay's DOWNLOAD_HANDLERS etc.)."""
    slots = download_slots(sources, crawl)
    settings: dict[str, Any] = {
        "BOT_NAME": "factwatch",
        "TWISTED_REACTOR": ASYNCIO_REACTOR,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "EXTENSIONS": dict(EXTENSIONS),
        "DOWNLOADER_MIDDLEWARES": dict(DOWNLOADER_MIDDLEWARES),
        "ITEM_PIPELINES": dict(ITEM_PIPELINES),
        "USER_AGENT": crawl.full_user_agent(),
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_DELAY_JITTER": 0.5,
        "DOWNLOAD_SLOTS": slots,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 0.5),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrent_per_domain),
        "DOWNLOAD_TIMEOUT": crawl.timeout_seconds,
        "DOWNLOAD_MAXSIZE": crawl.max_body_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": crawl.retries > 0,
        "RETRY_TIMES": crawl.retries,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "FACTWATCH_RETRY_BACKOFF": crawl.retry_backoff_seconds,
        "FACTWATCH_RETRY_BACKOFF_MAX": crawl.retry_backoff_max_seconds,
        "REDIRECT_MAX_TIMES": crawl.max_redirects,
        "COOKIES_ENABLED": False,
        # Items are processed per response; each article response yields one item. Scrapy starts this
        # many worker tasks for every callback's output, so the default of 100 costs real time.
        "CONCURRENT_ITEMS": 4,
        "FACTWATCH_PROCESS_THREADS": 2,
    }
    if not crawl.autothrottle:
        settings.pop("AUTOTHROTTLE_START_DELAY")
    if archive_dir is not None:
        settings["FACTWATCH_ARCHIVE_DIR"] = str(archive_dir)
        settings["FACTWATCH_ARCHIVE_MAX_BYTES"] = crawl.archive_max_bytes
    if extra:
        for key, value in extra.items():
            if key in ("DOWNLOADER_MIDDLEWARES", "ITEM_PIPELINES", "EXTENSIONS") and isinstance(value, dict):
                settings[key] = {**settings[key], **value}
            else:
                settings[key] = value
    return settings
