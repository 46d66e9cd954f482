"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds read into entries with lxml.

Namespaces are matched by local name, because real feeds mix them freely (dc:date in RSS 2.0, atom:link
in RSS, media: everywhere).
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin

from lxml import etree

from crawler.spiders.entries import Entry, parse_date
from crawler.spiders.xmlutil import XmlError, child_text, children, local, parse_xml

logger = logging.getLogger(__name__)

FEED_ROOTS = frozenset({"rss", "RDF", "feed"})


def parse_feed(body: bytes, base_url: str) -> list[Entry]:
    """Entries of a feed, in feed order; raises XmlError when the body is not a feed."""
    root = parse_xml(body)
    name = local(root.tag)
    if name not in FEED_ROOTS:
        raise XmlError(f"not a feed: root element <{name}>")
    if name == "feed":
        return [e for e in (_atom_entry(node, base_url) for node in children(root, "entry")) if e]
    items = [node for node in root.iter() if local(node.tag) == "item"]
    return [e for e in (_rss_item(node, base_url) for node in items) if e]


def _rss_item(node: etree._Element, base_url: str) -> Entry | None:
    link = child_text(node, "link")
    if not link:
        about = node.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        guid = children(node, "guid")
        if about:
            link = about
        elif guid and guid[0].get("isPermaLink", "true").lower() != "false":
            link = (guid[0].text or "").strip() or None
    if not link:
        logger.debug("feed item without a link skipped")
        return None
    return Entry(
        url=urljoin(base_url, link),
        title=child_text(node, "title"),
        published=parse_date(child_text(node, "pubDate", "date", "published", "issued")),
        lastmod=parse_date(child_text(node, "updated", "modified")),
    )


def _atom_entry(node: etree._Element, base_url: str) -> Entry | None:
    href = None
    for link in children(node, "link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            href = link.get("href")
            break
    if not href:
        return None
    return Entry(
        url=urljoin(base_url, href),
        title=child_text(node, "title"),
        published=parse_date(child_text(node, "published", "issued")),
        lastmod=parse_date(child_text(node, "updated", "modified")),
    )
