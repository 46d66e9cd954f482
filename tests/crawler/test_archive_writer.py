"""WarcArchiveMiddleware: every exchange lands in a finished, rotating WARC file that the index can read."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler
from twisted.internet.error import TCPTimedOutError

from crawler.archive import Exchange, RotatingWarcWriter, WarcArchiveMiddleware
from crawler.warcindex import open_snapshots, scan_file


def _middleware(tmp_path: Path, **settings: object) -> WarcArchiveMiddleware:
    crawler = get_crawler(settings_dict={"FACTWATCH_ARCHIVE_DIR": str(tmp_path), **settings})
    return WarcArchiveMiddleware.from_crawler(crawler)


def _page(url: str, body: bytes, status: int = 200, **headers: str) -> HtmlResponse:
    return HtmlResponse(url, status=status, body=body, headers={"Content-Type": "text/html", **headers})


def test_off_without_archive_dir() -> None:
    with pytest.raises(NotConfigured):
        WarcArchiveMiddleware.from_crawler(get_crawler(settings_dict={}))


def test_every_response_is_archived_with_source_headers(tmp_path: Path) -> None:
    mw = _middleware(tmp_path)
    feed = Request(
        "http://news.test/feed.xml", meta={"factwatch_source_kind": "feed", "factwatch_source": "news"}
    )
    article = Request("http://news.test/a1.html", meta={"factwatch_origin": "news"})
    moved = Request("http://news.test/old.html")
    robots = Request("http://news.test/robots.txt")
    mw.process_response(
        feed,
        Response(feed.url, body=b"<rss/>", headers={"Content-Type": "application/rss+xml", "ETag": '"e1"'}),
    )
    mw.process_response(article, _page(article.url, b"<html>one</html>"))
    mw.process_response(moved, Response(moved.url, status=301, headers={"Location": "/a1.html"}))
    mw.process_response(robots, Response(robots.url, status=404))
    mw.process_response(feed, Response(feed.url, status=304, headers={"ETag": '"e1"'}))
    mw.spider_closed()

    files = sorted(tmp_path.iterdir())
    assert [f.name.endswith(".warc.gz") for f in files] == [True]
    assert files[0].name.startswith("factwatch-") and len(files[0].name.split("-")[1]) == 14
    [snapshot] = open_snapshots(files)
    by_url = {(e.url, e.status): e for e in snapshot.entries}
    assert set(by_url) == {
        ("http://news.test/feed.xml", 200),
        ("http://news.test/a1.html", 200),
        ("http://news.test/old.html", 301),
        ("http://news.test/robots.txt", 404),
        ("http://news.test/feed.xml", 304),
    }
    root = by_url[("http://news.test/feed.xml", 200)]
    assert (root.source_kind, root.source, root.etag) == ("feed", "news", '"e1"')
    assert by_url[("http://news.test/a1.html", 200)].origin == "news"
    assert by_url[("http://news.test/a1.html", 200)].source_kind is None
    assert by_url[("http://news.test/old.html", 301)].location == "/a1.html"
    assert snapshot.read(by_url[("http://news.test/a1.html", 200)]).body == b"<html>one</html>"
    assert {e.url for e in snapshot.roots()} == {"http://news.test/feed.xml"}


def test_raw_body_and_real_headers_are_kept(tmp_path: Path) -> None:
    """The body is stored as sent (still gzip-encoded); only Transfer-Encoding is dropped."""
    mw = _middleware(tmp_path)
    raw = gzip.compress(b"<html>compressed</html>")
    request = Request("http://news.test/z.html", headers={"User-Agent": "factwatch-test"})
    response = _page(request.url, raw, **{"Content-Encoding": "gzip", "Transfer-Encoding": "chunked"})
    mw.process_response(request, response)
    mw.spider_closed()
    [snapshot] = open_snapshots([tmp_path])
    payload = snapshot.read(snapshot.entries[0])
    names = {name.lower(): value for name, value in payload.headers}
    assert payload.body == raw
    assert names["content-encoding"] == "gzip"
    assert "transfer-encoding" not in names


def test_failed_download_is_archived_but_ignore_request_is_not(tmp_path: Path) -> None:
    mw = _middleware(tmp_path)
    slow = Request("http://news.test/slow.html")
    assert mw.process_exception(slow, TCPTimedOutError()) is None
    mw.process_exception(Request("http://news.test/private.html"), IgnoreRequest("Forbidden by robots.txt"))
    mw.spider_closed()
    [snapshot] = open_snapshots([tmp_path])
    [entry] = snapshot.entries
    assert entry.url == slow.url and entry.record_type == "failure"
    assert entry.error is not None and "TCPTimedOutError" in entry.error


def test_rotation_by_size_and_crawl_grouping(tmp_path: Path) -> None:
    mw = _middleware(tmp_path, FACTWATCH_ARCHIVE_MAX_BYTES=2000)
    bodies = {
        f"http://news.test/{n}.html": (f"<p>{n}</p>" * 400).encode() + bytes(range(256)) for n in range(6)
    }
    for url, body in bodies.items():
        mw.process_response(Request(url), _page(url, body))
    mw.spider_closed()
    files = sorted(tmp_path.iterdir())
    assert len(files) >= 3
    assert not [f for f in files if f.name.endswith(".open")]
    assert [f.name.rsplit("-", 1)[1] for f in files][:2] == ["00000.warc.gz", "00001.warc.gz"]
    for file in files:
        assert scan_file(file).damage is None
    # The parts of one crawl replay as one snapshot, in order.
    [snapshot] = open_snapshots(files)
    assert [e.url for e in snapshot.entries] == list(bodies)
    assert all(snapshot.read(e).body == bodies[e.url] for e in snapshot.entries)


def test_file_is_open_until_finished(tmp_path: Path) -> None:
    """A crash mid-crawl leaves a `.open` file, never one that looks complete."""
    writer = RotatingWarcWriter(tmp_path, 10_000_000)
    writer.write(
        Exchange("http://news.test/a.html", "GET", [], b"", 200, [("Content-Type", "text/html")], b"x")
    )
    [open_file] = list(tmp_path.iterdir())
    assert open_file.name.endswith(".warc.gz.open")
    finished = writer.finish()
    assert finished is not None and finished.exists() and not open_file.exists()
    assert finished.name == open_file.name.removesuffix(".open")
    # The next part of the same crawl takes the next number instead of overwriting.
    writer.write(Exchange("http://news.test/b.html", "GET", [], b"", 200, [], b"y"))
    second = writer.finish()
    assert second is not None and second.name.endswith("-00001.warc.gz")
