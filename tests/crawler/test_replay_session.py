"""Replay's answers to requests: archive order, 304s, gaps, robots.txt, earlier snapshots, the handler."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Headers, HtmlResponse
from scrapy.utils.test import get_crawler

from config.models import AppConfig, TopicConfig
from crawler.archive import Exchange, RotatingWarcWriter
from crawler.config import SourceConfig
from crawler.replay import (
    SESSION_SETTING,
    ArchivedFailureError,
    NotInArchiveError,
    ReplayReport,
    ReplaySession,
    WarcDownloadHandler,
    replay_settings,
    second_pass_sources,
    start_sources,
)
from crawler.warcindex import WarcSnapshot, open_snapshots

HTML = [("Content-Type", "text/html; charset=utf-8")]


def _archive(directory: Path, exchanges: list[Exchange]) -> list[Path]:
    writer = RotatingWarcWriter(directory)
    for exchange in exchanges:
        writer.write(exchange)
    writer.finish()
    return writer.finished


def _get(
    url: str, status: int = 200, body: bytes = b"", headers: list[tuple[str, str]] | None = None, **meta: str
) -> Exchange:
    """An archived GET; ``meta`` sets source_kind / source / origin as the spiders' request meta would."""
    return Exchange(url, "GET", [], b"", status, HTML if headers is None else headers, body, **meta)


def _session(tmp_path: Path, *crawls: list[Exchange]) -> ReplaySession:
    paths = [path for n, crawl in enumerate(crawls) for path in _archive(tmp_path / f"c{n}", crawl)]
    return ReplaySession(open_snapshots(paths))


def _config(*sources: SourceConfig) -> AppConfig:
    return AppConfig(topic=TopicConfig(name="t"), sources=list(sources))


def test_requests_get_archived_responses_in_archive_order(tmp_path: Path) -> None:
    session = _session(tmp_path, [_get("http://s.test/a", 503), _get("http://s.test/a", 200, b"ok")])
    assert [session.answer("http://s.test/a").status for _ in range(3)] == [503, 200, 200]


def test_gap_is_recorded_but_missing_robots_is_allow_all(tmp_path: Path) -> None:
    session = _session(tmp_path, [_get("http://s.test/a", 200, b"a")])
    with pytest.raises(NotInArchiveError, match=r"http://s\.test/b"):
        session.answer("http://s.test/b")
    robots = session.answer("http://s.test/robots.txt")
    assert robots.status == 404
    assert session.missing == ["http://s.test/b"]


def test_archived_failure_fails_again(tmp_path: Path) -> None:
    failed = Exchange("http://s.test/slow", "GET", [], b"", error="TimeoutError: took too long")
    session = _session(tmp_path, [failed])
    with pytest.raises(ArchivedFailureError, match="took too long"):
        session.answer("http://s.test/slow")
    assert session.missing == [] and session.failures == [
        ("http://s.test/slow", "TimeoutError: took too long")
    ]


def test_304_answers_unconditional_requests_with_the_earlier_document(tmp_path: Path) -> None:
    feed = "http://s.test/feed.xml"
    first = [_get(feed, 200, b"<rss>v1</rss>", [("Content-Type", "application/rss+xml"), ("ETag", '"v1"')])]
    second = [_get(feed, 304, b"", [("ETag", '"v1"')])]
    session = _session(tmp_path, first, second)
    session.current = 1
    fresh = session.answer(feed)
    assert (fresh.status, fresh.body) == (200, b"<rss>v1</rss>")
    conditional = session.answer(feed, Headers({"If-None-Match": '"v1"'}))
    assert (conditional.status, conditional.body) == (304, b"")


def test_matching_etag_is_answered_304_like_the_server_would(tmp_path: Path) -> None:
    page = _get(
        "http://s.test/feed", 200, b"<rss/>", [("Content-Type", "application/rss+xml"), ("ETag", '"x"')]
    )
    session = _session(tmp_path, [page])
    assert session.answer("http://s.test/feed", Headers({"If-None-Match": '"x"'})).status == 304
    assert session.answer("http://s.test/feed", Headers({"If-None-Match": '"other"'})).status == 200


def test_earlier_snapshot_answers_what_the_current_one_lacks(tmp_path: Path) -> None:
    session = _session(
        tmp_path, [_get("http://s.test/old", 200, b"old")], [_get("http://s.test/new", 200, b"n")]
    )
    session.current = 1
    assert session.answer("http://s.test/old").body == b"old"
    assert session.stale == ["http://s.test/old"] and session.missing == []


def test_handler_builds_scrapy_responses(tmp_path: Path) -> None:
    session = _session(
        tmp_path,
        [
            _get("http://s.test/a.html", 200, b"<html><title>A</title></html>"),
            _get("http://s.test/moved", 301, b"", [("Location", "http://s.test/a.html")]),
        ],
    )
    crawler = get_crawler(settings_dict=replay_settings(session))
    assert crawler.settings.get(SESSION_SETTING) is session  # survives Scrapy's settings deep copy
    handler = WarcDownloadHandler.from_crawler(crawler)
    page = asyncio.run(handler.download_request(Request("http://s.test/a.html")))
    assert isinstance(page, HtmlResponse) and page.css("title::text").get() == "A"
    assert "replay" in page.flags
    moved = asyncio.run(handler.download_request(Request("http://s.test/moved")))
    assert moved.status == 301 and moved.headers[b"Location"] == b"http://s.test/a.html"
    robots = asyncio.run(handler.download_request(Request("http://s.test/robots.txt")))
    assert robots.status == 404 and session.missing == []
    with pytest.raises(NotInArchiveError):
        asyncio.run(handler.download_request(Request("http://s.test/gone")))


def test_start_sources_from_root_records_keep_configured_rules(tmp_path: Path) -> None:
    root = {"source_kind": "listing", "source": "front"}
    session = _session(
        tmp_path,
        [
            _get("http://s.test/", 200, b"<html/>", **root),
            _get(
                "http://s.test/feed.xml",
                200,
                b"<rss/>",
                [("Content-Type", "application/rss+xml")],
                source_kind="feed",
                source="wire",
            ),
            _get("http://s.test/a", 200, b"<html/>", origin="front"),
        ],
    )
    configured = SourceConfig(name="front", url="http://s.test/", kind="listing", allow=["/news/"], depth=2)
    sources = start_sources(session.snapshot, _config(configured))
    assert [(s.name, s.kind, s.url) for s in sources] == [
        ("front", "listing", "http://s.test/"),
        ("wire", "feed", "http://s.test/feed.xml"),
    ]
    assert sources[0].allow == ["/news/"] and sources[0].depth == 2


def test_archives_without_roots_start_from_their_feeds_and_sitemaps(tmp_path: Path) -> None:
    xml = [("Content-Type", "application/xml")]
    session = _session(
        tmp_path,
        [
            _get("http://s.test/feed", 200, b'<?xml version="1.0"?>\n<rss version="2.0"></rss>', xml),
            _get("http://s.test/map.xml", 200, b"<urlset></urlset>", xml),
            _get("http://s.test/other.xml", 200, b"<config/>", xml),
            _get("http://s.test/a", 200, b"<html/>"),
        ],
    )
    sources = start_sources(session.snapshot, _config())
    assert [(s.kind, s.url) for s in sources] == [
        ("feed", "http://s.test/feed"),
        ("sitemap", "http://s.test/map.xml"),
    ]


def test_second_pass_lists_unrequested_pages_in_a_made_up_sitemap(tmp_path: Path) -> None:
    session = _session(
        tmp_path,
        [
            _get("http://s.test/a", 200, b"<html>a</html>", origin="news"),
            _get("http://s.test/b", 200, b"<html>b</html>", origin="news"),
            _get("http://s.test/c.json", 200, b"{}", [("Content-Type", "application/json")]),
            _get("http://t.test/x", 200, b"<html>x</html>"),
        ],
    )
    session.answer("http://s.test/a")
    pending = session.unrequested_pages()
    assert [e.url for e in pending] == ["http://s.test/b", "http://t.test/x"]
    sources = second_pass_sources(session, _config(), pending, 0)
    assert [(s.name, s.kind) for s in sources] == [("news", "sitemap"), ("t.test", "sitemap")]
    sitemap = session.answer(sources[0].url)
    assert b"<loc>http://s.test/b</loc>" in sitemap.body and b"/a<" not in sitemap.body
    assert sources[1].allowed_domains == ["t.test"]


def test_report_summary_and_json_name_every_gap() -> None:
    report = ReplayReport(archives=["a.warc.gz"], records=4, pages=2, missing=["http://s.test/b"])
    report.outcomes.update({"new": 2})
    assert not report.ok
    text = report.summary()
    assert "http://s.test/b" in text and "new 2" in text and "1 request(s) missing" in text
    assert report.as_json()["missing"] == ["http://s.test/b"]


def test_snapshot_survives_settings_copy(tmp_path: Path) -> None:
    [snapshot] = open_snapshots(_archive(tmp_path, [_get("http://s.test/a", 200, b"a")]))
    import copy

    assert copy.deepcopy(snapshot) is snapshot
    assert isinstance(snapshot, WarcSnapshot)


def test_304_for_another_etag_does_not_hide_the_document(tmp_path: Path) -> None:
    feed = "http://s.test/feed.xml"
    rss = [("Content-Type", "application/rss+xml")]
    first = [_get(feed, 200, b"<rss>v2</rss>", [*rss, ("ETag", '"v2"')])]
    second = [_get(feed, 304, b"", [("ETag", '"v2"')])]
    session = _session(tmp_path, first, second)
    session.current = 1
    # The replay store knows v1 (say only an older archive was replayed before): it gets v2 in full.
    answer = session.answer(feed, Headers({"If-None-Match": '"v1"'}))
    assert (answer.status, answer.body) == (200, b"<rss>v2</rss>")
