"""Tell a feed from a sitemap from an HTML page by looking at the response, for `--source URL`."""

from __future__ import annotations

import re
from typing import Literal

from crawler.spiders.xmlutil import GZIP_MAGIC

Kind = Literal["feed", "sitemap", "listing"]

_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_SKIP = re.compile(rb"^(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.S | re.I)
_ROOTS: dict[bytes, Kind] = {
    b"rss": "feed",
    b"rdf": "feed",
    b"feed": "feed",
    b"urlset": "sitemap",
    b"sitemapindex": "sitemap",
    b"html": "listing",
}


def detect_kind(body: bytes, content_type: str = "") -> Kind | None:
    """The source kind from the first element (then the Content-Type); None when it is none of them."""
    if body.startswith(GZIP_MAGIC):
        return "sitemap"  # compressed XML is only ever a sitemap in practice
    head = body[:4096].lstrip(b"\xef\xbb\xbf")
    head = head[_SKIP.match(head).end() :]  # type: ignore[union-attr]  # the pattern always matches
    match = _FIRST_TAG.match(head)
    if match:
        name = match.group(1).split(b":")[-1].lower()
        if name in _ROOTS:
            return _ROOTS[name]
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype in ("application/rss+xml", "application/atom+xml", "application/rdf+xml"):
        return "feed"
    if ctype in ("text/html", "application/xhtml+xml") or (match is None and b"<a " in head.lower()):
        return "listing"
    return None
