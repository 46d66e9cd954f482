"""Incremental crawling against the loopback site: first crawl, unchanged repeat, new articles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.crawler.harness import make_config, make_processor, run_scenario
from tests.support.siteserver import FeedItem, SiteServer, paragraphs_about

pytestmark = pytest.mark.slow

TOPIC = "the Kenya-led mission in Haiti"
OLD = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _publish(site: SiteServer, count: int, start: int = 0) -> list[FeedItem]:
    items = []
    for number in range(start, start + count):
        path = f"/news/{number}.html"
        published = OLD + timedelta(hours=number)
        site.add_article(
            path,
            title=f"Mission update {number}",
            paragraphs=paragraphs_about(TOPIC, seed=number),
            published=published,
        )
        items.append(FeedItem(path, f"Mission update {number}", published))
    return items


async def scenario_incremental(tmp: Path) -> dict[str, Any]:
    from crawler.runner import crawl
    from pipeline.store import Store

    with SiteServer() as site:
        items = _publish(site, 6)
        site.add_feed("/feed.xml", items[:4])
        site.add_news_sitemap("/news-sitemap.xml", items)
        sources = [
            {"name": "wire-feed", "url": site.url("/feed.xml"), "kind": "feed"},
            {"name": "wire-sitemap", "url": site.url("/news-sitemap.xml"), "kind": "sitemap"},
        ]
        config = make_config(sources)
        store = Store.open(f"sqlite:///{tmp / 'crawl.db'}")
        processor = make_processor(store, config)
        first = await crawl(config=config, processor=processor, store=store)
        first_paths = site.requested_paths()
        user_agents = {r.header("User-Agent") for r in site.log()}

        site.clear_log()
        second = await crawl(config=config, processor=processor, store=store)
        second_log = [(r.path, r.status, r.header("If-None-Match")) for r in site.log()]

        site.clear_log()
        more = _publish(site, 2, start=6)
        site.add_feed("/feed.xml", items[:4] + more)
        site.add_news_sitemap("/news-sitemap.xml", items + more)
        third = await crawl(config=config, processor=processor, store=store)
        third_paths = site.requested_paths()
        store.close()
    return {
        "processor": type(processor).__name__,
        "first": first.as_dict(),
        "first_paths": first_paths,
        "user_agents": sorted(ua or "" for ua in user_agents),
        "second": second.as_dict(),
        "second_log": second_log,
        "third": third.as_dict(),
        "third_paths": third_paths,
    }


def test_incremental_crawl(tmp_path: Path) -> None:
    result = run_scenario(scenario_incremental, tmp_path)
    first, second, third = result["first"], result["second"], result["third"]

    # First crawl: every article fetched once and stored.
    articles = [p for p in result["first_paths"] if p.startswith("/news/")]
    assert sorted(articles) == sorted(f"/news/{n}.html" for n in range(6))
    assert first["pages"] == 6
    assert first["outcomes"].get("new", 0) + first["outcomes"].get("duplicate", 0) == 6
    assert first["errors"] == []
    assert first["article_downloads"] == 6

    # Honest User-Agent with the contact URL from config.
    assert result["user_agents"] == ["factwatch/0.1 (+https://factwatch.example/contact)"]

    # Repeat of an unchanged site: the feed and the sitemap answer 304, no article is requested.
    assert second["pages"] == 0 and second["article_downloads"] == 0
    root_answers = {path: status for path, status, _ in result["second_log"] if path != "/robots.txt"}
    assert root_answers == {"/feed.xml": 304, "/news-sitemap.xml": 304}
    assert all(tag for path, _, tag in result["second_log"] if path != "/robots.txt")
    assert second["not_modified"] == 2
    assert all(run["not_modified"] and run["error"] is None for run in second["sources"].values())

    # New articles appear: exactly those are fetched.
    fetched = sorted(p for p in result["third_paths"] if p.startswith("/news/"))
    assert fetched == ["/news/6.html", "/news/7.html"]
    assert third["pages"] == 2
    assert third["skipped_known"] >= 6


BLOCKING = """
import json, sys
from pathlib import Path
from tests.crawler.harness import make_config, make_processor
from tests.support.siteserver import FeedItem, SiteServer, paragraphs_about
from crawler.runner import crawl_blocking
from pipeline.store import Store

with SiteServer() as site:
    site.add_article("/a.html", title="Mission", paragraphs=paragraphs_about("the mission in Haiti", seed=9))
    site.add_feed("/feed.xml", [FeedItem("/a.html", "Mission")])
    config = make_config([{"name": "wire", "url": site.url("/feed.xml")}])
    store = Store.open("sqlite:///" + sys.argv[1])
    processor = make_processor(store, config)
    report = crawl_blocking(config=config, processor=processor, store=store)
    try:
        crawl_blocking(config=config, processor=processor, store=store)
        again = "ran twice"
    except RuntimeError as exc:
        again = str(exc)
    store.close()
print(json.dumps({"report": report.as_dict(), "summary": report.summary(), "again": again}))
"""


def test_crawl_blocking_runs_once_per_process(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    from tests.crawler.harness import REPO

    # This test is about the reactor's lifetime, not processing: the quick fake Processor will do.
    env = {**os.environ, "FACTWATCH_TEST_FAKE_PROCESSOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKING, str(tmp_path / "blocking.db")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["report"]["pages"] == 1 and result["report"]["sources"]["wire"]["kind"] == "feed"
    assert "1 pages processed" in result["summary"]
    assert "once per process" in result["again"]
