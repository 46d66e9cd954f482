"""Sitemaps, news sitemaps and sitemap indexes, read with lxml.

Scrapy's own sitemap reader keeps only <loc> and <lastmod>; news sitemaps carry the two things that make
incremental crawling cheap and dedup better (news:publication_date and news:title), so we read them here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin

from lxml import etree

from crawler.spiders.entries import Entry, parse_date
from crawler.spiders.xmlutil import XmlError, child_text, children, local, parse_xml

logger = logging.getLogger(__name__)


@dataclass
class Sitemap:
    kind: Literal["urlset", "index"]
    entries: list[Entry] = field(default_factory=list)  # pages (urlset) or child sitemaps (index)


def parse_sitemap(body: bytes, base_url: str) -> Sitemap:
    root = parse_xml(body)
    name = local(root.tag)
    if name == "sitemapindex":
        found = [_entry(node, base_url, news=False) for node in children(root, "sitemap")]
        return Sitemap("index", [e for e in found if e])
    if name == "urlset":
        found = [_entry(node, base_url, news=True) for node in children(root, "url")]
        return Sitemap("urlset", [e for e in found if e])
    raise XmlError(f"not a sitemap: root element <{name}>")


def _entry(node: etree._Element, base_url: str, *, news: bool) -> Entry | None:
    loc = child_text(node, "loc")
    if not loc:
        return None
    title = None
    published = None
    if news:
        for block in children(node, "news"):
            title = child_text(block, "title")
            published = parse_date(child_text(block, "publication_date"))
    return Entry(
        url=urljoin(base_url, loc),
        title=title,
        published=published,
        lastmod=parse_date(child_text(node, "lastmod")),
    )
