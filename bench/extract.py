"""Benchmark factwatch's extraction against bare trafilatura on ../shared/corpus/html.

Two questions: does our wrapper (decoding, head scan, cleaning) cost much over trafilatura's own
``bare_extraction`` with the same options, and does the cleaning bring the text closer to what a human
says the article is? Both arms run in this one process, interleaved round by round, so machine noise
hits both alike.

    .venv/bin/python bench/extract.py [--quick] [--rounds N] [--verbose]

The last line is ``throughput_ratio R similarity S``: R is our pages per second divided by bare
trafilatura's (target >= 0.85), S our mean word-sequence similarity to the expected bodies.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import logging
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.meta import reset_caches
from trafilatura.settings import Document as TrafilaturaResult

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.extract import _EXTRACTION_OPTIONS, extract_document  # noqa: E402

CORPUS = ROOT / ".." / "shared" / "corpus" / "html"
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    url: str | None
    body: bytes
    expected: str


def _expected_body(truth: dict[str, Any]) -> str:
    """The human-made article text: scrapinghub's articleBody, or fundus' summary and sections."""
    if "V1" in truth:
        body = truth["V1"]["body"]
        parts: list[str] = list(body.get("summary", []))
        for section in body.get("sections", []):
            parts.extend(section.get("headline", []))
            parts.extend(section.get("paragraphs", []))
        return "\n".join(parts)
    (record,) = truth.values()
    return str(record["articleBody"])


def load_pages(corpus: Path) -> list[Page]:
    pages = []
    for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        body = gzip.decompress((corpus / entry["file"]).read_bytes())
        truth = json.loads((corpus / entry["ground_truth"]).read_text(encoding="utf-8"))
        pages.append(Page(entry["file"], entry.get("url"), body, _expected_body(truth)))
    return pages


def words(text: str) -> list[str]:
    return _WORDS.findall(text.casefold())


def token_f1(got: str, expected: str) -> float:
    """Bag-of-words F1, the scrapinghub benchmark's measure: forgiving of order, strict on extra text."""
    got_counts, expected_counts = Counter(words(got)), Counter(words(expected))
    common = sum((got_counts & expected_counts).values())
    if not common:
        return 0.0
    precision = common / sum(got_counts.values())
    recall = common / sum(expected_counts.values())
    return 2 * precision * recall / (precision + recall)


def similarity(got: str, expected: str) -> float:
    """difflib ratio over word sequences: order matters, so a teaser spliced mid-text costs."""
    return SequenceMatcher(None, words(got), words(expected)).ratio()


def ours(page: Page) -> str:
    document = extract_document(page.body, page.url)
    return document.text if document else ""


def _text(result: object) -> str:
    return (result.text or "") if isinstance(result, TrafilaturaResult) else ""


def bare(page: Page) -> str:
    return _text(trafilatura.bare_extraction(page.body, url=page.url, **_EXTRACTION_OPTIONS))


def bare_defaults(page: Page) -> str:
    return _text(trafilatura.bare_extraction(page.body, url=page.url))


def time_rounds(pages: list[Page], rounds: int) -> dict[str, float]:
    """Seconds per arm over all rounds; the order of the arms rotates per page and round."""
    arms = {"ours": ours, "bare": bare, "bare_defaults": bare_defaults}
    names = list(arms)
    totals = dict.fromkeys(names, 0.0)
    for page in pages:  # warm-up: imports, regex compilation, lxml and htmldate caches
        for fn in arms.values():
            fn(page)
    for round_no in range(rounds):
        reset_caches()
        gc.collect()
        for index, page in enumerate(pages):
            shift = (round_no + index) % len(names)
            for name in names[shift:] + names[:shift]:
                started = time.perf_counter()
                arms[name](page)
                totals[name] += time.perf_counter() - started
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one timing round instead of several")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (default 5)")
    parser.add_argument("--verbose", action="store_true", help="per-page scores")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for noisy in ("trafilatura", "htmldate"):  # per-page warnings and reset_caches() chatter
        logging.getLogger(noisy).setLevel(logging.CRITICAL)

    corpus = CORPUS.resolve()
    if not (corpus / "manifest.jsonl").is_file():
        print(f"bench/extract.py: no corpus at {corpus} (../shared is absent); nothing to measure")
        return 0
    pages = load_pages(corpus)
    if not pages:
        print(f"bench/extract.py: no pages listed in {corpus / 'manifest.jsonl'}; nothing to do")
        return 0

    scores: dict[str, list[tuple[float, float]]] = {"ours": [], "bare": [], "bare_defaults": []}
    for page in pages:
        texts = {"ours": ours(page), "bare": bare(page), "bare_defaults": bare_defaults(page)}
        for name, text in texts.items():
            scores[name].append((token_f1(text, page.expected), similarity(text, page.expected)))
        if args.verbose:
            row = " ".join(f"{name} f1={s[-1][0]:.3f} sim={s[-1][1]:.3f}" for name, s in scores.items())
            print(f"{page.name[-48:]:48s} {row}")

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    for name, pairs in scores.items():
        label = {"ours": "factwatch", "bare": "bare (same options)", "bare_defaults": "bare (defaults)"}[name]
        print(
            f"{label:20s} mean_f1 {mean([p[0] for p in pairs]):.3f} "
            f"mean_similarity {mean([p[1] for p in pairs]):.3f}"
        )

    rounds = 1 if args.quick else max(1, args.rounds)
    totals = time_rounds(pages, rounds)
    count = len(pages) * rounds
    for name, seconds in totals.items():
        print(f"{name:20s} {count / seconds:7.1f} pages/s over {count} extractions")
    print(f"ratio to bare with trafilatura defaults {totals['bare_defaults'] / totals['ours']:.2f}")
    ratio = totals["bare"] / totals["ours"]
    print(f"throughput_ratio {ratio:.2f} similarity {mean([p[1] for p in scores['ours']]):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
