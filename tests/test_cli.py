"""The command line as a user meets it: JSON contracts, and one clear message for every bad input."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from factwatch.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = sorted((SHARED / "seeds").glob("*.txt")) if (SHARED / "seeds").is_dir() else []


def factwatch(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a child process, as a user would."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("FACTWATCH_NOTIFY", None)
    return subprocess.run(
        [sys.executable, "-m", "factwatch.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        input="",
        env=full_env,
        timeout=120,
    )


def assert_user_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("factwatch: error:") or "error:" in result.stderr
    for needle in needles:
        assert needle in result.stderr


@pytest.mark.shared
@pytest.mark.skipif(not SEEDS, reason="../shared/seeds is absent")
def test_extract_seeds_prints_design_json_lines() -> None:
    result = factwatch("extract", *map(str, SEEDS))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(p) for p in SEEDS]
    gold = {
        json.loads(x)["file"]: json.loads(x)
        for x in (SHARED / "seeds" / "gold.jsonl").read_text().splitlines()
    }
    found = 0
    for line in lines:
        assert set(line) == {"file", "url", "published", "title", "facts"}
        text = Path(line["file"]).read_text(encoding="utf-8")
        for fact in line["facts"]:
            assert set(fact) == {"fact", "value", "entity", "evidence", "start", "end"}
            assert fact["evidence"] in text  # evidence is quoted verbatim
            expected = gold[Path(line["file"]).name]["facts"].get(fact["fact"])
            if isinstance(expected, int) and fact["entity"] is None:
                found += expected == fact["value"]
    assert found >= 2, "the seeds' plainly stated counts must be found"


def test_extract_html_file_gives_offsets_into_cleaned_text(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Kenyan police in Haiti</title></head><body><nav>Home | World</nav><article>"
        "<h1>Kenyan police in Haiti</h1><p>Port-au-Prince, Haiti. Kenya now has 400 police officers "
        "serving in "
        "Haiti with the Multinational Security Support mission, officials said on Monday.</p>"
        "<p>The officers patrol the capital alongside the Haitian National Police and have been there since "
        "the summer, according to the mission's spokesperson.</p></article></body></html>",
        encoding="utf-8",
    )
    result = factwatch("extract", "--published", "2024-09-10", "--url", "https://news.example/a", str(page))
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["published"] == "2024-09-10"
    assert line["url"] == "https://news.example/a"
    deployed = [f for f in line["facts"] if f["fact"] == "kenya_police_deployed"]
    assert deployed and deployed[0]["value"] == 400
    assert deployed[0]["end"] > deployed[0]["start"] >= 0


def test_extract_binary_and_empty_input_give_no_facts(tmp_path: Path) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(gzip.compress(os.urandom(2048)))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = factwatch("extract", str(binary), str(empty))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["facts"] for x in lines] == [[], []]


def test_extract_missing_file_is_a_user_error(tmp_path: Path) -> None:
    assert_user_error(factwatch("extract", str(tmp_path / "missing.html")), "missing.html", "no such file")


def test_broken_yaml_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("topic:\n  name: demo\n  keywords: [a\n", encoding="utf-8")
    assert_user_error(factwatch("extract", "--config", str(bad), "-"), str(bad), "invalid YAML")


def test_wrong_type_in_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("topic:\n  name: demo\nchanges:\n  min_sources: lots\n", encoding="utf-8")
    assert_user_error(factwatch("extract", "--config", str(bad), "-"), f"{bad}:4: changes.min_sources")


def test_missing_config_file(tmp_path: Path) -> None:
    assert_user_error(
        factwatch("extract", "--config", str(tmp_path / "nope.yaml"), "-"), "config file not found"
    )


@pytest.mark.parametrize(
    "url",
    [
        "nonsense",
        "nosuchdriver://x/y",
        "sqlite:////no/such/dir/fw.db",
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
    ],
)
def test_bad_database_url(url: str, tmp_path: Path) -> None:
    result = factwatch("facts", "--db", url, cwd=tmp_path)
    if url == "nonsense":
        # A bare word is a SQLite file name for convenience; it works.
        assert result.returncode == 0, result.stderr
        return
    assert_user_error(result, "database")


def test_bad_argument_exits_2() -> None:
    result = factwatch("facts", "--no-such-flag")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_facts_on_empty_database_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facts", "--db", f"sqlite:///{tmp_path}/fw.db", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"facts": []}
