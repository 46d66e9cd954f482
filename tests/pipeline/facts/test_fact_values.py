"""Number, date and sentence parsing from a table (value_cases.yaml); none of it knows the topic."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.facts.dates import date_bounds, find_dates
from pipeline.facts.numbers import find_numbers, parse_digits, parse_words
from pipeline.facts.sentences import SentenceIndex, split_sentences

TABLE: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    Path(__file__).with_name("value_cases.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", TABLE["numbers"], ids=[c["text"] for c in TABLE["numbers"]])
def test_numbers(case: dict[str, Any]) -> None:
    assert [m.value for m in find_numbers(case["text"])] == case["values"]


@pytest.mark.parametrize("case", TABLE["hedges"], ids=[c["text"] for c in TABLE["hedges"]])
def test_hedge_is_part_of_the_mention(case: dict[str, Any]) -> None:
    text = case["text"]
    [mention] = find_numbers(text)
    assert text[mention.start : mention.end] == case["mention"]
    assert mention.approximate == (mention.start != mention.value_start)


@pytest.mark.parametrize(
    "case", TABLE["dates"], ids=[f"{c['text']}@{c['published']}" for c in TABLE["dates"]]
)
def test_dates(case: dict[str, Any]) -> None:
    found = find_dates(
        case["text"],
        case["published"],
        precision=case.get("precision", "day"),
        direction=case.get("direction", "tense"),
    )
    assert [d.value for d in found] == case["values"]
    for mention in found:
        assert case["text"][mention.start : mention.end].strip()


def test_dates_without_publication_keep_only_full_dates() -> None:
    found = find_dates("It ends on October 2, 2025, not on Monday or in October.", None)
    assert [d.value for d in found] == ["2025-10-02"]


@pytest.mark.parametrize("case", TABLE["sentences"])
def test_sentences(case: dict[str, Any]) -> None:
    text = case["text"]
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == case["expected"]
    index = SentenceIndex(text)
    for start, end in spans:
        assert index.at(start) == (start, end)
        assert index.at(end - 1) == (start, end)
    for before, after in pairwise(spans):
        assert index.preceding(after[0]) == before
        assert index.following(before[1]) == after
    assert index.preceding(spans[0][0]) is None
    assert index.following(spans[-1][1]) is None


def test_parsers_reject_non_numbers() -> None:
    assert parse_words("a") is None
    assert parse_words("two thousand five hundred") == 2500
    assert parse_digits("3.5") is None  # a bare decimal is no count
    assert parse_digits("1.3 million") == 1_300_000


def test_date_bounds() -> None:
    assert date_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert date_bounds("2024-12-31") == (date(2024, 12, 31), date(2024, 12, 31))
