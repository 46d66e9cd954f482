"""Ask "changed since?" instead of downloading: If-None-Match / If-Modified-Since from the store."""

from __future__ import annotations

import logging

from scrapy import Request

from crawler.context import META_VALIDATORS

logger = logging.getLogger(__name__)


class ConditionalRequestMiddleware:
    """Adds validators the spider found in the store (meta `factwatch_validators` = (etag, last_modified)).

    A 304 answer then reaches the callback with no body to parse, which is what makes a repeat crawl of an
    unchanged site cheap.
    """

    def process_request(self, request: Request) -> None:
        validators = request.meta.get(META_VALIDATORS)
        if not validators:
            return None
        etag, last_modified = validators
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag
        if last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = last_modified
        # The HTTP cache, if a deployment enables it, must not answer for a feed from its own copy.
        request.headers.setdefault(b"Cache-Control", b"max-age=0")
        return None
