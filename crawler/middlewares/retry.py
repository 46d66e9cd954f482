"""Retries for 429, 5xx and timeouts, waiting longer each time (and honouring Retry-After).

Scrapy's RetryMiddleware retries immediately, which hammers a struggling server; this one sleeps with
exponential backoff before handing the retry back to the scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    """Settings: FACTWATCH_RETRY_BACKOFF (first wait, seconds), FACTWATCH_RETRY_BACKOFF_MAX."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("FACTWATCH_RETRY_BACKOFF", 2.0)
        self.backoff_max = settings.getfloat("FACTWATCH_RETRY_BACKOFF_MAX", 60.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    def delay_for(self, request: Request, response: Response | None = None) -> float:
        attempt = int(request.meta.get("retry_times", 0))
        delay = self.backoff * (2**attempt)
        if response is not None:
            retry_after = response.headers.get(b"Retry-After")
            if retry_after:
                # An HTTP date instead of seconds: the exponential delay is a fine stand-in.
                with contextlib.suppress(ValueError):
                    delay = max(delay, float(retry_after.decode("ascii", "replace").strip()))
        return min(delay, self.backoff_max)

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            delay = self.delay_for(request, response)
            logger.debug("retrying %s in %.2fs after HTTP %s", request.url, delay, response.status)
            await asyncio.sleep(delay)
        return result

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            delay = self.delay_for(request)
            logger.debug("retrying %s in %.2fs after %s", request.url, delay, type(exception).__name__)
            await asyncio.sleep(delay)
        return result
