"""Scoring extraction against labelled articles; shared by bench/facts_eval.py and the tests.

A label file has one JSON object per line: {"file", "published" ("YYYY-MM" or "YYYY-MM-DD"),
"facts": {fact: value | "ignore" | {entity: value | "ignore"}}}. Per (fact, entity): a predicted
value equal to the gold one is a true positive; a different value is a false positive and a false
negative; a prediction the label does not list is a false positive; a gold value not predicted is a
false negative; "ignore" is neither. A predicted day ("2025-10-02") equals a gold month ("2025-10")
of the same month: it is only more precise.

A label known only to the month is read as the 15th of that month with precision "month", so
month-day dates take the year nearest mid-month and weekdays are not resolved at all.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.facts.engine import FactEngine

logger = logging.getLogger(__name__)

Key = tuple[str, str | None]


@dataclass(frozen=True)
class LabelledArticle:
    name: str
    text: str
    published: date
    precision: str  # "day" or "month"
    gold: dict[Key, object]  # value or "ignore"


@dataclass
class Tally:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    mistakes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.tp.update(other.tp)
        self.fp.update(other.fp)
        self.fn.update(other.fn)
        self.mistakes.extend(other.mistakes)

    def precision(self, fact: str | None = None) -> float:
        tp = self.tp[fact] if fact else sum(self.tp.values())
        fp = self.fp[fact] if fact else sum(self.fp.values())
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, fact: str | None = None) -> float:
        tp = self.tp[fact] if fact else sum(self.tp.values())
        fn = self.fn[fact] if fact else sum(self.fn.values())
        return tp / (tp + fn) if tp + fn else 1.0


def parse_published(value: str) -> tuple[date, str]:
    """ "YYYY-MM" -> (the 15th, "month"); "YYYY-MM-DD" -> (that day, "day")."""
    if len(value) == 7:
        return date(int(value[:4]), int(value[5:7]), 15), "month"
    return date.fromisoformat(value[:10]), "day"


def load_labelled(labels: Path, texts: Path | None = None) -> list[LabelledArticle]:
    """Articles of a label file; texts are looked up beside it unless `texts` says where."""
    folder = texts or labels.parent
    articles: list[LabelledArticle] = []
    for number, line in enumerate(labels.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            published, precision = parse_published(str(record["published"]))
            text = (folder / record["file"]).read_text(encoding="utf-8")
            facts = record.get("facts", {})
            if not isinstance(facts, dict):
                raise ValueError("facts is not an object")
        except (ValueError, KeyError, TypeError, OSError) as exc:
            logger.warning("%s:%s: record skipped: %s", labels, number, exc)
            continue
        gold: dict[Key, object] = {}
        for fact, value in facts.items():
            if isinstance(value, dict):
                for entity, entity_value in value.items():
                    gold[(fact, entity)] = entity_value
            else:
                gold[(fact, None)] = value
        articles.append(LabelledArticle(str(record["file"]), text, published, precision, gold))
    return articles


def _same(predicted: object, gold: object) -> bool:
    if isinstance(predicted, str) and isinstance(gold, str) and len(gold) == 7 and len(predicted) == 10:
        return predicted[:7] == gold
    return predicted == gold


def score(engine: FactEngine, articles: list[LabelledArticle]) -> Tally:
    tally = Tally()
    for article in articles:
        predicted = {
            (o.fact, o.entity): o.value
            for o in engine.extract(article.text, article.published, precision=article.precision)
        }
        ignored = {fact for (fact, entity), v in article.gold.items() if entity is None and v == "ignore"}
        for key, value in predicted.items():
            gold = article.gold.get(key)
            if gold == "ignore" or key[0] in ignored:
                continue
            if gold is None:
                tally.fp[key[0]] += 1
                tally.mistakes.append(f"FP {article.name}: {key} = {value!r} (not labelled)")
            elif _same(value, gold):
                tally.tp[key[0]] += 1
            else:
                tally.fp[key[0]] += 1
                tally.fn[key[0]] += 1
                tally.mistakes.append(f"WRONG {article.name}: {key} = {value!r}, gold {gold!r}")
        for key, gold in article.gold.items():
            if gold != "ignore" and key not in predicted:
                tally.fn[key[0]] += 1
                tally.mistakes.append(f"FN {article.name}: {key} gold {gold!r}")
    return tally
