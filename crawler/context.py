"""What one crawl shares between the spider, the middlewares and the item pipelines.

Scrapy deep-copies settings, so live objects (the Processor, the Store) cannot travel through them. The
runner builds one `CrawlContext` and passes it to the spider as the `context` keyword argument; every
component reaches it as `crawler.spider.context`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from crawler.config import SourceConfig
from crawler.state import CrawlState, Fetch
from pipeline.types import FetchedPage

if TYPE_CHECKING:
    from config.models import AppConfig
    from pipeline.store import Store

logger = logging.getLogger(__name__)

# request.meta keys. The first two are read by crawler.archive (and only set on source roots).
META_SOURCE = "factwatch_source"
META_SOURCE_KIND = "factwatch_source_kind"
META_ORIGIN = "factwatch_origin"  # source name on every request
META_ROLE = "factwatch_role"  # root, sitemap (child of an index) or article
META_ENTRY = "factwatch_entry"  # crawler.spiders.entries.Entry: what the source said about the page
META_DEPTH = "factwatch_depth"
META_REVISIT = "factwatch_revisit"
META_VALIDATORS = "factwatch_validators"  # (etag, last_modified) for a conditional request

FETCH_BATCH = 100  # crawl_url rows written per transaction by the item pipeline


class PageProcessor(Protocol):
    """The part of pipeline.process.Processor the crawler uses."""

    def process_page(self, page: FetchedPage) -> Any: ...

    def known_urls(self, urls: Any) -> set[str]: ...


@dataclass
class SourceRun:
    """One source's share of a crawl."""

    name: str
    url: str
    kind: str | None = None
    fetched: bool = False  # the root answered (200 or 304)
    not_modified: bool = False
    error: str | None = None
    entries: int = 0
    requested: int = 0
    pages: int = 0
    new: int = 0
    bad: int = 0
    last_new_item: datetime | None = None


@dataclass
class CrawlReport:
    pages: int = 0  # pages handed to the processor
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (url, reason) of every bad response
    bad: Counter[str] = field(default_factory=Counter)  # bad responses by kind
    article_downloads: int = 0  # article responses that carried a body
    not_modified: int = 0  # conditional requests answered 304
    skipped_known: int = 0  # listed URLs not fetched because they are stored and unchanged
    skipped_filtered: int = 0  # listed URLs outside allowed domains or topic keywords
    revisits: int = 0
    sources: dict[str, SourceRun] = field(default_factory=dict)
    close_reason: str | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        outcomes = ", ".join(f"{name} {count}" for name, count in sorted(self.outcomes.items())) or "none"
        failing = [run.name for run in self.sources.values() if run.error]
        lines = [
            f"crawl: {len(self.sources)} sources, {self.pages} pages processed ({outcomes}) "
            f"in {self.seconds:.1f}s",
            f"  {self.article_downloads} articles downloaded, "
            f"{self.skipped_known} known and unchanged skipped, "
            f"{self.not_modified} not modified, {self.revisits} revisits",
            f"  {len(self.errors)} bad responses"
            + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(self.bad.items())) + ")" if self.bad else ""),
        ]
        if failing:
            lines.append("  failing sources: " + ", ".join(sorted(failing)))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (`factwatch run --json`)."""
        data = asdict(self)
        data["outcomes"] = dict(self.outcomes)
        data["bad"] = dict(self.bad)
        data["errors"] = [list(pair) for pair in self.errors]
        for run in data["sources"].values():
            moment = run.get("last_new_item")
            run["last_new_item"] = moment.isoformat() if moment is not None else None
        return data


PROGRESS_SECONDS = 15.0


class CrawlContext:
    def __init__(
        self,
        *,
        config: AppConfig,
        processor: PageProcessor,
        store: Store,
        sources: list[SourceConfig],
        state: CrawlState | None = None,
    ) -> None:
        self.config = config
        self.processor = processor
        self.store = store
        self.sources = {source.name: source for source in sources}
        self.state = state or CrawlState(store, revisit_ages=config.crawl.revisit_ages())
        self.report = CrawlReport(
            sources={s.name: SourceRun(s.name, s.url, None if s.kind == "auto" else s.kind) for s in sources}
        )
        # Root validators wait here until the crawl finishes cleanly: saving them earlier would let a 304
        # hide articles an interrupted crawl never fetched.
        self.pending_roots: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._fetches: list[Fetch] = []
        self.started = time.monotonic()
        self._next_progress = self.started + PROGRESS_SECONDS

    def source(self, name: str | None) -> SourceConfig | None:
        return self.sources.get(name or "")

    def run(self, name: str | None) -> SourceRun | None:
        return self.report.sources.get(name or "")

    def count(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self.report, name, getattr(self.report, name) + amount)

    def count_source(self, name: str | None, **amounts: int) -> None:
        run = self.run(name)
        if run is None:
            return
        with self._lock:
            for field_name, amount in amounts.items():
                setattr(run, field_name, getattr(run, field_name) + amount)

    def record_outcome(self, source: str | None, status: str) -> None:
        with self._lock:
            self.report.pages += 1
            self.report.outcomes[status] += 1
            run = self.report.sources.get(source or "")
            if run is not None:
                run.pages += 1
                if status == "new":
                    run.new += 1
                    run.last_new_item = datetime.now(UTC)
            now = time.monotonic()
            if now >= self._next_progress:
                # Long crawls and replays say how far they are, every PROGRESS_SECONDS.
                self._next_progress = now + PROGRESS_SECONDS
                elapsed = now - self.started
                outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.report.outcomes.items()))
                logger.info(
                    "progress: %d pages in %.0fs (%.1f/s): %s",
                    self.report.pages,
                    elapsed,
                    self.report.pages / max(elapsed, 1e-9),
                    outcomes,
                )

    def remember_fetch(self, fetch: Fetch) -> None:
        """Queue a fetch for the store; written in batches (blocking: call from a worker thread)."""
        with self._lock:
            self._fetches.append(fetch)
            if len(self._fetches) < FETCH_BATCH:
                return
            batch, self._fetches = self._fetches, []
        self._write_fetches(batch)

    def flush_fetches(self) -> None:
        with self._lock:
            batch, self._fetches = self._fetches, []
        self._write_fetches(batch)

    def _write_fetches(self, batch: list[Fetch]) -> None:
        try:
            self.state.record_fetches(batch)
        except Exception:  # losing crawl state costs a re-fetch later, never the crawl
            logger.exception("could not remember %s fetches", len(batch))

    def record_bad(self, *, url: str, source: str | None, kind: str, reason: str, status: int | None) -> None:
        """Count a refused response and keep it in the store (blocking: call from a worker thread)."""
        logger.info("bad response %s (%s): %s", url, source or "-", reason)
        with self._lock:
            self.report.errors.append((url, reason))
            self.report.bad[kind] += 1
            run = self.report.sources.get(source or "")
            if run is not None:
                run.bad += 1
        try:
            self.state.record_bad(url=url, source=source, kind=kind, reason=reason, status=status)
        except Exception:  # the audit trail must never stop the crawl
            logger.exception("could not record bad response for %s", url)
