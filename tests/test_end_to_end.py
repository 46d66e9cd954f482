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
    """Subject and body as a reader sees them: tags dropped, entities decoded, whitespace collapsed."""
    body = text_part(message, "html") or text_part(message, "plain")
    plain = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return str(message["Subject"]) + "\n" + " ".join(plain.split())


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

    posted = [p["title"] + "\n" + p["message"] for p in http_sink.posts]
    mails = [mail_text(m) for m in smtp_sink.messages]
    assert len(posted) == len(mails) > 0

    # The flagship change arrives once on each channel with old and new value, evidence, source and publisher.
    flagship = next(c for c in STEPS[1]["changes"] if c["fact"] == "mandate_end")
    headline = f"mandate_end changed to {flagship['new']} (was {flagship['old']})"
    [json_hit] = [r for r in posted if headline in r]
    [mail_hit] = [m for m in mails if headline in m]
    pages = archived_pages()
    evidence = re.search(r"Evidence:\s+[\"“](.+?)[\"”]\s*$", json_hit, re.M)
    assert evidence, json_hit
    sentence = evidence.group(1)
    assert sentence == flagship["sentence"] or sentence in pages[flagship["url"]]
    for received in (json_hit, mail_hit):
        assert sentence in received
        assert flagship["url"] in received
        assert "The Port Ledger" in received

    # Every alert is a real step forward on its fact's expected chain: never a stale or invented value.
    # (Within one snapshot, articles arrive in feed order, so intermediate values may fold into one change.)
    chains: dict[tuple[str, str | None], list[Any]] = {}
    for step in STEPS:
        for c in step["changes"]:
            chain = chains.setdefault((c["fact"], c.get("entity")), [c["old"]])
            chain.append(c["new"])
    for received in posted:
        m = re.match(r"(\w+)(?: \(([^)]+)\))? changed to (\S+) \(was (\S+)\)", received)
        assert m, received
        fact, entity, new, old = m.groups()
        chain = [str(v) for v in chains[(fact, entity)]]
        assert chain.index(new) > chain.index(old), received

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
    expected: dict[tuple[str, str | None], Any] = {}
    for fact, value in STEPS[-1]["current"].items():
        if isinstance(value, dict):
            expected.update({(fact, entity): count for entity, count in value.items()})
        else:
            expected[(fact, None)] = value
    # No fact holds a wrong value, and the ones this story turns on are all there.
    assert {k: v for k, v in current.items() if expected.get(k) != v} == {}
    for key in (
        "mandate_end",
        "mandate_vote",
        "un_resolution",
        "kenya_police_deployed",
        "displaced",
        "commander",
    ):
        assert current.get((key, None)) == expected[(key, None)], key
    mandate = next(f for f in facts if f["fact"] == "mandate_end")
    assert [h["value"] for h in mandate["history"]][-1] == "2025-10-02"
    assert mandate["history"] == sorted(mandate["history"], key=lambda h: h["published"])


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
