"""`factwatch run --source URL` as a user runs it: one cycle against a loopback site, JSON for scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.siteserver import FeedItem, SiteServer, paragraphs_about

ROOT = Path(__file__).resolve().parents[2]


def factwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACTWATCH_DB": f"sqlite:///{cwd / 'fw.db'}", "FACTWATCH_DATA": str(cwd / "data")}
    env["FACTWATCH_PROCESS_WORKERS"] = "1"  # as on a user's multi-core machine: pages in a worker process
    env.pop("FACTWATCH_NOTIFY", None)
    result = subprocess.run(
        [sys.executable, "-m", "factwatch.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        input="",
        timeout=180,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_run_crawls_once_archives_and_a_second_run_downloads_nothing(tmp_path: Path) -> None:
    with SiteServer() as site:
        items = []
        for i in range(3):
            published = datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=i)
            site.add_article(
                f"/news/{i}.html",
                title=f"Haiti mission report {i}",
                paragraphs=paragraphs_about("the Kenya-led mission in Haiti", 5, seed=i),
                published=published,
            )
            items.append(FeedItem(f"/news/{i}.html", f"Haiti mission report {i}", published))
        site.add_feed("/feed.xml", items)
        feed = site.url("/feed.xml")

        first = factwatch("run", "--json", "--source", feed, "--source", feed, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        report = json.loads(first.stdout)
        assert report["crawl"]["outcomes"] == {"new": 3}
        assert "started 1 page worker process(es)" in first.stderr
        assert sorted(report["crawl"]["sources"]) == ["127.0.0.1", "127.0.0.1-2"]  # repeats named apart
        assert list((tmp_path / "data" / "archive").glob("*.warc.gz"))
        article_hits = sum(site.hits(f"/news/{i}.html") for i in range(3))

        second = factwatch("run", "--json", "--source", feed, cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert sum(site.hits(f"/news/{i}.html") for i in range(3)) == article_hits

        bad = factwatch("run", "--source", "ftp://example.org/feed", cwd=tmp_path)
        assert bad.returncode == 2
        assert "--source 'ftp://example.org/feed': expected an http(s) URL" in bad.stderr
