"""Crawler parts on their own: store state, revisit schedule, middlewares, settings, failure kinds, CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Headers, HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler

from crawler.config import CrawlSettings, SourceConfig, parse_duration
from crawler.context import META_ROLE, META_SOURCE_KIND, META_VALIDATORS
from crawler.failures import BadResponseError, classify
from crawler.middlewares.conditional import ConditionalRequestMiddleware
from crawler.middlewares.guard import ResponseGuardMiddleware
from crawler.middlewares.retry import BackoffRetryMiddleware
from crawler.middlewares.sourcekind import SourceKindMiddleware
from crawler.settings import build_settings
from crawler.state import CrawlState, next_revisit
from pipeline.store import Store

URL = "http://news.test/a.html"
T0 = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
AGES = [parse_duration(x) for x in ("15m", "1h", "3h", "1d")]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def test_revisit_schedule_is_age_based_and_stops() -> None:
    assert next_revisit(T0, AGES, T0) == T0 + timedelta(minutes=15)
    assert next_revisit(T0, AGES, T0 + timedelta(minutes=20)) == T0 + timedelta(hours=1)
    assert next_revisit(T0, AGES, T0 + timedelta(hours=5)) == T0 + timedelta(days=1)
    assert next_revisit(T0, AGES, T0 + timedelta(days=2)) is None


def test_crawl_state_remembers_fetches_and_schedules_revisits(store: Store) -> None:
    state = CrawlState(store, revisit_ages=AGES)
    state.record_fetch(
        url=URL + "?utm_source=x",
        source="wire",
        role="article",
        outcome="new",
        status=200,
        etag='"v1"',
        published=T0,
        source_lastmod=T0,
        now=T0 + timedelta(minutes=1),
    )
    row = state.get(URL)
    assert row is not None and row.etag == '"v1"' and row.next_revisit == T0 + timedelta(minutes=15)
    assert row.settled and not row.changed_since(T0) and row.changed_since(T0 + timedelta(seconds=1))
    assert [r.url for r in state.due_revisits(["wire"], now=T0 + timedelta(minutes=16))] == [URL]
    assert state.due_revisits(["other"], now=T0 + timedelta(minutes=16)) == []
    # A 304 keeps the outcome; a transient failure is not settled; a refused page gets no revisit.
    state.record_fetch(
        url=URL,
        source="wire",
        role="article",
        outcome="not-modified",
        status=304,
        now=T0 + timedelta(minutes=16),
    )
    assert state.get(URL).last_outcome == "new"  # type: ignore[union-attr]
    state.record_fetch(url=URL, source="wire", role="article", outcome="error", status=503)
    assert not state.get(URL).settled  # type: ignore[union-attr]
    state.record_fetch(url=URL, source="wire", role="article", outcome="rejected", status=200)
    assert state.get(URL).next_revisit is None  # type: ignore[union-attr]


def test_known_pages_are_remembered_once(store: Store) -> None:
    state = CrawlState(store)
    state.remember([(URL, "wire", T0, T0), (URL, "wire", T0, T0)])
    row = state.get(URL)
    assert row is not None and row.last_outcome == "known" and row.source_lastmod == T0


def test_sources_command_shows_health(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    from factwatch.commands.sources import collect

    state = CrawlState(store)
    state.update_health(
        name="wire",
        url="http://news.test/feed",
        kind="feed",
        error=None,
        pages=3,
        new_items=2,
        last_new_item=T0,
    )
    state.update_health(name="wire", url="http://news.test/feed", kind="feed", error="HTTP status 503")
    state.record_bad(url=URL, source="wire", kind="http-status", reason="HTTP status 503", status=503)
    data = collect(store)
    assert data[0]["consecutive_failures"] == 1 and data[0]["last_error"] == "HTTP status 503"
    assert data[0]["bad_responses"] == {"http-status": 1} and data[0]["pages"] == 3

    from factwatch.cli import main

    assert main(["sources", "--db", store.url, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["sources"][0]["name"] == "wire" and printed["sources"][0]["last_success"] is not None
    assert main(["sources", "--db", store.url]) == 0
    table = capsys.readouterr().out
    assert "wire" in table and "HTTP status 503" in table


def _response(
    body: bytes, content_type: str, role: str = "article", status: int = 200
) -> tuple[Request, Response]:
    request = Request(URL, meta={META_ROLE: role})
    response = HtmlResponse(
        URL, status=status, body=body, headers={"Content-Type": content_type}, request=request
    )
    return request, response


def _guard() -> ResponseGuardMiddleware:
    return ResponseGuardMiddleware(max_body_bytes=10_000)


def test_guard_refuses_non_html_oversized_empty_and_broken_text() -> None:
    guard = _guard()
    good = b"<html><body><p>Fine text about the mission.</p></body></html>"
    assert guard.process_response(*_response(good, "text/html; charset=utf-8")).status == 200
    cases = {
        "content-type": (b"%PDF", "application/pdf"),
        "too-large": (b"<p>" + b"x" * 20_000 + b"</p>", "text/html"),
        "empty": (b"  ", "text/html"),
        "encoding": (
            b"<html><body>" + bytes(range(0x80, 0x100)) * 10 + b"</body></html>",
            "text/html; charset=utf-8",
        ),
    }
    for kind, (body, ctype) in cases.items():
        with pytest.raises(BadResponseError) as caught:
            guard.process_response(*_response(body, ctype))
        assert caught.value.kind == kind
    # A stray bad byte in a long page is tolerated; feeds may be XML.
    assert guard.process_response(*_response(good[:-7] + b"\xff" + good[-7:], "text/html; charset=utf-8"))
    assert guard.process_response(*_response(b"<rss/>", "application/rss+xml", role="root"))
    # Errors pass through for HttpError/retries to handle.
    assert guard.process_response(*_response(b"", "text/html", status=404)).status == 404


def test_guard_stops_non_html_downloads_at_the_headers() -> None:
    guard = _guard()
    request = Request(URL, meta={META_ROLE: "article"})
    with pytest.raises(StopDownload):
        guard.headers_received(Headers({"Content-Type": "video/mp4"}), 10**9, request)
    guard.headers_received(Headers({"Content-Type": "text/html"}), 10, request)


def test_conditional_request_headers() -> None:
    request = Request(URL, meta={META_VALIDATORS: ('"abc"', "Tue, 01 Jul 2025 12:00:00 GMT")})
    ConditionalRequestMiddleware().process_request(request)
    assert request.headers[b"If-None-Match"] == b'"abc"'
    assert request.headers[b"If-Modified-Since"] == b"Tue, 01 Jul 2025 12:00:00 GMT"
    assert request.headers[b"Cache-Control"] == b"max-age=0"
    plain = Request(URL)
    ConditionalRequestMiddleware().process_request(plain)
    assert b"If-None-Match" not in plain.headers


def test_source_kind_detected_only_for_auto_roots() -> None:
    middleware = SourceKindMiddleware()
    request = Request(URL, meta={META_ROLE: "root", META_SOURCE_KIND: "auto"})
    response = Response(URL, body=b"<?xml version='1.0'?><urlset/>", request=request)
    middleware.process_response(request, response)
    assert request.meta[META_SOURCE_KIND] == "sitemap"
    fixed = Request(URL, meta={META_ROLE: "root", META_SOURCE_KIND: "feed"})
    middleware.process_response(fixed, Response(URL, body=b"<html></html>", request=fixed))
    assert fixed.meta[META_SOURCE_KIND] == "feed"


def test_retry_backoff_doubles_and_honours_retry_after() -> None:
    crawler = get_crawler(settings_dict={"FACTWATCH_RETRY_BACKOFF": 0.5, "FACTWATCH_RETRY_BACKOFF_MAX": 3.0})
    middleware = BackoffRetryMiddleware.from_crawler(crawler)
    assert middleware.delay_for(Request(URL)) == 0.5
    assert middleware.delay_for(Request(URL, meta={"retry_times": 2})) == 2.0
    assert middleware.delay_for(Request(URL, meta={"retry_times": 5})) == 3.0
    slow_down = Response(URL, status=429, headers={"Retry-After": "2"})
    assert middleware.delay_for(Request(URL), slow_down) == 2.0


def test_failures_are_classified() -> None:
    response = Response(URL, status=404)
    assert classify(HttpError(response)).kind == "http-status"
    assert classify(HttpError(Response(URL, status=503))).transient
    assert not classify(HttpError(response)).transient
    assert classify(IgnoreRequest("max redirections reached")).kind == "redirect-loop"
    assert classify(IgnoreRequest("Forbidden by robots.txt")).kind == "robots"
    assert classify(TimeoutError()).transient
    assert classify(BadResponseError("encoding", "broken")).reason == "broken"


def test_settings_declare_politeness_and_chains(tmp_path: Path) -> None:
    crawl = CrawlSettings(contact_url="https://example.org/bot", download_delay=2.0, concurrent_per_domain=3)
    sources = [SourceConfig(name="fast", url="http://fast.test/feed", concurrency=20, download_delay=0.0)]
    settings = build_settings(
        crawl, sources, archive_dir=tmp_path, extra={"DOWNLOAD_HANDLERS": {"http": "x"}}
    )
    assert settings["USER_AGENT"] == "factwatch/0.1 (+https://example.org/bot)"
    assert settings["ROBOTSTXT_OBEY"] is True and settings["AUTOTHROTTLE_ENABLED"] is True
    assert settings["TELNETCONSOLE_ENABLED"] is False and settings["REMOTE_CONTROL_ENABLED"] is False
    assert settings["EXTENSIONS"]["scrapy.extensions.remote_control.RemoteControl"] is None
    assert settings["REMOTE_CONTROL_ENABLED"] is False
    assert settings["TWISTED_REACTOR"].endswith("AsyncioSelectorReactor")
    assert settings["DOWNLOAD_SLOTS"] == {"fast.test": {"concurrency": 20, "delay": 0.0, "jitter": 0.5}}
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 3 and settings["DOWNLOAD_DELAY"] == 2.0
    assert settings["FACTWATCH_ARCHIVE_DIR"] == str(tmp_path)
    assert settings["DOWNLOAD_HANDLERS"] == {"http": "x"}
    chain = settings["DOWNLOADER_MIDDLEWARES"]
    assert (
        chain["crawler.archive.WarcArchiveMiddleware"]
        < chain["crawler.middlewares.sourcekind.SourceKindMiddleware"]
    )
    assert chain["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None


def test_user_agent_without_contact_keeps_configured_one() -> None:
    assert CrawlSettings(user_agent="mybot/2").full_user_agent() == "mybot/2"
    with pytest.raises(ValueError, match="not a duration"):
        CrawlSettings(revisit=["soon"])
