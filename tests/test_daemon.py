"""The daemon as users run it: a real `factwatch daemon` process against a loopback news site.

Each test starts the daemon with a 2-second schedule and watches the database, the site's request log
and a loopback apprise `json://` endpoint. They run on SQLite and, when reachable, PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # tests.support lives at the repository root
    sys.path.insert(0, str(REPO))

from tests.support.siteserver import FeedItem, Route, SiteServer  # noqa: E402

pytestmark = pytest.mark.slow

FACTS_FILE = REPO / "config" / "haiti-mss.facts.yaml"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


# -- loopback pieces ------------------------------------------------------------------------------------


class _Hook(BaseHTTPRequestHandler):
    server: Webhook

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.received.append(payload)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Webhook(ThreadingHTTPServer):
    """What apprise's json:// posts, collected."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/"

    def titles(self) -> list[str]:
        with self.lock:
            return [str(item.get("title", "")) for item in self.received]


@dataclass
class NewsSite:
    server: SiteServer
    items: list[FeedItem] = field(default_factory=list)

    def publish(self, n: int, police: int, *, delay: float = 0.0) -> Route:
        """An article saying `police` Kenyan officers are deployed, published n hours after T0."""
        path = f"/news/update-{n}.html"
        published = T0 + timedelta(hours=n)
        title = f"Haiti security update {n}"
        route = self.server.add_article(
            path,
            title=title,
            published=published,
            paragraphs=[
                f"Port-au-Prince, Haiti. In its briefing number {n}, the Kenya-led Multinational Security "
                f"Support mission said {police} Kenyan police officers are now deployed in Haiti.",
                f"Commanders described briefing {n} as routine, and said patrols continue in the capital "
                "together with officers of the Haitian National Police.",
                f"Residents spoken to for briefing {n} said markets had reopened in several districts.",
            ],
        )
        route.delay = delay
        self.items.insert(0, FeedItem(path, title, published))
        self.server.add_feed("/feed.xml", self.items)
        return route


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with SiteServer() as server:
        yield NewsSite(server)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    thread = threading.Thread(target=hook.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.shutdown()
    hook.server_close()


def write_config(path: Path, feed_url: str, *, concurrency: int = 4) -> Path:
    path.write_text(
        f"""topic: {{name: daemon-test, keywords: [Haiti]}}
facts: {FACTS_FILE}
changes: {{alert_initial: true}}
sources:
  - name: loopback
    url: "{feed_url}"
    kind: feed
    schedule: {{every: 2s, jitter: 0s}}
crawl: {{download_delay: 0, autothrottle: false, archive: false, retries: 0, obey_robots: false,
        concurrent_per_domain: {concurrency}}}
alerts: {{backoff_seconds: 0}}
""",
        encoding="utf-8",
    )
    return path


class DaemonProcess:
    """`factwatch daemon` in a child process, its stderr kept in a file for failure messages."""

    def __init__(
        self,
        tmp: Path,
        config: Path,
        db_url: str,
        *extra: str,
        name: str = "daemon",
        log_format: str = "text",
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FACTWATCH_")}
        env["FACTWATCH_LOG_LEVEL"] = "INFO"
        env["FACTWATCH_LOG_FORMAT"] = log_format
        self.log_path = tmp / f"{name}.log"
        self._log = self.log_path.open("w")
        cmd = [
            sys.executable,
            "-m",
            "factwatch.cli",
            "daemon",
            "--config",
            str(config),
            "--db",
            db_url,
            *extra,
        ]
        self.proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def daemons() -> Iterator[list[DaemonProcess]]:
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        daemon.kill()


def wait_for(
    check: Callable[[], Any], what: str, daemon: DaemonProcess | None = None, timeout: float = 40
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if daemon is not None and daemon.proc.poll() is not None:
            pytest.fail(
                f"daemon exited ({daemon.proc.returncode}) while waiting for {what}:\n{daemon.log()[-3000:]}"
            )
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}" + (f":\n{daemon.log()[-3000:]}" if daemon else ""))


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    from pipeline.store import Store

    Store.open(db_url).close()  # schema in place before the test starts polling
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def finished_runs(engine: Engine) -> int:
    return int(scalar(engine, "SELECT count(*) FROM source_run WHERE status IN ('ok', 'error')") or 0)


def get_health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- tests ----------------------------------------------------------------------------------------------


def test_cycles_pick_up_new_articles_alert_refuse_a_second_daemon_and_stop_cleanly(
    tmp_path: Path, site: NewsSite, webhook: Webhook, db: Engine, db_url: str, daemons: list[DaemonProcess]
) -> None:
    site.publish(1, 400)
    config = write_config(tmp_path / "topic.yaml", site.server.url("/feed.xml"))
    port = free_port()
    daemon = DaemonProcess(tmp_path, config, db_url, "--notify", webhook.url, "--health-port", str(port))
    daemons.append(daemon)

    wait_for(lambda: scalar(db, "SELECT count(*) FROM article") == 1, "the first article", daemon)
    wait_for(lambda: any("400" in t for t in webhook.titles()), "the first value's alert", daemon)
    status, health = get_health(port)
    assert status == 200 and health["status"] == "ok" and health["scheduler"] and health["lease"]

    # Single instance: a second daemon on the same database refuses, naming the one that runs.
    second = DaemonProcess(tmp_path, config, db_url, name="second")
    daemons.append(second)
    assert second.proc.wait(timeout=30) == 2
    refusal = second.log()
    assert "another factwatch daemon is already running" in refusal and f"pid {daemon.proc.pid}" in refusal
    assert "Traceback" not in refusal

    runs_before = finished_runs(db)
    site.publish(2, 600)  # between cycles: the next scheduled crawl must find it
    wait_for(lambda: scalar(db, "SELECT count(*) FROM article") == 2, "the new article", daemon)
    wait_for(lambda: any("600" in t and "400" in t for t in webhook.titles()), "the change alert", daemon)
    wait_for(lambda: finished_runs(db) >= runs_before + 2, "more scheduled cycles", daemon)

    assert daemon.stop(signal.SIGTERM) == 0, daemon.log()[-3000:]
    log = daemon.log()
    assert "SIGTERM received" in log and "daemon stopped" in log
    # Nothing lost or left half-done: every alert delivered, no run left open, the lease released.
    assert scalar(db, "SELECT count(*) FROM alert WHERE state != 'delivered'") == 0
    assert scalar(db, "SELECT count(*) FROM alert") == len(webhook.titles())
    assert scalar(db, "SELECT count(*) FROM source_run WHERE status = 'running'") == 0
    assert scalar(db, "SELECT count(*) FROM daemon_lease") == 0
    # Incremental: each article was downloaded once although the feed was crawled every cycle.
    assert site.server.hits("/news/update-1.html") == 1
    assert site.server.hits("/news/update-2.html") == 1


def test_sigkill_mid_crawl_then_restart_finishes_without_duplicates(
    tmp_path: Path, site: NewsSite, webhook: Webhook, db: Engine, db_url: str, daemons: list[DaemonProcess]
) -> None:
    paths = []
    for n in range(1, 7):
        site.publish(n, 300 + 10 * n, delay=1.0)
        paths.append(f"/news/update-{n}.html")
    config = write_config(tmp_path / "topic.yaml", site.server.url("/feed.xml"))
    first = DaemonProcess(tmp_path, config, db_url, "--notify", webhook.url, name="first")
    daemons.append(first)
    wait_for(lambda: any(p in site.server.requested_paths() for p in paths), "the crawl to start", first, 60)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=10)
    assert scalar(db, "SELECT count(*) FROM source_run WHERE status = 'running'") == 1
    stored_at_kill = scalar(db, "SELECT count(*) FROM article")
    assert stored_at_kill < len(paths)  # really mid-crawl

    started = time.monotonic()
    second = DaemonProcess(
        tmp_path, config, db_url, "--notify", webhook.url, name="second", log_format="json"
    )
    daemons.append(second)
    wait_for(lambda: "daemon started" in second.log(), "the restart to take over the lease", second, 30)
    assert time.monotonic() - started < 20
    wait_for(lambda: scalar(db, "SELECT count(*) FROM article") == len(paths), "every article", second, 60)
    wait_for(lambda: finished_runs(db) >= 1, "a completed run", second, 30)
    assert second.stop(signal.SIGTERM) == 0, second.log()[-3000:]

    # Structured logs: every line a JSON record a collector can parse, secrets redacted by factwatch.logs.
    records = [json.loads(line) for line in second.log().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)
    assert any(record["message"].startswith("daemon lease taken over") for record in records)

    assert scalar(db, "SELECT count(DISTINCT canonical_url) FROM article") == len(paths)
    assert scalar(db, "SELECT count(*) FROM source_run WHERE status = 'interrupted'") == 1
    assert scalar(db, "SELECT count(*) FROM source_run WHERE status = 'running'") == 0
    assert scalar(db, "SELECT count(*) FROM alert WHERE state != 'delivered'") == 0
    titles = webhook.titles()
    assert len(titles) == len(set(titles)) == scalar(db, "SELECT count(*) FROM alert")


def test_sigterm_mid_crawl_stops_it_at_a_safe_point_in_bounded_time(
    tmp_path: Path, site: NewsSite, daemons: list[DaemonProcess]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'fw.db'}"
    paths = []
    for n in range(1, 25):  # more articles than requests in flight, each answered after 2 s
        site.publish(n, 300 + 10 * n, delay=2.0)
        paths.append(f"/news/update-{n}.html")
    config = write_config(tmp_path / "topic.yaml", site.server.url("/feed.xml"), concurrency=2)
    daemon = DaemonProcess(tmp_path, config, db_url, "--shutdown-grace", "0.5")
    daemons.append(daemon)
    wait_for(lambda: site.server.hits("/feed.xml") > 0, "the crawl to start", daemon, 60)
    time.sleep(0.5)  # the first article requests are in flight now

    started = time.monotonic()
    assert daemon.stop(signal.SIGTERM) == 0, daemon.log()[-3000:]
    assert time.monotonic() - started < 15
    assert "stopping 1 crawl(s) still running at a safe point" in daemon.log()
    engine = create_engine(db_url)
    try:
        assert scalar(engine, "SELECT status FROM source_run") == "cancelled"
        stored = scalar(engine, "SELECT count(*) FROM article")
        assert stored == scalar(engine, "SELECT count(DISTINCT canonical_url) FROM article") < len(paths)
        assert scalar(engine, "SELECT count(*) FROM daemon_lease") == 0
    finally:
        engine.dispose()
