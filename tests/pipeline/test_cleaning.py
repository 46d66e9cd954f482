"""Cleaning is tested from a table (cleaning_cases.yaml): drop-cases and keep-cases side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.cleaning import CONTEXT_RULES, RULE_PATTERNS, RULES, clean_lines, clean_text, line_rule

CASES_FILE = Path(__file__).with_name("cleaning_cases.yaml")


def _load_cases() -> list[dict[str, Any]]:
    cases = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    assert isinstance(cases, list) and cases, f"{CASES_FILE} holds no cases"
    return cases


CASES = _load_cases()


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_cleaning_table(case: dict[str, Any]) -> None:
    result = clean_lines(case["input"])
    assert result.text == case["expected"].rstrip("\n")
    expected_rules = case.get("fires")
    if expected_rules is not None:
        if expected_rules:
            missing = set(expected_rules) - set(result.fired)
            assert not missing, f"rules {sorted(missing)} did not fire; fired: {dict(result.fired)}"
        else:
            assert not result.fired, f"nothing should be dropped, but {dict(result.fired)} fired"


def test_every_rule_has_a_case() -> None:
    covered = {name for case in CASES for name in case.get("fires") or []}
    all_rules = {rule.name for rule in RULES} | set(CONTEXT_RULES)
    assert all_rules - covered == set(), "rules without a table case"


def test_case_names_are_unique() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))


def test_rules_are_named_documented_and_compiled() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(rule.why for rule in RULES)
    assert set(RULE_PATTERNS) == set(names)


def test_line_rule_names_the_rule() -> None:
    assert line_rule("Also read: Ferry fares rise again") == "read_more"
    assert line_rule("Accept all cookies") == "cookie_notice"
    assert line_rule("The ferry fare rose again, the operator said.") is None


def test_clean_text_is_idempotent() -> None:
    for case in CASES:
        once = clean_text(case["input"])
        assert clean_text(once) == once


def test_empty_and_whitespace_input() -> None:
    assert clean_text("") == ""
    assert clean_text("\n \n\t\n") == ""


def test_hostile_lines_do_not_hang() -> None:
    """Nested optional groups must not backtrack badly on the longest lines the rules look at."""
    hostile = [
        "share " * 66,
        "Facebook, " * 39,
        "follow the " + "a " * 190,
        "By " + "Abc " * 99,
        "Photo " + "x/" * 190,
    ]
    assert clean_text("\n".join(hostile)).count("\n") <= len(hostile)
