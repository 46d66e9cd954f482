"""Replaying the committed fixture archives, and archives with gaps, through the real crawler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.crawler.harness import make_config, run_scenario

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

pytestmark = pytest.mark.slow  # each scenario runs in a child process
NEEDED = ["portledger-2024.warc.gz", "portledger-2025.warc.gz", "wire-copies.warc.gz", "edited-v2.warc.gz"]


async def scenario_fixture_archives(tmp: Path) -> dict[str, Any]:
    from config.loader import load_config
    from crawler.replay import replay
    from crawler.warcindex import open_snapshots
    from pipeline.process import Processor
    from pipeline.store import Store

    config = load_config(None)
    store = Store.open(f"sqlite:///{tmp / 'fixtures.db'}")
    processor = Processor(store, config)
    ledger = [FIXTURES / "portledger-2024.warc.gz", FIXTURES / "portledger-2025.warc.gz"]
    html_pages = sorted(
        {e.url for s in open_snapshots(ledger) for e in s.entries if e.status == 200 and e.is_html}
    )
    results: dict[str, Any] = {"html_pages": html_pages}
    results["ledger"] = (await replay(ledger, config=config, processor=processor, store=store)).as_json()
    results["wire"] = (
        await replay([FIXTURES / "wire-copies.warc.gz"], config=config, processor=processor, store=store)
    ).as_json()
    results["edited"] = (
        await replay([FIXTURES / "edited-v2.warc.gz"], config=config, processor=processor, store=store)
    ).as_json()
    results["ledger_again"] = (
        await replay(ledger, config=config, processor=processor, store=store)
    ).as_json()
    return results


@pytest.mark.skipif(
    not all((FIXTURES / name).exists() for name in NEEDED), reason="fixture archives not built"
)
def test_fixture_archives_replay_without_gaps(tmp_path: Path) -> None:
    result = run_scenario(scenario_fixture_archives, tmp_path)
    ledger = result["ledger"]
    assert ledger["missing"] == [] and ledger["damage"] == []
    assert [s["records"] for s in ledger["snapshots"]] == [23, 29]
    # Every archived page went through the pipeline: stored, or refused with a reason.
    handled = sum(ledger["outcomes"].values())
    assert handled >= len(result["html_pages"]) - 3  # the three section/listing roots are not articles
    assert ledger["outcomes"]["new"] >= 10
    # The archived 404 replays as the same bad response the live crawl met.
    assert any("404" in error["reason"] for error in ledger["errors"])
    assert result["wire"]["missing"] == []
    # An archive with one edited page and no roots: the second pass fetches it, a new version results.
    edited = result["edited"]
    assert edited["snapshots"][0]["sources"] == [] and edited["snapshots"][0]["second_pass"] == 1
    assert edited["outcomes"] == {"version": 1}
    # Replaying what is already stored adds nothing.
    again = result["ledger_again"]
    assert not {"new", "version"} & set(again["outcomes"]), again["outcomes"]


async def scenario_gap(tmp: Path) -> dict[str, Any]:
    from crawler.archive import Exchange, RotatingWarcWriter
    from crawler.replay import replay
    from pipeline.store import Store
    from tests.crawler.harness import make_processor
    from tests.support.siteserver import FeedItem, article_html, rss_feed

    base = "http://gap.test"
    feed = rss_feed(base, [FeedItem("/a.html", "Haiti mission a"), FeedItem("/b.html", "Haiti mission b")])
    page = article_html(
        title="Haiti mission a",
        paragraphs=[
            "Kenyan officers with the Haiti mission opened a new station in the north of the capital.",
            "Local councillors said the station would answer calls from four neighbourhoods at night.",
            "The mission plans two more stations before the end of the year, its spokesperson said.",
        ],
    )
    writer = RotatingWarcWriter(tmp / "archive")
    rss = [("Content-Type", "application/rss+xml")]
    html = [("Content-Type", "text/html; charset=utf-8")]
    writer.write(
        Exchange(
            f"{base}/feed.xml", "GET", [], b"", 200, rss, feed.encode(), source_kind="feed", source="gap"
        )
    )
    writer.write(Exchange(f"{base}/a.html", "GET", [], b"", 200, html, page.encode(), origin="gap"))
    writer.finish()
    config = make_config([{"name": "gap", "url": f"{base}/feed.xml", "kind": "feed"}])
    store = Store.open(f"sqlite:///{tmp / 'gap.db'}")
    report = await replay(
        writer.finished, config=config, processor=make_processor(store, config), store=store
    )
    return {"report": report.as_json(), "ok": report.ok, "summary": report.summary()}


def test_request_missing_from_the_archive_is_reported(tmp_path: Path) -> None:
    result = run_scenario(scenario_gap, tmp_path)
    report = result["report"]
    assert report["missing"] == ["http://gap.test/b.html"]
    assert report["outcomes"].get("new") == 1
    assert result["ok"] is False
    assert "http://gap.test/b.html" in result["summary"]
    # robots.txt was not archived either, yet it is no gap: it is answered 404 (allow all).
    assert not any("robots.txt" in url for url in report["missing"])
