"""`factwatch replay` as a user runs it: clear errors for bad archives, a summary, alerts delivered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
LEDGER = [FIXTURES / "portledger-2024.warc.gz", FIXTURES / "portledger-2025.warc.gz"]
needs_fixtures = pytest.mark.skipif(
    not all(path.exists() for path in LEDGER), reason="fixture archives not built"
)


def factwatch(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "factwatch.cli", "--log-level", "WARNING", *map(str, args)],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=180,
    )


def _main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str | Path
) -> tuple[int, str]:
    """Run the CLI in this process (the error paths never reach the reactor); returns (status, stderr)."""
    import factwatch.cli

    for name in ("FACTWATCH_CONFIG", "FACTWATCH_DB", "FACTWATCH_NOTIFY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(factwatch.cli, "setup_logging", lambda *a, **k: None)
    status = factwatch.cli.main([str(arg) for arg in args])
    return status, capsys.readouterr().err


def _assert_user_error(status: int, stderr: str, *needles: str) -> None:
    assert status == 2, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("factwatch: error:")]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0]


def test_missing_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    _assert_user_error(
        *_main(monkeypatch, capsys, "replay", "--db", db, tmp_path / "nope.warc.gz"),
        "nope.warc.gz",
        "no such file",
    )
    assert not (tmp_path / "x.db").exists(), "the store must not be touched when an archive is bad"


def test_not_a_warc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.warc"
    page.write_text("<html><body>a web page, saved under the wrong name</body></html>\n")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    _assert_user_error(*_main(monkeypatch, capsys, "replay", "--db", db, page), "page.warc", "WARC")


@needs_fixtures
def test_truncated_archive_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = LEDGER[0].read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    db = f"sqlite:///{tmp_path / 'x.db'}"
    _assert_user_error(
        *_main(monkeypatch, capsys, "replay", "--db", db, LEDGER[0], cut), "cut.warc.gz", "record at byte"
    )
    assert not (tmp_path / "x.db").exists()


@pytest.mark.slow
@needs_fixtures
def test_truncated_archive_replays_partially_when_asked(tmp_path: Path) -> None:
    data = LEDGER[0].read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    partial = factwatch(
        "replay", "--partial", "--json", "--db", f"sqlite:///{tmp_path / 'x.db'}", cut, cwd=tmp_path
    )
    assert partial.returncode == 1, partial.stderr  # it ran, and the damage is reported
    report = json.loads(partial.stdout)["replay"]
    assert len(report["damage"]) == 1 and "cut.warc.gz" in report["damage"][0]
    assert report["records"] > 0 and report["outcomes"]


class _Inbox(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.received.append(json.loads(self.rfile.read(length) or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def inbox() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Inbox", (_Inbox,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}/", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@needs_fixtures
def test_replay_delivers_alerts_once(tmp_path: Path, inbox: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = inbox
    db = f"sqlite:///{tmp_path / 'fw.db'}"
    first = factwatch("replay", "--json", "--db", db, "--notify", url, *LEDGER, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["replay"]["missing"] == [] and report["replay"]["outcomes"]["new"] >= 10
    assert report["alerts"]["delivered"] >= 1 and len(received) == report["alerts"]["delivered"]
    assert any("mandate" in json.dumps(message).lower() for message in received)
    delivered = len(received)
    second = factwatch("replay", "--db", db, "--notify", url, *LEDGER, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "replayed 2 archive file(s) as 2 snapshot(s)" in second.stdout
    assert "new" not in second.stdout.split("outcomes:")[-1].split("\n")[0]
    assert len(received) == delivered, "a second replay of the same archives must alert nothing"
