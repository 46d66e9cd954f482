"""Dedup at scale: recall of planted copies, false merges, and per-article time at 10k vs 100k articles.

Synthetic corpus, generated in the process from a Zipf-distributed vocabulary of invented words:

* stories of 300-600 words in 5-12 paragraphs, grouped by topic; the stories of one topic share its
  names (three-word "entities") and one quoted sentence, like different reports on the same event;
* about a third of the stories are republished 1-3 times by other sites, each copy changed in one to
  three ways: trimmed to its first 55-95% of paragraphs, boilerplate lines added or the dateline
  dropped, 5-10% of its words substituted;
* all articles fall within one dedup window (the worst case for the index: nothing is pruned), copies
  arriving minutes to hours after their original.

Each corpus runs end to end through `Deduper` (fingerprint, check, insert, register, commit every 500
articles) over a fresh SQLite store in a temporary directory, in this process.

Prints per corpus: recall (planted copies that joined their original's cluster), false merges (articles
that joined a cluster of another story, as a share of all articles), time per article (wall clock and
CPU time of this process; the ratio uses CPU time, so other load on the machine cannot skew it, and
everything, SQLite included, runs in this process); then the last line
``recall R false_merges F% time_ratio_100k_10k T peak_rss_mb M`` (recall and false merges of the largest
corpus). Targets: recall >= 0.95, false merges <= 0.5%, time ratio <= 1.5.

    .venv/bin/python bench/dedup_scale.py            # 10k and 100k (a few minutes)
    .venv/bin/python bench/dedup_scale.py --quick    # 1k and 10k
"""

from __future__ import annotations

import argparse
import heapq
import logging
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.models import DedupSettings
from pipeline.dedupe import Deduper
from pipeline.store import Store
from pipeline.store.models import Article

logger = logging.getLogger(__name__)

START = datetime(2026, 1, 5, tzinfo=UTC)
SPAN = timedelta(days=10)
COMMIT_EVERY = 500
PUBLISHERS = 60
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


@dataclass(frozen=True, slots=True)
class Doc:
    family: int  # the story it tells; copies share their original's family
    is_copy: bool
    url: str
    publisher: str
    title: str
    published: datetime
    text: str


class Corpus:
    """Deterministic generator of the article stream (originals, copies, same-topic negatives)."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.rng = np.random.default_rng(seed)
        vocab_size = 30000
        words: set[str] = set()
        while len(words) < vocab_size:
            n = int(self.rng.integers(1, 4))
            words.add("".join(_SYLLABLES[i] for i in self.rng.integers(0, len(_SYLLABLES), n)))
        self.vocab = np.array(sorted(words))
        ranks = np.arange(1, vocab_size + 1, dtype=np.float64)
        weights = 1.0 / ranks**1.05
        self.cdf = np.cumsum(weights / weights.sum())
        self.publishers = [f"site{i:02d}" for i in range(PUBLISHERS)]
        self.boilerplate = {
            p: [f"by {p} staff and wire reports", f"follow {p} on social media for breaking news alerts"]
            for p in self.publishers
        }

    def words(self, n: int) -> list[str]:
        return self.vocab[np.searchsorted(self.cdf, self.rng.random(n))].tolist()

    def sentence(self) -> str:
        return " ".join(self.words(int(self.rng.integers(10, 26)))) + "."

    def topic(self) -> tuple[list[str], str]:
        entities = [" ".join(self.words(3)) for _ in range(4)]
        return entities, self.sentence()

    def story(self, topic: tuple[list[str], str]) -> list[str]:
        entities, quote = topic
        target = int(self.rng.integers(300, 601))
        paragraphs: list[str] = []
        total = 0
        while total < target:
            sentences = [self.sentence() for _ in range(int(self.rng.integers(2, 4)))]
            if self.rng.random() < 0.5:
                entity = entities[int(self.rng.integers(len(entities)))]
                sentences[0] = f"{entity} {sentences[0]}"
            paragraph = " ".join(sentences)
            paragraphs.append(paragraph)
            total += len(paragraph.split())
        paragraphs.insert(min(2, len(paragraphs)), f'"{quote}" said {entities[0]}.')
        paragraphs[0] = f"{entities[1].upper()} (AGENCY) - {paragraphs[0]}"
        return paragraphs

    def copy_of(self, paragraphs: list[str], publisher: str) -> str:
        edits = [e for e in ("trim", "boilerplate", "substitute") if self.rng.random() < 0.5] or [
            "boilerplate"
        ]
        out = list(paragraphs)
        if "trim" in edits:
            keep = max(2, int(np.ceil(len(out) * self.rng.uniform(0.55, 0.95))))
            out = out[:keep]
        if "boilerplate" in edits:
            if self.rng.random() < 0.5:
                out[0] = out[0].split(" - ", 1)[-1]
            header, footer = self.boilerplate[publisher]
            out = [header, *out, footer]
        text = "\n".join(out)
        if "substitute" in edits:
            tokens = text.split(" ")
            rate = self.rng.uniform(0.05, 0.10)
            picks = np.flatnonzero(self.rng.random(len(tokens)) < rate)
            for i, word in zip(picks.tolist(), self.words(len(picks)), strict=True):
                tokens[i] = word
            text = " ".join(tokens)
        return text

    def stream(self) -> Iterator[Doc]:
        """Articles in publication order; copies are held back until their time comes."""
        step = SPAN / self.size
        pending: list[tuple[int, int, Doc]] = []  # (position, tiebreak, copy)
        emitted = 0
        family = 0
        topic = self.topic()
        topic_left = 0
        while emitted < self.size:
            if pending and pending[0][0] <= emitted:
                doc = heapq.heappop(pending)[2]
                yield Doc(
                    doc.family, True, doc.url, doc.publisher, doc.title, START + step * emitted, doc.text
                )
                emitted += 1
                continue
            if topic_left == 0:
                topic, topic_left = self.topic(), int(self.rng.integers(3, 12))
            topic_left -= 1
            family += 1
            publisher = self.publishers[int(self.rng.integers(PUBLISHERS))]
            paragraphs = self.story(topic)
            title = " ".join(self.words(8))
            url = f"https://{publisher}.example/news/{family}"
            yield Doc(family, False, url, publisher, title, START + step * emitted, "\n".join(paragraphs))
            emitted += 1
            if self.rng.random() < 0.33:
                others = [p for p in self.publishers if p != publisher]
                for n in range(int(self.rng.integers(1, 4))):
                    site = others[int(self.rng.integers(len(others)))]
                    copy = Doc(
                        family,
                        True,
                        f"https://{site}.example/wire/{family}-{n}",
                        site,
                        " ".join(self.words(7)),
                        START,
                        self.copy_of(paragraphs, site),
                    )
                    heapq.heappush(pending, (emitted + int(self.rng.integers(1, 60)), family * 4 + n, copy))


@dataclass
class Result:
    size: int
    copies: int
    recalled: int
    false_merges: int
    seconds: float  # wall clock
    cpu_seconds: float  # this process only, so other load on the machine does not skew the ratio
    index_mb: float

    @property
    def recall(self) -> float:
        return self.recalled / self.copies if self.copies else 1.0

    @property
    def false_rate(self) -> float:
        return self.false_merges / self.size

    @property
    def per_article_ms(self) -> float:
        return 1000 * self.seconds / self.size

    @property
    def per_article_cpu_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.size


def run(size: int, seed: int, settings: DedupSettings, lsh_rows: int | None) -> Result:
    corpus = Corpus(size, seed)
    deduper = Deduper(settings, lsh_rows=lsh_rows, clock=lambda: START + SPAN)
    cluster_family: dict[int, int] = {}
    copies = recalled = false_merges = 0
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        started = time.perf_counter()
        started_cpu = time.process_time()
        session = store.session().__enter__()
        try:
            for n, doc in enumerate(corpus.stream(), 1):
                fingerprint = deduper.fingerprint(doc.text)
                verdict = deduper.check(
                    session,
                    canonical_url=doc.url,
                    publisher=doc.publisher,
                    title=doc.title,
                    published=doc.published,
                    fingerprint=fingerprint,
                )
                article = Article(
                    url=doc.url,
                    canonical_url=doc.url,
                    publisher=doc.publisher,
                    title=doc.title,
                    published=doc.published,
                    fetched_at=doc.published,
                    text=doc.text,
                    content_hash="",
                )
                session.add(article)
                session.flush()
                deduper.register(session, article, verdict, fingerprint)
                assert article.cluster_id is not None
                family = cluster_family.setdefault(article.cluster_id, doc.family)
                copies += doc.is_copy
                if family != doc.family:
                    false_merges += 1
                elif doc.is_copy and verdict.is_duplicate:
                    recalled += 1
                if n % COMMIT_EVERY == 0:
                    session.commit()
                    deduper.commit_pending()
                    session.expunge_all()
            session.commit()
            deduper.commit_pending()
        finally:
            session.close()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - started_cpu
        store.close()
    index_mb = deduper.memory_bytes() / 2**20
    return Result(size, copies, recalled, false_merges, seconds, cpu_seconds, index_mb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k articles instead of 10k and 100k")
    parser.add_argument("--seed", type=int, default=20260310)
    parser.add_argument("--threshold", type=float, default=None, help="override DedupSettings.threshold")
    parser.add_argument("--containment", type=float, default=None, help="override DedupSettings.containment")
    parser.add_argument("--shingle-words", type=int, default=None)
    parser.add_argument("--lsh-rows", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    overrides = {
        k: v
        for k, v in (
            ("threshold", args.threshold),
            ("containment", args.containment),
            ("shingle_words", args.shingle_words),
        )
        if v is not None
    }
    settings = DedupSettings(**overrides)
    small, large = (1_000, 10_000) if args.quick else (10_000, 100_000)
    print(f"settings: {settings.model_dump()} lsh_rows={args.lsh_rows or 'default'}", flush=True)
    results = []
    for size in (small, large):
        result = run(size, args.seed, settings, args.lsh_rows)
        results.append(result)
        print(
            f"{size:>7} articles: copies {result.copies}, recall {result.recall:.3f}, "
            f"false merges {result.false_merges} ({100 * result.false_rate:.2f}%), "
            f"{result.per_article_ms:.2f} ms/article ({result.per_article_cpu_ms:.2f} ms CPU), "
            f"{result.seconds:.0f} s, index {result.index_mb:.0f} MB",
            flush=True,
        )
    wall_ratio = results[1].per_article_ms / results[0].per_article_ms
    ratio = results[1].per_article_cpu_ms / results[0].per_article_cpu_ms
    print(f"per-article time ratio: {ratio:.2f} CPU, {wall_ratio:.2f} wall clock")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    last = results[1]
    label = "time_ratio_10k_1k" if args.quick else "time_ratio_100k_10k"
    print(
        f"recall {last.recall:.3f} false_merges {100 * last.false_rate:.2f}% {label} {ratio:.2f} "
        f"peak_rss_mb {peak_mb:.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
