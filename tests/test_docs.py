"""Docs cannot drift: the config reference is generated, and every command and variable is documented."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from factwatch.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("gen_config_doc", ROOT / "scripts" / "gen_config_doc.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_reference_is_up_to_date() -> None:
    generator = _generator()
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == generator.render(), "run: python scripts/gen_config_doc.py"  # type: ignore[attr-defined]
    assert "docs/configuration.md" in README


def test_every_command_is_in_the_readme_and_the_cli() -> None:
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(COMMANDS) <= set(choices)
    for command in ("extract", "replay", "run", "daemon", "facts", "alerts"):  # DESIGN.md's contract
        assert command in choices
    for command in COMMANDS:
        assert f"`factwatch {command}" in README, command


def test_every_environment_variable_is_documented() -> None:
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for pkg in ("factwatch", "crawler", "alerts", "pipeline")
        for p in (ROOT / pkg).rglob("*.py")
    )
    # Names read from the environment (FACTWATCH_* Scrapy settings inside crawler/ are not variables).
    names = set(re.findall(r"environ(?:\.get)?[(\[]\s*[\"'](FACTWATCH_[A-Z_]+)", code))
    names |= set(re.findall(r"_ENV\s*=\s*[\"'](FACTWATCH_[A-Z_]+)", code))
    assert names, "settings read from the environment"
    missing = sorted(n for n in names if n not in README)
    assert missing == []
