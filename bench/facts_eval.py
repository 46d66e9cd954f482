"""Score fact extraction against labelled articles, and time it against trafilatura.

Usage: python bench/facts_eval.py [--gold PATH] [--texts DIR] [--facts FILE] [--extractors rules,learned]

The extractors and the learned model are the bundled config's (`extraction`); `--extractors rules`
scores the rules alone. With more than the rules, each set also gets a "rules alone" line.

Without --gold it scores ../shared/seeds/gold.jsonl (when present), the project's own labelled set
(tests/fixtures/labelled/labels.jsonl, used to develop the rules) and the held-out set
(tests/fixtures/heldout/labels.jsonl, written blind and never tuned on), each on its own, then
together. A label file has one JSON object per line: {"file", "published" ("YYYY-MM" or
"YYYY-MM-DD"), "facts": {fact: value | "ignore" | {entity: value | "ignore"}}}.

Scoring, per (fact, entity): a predicted value equal to the gold value is a true positive; a different
value is a false positive and a false negative; a prediction for a fact the label does not list is a
false positive; a gold value not predicted is a false negative; "ignore" is neither. A predicted day
("2025-10-02") counts as equal to a gold month ("2025-10") of the same month, as it is only more precise.

Publication dates known only to the month ("YYYY-MM") are passed to the engine as the 15th of that
month with precision "month": month-day dates then take the year nearest the middle of the month,
and weekdays ("on Thursday") or "yesterday" are not resolved at all, because any day would be a guess.

Speed (CPU time, same process, several rounds): the pages are the fixture news site's, real HTML about
the topic (`render_archive` of every tests/fixtures archive, every 200 text/html response).
`trafilatura.bare_extraction` is timed on each page's HTML with the options the pipeline passes
(pipeline/extract.py) against `FactEngine.extract` on the cleaned text `extract_document` makes of
that page; that ratio is the speed figure. When ../shared/corpus/html is present, a second line times
the same on those 35 real pages (other topics, so few cue words fire). The last line is
`precision P recall R` over all scored sets combined. The learned model is trained on the labelled
set, so that set's combined line is in-sample; the held-out line (repeated just before the last line)
is the estimate for coverage nobody has read.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.loader import load_config  # noqa: E402
from pipeline.facts import FactEngine, load_fact_specs  # noqa: E402
from pipeline.facts.evaluation import Tally, load_labelled, score  # noqa: E402

SEEDS_GOLD = ROOT / ".." / "shared" / "seeds" / "gold.jsonl"
OWN_GOLD = ROOT / "tests" / "fixtures" / "labelled" / "labels.jsonl"
# Written blind to the extractor and never used to tune it: the honest estimate for unseen coverage.
HELDOUT_GOLD = ROOT / "tests" / "fixtures" / "heldout" / "labels.jsonl"
FACTS_FILE = ROOT / "config" / "haiti-mss.facts.yaml"
CORPUS = ROOT / ".." / "shared" / "corpus" / "html"
FIXTURES = ROOT / "tests" / "fixtures"


def report(title: str, tally: Tally, facts: list[str], verbose: bool) -> None:
    print(title)
    if verbose:
        for mistake in tally.mistakes:
            print(f"  {mistake}")
    print(f"  {'fact':24} {'tp':>3} {'fp':>3} {'fn':>3} {'precision':>9} {'recall':>6}")
    for fact in facts:
        tp, fp, fn = tally.tp[fact], tally.fp[fact], tally.fn[fact]
        if not tp + fp + fn:
            continue
        precision = f"{tally.precision(fact):.2f}" if tp + fp else "-"
        recall = f"{tally.recall(fact):.2f}" if tp + fn else "-"
        print(f"  {fact:24} {tp:>3} {fp:>3} {fn:>3} {precision:>9} {recall:>6}")
    print(f"  overall precision {tally.precision():.2f} recall {tally.recall():.2f}")


def _seconds_per_item(call: Callable[[int], object], count: int, min_seconds: float) -> float:
    """CPU seconds per item, repeating whole rounds until `min_seconds` have passed.

    CPU time, not wall time: other processes on a shared machine would otherwise skew either side.
    """
    rounds = 0
    started = time.process_time()
    while True:
        for index in range(count):
            call(index)
        rounds += 1
        elapsed = time.process_time() - started
        if elapsed >= min_seconds:
            return elapsed / (rounds * count)


def fixture_pages() -> list[tuple[str, str]]:
    """(url, HTML) of every 200 text/html response in the fixture archives: the topic's own pages."""
    from tests.support.fixtures import archive_builder

    builder = archive_builder()
    pages: list[tuple[str, str]] = []
    for name in builder.archive_names():
        for response in builder.render_archive(name):
            kind = response.header("Content-Type") or ""
            if response.status == 200 and "text/html" in kind:
                pages.append((response.url, response.body.decode("utf-8", "replace")))
    return pages


def speed(engine: FactEngine, pages: list[tuple[str, str]], min_seconds: float) -> None:
    """The pipeline's own case on pages about the topic: trafilatura cleans, then facts are read."""
    import trafilatura

    from pipeline.extract import _EXTRACTION_OPTIONS, extract_document

    inputs: list[tuple[str, date | None, str]] = []
    for url, page in pages:
        document = extract_document(page, url)
        if document is None:
            inputs.append(("", None, "day"))
        else:
            inputs.append((document.text, document.published, document.published_precision))
    articles = sum(1 for text, _, _ in inputs if text)

    def facts(index: int) -> object:
        text, published, precision = inputs[index]
        return engine.extract(text, published, precision=precision)

    def clean(index: int) -> object:
        url, page = pages[index]
        return trafilatura.bare_extraction(page, url=url, **_EXTRACTION_OPTIONS)

    _seconds_per_item(facts, len(pages), 0.05)  # warm up both
    _seconds_per_item(clean, len(pages), 0.05)
    facts_seconds = _seconds_per_item(facts, len(pages), min_seconds)
    clean_seconds = _seconds_per_item(clean, len(pages), min_seconds)
    print(
        f"speed on the fixture site ({len(pages)} HTML pages, {articles} with article text): fact "
        f"extraction {1 / facts_seconds:,.0f} pages/s on the cleaned text; trafilatura.bare_extraction "
        f"on the HTML {1 / clean_seconds:,.0f} pages/s; fact extraction is "
        f"{clean_seconds / facts_seconds:.1f}x faster"
    )


def real_pages(corpus: Path) -> list[str]:
    """HTML of the shared corpus pages (real news pages, other topics), for a second speed figure."""
    import gzip
    import json

    pages: list[str] = []
    manifest = corpus / "manifest.jsonl"
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            path = corpus / json.loads(line)["file"]
            pages.append(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
    return pages


def speed_real(engine: FactEngine, pages: list[str], min_seconds: float) -> None:
    """The pipeline's own case: trafilatura cleans a real page, then facts are read from its text."""
    import trafilatura

    texts: list[str] = []
    for page in pages:
        document = trafilatura.bare_extraction(page)
        texts.append(getattr(document, "text", None) or "")

    def facts(index: int) -> object:
        return engine.extract(texts[index], None)

    def clean(index: int) -> object:
        return trafilatura.bare_extraction(pages[index])

    _seconds_per_item(facts, len(pages), 0.05)
    facts_seconds = _seconds_per_item(facts, len(pages), min_seconds)
    clean_seconds = _seconds_per_item(clean, len(pages), min_seconds)
    print(
        f"speed on real pages ({len(pages)} pages of ../shared/corpus/html, other topics): fact extraction "
        f"{1 / facts_seconds:,.0f} pages/s on trafilatura's text; trafilatura.bare_extraction on the HTML "
        f"{1 / clean_seconds:,.0f} pages/s; fact extraction is {clean_seconds / facts_seconds:.1f}x faster"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--gold", type=Path, action="append", help="label file (repeatable)")
    parser.add_argument(
        "--texts", type=Path, help="directory of the article texts (default: the label file's)"
    )
    parser.add_argument("--facts", type=Path, default=FACTS_FILE, help="facts YAML (default: bundled)")
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum timing per side")
    parser.add_argument(
        "--corpus", type=Path, default=CORPUS, help="real HTML pages for a second speed figure (if present)"
    )
    parser.add_argument(
        "--extractors",
        help="comma-separated extractors, first wins (default: the bundled config's extraction section); "
        "--extractors rules scores the rules alone",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every mistake")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

    golds: list[Path] = args.gold or [g for g in (SEEDS_GOLD, OWN_GOLD, HELDOUT_GOLD) if g.exists()]
    if not golds:
        print("no label file found", file=sys.stderr)
        return 2
    specs = load_fact_specs(args.facts)
    extraction = load_config().extraction
    extractors = args.extractors.split(",") if args.extractors else extraction.extractors
    engine = FactEngine(specs, extractors=extractors, options=extraction.options())
    rules_alone = FactEngine(specs) if list(extractors) != ["rules"] else None
    names = [s.name for s in specs]
    combined = Tally()
    unseen: Tally | None = None
    for gold in golds:
        if not gold.exists():
            print(f"{gold}: no such label file", file=sys.stderr)
            return 2
        articles = load_labelled(gold, args.texts)
        tally = score(engine, articles)
        title = f"{gold.resolve()} ({len(articles)} articles, extractors {', '.join(extractors)})"
        report(title, tally, names, args.verbose)
        if rules_alone is not None:
            alone = score(rules_alone, articles)
            print(f"  rules alone: precision {alone.precision():.2f} recall {alone.recall():.2f}")
        combined.add(tally)
        if gold.resolve() == HELDOUT_GOLD.resolve():
            unseen = tally
    speed(engine, fixture_pages(), args.seconds)
    if (args.corpus / "manifest.jsonl").exists():
        speed_real(engine, real_pages(args.corpus), args.seconds)
    if unseen is not None:
        print(
            f"unseen coverage (the blind held-out set; targets precision >= 0.95, recall >= 0.80): "
            f"precision {unseen.precision():.2f} recall {unseen.recall():.2f}"
        )
    print(f"precision {combined.precision():.2f} recall {combined.recall():.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
