"""`factwatch alerts`, `alerts flush`, `alerts test` through the real command line entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alerts.outbox import enqueue
from factwatch.cli import main
from pipeline.store import Store

TOKEN = "Zq8SecretTok3nValue"


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "topic.yaml"
    path.write_text(
        "topic:\n  name: demo-topic\n"
        "routes:\n"
        "  - name: hook\n"
        "    urls: ['${HOOK_URL}']\n"
        "    events: [change, reported]\n"
        "alerts:\n  backoff_seconds: 1\n  send_timeout_seconds: 5\n",
        encoding="utf-8",
    )
    return path


def seed(store: Store, make_payload: Any) -> None:
    with store.session() as session:
        enqueue(session, event="change", key="cli-1", payload=make_payload(entity="Chad", fact="contingents"))
        enqueue(session, event="reported", key="cli-2", payload=make_payload())
        session.commit()


def test_alerts_json_and_table(
    store: Store, db_url: str, make_payload: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(store, make_payload)
    assert main(["alerts", "--db", db_url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["alerts"]
    assert [set(a) for a in data["alerts"]] == [
        {"id", "event", "fact", "entity", "title", "state", "attempts", "created"}
    ] * 2
    first = {a["event"]: a for a in data["alerts"]}["change"]
    assert (first["fact"], first["entity"], first["state"], first["attempts"]) == (
        "contingents",
        "Chad",
        "pending",
        0,
    )
    assert first["title"] == "contingents (Chad) changed to 2026-10-02 (was 2025-10-02)"
    assert main(["alerts", "--db", db_url]) == 0
    table = capsys.readouterr().out
    assert "contingents (Chad) changed to 2026-10-02" in table and "pending" in table


def test_flush_delivers_and_listing_shows_no_secret(
    store: Store,
    db_url: str,
    make_payload: Any,
    http_sink: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(store, make_payload)
    config = write_config(tmp_path)
    monkeypatch.delenv("FACTWATCH_NOTIFY", raising=False)
    monkeypatch.setenv("HOOK_URL", f"json://127.0.0.1:{http_sink.port}/hook?token={TOKEN}")
    http_sink.fail_next = 2
    assert main(["alerts", "flush", "--config", str(config), "--db", db_url]) == 1  # both failed
    out = capsys.readouterr()
    assert "2 failed" in out.out and TOKEN not in out.out + out.err
    assert main(["alerts", "--db", db_url]) == 0
    listing = capsys.readouterr().out
    assert "500" in listing and TOKEN not in listing and "token=***" in listing
    assert main(["alerts", "--db", db_url, "flush", "--config", str(config)]) == 0
    assert "2 delivered" in capsys.readouterr().out
    assert len(http_sink.posts) == 2
    assert main(["alerts", "--db", db_url, "--json"]) == 0
    assert {a["state"] for a in json.loads(capsys.readouterr().out)["alerts"]} == {"delivered"}


def test_flush_with_notify_only(
    store: Store,
    db_url: str,
    make_payload: Any,
    http_sink: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(store, make_payload)
    config = tmp_path / "bare.yaml"
    config.write_text("topic:\n  name: bare\n", encoding="utf-8")
    monkeypatch.setenv("FACTWATCH_NOTIFY", http_sink.url("env"))
    assert (
        main(["alerts", "flush", "--config", str(config), "--db", db_url, "--notify", http_sink.url("flag")])
        == 0
    )
    assert sorted(http_sink.paths) == ["/env", "/env", "/flag", "/flag"]


def test_alerts_test_command(
    http_sink: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    monkeypatch.delenv("FACTWATCH_NOTIFY", raising=False)
    monkeypatch.setenv("HOOK_URL", f"json://127.0.0.1:{http_sink.port}/hook?token={TOKEN}")
    assert main(["alerts", "test", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("hook  json://127.0.0.1:") and out.rstrip().endswith("ok") and TOKEN not in out
    assert http_sink.posts[0]["title"].startswith("[test] sample_fact changed to 120")
    http_sink.fail_next = 1
    assert main(["alerts", "test", "--config", str(config), "--route", "hook"]) == 1
    assert "FAILED" in capsys.readouterr().out
    assert main(["alerts", "test", "--config", str(config), "--route", "nosuch"]) == 2
    assert "known: hook" in capsys.readouterr().err


def test_bad_route_url_is_exit_2_without_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    monkeypatch.setenv("HOOK_URL", f"nosuchscheme://user:{TOKEN}@example.org/x")
    assert main(["alerts", "test", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "route 'hook'" in err and TOKEN not in err and "Traceback" not in err
