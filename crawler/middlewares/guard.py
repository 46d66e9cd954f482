"""Refuse what can be judged from headers and bytes before any parsing: type, size, encoding.

Non-HTML articles are cut off as soon as their headers arrive (the body is never downloaded); bodies over
the limit are aborted by Scrapy's DOWNLOAD_MAXSIZE and checked again here. A refused response raises
BadResponseError, so the request's errback records it against the source.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import StopDownload
from scrapy.http import Headers, Response, TextResponse

from crawler.context import META_ROLE
from crawler.failures import BadResponseError

logger = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
BINARY_PREFIXES = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "application/pdf",
    "application/msword",
    "application/vnd.",
)
MAX_REPLACEMENT_SHARE = 0.01


def content_type_of(headers: Headers) -> str:
    raw = headers.get(b"Content-Type") or b""
    return raw.decode("latin-1").split(";", 1)[0].strip().lower()


def broken_encoding(response: Response) -> str | None:
    """Why the text cannot be trusted, when more than a stray byte fails to decode; else None."""
    if not isinstance(response, TextResponse):
        return None
    encoding = response.encoding
    try:
        response.body.decode(encoding)
        return None
    except (UnicodeDecodeError, LookupError):
        pass
    text = response.text
    replaced = text.count("\ufffd")
    if replaced > max(20, len(text) * MAX_REPLACEMENT_SHARE):
        return f"broken encoding: {replaced} undecodable characters as {encoding}"
    return None


class ResponseGuardMiddleware:
    """Settings: DOWNLOAD_MAXSIZE (the same limit as the abort, crawl.max_body_bytes)."""

    def __init__(self, max_body_bytes: int, crawler: Crawler | None = None) -> None:
        self.max_body_bytes = max_body_bytes
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = cls(crawler.settings.getint("DOWNLOAD_MAXSIZE"), crawler)
        crawler.signals.connect(middleware.headers_received, signal=signals.headers_received)
        return middleware

    def headers_received(self, headers: Headers, body_length: int, request: Request, **_: Any) -> None:
        if request.meta.get(META_ROLE) != "article":
            return
        ctype = content_type_of(headers)
        if ctype and ctype not in HTML_TYPES:
            # Keep the headers, skip the body; process_response turns it into a bad response.
            raise StopDownload(fail=False)

    def _count_download(self) -> None:
        spider = self.crawler.spider if self.crawler is not None else None
        context = getattr(spider, "context", None)
        if context is not None:
            context.count(article_downloads=1)

    def process_response(self, request: Request, response: Response) -> Response:
        role = request.meta.get(META_ROLE)
        if role is None or response.status == 304:
            return response
        if role == "article":
            self._count_download()
        if not 200 <= response.status < 300:
            return response  # redirects, retries and HttpError handle the rest
        status = response.status
        ctype = content_type_of(response.headers)
        if role == "article" and ctype and ctype not in HTML_TYPES:
            raise BadResponseError("content-type", f"not an HTML page (Content-Type {ctype})", status)
        if role != "article" and ctype.startswith(BINARY_PREFIXES):
            raise BadResponseError(
                "content-type", f"not a feed, sitemap or page (Content-Type {ctype})", status
            )
        if self.max_body_bytes and len(response.body) > self.max_body_bytes:
            raise BadResponseError(
                "too-large",
                f"body of {len(response.body)} bytes over the limit of {self.max_body_bytes}",
                status,
            )
        if not response.body.strip():
            raise BadResponseError("empty", "empty body", status)
        if role == "article":
            problem = broken_encoding(response)
            if problem:
                raise BadResponseError("encoding", problem, status)
        return response
