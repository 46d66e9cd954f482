"""Train the learned fact extractor's model from labelled articles and write it as JSON.

Usage: python scripts/train_facts_model.py [--gold LABELS]... [--facts FILE] [--out FILE]
       python scripts/train_facts_model.py --cv            # grouped cross-validation report
       python scripts/train_facts_model.py --unseen LABELS  # train, then score other label files

Every candidate the extractor would see (pipeline/facts/learned.py: typed values in cue sentences,
with their features) is an example; it is positive for a fact when its value equals the article's gold
value for that fact (and entity), negative otherwise; facts labelled "ignore" give no examples. One
logistic regression per fact (scikit-learn, needed here only: the runtime reads the JSON). A fact's
threshold is the lowest probability at which the rules and the model together, the model filling only
what the rules left empty, keep a precision of at least --precision on out-of-fold predictions over the
training articles (folds are whole articles); a fact that cannot reach it gets a threshold above 1,
which turns the model off for it. The output is deterministic: sorted keys, rounded numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.facts import FactEngine, FactSpec, load_fact_specs  # noqa: E402
from pipeline.facts.evaluation import LabelledArticle, load_labelled  # noqa: E402
from pipeline.facts.learned import MODEL_FORMAT, FeatureReader, Mention  # noqa: E402

FACTS_FILE = ROOT / "config" / "haiti-mss.facts.yaml"
LABELLED = ROOT / "tests" / "fixtures" / "labelled" / "labels.jsonl"
MODEL_FILE = ROOT / "config" / "haiti-mss.model.json"
FOLDS = 5
C = 0.5  # inverse L2 strength
TARGET_PRECISION = 0.99
ALONE_PRECISION = 0.95
THRESHOLDS = [round(0.30 + 0.01 * step, 2) for step in range(70)]  # 0.30 .. 0.99
OFF = 1.01  # a threshold no probability reaches
DIGITS = 4

Key = tuple[str, str | None]


@dataclass
class Example:
    article: int
    mention: Mention
    label: int | None  # None: the fact (or entity) is labelled "ignore"


@dataclass
class Prepared:
    articles: list[LabelledArticle]
    examples: dict[str, list[Example]]  # fact -> its examples
    rules: list[dict[Key, object]]  # per article: what the rules alone find


def same(predicted: object, gold: object) -> bool:
    """As the evaluation counts it: a day is right for a gold month of the same month."""
    if isinstance(predicted, str) and isinstance(gold, str) and len(gold) == 7 and len(predicted) == 10:
        return predicted[:7] == gold
    return predicted == gold


def ignored(article: LabelledArticle, key: Key) -> bool:
    return article.gold.get(key) == "ignore" or article.gold.get((key[0], None)) == "ignore"


def prepare(specs: Sequence[FactSpec], articles: list[LabelledArticle]) -> Prepared:
    reader = FeatureReader(specs)
    rules_engine = FactEngine(specs, extractors=("rules",))
    examples: dict[str, list[Example]] = {spec.name: [] for spec in specs}
    rules: list[dict[Key, object]] = []
    for number, article in enumerate(articles):
        for mention in reader.mentions(article.text, article.published, article.precision):
            key = (mention.fact, mention.entity)
            label: int | None
            if ignored(article, key):
                label = None
            else:
                gold = article.gold.get(key)
                label = int(gold is not None and same(mention.value, gold))
            examples[mention.fact].append(Example(number, mention, label))
        found = rules_engine.extract(article.text, article.published, precision=article.precision)
        rules.append({(o.fact, o.entity): o.value for o in found})
    return Prepared(articles, examples, rules)


def fit(examples: list[Example], articles: set[int]) -> tuple[float, dict[str, float]]:
    """Bias and weights of one fact's logistic regression on the examples of these articles."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [e for e in examples if e.article in articles and e.label is not None]
    labels = [e.label for e in rows]
    if not rows or len(set(labels)) < 2:
        return -30.0, {}
    vectorizer = DictVectorizer(sort=True)
    matrix = vectorizer.fit_transform([Counter(e.mention.features) for e in rows])
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=5000)
    model.fit(matrix, labels)
    weights = {
        name: round(float(weight), DIGITS)
        for name, weight in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)
        if round(float(weight), DIGITS) != 0.0
    }
    return round(float(model.intercept_[0]), DIGITS), weights


def probability(bias: float, weights: dict[str, float], mention: Mention) -> float:
    import math

    total = bias + sum(weights.get(f, 0.0) for f in mention.features)
    return 0.0 if total < -30 else 1.0 / (1.0 + math.exp(-total))


Scores = dict[str, dict[int, float]]  # fact -> example index -> probability


def claimed(prepared: Prepared, scores: Scores) -> set[tuple[str, int]]:
    """The examples that keep their value: one number or date states one fact, the likeliest one."""
    best: dict[tuple[int, int], tuple[float, str, int]] = {}
    for fact, by_index in sorted(scores.items()):
        examples = prepared.examples[fact]
        for index, score in sorted(by_index.items()):
            mention = examples[index].mention
            place = (examples[index].article, mention.position)
            held = best.get(place)
            if held is None or score > held[0]:
                best[place] = (score, fact, index)
    return {(fact, index) for _, fact, index in best.values()}


def best_per_key(
    prepared: Prepared, fact: str, scores: Scores, winners: set[tuple[str, int]]
) -> dict[int, dict[Key, tuple[float, object]]]:
    """Per article, the best-scoring candidate value per (fact, entity), as the extractor picks it."""
    best: dict[int, dict[Key, tuple[float, object]]] = {}
    examples = prepared.examples[fact]
    for index, score in sorted(scores.get(fact, {}).items()):
        if (fact, index) not in winners:
            continue
        example = examples[index]
        key = (example.mention.fact, example.mention.entity)
        held = best.setdefault(example.article, {}).get(key)
        if held is None or score > held[0]:
            best[example.article][key] = (score, example.mention.value)
    return best


def tally(
    fact: str,
    prepared: Prepared,
    articles: set[int],
    learned: dict[int, dict[Key, tuple[float, object]]],
    threshold: float,
) -> tuple[int, int, int]:
    """tp, fp, fn of one fact when the model fills the rules' gaps at this threshold."""
    tp = fp = fn = 0
    for number in articles:
        article = prepared.articles[number]
        predicted = {k: v for k, v in prepared.rules[number].items() if k[0] == fact}
        for key, (score, value) in learned.get(number, {}).items():
            if key not in predicted and score >= threshold:
                predicted[key] = value
        if article.gold.get((fact, None)) == "ignore":
            continue
        for key, value in predicted.items():
            gold = article.gold.get(key)
            if gold == "ignore":
                continue
            if gold is None:
                fp += 1
            elif same(value, gold):
                tp += 1
            else:
                fp += 1
                fn += 1
        for key, gold in article.gold.items():
            if key[0] == fact and gold != "ignore" and key not in predicted:
                fn += 1
    return tp, fp, fn


def out_of_fold(prepared: Prepared, articles: list[int]) -> Scores:
    """Each example's probability from a model trained on the other folds' articles."""
    scores: Scores = {fact: {} for fact in prepared.examples}
    for fold in range(FOLDS):
        held = {a for i, a in enumerate(articles) if i % FOLDS == fold}
        for fact, examples in prepared.examples.items():
            bias, weights = fit(examples, set(articles) - held)
            for index, example in enumerate(examples):
                if example.article in held:
                    scores[fact][index] = probability(bias, weights, example.mention)
    return scores


def choose_threshold(
    fact: str,
    prepared: Prepared,
    articles: list[int],
    scores: Scores,
    winners: set[tuple[str, int]],
    target: float,
) -> float:
    """The lowest threshold at which both the model alone and the rules with the model meet the target.

    The model alone is asked too because the rules were written on these very articles: they leave it
    few gaps here, far fewer than on articles nobody has read, where the model's own precision counts.
    """
    learned = best_per_key(prepared, fact, scores, winners)
    alone = Prepared(prepared.articles, prepared.examples, [{} for _ in prepared.rules])
    for threshold in THRESHOLDS:
        tp, fp, _ = tally(fact, prepared, set(articles), learned, threshold)
        if tp + fp and tp / (tp + fp) < target:
            continue
        tp, fp, _ = tally(fact, alone, set(articles), learned, threshold)
        if tp + fp == 0 or tp / (tp + fp) >= ALONE_PRECISION:
            return threshold
    return OFF


def train(prepared: Prepared, articles: list[int], target: float) -> dict[str, dict[str, object]]:
    scores = out_of_fold(prepared, articles)
    winners = claimed(prepared, scores)
    facts: dict[str, dict[str, object]] = {}
    for fact, examples in prepared.examples.items():
        bias, weights = fit(examples, set(articles))
        if not weights:
            continue  # no candidates, or no positive one: the fact is left to the rules
        threshold = choose_threshold(fact, prepared, articles, scores, winners, target)
        facts[fact] = {"bias": bias, "threshold": threshold, "weights": weights}
    return facts


def model_json(facts: dict[str, dict[str, object]], golds: list[Path], count: int) -> str:
    data = {
        "format": MODEL_FORMAT,
        "trained_on": {"labels": [_shown(g) for g in golds], "articles": count},
        "facts": facts,
    }
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def score_with(
    facts: dict[str, dict[str, object]], prepared: Prepared, articles: set[int]
) -> dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]]:
    """Per fact: (rules alone, rules and model) tp/fp/fn on these articles."""
    scores: Scores = {}
    for fact, examples in prepared.examples.items():
        if fact in facts:
            bias, weights = _weights(facts[fact])
            scores[fact] = {
                i: probability(bias, weights, e.mention)
                for i, e in enumerate(examples)
                if e.article in articles
            }
    winners = claimed(prepared, scores)
    result = {}
    for fact in prepared.examples:
        learned = best_per_key(prepared, fact, scores, winners)
        threshold = float(facts[fact]["threshold"]) if fact in facts else OFF  # type: ignore[arg-type]
        result[fact] = (
            tally(fact, prepared, articles, {}, 2.0),
            tally(fact, prepared, articles, learned, threshold),
        )
    return result


def _weights(item: dict[str, object]) -> tuple[float, dict[str, float]]:
    bias, weights = item["bias"], item["weights"]
    assert isinstance(bias, float) and isinstance(weights, dict)
    return bias, weights


def print_scores(title: str, scores: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]]) -> None:
    def pr(tp: int, fp: int, fn: int) -> str:
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        return f"{tp:4} {fp:3} {fn:3}  P {precision:.2f} R {recall:.2f}"

    print(title)
    print(f"  {'fact':24} {'rules alone: tp  fp  fn':28}   {'rules + learned: tp  fp  fn'}")
    total = [[0, 0, 0], [0, 0, 0]]
    for fact, (alone, both) in scores.items():
        print(f"  {fact:24} {pr(*alone)}   {pr(*both)}")
        for side, counts in enumerate((alone, both)):
            for i in range(3):
                total[side][i] += counts[i]
    print(f"  {'overall':24} {pr(*total[0])}   {pr(*total[1])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--gold", type=Path, action="append", help="training label file (repeatable)")
    parser.add_argument("--facts", type=Path, default=FACTS_FILE, help="facts YAML (default: bundled)")
    parser.add_argument("--out", type=Path, default=MODEL_FILE, help="model file to write")
    parser.add_argument("--precision", type=float, default=TARGET_PRECISION, help="per-fact precision goal")
    parser.add_argument("--cv", action="store_true", help="report grouped cross-validation, write nothing")
    parser.add_argument("--unseen", type=Path, action="append", help="score these label files, write nothing")
    args = parser.parse_args(argv)

    specs = load_fact_specs(args.facts)
    golds: list[Path] = args.gold or [LABELLED]
    articles = [a for gold in golds for a in load_labelled(gold)]
    prepared = prepare(specs, articles)
    everything = list(range(len(articles)))
    if args.cv:
        combined: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {}
        for fold in range(FOLDS):
            held = [a for a in everything if a % FOLDS == fold]
            rest = [a for a in everything if a % FOLDS != fold]
            facts = train(prepared, rest, args.precision)
            for fact, (alone, both) in score_with(facts, prepared, set(held)).items():
                previous = combined.get(fact, ((0, 0, 0), (0, 0, 0)))
                combined[fact] = (
                    tuple(x + y for x, y in zip(previous[0], alone, strict=True)),  # type: ignore[assignment]
                    tuple(x + y for x, y in zip(previous[1], both, strict=True)),
                )
        print_scores(f"grouped {FOLDS}-fold cross-validation over {len(articles)} articles", combined)
        return 0
    facts = train(prepared, everything, args.precision)
    if args.unseen:
        unseen = [a for gold in args.unseen for a in load_labelled(gold)]
        other = prepare(specs, unseen)
        print_scores(
            f"trained on {len(articles)} articles, scored on {len(unseen)} unseen ones",
            score_with(facts, other, set(range(len(unseen)))),
        )
        for fact, item in facts.items():
            print(f"  threshold {fact}: {item['threshold']}")
        return 0
    args.out.write_text(model_json(facts, golds, len(articles)), encoding="utf-8")
    print(f"wrote {_shown(args.out)}: {len(articles)} articles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
