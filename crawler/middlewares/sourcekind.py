"""Decide what an `auto` source is (feed, sitemap or listing) as soon as its root response arrives.

It sits closest to the downloader so the WARC archive, next in line, already records the detected kind
on the root response; replay then knows how to start without guessing again.
"""

from __future__ import annotations

import logging
import zlib

from scrapy import Request
from scrapy.http import Response

from crawler.context import META_ROLE, META_SOURCE_KIND
from crawler.spiders.detect import detect_kind

logger = logging.getLogger(__name__)

_SNIFF_BYTES = 8192


def _sniff(response: Response) -> bytes:
    """The start of the decoded body; compressed bodies are inflated just enough to see the first tag."""
    encoding = (response.headers.get(b"Content-Encoding") or b"").strip().lower()
    body = response.body
    if encoding in (b"gzip", b"x-gzip", b"deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != b"deflate" else zlib.MAX_WBITS
        try:
            return zlib.decompressobj(wbits).decompress(body, _SNIFF_BYTES)
        except zlib.error:
            try:
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(body, _SNIFF_BYTES)
            except zlib.error:
                return b""
    if encoding and encoding != b"identity":
        return b""  # br/zstd: fall back to the Content-Type
    return body[:_SNIFF_BYTES]


class SourceKindMiddleware:
    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(META_ROLE) != "root" or request.meta.get(META_SOURCE_KIND) != "auto":
            return response
        if response.status != 200:
            return response
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        kind = detect_kind(_sniff(response), content_type)
        if kind is not None:
            request.meta[META_SOURCE_KIND] = kind
            logger.info("source %s looks like a %s", request.url, kind)
        return response
