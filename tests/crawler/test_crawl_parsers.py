"""Feeds, sitemaps, listings and kind detection read without a network or a reactor."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest
from scrapy.http import HtmlResponse

from crawler.spiders.detect import detect_kind
from crawler.spiders.entries import Entry, parse_date
from crawler.spiders.feed import parse_feed
from crawler.spiders.listing import listing_entries
from crawler.spiders.sitemap import parse_sitemap
from crawler.spiders.xmlutil import XmlError, maybe_gunzip
from tests.support.siteserver import FeedItem, atom_feed, listing_html, news_sitemap, rss_feed, sitemap_index

BASE = "http://news.test"
WHEN = datetime(2025, 6, 3, 14, 5, tzinfo=UTC)
ITEMS = [FeedItem("/a.html", "Troops arrive", WHEN), FeedItem("/b.html", "Council meets")]


def test_rss_feed_entries_with_dates() -> None:
    entries = parse_feed(rss_feed(BASE, ITEMS).encode(), BASE + "/feed")
    assert entries == [
        Entry(BASE + "/a.html", "Troops arrive", WHEN, None),
        Entry(BASE + "/b.html", "Council meets", None, None),
    ]


def test_atom_feed_uses_alternate_link_and_updated() -> None:
    entries = parse_feed(atom_feed(BASE, ITEMS).encode(), BASE + "/atom")
    assert [e.url for e in entries] == [BASE + "/a.html", BASE + "/b.html"]
    assert entries[0].lastmod == WHEN and entries[0].changed_at == WHEN


def test_rdf_feed_and_relative_links() -> None:
    body = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="/"><title>x</title></channel>
  <item rdf:about="/r1"><title>One</title><link>/r1</link><dc:date>2025-06-03T14:05:00Z</dc:date></item>
</rdf:RDF>"""
    assert parse_feed(body, BASE + "/rdf") == [Entry(BASE + "/r1", "One", WHEN, None)]


def test_not_a_feed_is_an_error() -> None:
    with pytest.raises(XmlError, match="not a feed"):
        parse_feed(b"<html><body>hi</body></html>", BASE)


def test_news_sitemap_reads_publication_date_and_title() -> None:
    sitemap = parse_sitemap(news_sitemap(BASE, ITEMS).encode(), BASE + "/news.xml")
    assert sitemap.kind == "urlset"
    assert sitemap.entries[0] == Entry(BASE + "/a.html", "Troops arrive", WHEN, None)
    assert sitemap.entries[1].published is None


def test_sitemap_index_and_lastmod() -> None:
    index = parse_sitemap(sitemap_index(BASE, ["/s1.xml", "/s2.xml"]).encode(), BASE + "/index.xml")
    assert index.kind == "index" and [e.url for e in index.entries] == [BASE + "/s1.xml", BASE + "/s2.xml"]
    plain = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>http://news.test/p</loc><lastmod>2025-06-03T14:05:00+00:00</lastmod></url></urlset>"""
    assert parse_sitemap(plain, BASE).entries == [Entry(BASE + "/p", None, None, WHEN)]


def test_gzipped_sitemap_is_inflated_within_limit() -> None:
    raw = news_sitemap(BASE, ITEMS).encode()
    packed = gzip.compress(raw)
    assert maybe_gunzip(packed, 10_000_000) == raw
    with pytest.raises(XmlError, match="more than"):
        maybe_gunzip(packed, 100)


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (rss_feed(BASE, ITEMS), "text/xml", "feed"),
        (atom_feed(BASE, ITEMS), "application/xml", "feed"),
        (news_sitemap(BASE, ITEMS), "text/xml", "sitemap"),
        (sitemap_index(BASE, ["/s.xml"]), "application/xml", "sitemap"),
        (listing_html(["/a.html"]), "text/html", "listing"),
        ("<!-- generated -->\n<rss version='2.0'></rss>", "", "feed"),
        ("\ufeff<?xml version='1.0'?><?xml-stylesheet href='x'?><feed></feed>", "", "feed"),
        ("<weird/>", "application/json", None),
    ],
)
def test_detect_kind(body: str, content_type: str, kind: str | None) -> None:
    assert detect_kind(body.encode(), content_type) == kind


def test_listing_links_follow_allow_and_deny_rules() -> None:
    links = [
        "/news/1.html",
        "/news/2.html",
        "/news/video-3.html",
        "/about.html",
        "http://elsewhere.test/news/9.html",
    ]
    response = HtmlResponse(BASE + "/world/", body=listing_html(links).encode(), encoding="utf-8")
    entries = listing_entries(response, allow=[r"/news/"], deny=[r"video"])
    assert [e.url for e in entries] == [BASE + "/news/1.html", BASE + "/news/2.html"]
    everywhere = listing_entries(response, allowed_domains=["news.test", "elsewhere.test"])
    assert BASE + "/about.html" in [e.url for e in everywhere]
    assert "http://elsewhere.test/news/9.html" in [e.url for e in everywhere]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue, 03 Jun 2025 14:05:00 GMT", WHEN),
        ("2025-06-03T14:05:00Z", WHEN),
        ("2025-06-03T16:05:00+02:00", WHEN),
        ("2025-06-03", datetime(2025, 6, 3, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected
