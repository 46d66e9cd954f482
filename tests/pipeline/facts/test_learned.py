"""The learned extractor: its model file, its quotes, its place behind the rules, its config errors."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from config.loader import BUNDLED_CONFIG, ConfigError, load_config
from pipeline.facts import EXTRACTORS, FactEngine, FactSpec, load_fact_specs, register
from pipeline.facts.evaluation import load_labelled
from pipeline.facts.learned import LearnedExtractor, LearnedModel, load_model
from pipeline.facts.registry import Candidate, ExtractorOptions, create_extractor
from pipeline.facts.sentences import SentenceIndex
from pipeline.types import Observation

ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = ROOT / "config"
MODEL_FILE = CONFIG_DIR / "haiti-mss.model.json"
FACTS_FILE = CONFIG_DIR / "haiti-mss.facts.yaml"
LABELLED = ROOT / "tests" / "fixtures" / "labelled" / "labels.jsonl"
DAY = date(2025, 3, 4)


@pytest.fixture(scope="module")
def specs() -> list[FactSpec]:
    return load_fact_specs(FACTS_FILE)


@pytest.fixture(scope="module")
def learned(specs: list[FactSpec]) -> LearnedExtractor:
    return LearnedExtractor(specs, load_model(MODEL_FILE))


def _values(extractor: LearnedExtractor, text: str) -> set[tuple[str, object, str | None]]:
    return {
        (c.observation.fact, c.observation.value, c.observation.entity)
        for c in extractor.candidates(text, DAY, "day")
    }


def test_model_file_loads_and_speaks_of_the_topics_facts(specs: list[FactSpec]) -> None:
    model = LearnedModel.load(MODEL_FILE)
    assert model.facts
    assert set(model.facts) <= {spec.name for spec in specs}
    assert any(m.threshold <= 1 for m in model.facts.values())
    config = load_config()
    assert config.extraction.extractors == ["rules", "learned"]
    assert Path(config.extraction.model or "") == MODEL_FILE


def test_candidates_quote_whole_sentences_verbatim(learned: LearnedExtractor) -> None:
    seen = 0
    for article in load_labelled(LABELLED)[:80]:
        index = SentenceIndex(article.text)
        for candidate in learned.candidates(article.text, article.published, article.precision):
            observation = candidate.observation
            assert article.text[observation.start : observation.end] == observation.evidence
            assert index.at(candidate.position) == (observation.start, observation.end)
            assert observation.extractor == "learned"
            seen += 1
    assert seen > 20


def test_a_phrasing_no_rule_covers_is_caught(specs: list[FactSpec], learned: LearnedExtractor) -> None:
    text = "Kenya now keeps roughly 812 of its police officers on duty across the Haitian capital."
    assert ("kenya_police_deployed", 812, None) in _values(learned, text)
    engine = FactEngine(specs, extractors=["rules", "learned"], options=ExtractorOptions(MODEL_FILE))
    [found] = [o for o in engine.extract(text, DAY) if o.fact == "kenya_police_deployed"]
    assert found.value == 812
    assert found.evidence == text


@pytest.mark.parametrize(
    "text",
    [
        "Kenya has promised to send another 600 police officers next year.",  # a pledge
        "A further 200 Kenyan police officers landed in Port-au-Prince on Tuesday.",  # a batch
        "In 2023 Kenya had just 250 police officers in the country.",  # history
    ],
)
def test_traps_yield_no_value(learned: LearnedExtractor, text: str) -> None:
    assert not any(fact == "kenya_police_deployed" for fact, _, _ in _values(learned, text))


class _Late:
    """A later extractor that disagrees with the rules on one fact and fills one gap."""

    def __init__(self, specs: Sequence[FactSpec]) -> None:
        self.specs = specs

    def candidates(self, text: str, published: date | None, precision: str) -> list[Candidate]:
        whole = len(text)
        return [
            Candidate(Observation("un_resolution", 2999, text, 0, whole, extractor="late"), score=9),
            Candidate(Observation("displaced", 123456, text, 0, whole, extractor="late"), position=1),
            # the rules' own number, offered for another fact: a value states one fact
            Candidate(
                Observation("personnel_deployed", 2751, text, 0, whole, extractor="late"),
                position=text.index("2751"),
            ),
        ]


def test_rules_win_over_a_later_extractor(specs: list[FactSpec]) -> None:
    register("test-late")(_Late)
    try:
        engine = FactEngine(specs, extractors=["rules", "test-late"])
        text = "The Council adopted resolution 2751 on Monday."
        found = {o.fact: (o.value, o.extractor) for o in engine.extract(text, DAY)}
        assert found["un_resolution"] == (2751, "rules")
        assert found["displaced"] == (123456, "late")
        assert "personnel_deployed" not in found
    finally:
        EXTRACTORS.pop("test-late", None)


def test_learned_needs_a_model(specs: list[FactSpec]) -> None:
    with pytest.raises(ValueError, match="needs a model"):
        create_extractor("learned", specs)


def _config_copy(tmp_path: Path, model: str | None) -> Path:
    shutil.copy(FACTS_FILE, tmp_path / FACTS_FILE.name)
    config = tmp_path / "topic.yaml"
    text = BUNDLED_CONFIG.read_text(encoding="utf-8")
    config.write_text(text, encoding="utf-8")
    if model is not None:
        (tmp_path / "haiti-mss.model.json").write_text(model, encoding="utf-8")
    return config


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        (None, "extraction.model: file haiti-mss.model.json not found"),
        ("{not json", "not JSON"),
        (
            '{"format": 1, "facts": {"no_such_fact": {"bias": 0, "threshold": 0.5, "weights": {}}}}',
            "no_such_fact",
        ),
        ('{"format": 1, "facts": {"displaced": {"bias": "x"}}}', "bad entry"),
    ],
)
def test_missing_or_broken_model_is_a_config_error(tmp_path: Path, model: str | None, needle: str) -> None:
    config = _config_copy(tmp_path, model)
    with pytest.raises(ConfigError, match=r"extraction\.model"):
        load_config(config)
    result = subprocess.run(
        [sys.executable, "-m", "factwatch.cli", "extract", "--config", str(config), "-"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input="",
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert str(config) in result.stderr and needle in result.stderr


def test_learned_without_model_in_config_is_an_error(tmp_path: Path) -> None:
    config = _config_copy(tmp_path, "{}")
    text = config.read_text(encoding="utf-8").replace("  model: haiti-mss.model.json\n", "")
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"extraction: .*needs `model`"):
        load_config(config)


@pytest.mark.slow
def test_training_reproduces_the_committed_model(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    spec = importlib.util.spec_from_file_location(
        "train_facts_model", ROOT / "scripts" / "train_facts_model.py"
    )
    assert spec is not None and spec.loader is not None
    trainer = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = trainer  # dataclasses look their module up while the class is created
    try:
        spec.loader.exec_module(trainer)
    finally:
        sys.modules.pop(spec.name, None)
    out = tmp_path / "model.json"
    assert trainer.main(["--out", str(out)]) == 0
    committed = MODEL_FILE.read_text(encoding="utf-8")
    assert json.loads(committed)["trained_on"]["labels"] == ["tests/fixtures/labelled/labels.jsonl"]
    assert out.read_text(encoding="utf-8") == committed, "run: python scripts/train_facts_model.py"
