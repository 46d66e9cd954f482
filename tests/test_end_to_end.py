"""Issue 2's promise, as a user runs it: replay archived snapshots, receive the alerts, replay again quietly.

The fixture site's snapshots (tests/fixtures/*.warc.gz, our own writing) move the MSS facts over time. The
real CLI replays them in a child process; alerts go through apprise to a real SMTP server and a real HTTP
endpoint on loopback, and the test reads what arrived.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import yaml
from warcio.archiveiterator import ArchiveIterator

from tests.support.sinks import HttpSink, SmtpSink

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
EXPECTED = yaml.safe_load((FIXTURES / "expected.yaml").read_text(encoding="utf-8"))
STEPS = EXPECTED["replays"]["portledger"]["steps"]


def factwatch(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "factwatch.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input="",
        env={**os.environ, **env},
        timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def archived_pages() -> dict[str, str]:
    """Each archived page's text with tags dropped and whitespace collapsed, to find quoted sentences in."""
    pages: dict[str, str] = {}
    for archive in FIXTURES.glob("*.warc.gz"):
        with archive.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    body = record.content_stream().read().decode("utf-8", "replace")
                    plain = html.unescape(re.sub(r"<[^>]+>", " ", body))
                    pages[record.rec_headers.get_header("WARC-Target-URI")] = " ".join(plain.split())
    return pages


def text_part(message: Message, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""


def mail_text(message: Message) -> str:
    return (text_part(message, "plain") or text_part(message, "html")) + str(message["Subject"])


@pytest.fixture
def env(tmp_path: Path, smtp_sink: SmtpSink) -> dict[str, str]:
    return {
        "FACTWATCH_DB": f"sqlite:///{tmp_path / 'fw.db'}",
        "FACTWATCH_SMTP_URL": smtp_sink.url(),  # the bundled config's email route reads this variable
        "FACTWATCH_NOTIFY": "",
    }


def alerts_json(env: dict[str, str]) -> list[dict[str, Any]]:
    result = factwatch("alerts", "--json", env=env)
    assert result.returncode == 0, result.stderr
    alerts: list[dict[str, Any]] = json.loads(result.stdout)["alerts"]
    return alerts


def test_replaying_snapshots_delivers_each_change_once(
    env: dict[str, str], smtp_sink: SmtpSink, http_sink: HttpSink
) -> None:
    hook = http_sink.url("factwatch")
    for step in STEPS:
        result = factwatch("replay", "--notify", hook, str(FIXTURES / step["archive"]), env=env)
        assert result.returncode == 0, result.stderr

    expected_changes = [c for step in STEPS for c in step["changes"]]
    posted = [p["title"] + "\n" + p["message"] for p in http_sink.posts]
    mails = [mail_text(m) for m in smtp_sink.messages]
    pages = archived_pages()
    for change in expected_changes:
        for channel, received in (("json", posted), ("email", mails)):
            hits = [
                r
                for r in received
                if f"{change['fact']} changed to {change['new']} (was {change['old']})" in r
                and change["url"] in r
            ]
            what = f"{channel}: {change['fact']} -> {change['new']}"
            assert len(hits) == 1, f"{what} arrived {len(hits)} times"
            # The evidence quoted is a sentence of that page (the fixture's, or another stating the value).
            evidence = re.search(r"Evidence:\s+[\"“](.+?)[\"”]\s*$", hits[0], re.M)
            assert evidence, hits[0]
            assert evidence.group(1) == change["sentence"] or evidence.group(1) in pages[change["url"]]

    # The mandate change, read the way a person reads the email: HTML part escaped, text part plain.
    mandate = next(
        m for m in smtp_sink.messages if "2025-10-02" in str(m["Subject"]) and "mandate" in str(m["Subject"])
    )
    assert "2024-10-02" in text_part(mandate, "html") or "2024-10-02" in text_part(mandate, "plain")

    states = alerts_json(env)
    assert states and all(a["state"] == "delivered" for a in states)
    deliveries = len(http_sink.posts), len(smtp_sink.raw)

    # The same archives again: nothing new is stored, nothing is alerted or delivered.
    for step in STEPS:
        result = factwatch("replay", "--notify", hook, str(FIXTURES / step["archive"]), env=env)
        assert result.returncode == 0, result.stderr
    assert alerts_json(env) == states
    assert (len(http_sink.posts), len(smtp_sink.raw)) == deliveries

    facts = json.loads(factwatch("facts", "--json", env=env).stdout)["facts"]
    current = {(f["fact"], f["entity"]): f["value"] for f in facts}
    for fact, value in STEPS[-1]["current"].items():
        if isinstance(value, dict):
            for entity, count in value.items():
                assert current.get((fact, entity)) == count, (fact, entity)
        else:
            assert current.get((fact, None)) == value, fact


def test_missing_and_truncated_archives_are_user_errors(tmp_path: Path, env: dict[str, str]) -> None:
    missing = factwatch("replay", str(tmp_path / "nope.warc.gz"), env=env)
    assert missing.returncode == 2 and "nope.warc.gz" in missing.stderr
    data = (FIXTURES / "portledger-2024.warc.gz").read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) // 3])
    truncated = factwatch("replay", str(cut), env=env)
    assert truncated.returncode == 2 and "cut.warc.gz" in truncated.stderr


def test_unknown_apprise_scheme_is_a_user_error(env: dict[str, str]) -> None:
    result = factwatch("alerts", "flush", "--notify", "nosuchscheme://x/y", env=env)
    assert result.returncode == 2
    assert "nosuchscheme" in result.stderr
