"""Resident memory of the real daemon over 50 crawl cycles, with new articles on the site every cycle.

Starts `factwatch daemon` as a child process against a loopback news site (schedule: every 1s), adds
fresh articles after each finished crawl, and samples the VmRSS of the child and its page worker
processes from /proc after cycles 5 and 50.
A daemon that runs for weeks must not grow: the target is rss_50 / rss_5 <= 1.10.

    .venv/bin/python bench/daemon_memory.py [--cycles 50] [--per-cycle 3]

Last line: `rss_ratio_50_5 1.03 rss_mb_5 180 rss_mb_50 185`.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.siteserver import FeedItem, SiteServer  # noqa: E402

WORDS = [
    "police",
    "officers",
    "patrol",
    "district",
    "council",
    "mission",
    "budget",
    "vote",
    "road",
    "port",
    "market",
    "school",
    "clinic",
    "water",
    "convoy",
    "checkpoint",
    "gang",
    "leader",
    "curfew",
    "airport",
    "harbor",
    "election",
    "minister",
    "envoy",
    "report",
    "camp",
    "families",
    "displaced",
    "shelter",
    "aid",
    "delivery",
    "truck",
    "fuel",
    "price",
    "bridge",
    "village",
    "coast",
    "mountain",
    "northern",
    "southern",
    "eastern",
    "western",
    "capital",
    "suburb",
    "night",
    "morning",
    "week",
    "month",
    "season",
    "residents",
    "traders",
    "drivers",
    "nurses",
    "teachers",
    "judges",
    "lawyers",
    "soldiers",
    "advisers",
    "engineers",
    "observers",
    "donors",
    "partners",
    "regional",
    "national",
]


def paragraph(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return f"In Haiti, {' '.join(words)}. Officers from Kenya said the {rng.choice(WORDS)} improved."


def _own_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0  # a kernel thread or a process that just exited


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def vm_rss_mb(pid: int) -> float:
    """The daemon's resident memory plus its page worker processes' (crawl.process_workers)."""
    total = 0.0
    for each in [pid, *_descendants(pid)]:
        try:
            total += _own_rss_mb(each)
        except OSError:
            continue
    return total


def finished_runs(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute("SELECT count(*) FROM source_run WHERE status != 'running'").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--per-cycle", type=int, default=3, help="new articles added per cycle")
    args = parser.parse_args()
    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="fw-bench-"))
    db = tmp / "bench.db"
    items: list[FeedItem] = []
    counter = 0

    with SiteServer() as site:

        def add_articles() -> None:
            nonlocal counter
            for _ in range(args.per_cycle):
                counter += 1
                path = f"/news/{counter}.html"
                published = datetime.now(UTC) - timedelta(minutes=10)
                title = f"Haiti report {counter}: {rng.choice(WORDS)} {rng.choice(WORDS)}"
                site.add_article(
                    path,
                    title=title,
                    published=published,
                    paragraphs=[paragraph(rng, 40), paragraph(rng, 35), paragraph(rng, 30)],
                )
                items.insert(0, FeedItem(path, title, published))
            site.add_feed("/feed.xml", items[:50])

        add_articles()
        config = tmp / "bench.yaml"
        config.write_text(
            f"""topic: {{name: bench, keywords: [Haiti]}}
facts: {REPO / "config" / "haiti-mss.facts.yaml"}
sources:
  - {{name: loopback, url: "{site.url("/feed.xml")}", kind: feed, schedule: {{every: 1s, jitter: 0s}}}}
crawl: {{download_delay: 0, autothrottle: false, archive: false, retries: 0, obey_robots: false}}
""",
            encoding="utf-8",
        )
        env = {**os.environ, "FACTWATCH_LOG_LEVEL": "WARNING"}
        env.pop("FACTWATCH_NOTIFY", None)
        cmd = [
            sys.executable,
            "-m",
            "factwatch.cli",
            "daemon",
            "--config",
            str(config),
            "--db",
            f"sqlite:///{db}",
        ]
        log = (tmp / "daemon.log").open("w")
        child = subprocess.Popen(cmd, cwd=tmp, env=env, stderr=log, stdout=log)
        samples: dict[int, float] = {}
        started = time.monotonic()
        try:
            seen = 0
            while seen < args.cycles:
                if child.poll() is not None:
                    raise SystemExit(f"daemon exited with {child.returncode}; see {tmp / 'daemon.log'}")
                if time.monotonic() - started > 60 + args.cycles * 10:
                    raise SystemExit("timed out waiting for crawl cycles")
                done = finished_runs(db)
                if done > seen:
                    seen = done
                    if seen in (5, args.cycles):
                        samples[seen] = vm_rss_mb(child.pid)
                    add_articles()
                time.sleep(0.05)
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=60)
            log.close()
        with sqlite3.connect(db) as conn:
            articles = conn.execute("SELECT count(*) FROM article").fetchone()[0]
    rss5, rss50 = samples[5], samples[args.cycles]
    elapsed = time.monotonic() - started
    print(f"cycles {args.cycles}, articles stored {articles}, {elapsed:.0f}s, daemon exit {child.returncode}")
    print(f"rss_ratio_50_5 {rss50 / rss5:.2f} rss_mb_5 {rss5:.0f} rss_mb_50 {rss50:.0f}")


if __name__ == "__main__":
    main()
