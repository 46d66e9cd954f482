"""Source kinds end to end: auto-detection, sitemap indexes, listing depth, revisits, changed entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.crawler.harness import make_config, make_processor, run_scenarios
from tests.support.siteserver import FeedItem, SiteServer, paragraphs_about

pytestmark = pytest.mark.slow

TOPIC = "the Kenya-led mission in Haiti"
OLD = datetime(2025, 2, 10, 6, 0, tzinfo=UTC)


def _article(site: SiteServer, path: str, seed: int, published: datetime = OLD) -> FeedItem:
    title = f"Mission report {seed}"
    site.add_article(path, title=title, paragraphs=paragraphs_about(TOPIC, seed=seed), published=published)
    return FeedItem(path, title, published)


async def scenario_kinds(tmp: Path) -> dict[str, Any]:
    from sqlmodel import select

    from crawler.runner import crawl
    from pipeline.store import Store
    from pipeline.store.crawl_models import CrawlUrl

    with SiteServer() as site:
        feed_items = [_article(site, f"/f/{n}.html", n) for n in range(2)]
        site.add_feed("/rss", feed_items, atom=True)
        news = [_article(site, f"/s/{n}.html", 10 + n, OLD + timedelta(days=n)) for n in range(3)]
        site.add_news_sitemap("/sitemaps/news-1.xml", news[:2])
        site.add_news_sitemap("/sitemaps/news-2.xml", news[2:])
        site.add_sitemap_index("/sitemap.xml", ["/sitemaps/news-1.xml", "/sitemaps/news-2.xml"])
        # A listing two hops deep: section front -> subsection -> articles; deny rule drops videos.
        for n in range(2):
            _article(site, f"/world/story-{n}.html", 20 + n)
        _article(site, "/world/video-9.html", 29)
        site.add_listing("/world/americas/", ["/world/story-1.html", "/world/video-9.html"])
        site.add_listing(
            "/world/", ["/world/story-0.html", "/world/americas/", "/world/video-9.html", "/about"]
        )
        # A feed that moved (301) and whose source filters by topic keywords and domain.
        _article(site, "/g/50.html", 50)
        site.add_article(
            "/g/51.html", title="Football results", paragraphs=paragraphs_about("sport", seed=51)
        )
        base = site.base_url
        site.set(
            "/picky.xml",
            "<?xml version='1.0'?><rss version='2.0'><channel><title>p</title>"
            f"<item><title>Mission report 50</title><link>{base}/g/50.html</link></item>"
            f"<item><title>Football results</title><link>{base}/g/51.html</link></item>"
            "<item><title>Mission abroad</title><link>http://elsewhere.test/x.html</link></item>"
            "</channel></rss>",
            content_type="application/rss+xml",
        )
        site.add_redirect("/moved-feed", "/picky.xml")
        sources = [
            {
                "name": "picky",
                "url": site.url("/moved-feed"),
                "kind": "feed",
                "keywords": ["mission"],
                "allowed_domains": ["127.0.0.1"],
            },
            {"name": "atom", "url": site.url("/rss")},
            {"name": "index", "url": site.url("/sitemap.xml")},
            {
                "name": "front",
                "url": site.url("/world/"),
                "depth": 2,
                "allow": ["/world/"],
                "deny": ["video"],
            },
        ]
        config = make_config(sources)
        store = Store.open(f"sqlite:///{tmp / 'crawl.db'}")
        processor = make_processor(store, config)
        first = await crawl(config=config, processor=processor, store=store)
        first_paths = site.requested_paths()
        with store.session() as session:
            published = {
                row.url.removeprefix(site.base_url): row.published
                for row in session.exec(select(CrawlUrl)).all()
                if row.url.startswith(site.base_url + "/s/")
            }
        site.clear_log()
        second = await crawl(config=config, processor=processor, store=store)
        second_log = [(r.path, r.status) for r in site.log()]
        store.close()
    return {
        "first": first.as_dict(),
        "first_paths": first_paths,
        "published": published,
        "second": second.as_dict(),
        "second_log": second_log,
    }


def test_source_kinds_and_auto_detection(results: Any) -> None:
    result = results["scenario_kinds"]
    first = result["first"]
    assert {name: run["kind"] for name, run in first["sources"].items()} == {
        "picky": "feed",
        "atom": "feed",
        "index": "sitemap",
        "front": "listing",
    }
    fetched = {p for p in result["first_paths"] if p.endswith(".html")}
    assert fetched == {
        "/g/50.html",
        "/f/0.html",
        "/f/1.html",
        "/s/0.html",
        "/s/1.html",
        "/s/2.html",
        "/world/story-0.html",
        "/world/story-1.html",
    }
    assert "/world/americas/" in result["first_paths"]  # followed at depth 1, its links at depth 2
    assert "/about" not in result["first_paths"]
    # Off-topic title and off-domain link skipped before any request.
    assert first["skipped_filtered"] == 2 and first["errors"] == []
    # news:publication_date from the sitemap is kept for each article.
    assert result["published"] == {
        "/s/0.html": "2025-02-10 06:00:00+00:00",
        "/s/1.html": "2025-02-11 06:00:00+00:00",
        "/s/2.html": "2025-02-12 06:00:00+00:00",
    }
    # Repeat: every root (the index and both child sitemaps never re-read) answers 304; no article fetched.
    second = result["second"]
    assert second["article_downloads"] == 0 and second["pages"] == 0
    assert dict(result["second_log"]) == {
        "/robots.txt": 200,
        "/moved-feed": 301,  # validators kept under the configured URL survive the redirect
        "/picky.xml": 304,
        "/rss": 304,
        "/sitemap.xml": 304,
        "/world/": 304,
    }


async def scenario_revisits(tmp: Path) -> dict[str, Any]:
    from sqlmodel import select

    from crawler.runner import crawl
    from pipeline.store import Store
    from pipeline.store.crawl_models import CrawlUrl

    now = datetime.now(UTC)
    with SiteServer() as site:
        fresh = _article(site, "/fresh.html", 40, now - timedelta(minutes=5))
        old = _article(site, "/old.html", 41, OLD)
        site.add_news_sitemap("/news.xml", [fresh, old])
        config = make_config([{"name": "wire", "url": site.url("/news.xml"), "kind": "sitemap"}])
        store = Store.open(f"sqlite:///{tmp / 'crawl.db'}")
        processor = make_processor(store, config)
        await crawl(config=config, processor=processor, store=store)

        def rows() -> dict[str, Any]:
            with store.session() as session:
                return {r.url.removeprefix(site.base_url): r for r in session.exec(select(CrawlUrl)).all()}

        scheduled = {path: row.next_revisit for path, row in rows().items()}

        def make_due() -> None:
            with store.session() as session:
                row = session.exec(select(CrawlUrl).where(CrawlUrl.url == site.url("/fresh.html"))).one()
                row.next_revisit = datetime.now(UTC) - timedelta(seconds=1)
                session.add(row)
                session.commit()

        # Due, unchanged: a conditional request answered 304.
        make_due()
        site.clear_log()
        unchanged = await crawl(config=config, processor=processor, store=store)
        unchanged_log = [(r.path, r.status, r.header("If-None-Match") is not None) for r in site.log()]

        # Due, edited: fetched again and handed to the processor as a new version.
        make_due()
        site.add_article(
            "/fresh.html",
            title=fresh.title,
            published=fresh.published,
            paragraphs=[*paragraphs_about(TOPIC, seed=40), "A correction was appended later."],
        )
        site.clear_log()
        edited = await crawl(config=config, processor=processor, store=store)
        edited_paths = site.requested_paths()
        after = rows()["/fresh.html"]

        # The sitemap announces a newer lastmod for the old article: it is fetched again.
        site.add_article(
            "/old.html",
            title=old.title,
            paragraphs=[*paragraphs_about(TOPIC, seed=41), "Update."],
            published=OLD,
        )
        site.set(
            "/news.xml",
            site.route_for("/news.xml").body.replace(  # type: ignore[union-attr]
                b"</news:news></url></urlset>",
                b"</news:news><lastmod>2026-01-01T00:00:00Z</lastmod></url></urlset>",
            ),
            content_type="application/xml",
        )
        site.clear_log()
        changed = await crawl(config=config, processor=processor, store=store)
        changed_paths = site.requested_paths()
        store.close()
    return {
        "scheduled": scheduled,
        "now": now,
        "unchanged": unchanged.as_dict(),
        "unchanged_log": unchanged_log,
        "edited": edited.as_dict(),
        "edited_paths": edited_paths,
        "after_revisits": after.revisits,
        "after_next": after.next_revisit,
        "changed": changed.as_dict(),
        "changed_paths": changed_paths,
    }


def test_revisits_and_changed_entries(results: Any) -> None:
    result = results["scenario_revisits"]
    now = datetime.fromisoformat(result["now"])
    next_fresh = datetime.fromisoformat(result["scheduled"]["/fresh.html"])
    # Published 5 minutes ago: the first revisit is 15 minutes after publication; old articles never.
    assert timedelta(minutes=9) < next_fresh - now < timedelta(minutes=11)
    assert result["scheduled"]["/old.html"] is None

    assert ["/fresh.html", 304, True] in result["unchanged_log"]
    assert result["unchanged"]["revisits"] == 1 and result["unchanged"]["pages"] == 0

    assert result["edited_paths"].count("/fresh.html") == 1
    assert result["edited"]["pages"] == 1
    assert result["edited"]["outcomes"] == {"version": 1}
    assert result["after_revisits"] == 2
    assert result["after_next"] is not None  # still young: the 1 h revisit is next

    assert [p for p in result["changed_paths"] if p.endswith(".html")] == ["/old.html"]
    assert result["changed"]["pages"] == 1


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Both scenarios of this module in one child process."""
    return run_scenarios([scenario_kinds, scenario_revisits], tmp_path_factory.mktemp("sources"))
