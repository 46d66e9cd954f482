"""A live crawl of the loopback site writes WARC files that replay to the same articles, server stopped.

Each scenario runs in its own process (tests.crawler.harness): a Twisted reactor cannot be restarted.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.crawler.harness import in_thread, make_config, make_processor, run_scenario

pytestmark = pytest.mark.slow  # each scenario runs in a child process

ARTICLES = {
    1: [
        "Kenyan police officers serving with the Haiti mission patrolled the port district on Monday.",
        "Dock workers said cargo moved faster once armoured vehicles began escorting the lorries inland.",
        "The harbour master expects two more container ships before the end of the month.",
    ],
    2: [
        "A second group of officers from Kenya landed at the capital's airport late on Tuesday evening.",
        "Mission spokespeople said the arrivals raise the force to 400 and free patrols for the hills.",
        "Families waiting outside the terminal waved flags as buses carried the officers to their base.",
    ],
    3: [
        "Schools in three northern districts reopened this week after months of closure, teachers said.",
        "Parents credited night patrols by the Haiti mission for making the morning walk less frightening.",
        "Several headteachers asked for textbooks and generators, which the education ministry promised.",
    ],
    9: [
        "Engineers repaired the main water pumping station that serves the southern neighbourhoods.",
        "Mission vehicles guarded the crews for four days while pipes and valves were replaced.",
        "The utility now hopes to restore running water to most households before the rainy season.",
    ],
}


def _article(n: int) -> list[str]:
    return ARTICLES[n]


def _stored(store: Any) -> list[tuple[str, str, str]]:
    from sqlmodel import select

    from pipeline.store.models import Article

    with store.session() as session:
        rows = session.exec(select(Article).where(Article.is_current == True)).all()  # noqa: E712
        return sorted(
            (row.canonical_url, row.title or "", hashlib.sha1(row.text.encode()).hexdigest()) for row in rows
        )


async def scenario_crawl_then_replay(tmp: Path) -> dict[str, Any]:
    from crawler.replay import replay
    from crawler.runner import crawl
    from pipeline.store import Store
    from tests.support.siteserver import FeedItem, SiteServer

    archive_dir = tmp / "archive"
    published = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    with SiteServer() as site:
        items = []
        for n in range(1, 4):
            path = f"/news/haiti-{n}.html"
            site.add_article(
                path, title=f"Haiti mission report {n}", paragraphs=_article(n), published=published
            )
            items.append(FeedItem(path, f"Haiti mission report {n}", published + timedelta(hours=n)))
        # The feed lists one article under an old address that now redirects.
        site.add_article(
            "/news/moved-new.html",
            title="Haiti mission moved report",
            paragraphs=_article(9),
            published=published,
        )
        site.add_redirect("/news/moved-old.html", site.url("/news/moved-new.html"))
        items.append(FeedItem("/news/moved-old.html", "Haiti mission moved report", published))
        site.add_feed("/feed.xml", items)
        sources = [{"name": "loopback", "url": site.url("/feed.xml"), "kind": "feed"}]
        config = make_config(sources)
        live_store = Store.open(f"sqlite:///{tmp / 'live.db'}")
        live = await crawl(
            config=config,
            processor=make_processor(live_store, config),
            store=live_store,
            archive_dir=archive_dir,
        )
        live_articles = await in_thread(_stored, live_store)
        base = site.base_url
    # Server stopped: everything below must come from the archive.
    archives = sorted(archive_dir.iterdir())
    from crawler.warcindex import open_snapshots

    archived = sorted(
        {(e.url.removeprefix(base), e.status) for s in open_snapshots(archives) for e in s.entries}
    )
    replay_store = Store.open(f"sqlite:///{tmp / 'replay.db'}")
    processor = make_processor(replay_store, config)
    first = await replay(archives, config=config, processor=processor, store=replay_store)
    replayed_articles = await in_thread(_stored, replay_store)
    again = await replay(archives, config=config, processor=processor, store=replay_store)
    after_again = await in_thread(_stored, replay_store)
    return {
        "base": base,
        "archives": [p.name for p in archives],
        "archived": archived,
        "live_pages": live.pages,
        "live_outcomes": dict(live.outcomes),
        "live_articles": live_articles,
        "replayed_articles": replayed_articles,
        "after_again": after_again,
        "first": first.as_json(),
        "again": again.as_json(),
    }


def test_live_crawl_replays_to_the_same_articles(tmp_path: Path) -> None:
    result = run_scenario(scenario_crawl_then_replay, tmp_path)
    assert result["archives"] and all(name.endswith(".warc.gz") for name in result["archives"])
    archived = {tuple(pair) for pair in result["archived"]}
    # Every response is archived: robots.txt, the feed, the redirect itself and its target.
    assert {("/robots.txt", 200), ("/feed.xml", 200), ("/news/moved-old.html", 301)} <= archived
    assert ("/news/moved-new.html", 200) in archived
    assert result["live_outcomes"].get("new") == 4, result["live_outcomes"]
    assert len(result["live_articles"]) == 4
    first = result["first"]
    assert result["replayed_articles"] == result["live_articles"]
    assert first["missing"] == [] and first["damage"] == []
    assert first["outcomes"].get("new") == 4, first
    assert first["snapshots"][0]["sources"] == ["loopback"]
    # The redirect replayed: the moved article is stored under its new address.
    assert any(url.endswith("/news/moved-new.html") for url, _, _ in result["replayed_articles"])
    # Replaying the same archive again adds nothing.
    again = result["again"]
    assert result["after_again"] == result["replayed_articles"]
    assert "new" not in again["outcomes"] and "version" not in again["outcomes"], again
    assert again["missing"] == []


async def scenario_incremental_crawls(tmp: Path) -> dict[str, Any]:
    """Three live crawls (first, one new article, nothing new) replay in order to the same store."""
    from crawler.replay import replay
    from crawler.runner import crawl
    from pipeline.store import Store
    from tests.support.siteserver import FeedItem, SiteServer

    published = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    crawl_dirs = [tmp / f"crawl{n}" for n in range(3)]
    with SiteServer() as site:
        items = []
        for n in (1, 2):
            path = f"/news/haiti-{n}.html"
            site.add_article(
                path, title=f"Haiti mission report {n}", paragraphs=_article(n), published=published
            )
            items.append(FeedItem(path, f"Haiti mission report {n}", published + timedelta(hours=n)))
        site.add_feed("/feed.xml", items)
        config = make_config([{"name": "loopback", "url": site.url("/feed.xml"), "kind": "feed"}])
        live_store = Store.open(f"sqlite:///{tmp / 'live.db'}")
        processor = make_processor(live_store, config)
        await crawl(config=config, processor=processor, store=live_store, archive_dir=crawl_dirs[0])
        site.add_article("/news/haiti-3.html", title="Haiti mission report 3", paragraphs=_article(3))
        items.append(FeedItem("/news/haiti-3.html", "Haiti mission report 3", published + timedelta(hours=3)))
        site.add_feed("/feed.xml", items)
        await crawl(config=config, processor=processor, store=live_store, archive_dir=crawl_dirs[1])
        await crawl(config=config, processor=processor, store=live_store, archive_dir=crawl_dirs[2])
        feed_statuses = [r.status for r in site.log() if r.path == "/feed.xml"]
        live_articles = await in_thread(_stored, live_store)
    replay_store = Store.open(f"sqlite:///{tmp / 'replay.db'}")
    report = await replay(
        crawl_dirs, config=config, processor=make_processor(replay_store, config), store=replay_store
    )
    lone_store = Store.open(f"sqlite:///{tmp / 'lone.db'}")
    lone = await replay(
        [crawl_dirs[2]], config=config, processor=make_processor(lone_store, config), store=lone_store
    )
    return {
        "feed_statuses": feed_statuses,
        "live_articles": live_articles,
        "replayed_articles": await in_thread(_stored, replay_store),
        "report": report.as_json(),
        "lone": lone.as_json(),
        "lone_articles": await in_thread(_stored, lone_store),
    }


def test_incremental_crawls_replay_in_order(tmp_path: Path) -> None:
    result = run_scenario(scenario_incremental_crawls, tmp_path)
    assert result["feed_statuses"] == [200, 200, 304]
    assert len(result["live_articles"]) == 3
    report = result["report"]
    assert len(report["snapshots"]) == 3 and report["missing"] == []
    assert [s["pages"] for s in report["snapshots"]] == [2, 1, 0]
    assert result["replayed_articles"] == result["live_articles"]
    # The last crawl alone holds only a 304 for the feed: nothing to process, and no gap either.
    assert result["lone"]["missing"] == [] and result["lone_articles"] == []
    assert [url.rsplit("/", 1)[1] for url in result["lone"]["orphan_304s"]] == ["feed.xml"]
