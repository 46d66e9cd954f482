"""Links of a listing page (section front, tag page, search results) filtered by the source's rules."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor

from crawler.spiders.entries import Entry, host_allowed

logger = logging.getLogger(__name__)


def listing_entries(
    response: TextResponse,
    *,
    allow: Iterable[str] = (),
    deny: Iterable[str] = (),
    allowed_domains: Iterable[str] = (),
) -> list[Entry]:
    """Candidate article links in page order with link text as title hint; same site unless domains given."""
    domains = list(allowed_domains)
    if not domains:
        host = urlsplit(response.url).hostname
        domains = [host] if host else []
    # Domains are checked here rather than by LinkExtractor(allow_domains=...), which never matches an
    # IP-address host such as a loopback test server.
    extractor = LinkExtractor(allow=tuple(allow), deny=tuple(deny), unique=True)
    return [
        Entry(url=link.url, title=link.text.strip() or None)
        for link in extractor.extract_links(response)
        if host_allowed(link.url, domains)
    ]
