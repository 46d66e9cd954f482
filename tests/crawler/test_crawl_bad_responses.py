"""Every kind of bad response is recorded against its source with a reason, never stored, never fatal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.crawler.harness import make_config, make_processor, run_scenarios
from tests.support.siteserver import FeedItem, SiteServer, paragraphs_about

pytestmark = pytest.mark.slow

TOPIC = "the Kenya-led mission in Haiti"
WHEN = datetime(2025, 5, 2, 9, 30, tzinfo=UTC)

BAD = {
    "/bad/report.pdf": "content-type",
    "/bad/huge.html": "too-large",
    "/bad/huge-stream.html": "too-large",
    "/bad/mojibake.html": "encoding",
    "/bad/loop.html": "redirect-loop",
    "/bad/gone.html": "http-status",
    "/bad/broken.html": "http-status",
    "/bad/slow.html": "timeout",
    "/bad/paywall.html": "rejected",
    "/bad/empty.html": "rejected",
    "/private/secret.html": "robots",
}


async def scenario_bad_responses(tmp: Path) -> dict[str, Any]:
    from sqlmodel import select

    from crawler.runner import crawl
    from crawler.state import CrawlState
    from pipeline.store import Store
    from pipeline.store.models import Article

    with SiteServer(robots="User-agent: *\nDisallow: /private/\n") as site:
        site.add_article(
            "/news/good.html",
            title="Mission update",
            paragraphs=paragraphs_about(TOPIC, seed=1),
            published=WHEN,
        )
        site.add_non_html("/bad/report.pdf")
        site.add_oversized("/bad/huge.html", 200_000)
        site.add_oversized("/bad/huge-stream.html", 200_000, declare_length=False)
        site.add_broken_encoding("/bad/mojibake.html")
        site.add_redirect_loop("/bad/loop.html")
        site.add_status("/bad/gone.html", 404)
        site.add_status("/bad/broken.html", 500)
        site.add_slow("/bad/slow.html", 1.5)
        site.add_paywall("/bad/paywall.html")
        site.add_empty("/bad/empty.html")
        site.add_article("/private/secret.html", title="Hidden", paragraphs=paragraphs_about(TOPIC, seed=2))
        paths = ["/news/good.html", *BAD]
        site.add_feed(
            "/feed.xml", [FeedItem(path, f"Mission item {i}", WHEN) for i, path in enumerate(paths)]
        )
        config = make_config(
            [{"name": "wire", "url": site.url("/feed.xml"), "kind": "feed"}],
            max_body_bytes=50_000,
            timeout_seconds=0.5,
            retries=1,
            max_redirects=3,
        )
        store = Store.open(f"sqlite:///{tmp / 'crawl.db'}")
        processor = make_processor(store, config)
        report = await crawl(config=config, processor=processor, store=store)
        state = CrawlState(store)
        rows = [
            {"url": r.url, "source": r.source, "kind": r.kind, "reason": r.reason, "status": r.status}
            for r in state.bad_responses()
        ]
        with store.session() as session:
            stored = sorted(a.url for a in session.exec(select(Article)).all())
        health = state.health("wire")
        broken_hits = site.hits("/bad/broken.html")
        secret_hits = site.hits("/private/secret.html")
        base = site.base_url
        store.close()
    return {
        "report": report.as_dict(),
        "rows": rows,
        "stored": stored,
        "base": base,
        "health": health.model_dump() if health else None,
        "broken_hits": broken_hits,
        "secret_hits": secret_hits,
    }


def test_bad_responses_are_recorded(results: Any) -> None:
    result = results["scenario_bad_responses"]
    base = result["base"]
    rows = {row["url"].removeprefix(base): row for row in result["rows"]}
    assert {path: rows[path]["kind"] for path in BAD if path in rows} == BAD
    assert all(row["source"] == "wire" and row["reason"] for row in rows.values())
    assert rows["/bad/gone.html"]["status"] == 404
    assert rows["/bad/broken.html"]["status"] == 500
    # The Processor judges paywalls; either way the page is refused with its reason.
    assert any(word in rows["/bad/paywall.html"]["reason"].lower() for word in ("paywall", "no article text"))
    assert "application/pdf" in rows["/bad/report.pdf"]["reason"]

    # Only the good article is stored; the crawl finished and the source counts as healthy.
    assert result["stored"] == [base + "/news/good.html"]
    report = result["report"]
    assert report["close_reason"] == "finished"
    assert sum(report["bad"].values()) == len(BAD) == len(report["errors"])
    assert result["health"]["consecutive_failures"] == 0
    assert result["health"]["bad_responses"] == len(BAD)

    # 500 retried once (with backoff), robots.txt obeyed: the disallowed page was never requested.
    assert result["broken_hits"] == 2
    assert result["secret_hits"] == 0


async def scenario_source_health(tmp: Path) -> dict[str, Any]:
    from sqlmodel import col, select

    from crawler.runner import crawl
    from crawler.state import CrawlState
    from pipeline.store import Store
    from pipeline.store.models import Alert

    with SiteServer() as site:
        site.add_status("/feed.xml", 503)
        config = make_config(
            [{"name": "flaky", "url": site.url("/feed.xml"), "kind": "feed"}],
            alerts={"error_after": 2},
            retries=0,
        )
        store = Store.open(f"sqlite:///{tmp / 'crawl.db'}")
        processor = make_processor(store, config)
        state = CrawlState(store)
        seen = []
        for _ in range(2):
            await crawl(config=config, processor=processor, store=store)
            seen.append(state.health("flaky"))
        site.add_article(
            "/a.html", title="Mission", paragraphs=paragraphs_about(TOPIC, seed=5), published=WHEN
        )
        site.add_feed("/feed.xml", [FeedItem("/a.html", "Mission", WHEN)])
        await crawl(config=config, processor=processor, store=store)
        seen.append(state.health("flaky"))
        with store.session() as session:
            events = [a.event for a in session.exec(select(Alert).order_by(col(Alert.id))).all()]
        alert_tables = "alert_source_state" in store.table_names()
        store.close()
    return {
        "health": [row.model_dump() if row else None for row in seen],
        "events": events,
        "alert_tables": alert_tables,
    }


async def scenario_broken_feed(tmp: Path) -> dict[str, Any]:
    from crawler.runner import crawl
    from crawler.state import CrawlState
    from pipeline.store import Store

    with SiteServer() as site:
        site.set("/feed.xml", "<html><body>We moved our feed, sorry</body></html>", content_type="text/xml")
        config = make_config([{"name": "broken", "url": site.url("/feed.xml"), "kind": "feed"}])
        store = Store.open(f"sqlite:///{tmp / 'crawl.db'}")
        processor = make_processor(store, config)
        reports = [(await crawl(config=config, processor=processor, store=store)).as_dict() for _ in range(2)]
        conditional = [r.header("If-None-Match") for r in site.log() if r.path == "/feed.xml"]
        health = CrawlState(store).health("broken")
        store.close()
    return {"reports": reports, "conditional": conditional, "health": health.model_dump() if health else None}


def test_unreadable_feed_fails_every_time(results: Any) -> None:
    result = results["scenario_broken_feed"]
    first, second = result["reports"]
    assert first["bad"] == {"unparseable": 1} and second["bad"] == {"unparseable": 1}
    assert "cannot read feed" in first["sources"]["broken"]["error"]
    # Its validators were not kept, so a 304 cannot hide that it is still broken.
    assert result["conditional"] == [None, None]
    assert result["health"]["consecutive_failures"] == 2


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """All scenarios of this module in one child process."""
    scenarios = [scenario_bad_responses, scenario_source_health, scenario_broken_feed]
    return run_scenarios(scenarios, tmp_path_factory.mktemp("bad"))


@pytest.fixture
def health_result(results: Any) -> Any:
    return results["scenario_source_health"]


def test_source_health_tracks_failures_and_recovery(health_result: Any) -> None:
    first, second, recovered = health_result["health"]
    assert first["consecutive_failures"] == 1 and "503" in first["last_error"]
    assert first["last_success"] is None
    assert second["consecutive_failures"] == 2
    assert recovered["consecutive_failures"] == 0
    assert recovered["last_success"] is not None and recovered["last_new_item"] is not None
    assert recovered["last_error"] == first["last_error"]  # the last error stays visible after recovery
    assert recovered["kind"] == "feed"


def test_source_health_feeds_the_alert_policy(health_result: Any) -> None:
    if not health_result["alert_tables"]:
        pytest.skip("the store schema has no alert_source_state table yet (alerts.models not migrated)")
    # alerts.health applies the policy: one error alert after two failed runs, one on recovery.
    events = [e for e in health_result["events"] if e.startswith("source")]
    assert events == ["source_error", "source_recovered"]
