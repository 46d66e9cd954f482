"""`factwatch status`: daemon lease, last runs, pending alerts and size, from a real store."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.config import Schedule, SourceConfig
from factwatch.commands.status import collect_status
from factwatch.daemon.lease import Lease
from pipeline.store import Store
from pipeline.store.models import Alert
from pipeline.store.ops_models import SourceRun

NOW = datetime.now(UTC)


def test_status_reports_lease_runs_alerts_and_size(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        lease = Lease(store)
        lease.acquire()
        with store.session() as session:
            session.add(
                SourceRun(
                    source="wire",
                    started=NOW - timedelta(minutes=10),
                    status="ok",
                    pages=4,
                    new_articles=2,
                    finished=NOW - timedelta(minutes=9),
                )
            )
            session.add(
                SourceRun(source="gone", started=NOW - timedelta(hours=3), status="error", message="HTTP 500")
            )
            for i, state in enumerate(["pending", "pending", "delivered", "failed"]):
                session.add(Alert(event="change", key=f"k{i}", title="t", body="b", state=state))
            session.commit()
        wire = SourceConfig(name="wire", url="https://wire.example/feed", schedule=Schedule(every="30m"))
        fresh = SourceConfig(name="fresh", url="https://fresh.example/feed")
        report = collect_status(store, [wire, fresh], now=NOW)
    finally:
        store.close()

    assert report["daemon"]["running"] and report["daemon"]["pid"] == lease.pid
    assert report["alerts"] == {"pending": 2, "failed": 1, "delivered": 1}
    assert report["database"]["size_bytes"] > 0 and report["database"]["articles"] == 0
    rows = {row["name"]: row for row in report["sources"]}
    assert list(rows) == ["wire", "fresh", "gone"]  # configured first, then sources seen only in history
    assert rows["wire"]["schedule"] == "every 30m"
    assert rows["wire"]["last_run"]["new_articles"] == 2
    due = datetime.fromisoformat(rows["wire"]["next_due"])
    assert NOW + timedelta(minutes=19) <= due <= NOW + timedelta(minutes=21)
    assert rows["fresh"]["last_run"] is None and rows["fresh"]["next_due"] == "soon"
    assert rows["gone"]["last_run"]["status"] == "error" and rows["gone"]["schedule"] is None


def test_status_command_json(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'fw.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "factwatch.cli", "status", "--db", db, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["daemon"] == {"running": False}
    assert {s["name"] for s in data["sources"]} >= {"un-news-americas"}  # the bundled topic's sources
    text = subprocess.run(
        [sys.executable, "-m", "factwatch.cli", "status", "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert (
        text.returncode == 0 and "daemon: not running" in text.stdout and "alerts: 0 pending" in text.stdout
    )
