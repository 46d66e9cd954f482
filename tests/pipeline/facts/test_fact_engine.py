"""The fact engine's contracts: spec validation, the extractor registry, the verbatim guard, selection."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.facts import (
    EXTRACTORS,
    Candidate,
    FactEngine,
    FactKind,
    FactSpec,
    FactSpecError,
    UnknownExtractorError,
    get_extractor,
    load_fact_specs,
    register,
)
from pipeline.types import Observation

ROOT = Path(__file__).resolve().parents[3]
FACTS_FILE = ROOT / "config" / "haiti-mss.facts.yaml"

BUNDLED = {
    "mandate_end": FactKind.DATE,
    "mandate_vote": FactKind.DATE,
    "un_resolution": FactKind.IDENTIFIER,
    "kenya_police_deployed": FactKind.COUNT,
    "kenya_police_pledged": FactKind.COUNT,
    "personnel_deployed": FactKind.COUNT,
    "personnel_authorized": FactKind.COUNT,
    "contingents": FactKind.COUNT_PER_ENTITY,
    "commander": FactKind.PERSON,
    "displaced": FactKind.COUNT,
}


def test_bundled_facts_are_the_ten_of_the_design() -> None:
    specs = load_fact_specs(FACTS_FILE)
    assert {spec.name: spec.kind for spec in specs} == BUNDLED
    assert len(specs) == len(BUNDLED)


def _spec(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "ceasefire_deadline",
        "kind": "date",
        "triggers": ["deadline"],
        "rules": [{"before": r"deadline\s+(?:of|is)\s+$"}],
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"colour": "red"}, "Extra inputs are not permitted"),
        ({"rules": [{"before": "(unclosed"}]}, "bad regular expression"),
        ({"rules": [{"window": 10}]}, "at least one of before, after, sentence"),
        ({"kind": "count_per_entity"}, "needs entities"),
        ({"kind": "count_per_entity", "entities": {"Chad": []}}, "{entity}"),
        ({"kind": "identifier"}, "value_pattern"),
        ({"kind": "identifier", "value_pattern": r"No\. (\d+)"}, "(?P<value>"),
        ({"entities": {"Chad": []}}, "count_per_entity facts only"),
        ({"anaphora": ["the island"]}, "count_per_entity facts only"),
        (
            {
                "kind": "count_per_entity",
                "entities": {"Chad": []},
                "rules": [{"before": r"{entity}\s+has\s+$"}],
                "questions": ["how many"],
            },
            "questions cannot name an entity",
        ),
        ({"questions": ["(unclosed"]}, "bad regular expression"),
        ({"carry_rules": [{"before": r"{entity}\s+has\s+$"}]}, "carry_rules name no entity"),
        (
            {
                "kind": "count_per_entity",
                "entities": {"Chad": []},
                "rules": [{"before": r"{entity}\s+has\s+$"}],
                "carry_rules": [{"after": r"^\s+boats"}],
            },
            "carry_rules name no entity",
        ),
        ({"carry_block": ["(unclosed"]}, "bad regular expression"),
        ({"kind": "count", "rules": [{"before": "x", "max_age_days": 9}]}, "date facts only"),
        ({"carry_rules": [{"before": "x", "max_age_days": 9}]}, "not carry_rules"),
        ({"triggers": []}, "at least 1 item"),
        ({"name": "Bad Name"}, "String should match pattern"),
    ],
)
def test_spec_rejects_bad_config(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace("?", r"\?")):
        FactSpec.model_validate(_spec(**overrides))


def test_load_fact_specs_names_file_and_item(tmp_path: Path) -> None:
    bad = tmp_path / "facts.yaml"
    bad.write_text(
        "- name: ok_fact\n  kind: count\n  triggers: [x]\n- name: broken\n  kind: colour\n  triggers: [x]\n"
    )
    with pytest.raises(FactSpecError, match=r"facts\.yaml: fact #1 \(broken\): kind"):
        load_fact_specs(bad)
    bad.write_text("name: not a list\n")
    with pytest.raises(FactSpecError, match="must be a YAML list"):
        load_fact_specs(bad)
    bad.write_text(
        "- name: twice\n  kind: count\n  triggers: [x]\n- name: twice\n  kind: count\n  triggers: [y]\n"
    )
    with pytest.raises(FactSpecError, match="repeat: twice"):
        load_fact_specs(bad)
    with pytest.raises(FactSpecError, match="cannot read"):
        load_fact_specs(tmp_path / "missing.yaml")


def test_engine_knows_no_topic() -> None:
    """A made-up topic works from its spec alone: nothing in the engine is about Haiti."""
    specs = [
        FactSpec.model_validate(_spec()),
        FactSpec.model_validate(
            {
                "name": "boats_rescued",
                "kind": "count_per_entity",
                "triggers": ["rescued"],
                "entities": {"Malta": ["Maltese"], "Italy": ["Italian"]},
                "rules": [{"before": r"{entity}\s+(?:crews\s+)?rescued\s+$"}],
                "reject_before": [r"\banother\b"],
            }
        ),
    ]
    engine = FactEngine(specs)
    text = (
        "The ceasefire deadline is March 3. Maltese crews rescued some 240 people overnight.\n"
        "Separately, another Italian rescued 12 people."
    )
    found = engine.extract(text, date(2026, 2, 20))
    assert [(o.fact, o.entity, o.value) for o in found] == [
        ("ceasefire_deadline", None, "2026-03-03"),
        ("boats_rescued", "Malta", 240),
    ]
    assert all(text[o.start : o.end] == o.evidence for o in found)


def test_a_rule_may_read_older_dates_than_its_fact() -> None:
    """A rule's own max_age_days lets it read an older date (counted from a month's first day); the
    fact's other rules keep the fact's limit."""
    spec = FactSpec.model_validate(
        _spec(
            triggers=["deadline", "set"],
            rules=[
                {"before": r"deadline\s+(?:of|is|was)\s+$"},
                {"before": r"\bset\s+(?:on|in)\s+$", "sentence": r"\bstill\s+stands\b", "max_age_days": 200},
            ],
            max_age_days=30,
        )
    )
    engine = FactEngine([spec])

    def read(text: str, published: date) -> list[object]:
        return [o.value for o in engine.extract(text, published)]

    assert read("The ceasefire deadline was March 3.", date(2026, 6, 1)) == []
    assert read("The deadline, set on March 3, still stands.", date(2026, 6, 1)) == ["2026-03-03"]
    assert read("The deadline, set in March 2025, still stands.", date(2025, 9, 15)) == ["2025-03"]
    # a month counts from its first day: March 2025 is more than 200 days before September 20
    assert read("The deadline, set in March 2025, still stands.", date(2025, 9, 20)) == []
    assert read("The deadline, set on March 3, was dropped.", date(2026, 6, 1)) == []


def test_made_up_topic_carries_entities_and_answers_questions() -> None:
    """Carry-over, questions and running totals come from the spec alone, for any topic."""
    specs = [
        FactSpec.model_validate(
            {
                "name": "boats_rescued",
                "kind": "count_per_entity",
                "triggers": ["rescued", "island"],
                "entities": {"Malta": ["Maltese"], "Italy": ["Italian"]},
                "anaphora": [r"the\s+island"],
                "rules": [{"before": r"{entity}\s+(?:crews\s+)?(?:has\s+)?rescued\s+$"}],
            }
        ),
        FactSpec.model_validate(
            {
                "name": "shelters_open",
                "kind": "count",
                "triggers": ["shelters"],
                "questions": [r"\bhow\s+many\s+shelters\b"],
                "rules": [
                    {"after": r"^\s*shelters\s+(?:are\s+)?open\b"},
                    {"before": r"\bbringing\s+the\s+total\s+to\s+$", "total": True},
                ],
                "reject_before": [r"\b(?:another|new)\b[^,;]*$"],
            }
        ),
    ]
    engine = FactEngine(specs)
    text = (
        "Malta sent two patrol boats on Friday. The island has rescued 85 people since then.\n"
        "Italy and Malta share the work. The island has rescued 40 more.\n"
        "How many shelters are open?\nAbout 30, officials say.\n"
        "Five new shelters opened, bringing the total to 35."
    )
    found = {(o.fact, o.entity): o for o in engine.extract(text, date(2026, 2, 20))}
    assert {key: o.value for key, o in found.items()} == {
        ("boats_rescued", "Malta"): 85,  # the two-country sentence carries nothing over
        ("shelters_open", None): 30,  # an answer (score 2) outranks the plain total rule (score 1)
    }
    answer = found[("shelters_open", None)]
    assert answer.evidence == "How many shelters are open?\nAbout 30, officials say."
    assert text[answer.start : answer.end] == answer.evidence
    later = engine.extract("Five new shelters opened, bringing the total to 35.", date(2026, 2, 20))
    assert [(o.fact, o.value) for o in later] == [("shelters_open", 35)]
    assert engine.extract("Five new shelters opened on Sunday.", date(2026, 2, 20)) == []


def test_made_up_topic_carries_the_subject_to_the_next_sentence() -> None:
    """carry_rules read the sentence after a cue sentence; carry_block words make the subject unclear."""
    spec = FactSpec.model_validate(
        {
            "name": "malta_boats",
            "kind": "count",
            "triggers": ["malta"],
            "require": [r"\bboats?\b"],
            "rules": [{"after": r"^\s*Maltese\s+boats\b"}],
            "carry_rules": [{"after": r"^\s*(?:of\s+its\s+)?boats\s+(?:are\s+)?at\s+sea\b"}],
            "carry_block": [r"\bItal\w*"],
        }
    )
    engine = FactEngine([spec])
    when = date(2026, 2, 20)
    text = "Malta's navy gave an update.\nIt said 12 of its boats are at sea."
    [found] = engine.extract(text, when)
    assert (found.value, found.entity) == (12, None)
    assert found.evidence == text  # both sentences, the line break included
    assert text[found.start : found.end] == found.evidence
    assert engine.extract("Malta and Italy gave an update. It said 12 boats are at sea.", when) == []
    assert (
        engine.extract("Malta's navy gave an update. Rome said 9 boats are at sea in Italian waters.", when)
        == []
    )
    # a following sentence with its own cue word is read by the ordinary rules only
    assert engine.extract("Malta's navy spoke. Malta said 12 boats are at sea.", when) == []
    # no cue sentence before: nothing to carry
    assert engine.extract("The navy spoke. It said 12 boats are at sea.", when) == []


def test_one_value_per_fact_best_supported_then_first() -> None:
    engine = FactEngine(load_fact_specs(FACTS_FILE))
    text = (
        "Kenya has deployed 600 officers to Haiti.\n"
        "A further 144 Kenyan officers arrived, bringing the number of Kenyan police in Haiti to 744.\n"
        "Kenya has deployed 700 officers to Haiti."
    )
    found = engine.extract(text, date(2025, 3, 10))
    assert [(o.fact, o.value) for o in found] == [("kenya_police_deployed", 744)]


def test_latest_resolution_wins() -> None:
    engine = FactEngine(load_fact_specs(FACTS_FILE))
    text = "Resolution 2793 replaced the mission set up under Resolution 2699 and renewed by Resolution 2751."
    [found] = engine.extract(text, date(2025, 10, 1))
    assert (found.fact, found.value) == ("un_resolution", 2793)


def test_unknown_extractor_lists_known_ones() -> None:
    with pytest.raises(UnknownExtractorError, match=r"unknown extractor 'llm'; known: .*rules"):
        get_extractor("llm")
    with pytest.raises(UnknownExtractorError):
        FactEngine([], extractors=["llm"])
    assert EXTRACTORS["rules"] is get_extractor("rules")


class _Inventing:
    """A stand-in model extractor: one honest quote, one made-up quote, one with wrong offsets."""

    def __init__(self, specs: Sequence[FactSpec]) -> None:
        self.specs = specs

    def candidates(self, text: str, published: date | None, precision: str) -> list[Candidate]:
        start = text.index("Kenya")
        honest = text[start:]
        return [
            Candidate(Observation("commander", "A. Honest", honest, start, len(text), extractor="fake")),
            Candidate(Observation("displaced", 9, "Nine people were displaced.", 0, 27, extractor="fake")),
            Candidate(Observation("un_resolution", 1, honest, start + 1, len(text), extractor="fake")),
        ]


class _Other(_Inventing):
    pass


def test_guard_drops_evidence_that_is_not_verbatim(caplog: pytest.LogCaptureFixture) -> None:
    register("test-inventing")(_Inventing)
    try:
        with pytest.raises(ValueError, match="already registered"):
            register("test-inventing")(_Other)
        engine = FactEngine(load_fact_specs(FACTS_FILE), extractors=["test-inventing"])
        text = "Intro line.\nKenya said so."
        with caplog.at_level(logging.WARNING, logger="pipeline.facts.engine"):
            found = engine.extract(text, date(2025, 1, 1))
        assert [(o.fact, o.value, o.extractor) for o in found] == [("commander", "A. Honest", "fake")]
        assert sum("not verbatim" in r.getMessage() for r in caplog.records) == 2
    finally:
        EXTRACTORS.pop("test-inventing", None)


def test_no_publication_date_still_extracts_what_needs_none() -> None:
    engine = FactEngine(load_fact_specs(FACTS_FILE))
    text = "Resolution 2751 extends the mission's mandate until October 2, 2025. It expires in October."
    found = {o.fact: o.value for o in engine.extract(text, None)}
    assert found == {"un_resolution": 2751, "mandate_end": "2025-10-02"}


def test_run_on_fragments_are_not_evidence() -> None:
    """Text without sentence ends (a failed cleaning) yields nothing rather than a page-long "quote"."""
    engine = FactEngine(load_fact_specs(FACTS_FILE))
    junk = "Kenya 1,000 police commander mandate vote October 2 resolution 2751 displaced " * 300
    assert engine.extract(junk, date(2025, 1, 1)) == []
    text = junk + "\nResolution 2751 renewed the mission's mandate until October 2, 2025.\n" + junk
    found = {o.fact: o.value for o in engine.extract(text, date(2024, 10, 1))}
    assert found == {"un_resolution": 2751, "mandate_end": "2025-10-02"}


def test_month_precision_reads_mid_month_whatever_day_is_given() -> None:
    engine = FactEngine(load_fact_specs(FACTS_FILE))
    text = "The Security Council is scheduled to vote on the mission's renewal on September 30."
    for day in (1, 15, 30):
        found = engine.extract(text, date(2024, 9, day), precision="month")
        assert [(o.fact, o.value) for o in found] == [("mandate_vote", "2024-09-30")]
    weekday = "The Security Council voted on Monday to renew the mission's mandate."
    assert engine.extract(weekday, date(2024, 10, 1), precision="month") == []
    assert [o.value for o in engine.extract(weekday, date(2024, 10, 2))] == ["2024-09-30"]


def test_a_topic_without_facts_extracts_nothing() -> None:
    from pipeline.facts import FactEngine

    assert FactEngine([]).extract("Kenya now has 400 police officers in Haiti.", None) == []
