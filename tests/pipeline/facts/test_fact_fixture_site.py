"""Facts read from the project's fixture news site, cleaned exactly as a crawl cleans them.

`tests/fixtures/expected.yaml` lists, per article URL, what a careful reader takes from the page and the
trap sentences (`not_facts`) that must not yield a listed fact. Every article there (and the corrected
version of the edited explainer) is rendered with `render_archive`, cleaned by `extract_document` and
read by the bundled facts with its own publication date. A wrong value or a trap taken fails at once;
recall has a floor: 81 of 81 facts were found when this test was written, the floor leaves room for a
deliberate trade-off but not for a real regression.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.extract import extract_document
from pipeline.facts import FactEngine, load_fact_specs
from pipeline.types import Observation
from tests.support.fixtures import archive_builder

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"
FACTS_FILE = ROOT / "config" / "haiti-mss.facts.yaml"
RECALL_FLOOR = 0.95


@dataclass(frozen=True)
class Page:
    """One article version as expected.yaml describes it."""

    url: str
    archive: str
    published: datetime
    facts: list[dict[str, Any]]
    not_facts: list[dict[str, Any]]


def _pages(expected: dict[str, Any]) -> list[Page]:
    pages: list[Page] = []
    for url, article in expected["articles"].items():
        published = datetime.fromisoformat(str(article["published"]))
        pages.append(Page(url, article["archive"], published, article["facts"], article["not_facts"]))
        second = article.get("version_2")
        if second:
            pages.append(Page(url, second["archive"], published, second["facts"], second["not_facts"]))
    return pages


@pytest.fixture(scope="module")
def extracted() -> list[tuple[Page, list[Observation]]]:
    """Every expected page with what the engine read from its cleaned text."""
    expected = yaml.safe_load((FIXTURES / "expected.yaml").read_text(encoding="utf-8"))
    builder = archive_builder()
    bodies: dict[tuple[str, str], bytes] = {}
    for name in builder.archive_names():
        for response in builder.render_archive(name):
            if response.status == 200:
                bodies[(name, response.url)] = response.body
    engine = FactEngine(load_fact_specs(FACTS_FILE))
    results: list[tuple[Page, list[Observation]]] = []
    for page in _pages(expected):
        document = extract_document(bodies[(page.archive, page.url)], page.url)
        text = document.text if document is not None else ""
        results.append((page, engine.extract(text, page.published, precision="day") if text else []))
    return results


def test_every_page_was_read(extracted: list[tuple[Page, list[Observation]]]) -> None:
    assert len(extracted) >= 20
    assert sum(len(page.facts) for page, _ in extracted) >= 60


def test_no_wrong_value_and_no_unlisted_fact(extracted: list[tuple[Page, list[Observation]]]) -> None:
    wrong: list[str] = []
    for page, observations in extracted:
        wanted = {(f["fact"], f["entity"]): f["value"] for f in page.facts}
        for obs in observations:
            key = (obs.fact, obs.entity)
            if key not in wanted or wanted[key] != obs.value:
                wrong.append(f"{page.url} [{page.archive}]: {key} = {obs.value!r}, expected "
                             f"{wanted.get(key, 'nothing')!r}; evidence: {obs.evidence}")  # fmt: skip
    assert not wrong, "\n".join(wrong)


def test_no_trap_sentence_yields_its_fact(extracted: list[tuple[Page, list[Observation]]]) -> None:
    traps = 0
    taken: list[str] = []
    for page, observations in extracted:
        for trap in page.not_facts:
            traps += 1
            for obs in observations:
                if obs.fact in trap["not"] and trap["sentence"] in obs.evidence:
                    taken.append(f"{page.url}: {obs.fact} = {obs.value!r} from trap: {trap['sentence']}")
    assert traps >= 10
    assert not taken, "\n".join(taken)


def test_recall_floor(extracted: list[tuple[Page, list[Observation]]]) -> None:
    found = missed = 0
    misses: list[str] = []
    for page, observations in extracted:
        got = {(obs.fact, obs.entity): obs for obs in observations}
        for fact in page.facts:
            obs = got.get((fact["fact"], fact["entity"]))
            if obs is not None and obs.value == fact["value"]:
                found += 1
                assert fact["sentence"] in obs.evidence, (page.url, fact["fact"], obs.evidence)
            else:
                missed += 1
                misses.append(f"{page.url}: {fact['fact']} {fact['entity']} {fact['value']!r}")
    assert found / (found + missed) >= RECALL_FLOOR, "\n".join(misses)
