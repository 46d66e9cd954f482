"""The pure half of processing a page: clean it, judge relevance, fingerprint it, read its facts.

Nothing here touches the database, so it can run in worker processes beside the crawler
(`PreparePool`) while the crawler's own process downloads and commits. `Processor` (pipeline/process.py)
does the other half: dedup verdict, timeline and alerts in one transaction.

A worker builds its `Preparer` once from the same `AppConfig` as the parent, so both halves read facts
with the same rules; a page prepared in a worker and one prepared in-process give the same result.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from config.models import AppConfig
from pipeline.dedupe.sketch import Fingerprint, Sketcher
from pipeline.extract import extract_document
from pipeline.relevance import Relevance
from pipeline.types import Document, FetchedPage, Observation

logger = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")

Verdict = Literal["ready", "rejected", "irrelevant"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the database half needs about one page; plain data, so it crosses process boundaries."""

    url: str
    verdict: Verdict
    reason: str = ""
    doc: Document | None = None
    title: str | None = None
    fingerprint: Fingerprint | None = None
    # The facts read from doc.text, and the publication date they were resolved against: when the
    # database half settles on another date (an undated edit of a dated article), it reads them again.
    observations: tuple[Observation, ...] = ()
    facts_published: datetime | None = None
    source: str | None = None
    fetched_at: datetime | None = None
    hint_published: datetime | None = None


def charset_of(headers: dict[str, str]) -> str | None:
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    for part in ctype.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def reject_reason(page: FetchedPage) -> str:
    """Why a response cannot be an article, before any parsing ("" when it may be one)."""
    if page.status != 200:
        return f"HTTP status {page.status}"
    ctype = next((v for k, v in page.headers.items() if k.lower() == "content-type"), "")
    base = ctype.split(";", 1)[0].strip().lower()
    if base and base not in _HTML_TYPES:
        return f"not an HTML page (Content-Type {base})"
    if not page.body.strip():
        return "empty body"
    return ""


class Preparer:
    """Holds the fact engine, the relevance filter and the sketcher; prepares pages one at a time."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.engine = config.extraction.build_engine(config.facts)
        self.relevance = Relevance(config.topic.keywords, config.topic.min_keyword_hits)
        self.sketcher = Sketcher(config.dedup.num_perm, config.dedup.shingle_words)

    def prepare_page(self, page: FetchedPage) -> Prepared:
        url = page.final_url or page.url
        rejected = reject_reason(page)
        if rejected:
            return Prepared(url, "rejected", rejected)
        doc = extract_document(page.body, url, encoding_hint=charset_of(page.headers))
        if doc is not None and doc.paywalled:
            return Prepared(url, "rejected", "paywall-only page")
        if doc is None or not doc.text.strip():
            return Prepared(url, "rejected", "no article text")
        return self.prepare_document(
            doc,
            source=page.source,
            fetched_at=page.fetched_at,
            hint_published=page.hint_published,
            hint_title=page.hint_title,
        )

    def prepare_document(
        self,
        doc: Document,
        *,
        source: str | None = None,
        fetched_at: datetime | None = None,
        hint_published: datetime | None = None,
        hint_title: str | None = None,
    ) -> Prepared:
        url = doc.url or doc.canonical_url or ""
        title = doc.title or hint_title
        if not self.relevance.is_relevant(title, doc.text):
            topic = self.config.topic
            reason = f"fewer than {topic.min_keyword_hits} keyword(s) of {topic.name}"
            return Prepared(url, "irrelevant", reason)
        published = doc.published or hint_published
        return Prepared(
            url,
            "ready",
            doc=doc,
            title=title,
            fingerprint=self.sketcher.fingerprint(doc.text),
            observations=tuple(self.read_facts(doc, published)),
            facts_published=published,
            source=source,
            fetched_at=fetched_at,
            hint_published=hint_published,
        )

    def read_facts(self, doc: Document, published: datetime | None) -> list[Observation]:
        return list(self.engine.extract(doc.text, published, precision=doc.published_precision))


# -- worker processes -------------------------------------------------------------------------------

_worker: Preparer | None = None


def _init_worker(config: AppConfig) -> None:
    """Runs once in each worker process."""
    global _worker
    # The parent decides when to stop: a Ctrl-C or SIGTERM sent to the whole process group must not
    # kill a worker in the middle of a page (the parent finishes in-flight pages, then shuts the pool).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _worker = Preparer(config)


def _prepare_in_worker(page: FetchedPage) -> Prepared:
    if _worker is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("worker not initialized")
    try:
        return _worker.prepare_page(page)
    except Exception as exc:  # a page that breaks extraction is rejected, not fatal to the worker
        logger.warning("preparing %s failed: %s: %s", page.url, type(exc).__name__, exc)
        return Prepared(page.final_url or page.url, "rejected", f"processing failed: {exc}")


def auto_workers() -> int:
    """As many workers as CPUs this process may use, at most 4; none on a single CPU.

    The crawler's own process mostly waits (downloads, commits: a few ms a page against ~25 ms of
    cleaning), so the workers get the cores; on one CPU a worker would only add memory.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return 0 if cpus < 2 else min(cpus, 4)


def configured_workers(config: AppConfig) -> int:
    """FACTWATCH_PROCESS_WORKERS overrides crawl.process_workers; unset means auto_workers()."""
    env = os.environ.get("FACTWATCH_PROCESS_WORKERS", "").strip()
    if env:
        try:
            return max(0, int(env))
        except ValueError:
            logger.warning("FACTWATCH_PROCESS_WORKERS=%r is not a number; using the configuration", env)
    setting = config.crawl.process_workers
    return auto_workers() if setting is None else setting


class PreparePool:
    """Worker processes that prepare pages; falls back to the caller's process if the pool breaks.

    Workers are started on first use with the "spawn" method (never fork a process that runs a reactor
    and database threads) and replaced after `max_tasks` pages each, which bounds what trafilatura's and
    htmldate's caches can grow to in a process that runs for months.
    """

    def __init__(
        self,
        config: AppConfig,
        workers: int,
        local: Callable[[FetchedPage], Prepared],
        max_tasks: int = 2000,
    ) -> None:
        self.config = config
        self.workers = workers
        self.local = local
        self.max_tasks = max_tasks
        self._executor: ProcessPoolExecutor | None = None
        self._broken = False

    @property
    def active(self) -> bool:
        return self.workers > 0 and not self._broken

    def _ensure(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.config,),
                max_tasks_per_child=self.max_tasks,
            )
            logger.info("started %d page worker process(es)", self.workers)
        return self._executor

    def submit(self, page: FetchedPage) -> Future[Prepared]:
        """A future of the prepared page; prepared in this process when no worker can take it."""
        if self.active:
            try:
                future = self._ensure().submit(_prepare_in_worker, page)
            except (BrokenProcessPool, RuntimeError) as exc:
                self._mark_broken(exc)
            else:
                return self._guard(future, page)
        done: Future[Prepared] = Future()
        done.set_result(self.local(page))
        return done

    def _guard(self, future: Future[Prepared], page: FetchedPage) -> Future[Prepared]:
        """A worker that dies (killed, out of memory) costs no page: it is prepared here instead."""
        guarded: Future[Prepared] = Future()

        def settle(done: Future[Prepared]) -> None:
            try:
                guarded.set_result(done.result())
            except BrokenProcessPool as exc:
                self._mark_broken(exc)
                try:
                    guarded.set_result(self.local(page))
                except BaseException as inner:  # pragma: no cover - local preparation guards itself
                    guarded.set_exception(inner)
            except BaseException as exc:
                guarded.set_exception(exc)

        future.add_done_callback(settle)
        return guarded

    def _mark_broken(self, exc: BaseException) -> None:
        if not self._broken:
            logger.warning("page workers stopped (%s); preparing pages in this process", exc)
        self._broken = True

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
