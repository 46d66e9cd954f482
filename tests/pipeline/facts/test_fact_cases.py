"""The bundled facts, checked against a table of sentences (fact_cases.yaml): values and traps."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.facts import FactEngine, load_fact_specs

ROOT = Path(__file__).resolve().parents[3]
CASES_FILE = Path(__file__).with_name("fact_cases.yaml")
FACTS_FILE = ROOT / "config" / "haiti-mss.facts.yaml"


def _load_cases() -> list[dict[str, Any]]:
    cases = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    assert isinstance(cases, list) and cases, f"{CASES_FILE} holds no cases"
    return cases


CASES = _load_cases()


@pytest.fixture(scope="module")
def engine() -> FactEngine:
    return FactEngine(load_fact_specs(FACTS_FILE))


def published(value: object) -> tuple[date, str]:
    """YAML gives a date for "2024-10-01" and a string for "2024-10" (known only to the month)."""
    if isinstance(value, date):
        return value, "day"
    text = str(value)
    return date(int(text[:4]), int(text[5:7]), 15), "month"


def as_table(observations: list[Any]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for obs in observations:
        if obs.entity is None:
            table[obs.fact] = obs.value
        else:
            table.setdefault(obs.fact, {})[obs.entity] = obs.value
    return table


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_fact_table(engine: FactEngine, case: dict[str, Any]) -> None:
    when, precision = published(case["published"])
    text = case["text"]
    observations = engine.extract(text, when, precision=precision)
    assert as_table(observations) == case["expect"]
    for obs in observations:
        assert text[obs.start : obs.end] == obs.evidence
        assert obs.evidence.strip() == obs.evidence


def test_every_fact_and_trap_is_covered() -> None:
    """The table must keep at least one positive case per bundled fact and a healthy set of traps."""
    names = {spec.name for spec in load_fact_specs(FACTS_FILE)}
    covered = {fact for case in CASES for fact in case["expect"]}
    assert covered == names
    assert sum(1 for case in CASES if not case["expect"]) >= 20
