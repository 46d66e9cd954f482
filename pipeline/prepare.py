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
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
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


SPAWN_ALLOWANCE = 60.0  # seconds new workers may take to start before a page's time limit runs


@dataclass(eq=False, slots=True)
class _Job:
    """One page handed to the pool, followed until its result future is settled."""

    page: FetchedPage
    result: Future[Prepared]
    deadline: float
    attempts: int = 0
    generation: int = -1


class PreparePool:
    """Worker processes that prepare pages, restarted when they die or hang.

    Workers are started on first use with the "spawn" method (never fork a process that runs a reactor
    and database threads) and replaced after `max_tasks` pages each, which bounds what trafilatura's and
    htmldate's caches can grow to in a process that runs for months.

    - A worker that dies (out of memory, a crash in a C library) breaks the whole executor: a new one is
      started and the pages that were in flight are tried once more; a page that breaks the workers twice
      is rejected, not retried in the crawler's own process (it could take that process down too).
    - A page still not prepared `timeout` seconds after it was handed over (new workers get
      SPAWN_ALLOWANCE more to start) is rejected ("took longer than ...") and the workers are
      restarted, so one pathological page cannot stall a crawl.
    - More than `max_restarts` unexpected deaths within `restart_window` seconds means something is
      wrong with the workers themselves: from then on pages are prepared in this process.
    """

    def __init__(
        self,
        config: AppConfig,
        workers: int,
        local: Callable[[FetchedPage], Prepared],
        *,
        max_tasks: int = 2000,
        timeout: float = 120.0,
        max_restarts: int = 5,
        restart_window: float = 3600.0,
    ) -> None:
        self.config = config
        self.workers = workers
        self.local = local
        self.max_tasks = max_tasks
        self.timeout = timeout
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.restarts = 0  # how many times the workers were replaced (deaths and time-outs)
        self._executor: ProcessPoolExecutor | None = None
        self._generation = 0
        self._deliberate: set[int] = set()  # generations ended by us (a time-out), not by a death
        self._deaths: deque[float] = deque()
        self._broken = False
        self._closing = False
        self._jobs: set[_Job] = set()
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._warm_after = 0.0

    @property
    def active(self) -> bool:
        return self.workers > 0 and not self._broken and not self._closing

    # -- submitting -----------------------------------------------------------------------------------

    def submit(self, page: FetchedPage) -> Future[Prepared]:
        """A future of the prepared page; prepared in this process when no worker can take it."""
        result: Future[Prepared] = Future()
        if not self.active:
            result.set_result(self.local(page))
            return result
        self._start(_Job(page, result, 0.0))
        return result

    def _start(self, job: _Job) -> None:
        with self._lock:
            if not self.active:
                inner = None
            else:
                try:
                    inner = self._ensure().submit(_prepare_in_worker, job.page)
                except (BrokenProcessPool, RuntimeError) as exc:  # broke between two submissions
                    self._replace(self._generation, f"{type(exc).__name__}: {exc}", deliberate=False)
                    inner = self._ensure().submit(_prepare_in_worker, job.page) if self.active else None
            if inner is not None:
                job.attempts += 1
                job.generation = self._generation
                # The clock runs from now, or from when freshly spawned workers can be expected to be
                # up: starting Python and importing lxml and trafilatura is not the page's fault.
                job.deadline = max(time.monotonic(), self._warm_after) + self.timeout
                self._jobs.add(job)
        if inner is None:
            self._finish(job, self.local(job.page))
        else:
            inner.add_done_callback(lambda done: self._settle(job, done))

    def _ensure(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.config,),
                max_tasks_per_child=self.max_tasks,
            )
            self._warm_after = time.monotonic() + SPAWN_ALLOWANCE
            logger.info("started %d page worker process(es)", self.workers)
            if self._watchdog is None and self.timeout > 0:
                self._watchdog = threading.Thread(
                    target=self._watch, name="factwatch-page-watchdog", daemon=True
                )
                self._watchdog.start()
        return self._executor

    # -- settling -------------------------------------------------------------------------------------

    def _settle(self, job: _Job, done: Future[Prepared]) -> None:
        if job.result.done():  # already rejected by the watchdog
            return
        try:
            prepared = done.result()
        except (BrokenProcessPool, CancelledError) as exc:
            self._broke(job, exc)
            return
        except BaseException as exc:  # pragma: no cover - _prepare_in_worker catches page errors
            self._finish(job, exception=exc)
            return
        with self._lock:
            if job.generation == self._generation:  # these workers are up: no more start-up allowance
                self._warm_after = min(self._warm_after, time.monotonic())
        self._finish(job, prepared)

    def _broke(self, job: _Job, exc: BaseException) -> None:
        """The executor that held `job` is gone: replace it (once), then try the page again."""
        if self._closing:
            self._finish(job, Prepared(_url(job.page), "rejected", "stopped before the page was prepared"))
            return
        with self._lock:
            deliberate = job.generation in self._deliberate
            self._replace(job.generation, str(exc) or type(exc).__name__, deliberate=deliberate)
            if deliberate:
                job.attempts -= 1  # another page's time-out ended its worker: not this page's fault
        if job.attempts >= 2:
            reason = "a page worker died twice while preparing this page"
            logger.warning("rejected %s: %s", _url(job.page), reason)
            self._finish(job, Prepared(_url(job.page), "rejected", reason))
            return
        self._start(job)

    def _finish(
        self, job: _Job, prepared: Prepared | None = None, *, exception: BaseException | None = None
    ) -> None:
        with self._lock:
            self._jobs.discard(job)
            if job.result.done():
                return
            if exception is not None:
                job.result.set_exception(exception)
            else:
                job.result.set_result(prepared)  # type: ignore[arg-type]

    def _replace(self, generation: int, why: str, *, deliberate: bool) -> None:
        """End executor `generation` (if it is still the current one); the next submit starts anew."""
        with self._lock:
            if generation != self._generation or self._closing:
                return
            old, self._executor = self._executor, None
            self._generation += 1
            self.restarts += 1
            if deliberate:
                self._deliberate.add(generation)
            else:
                now = time.monotonic()
                self._deaths.append(now)
                while self._deaths and now - self._deaths[0] > self.restart_window:
                    self._deaths.popleft()
                if len(self._deaths) > self.max_restarts:
                    self._broken = True
                    logger.error(
                        "page workers died %d times within %.0f s (last: %s); preparing pages in this "
                        "process from now on",
                        len(self._deaths),
                        self.restart_window,
                        why,
                    )
                else:
                    logger.warning("page workers stopped (%s); starting new ones", why)
        if old is not None:
            _terminate(old)

    # -- time limit -----------------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._closing:
            self._wake.wait(min(1.0, self.timeout / 4))
            now = time.monotonic()
            with self._lock:
                late = [job for job in self._jobs if job.deadline <= now and not job.result.done()]
            for job in late:
                reason = f"preparing the page took longer than {self.timeout:g} s"
                logger.warning("rejected %s: %s; restarting the page workers", _url(job.page), reason)
                self._finish(job, Prepared(_url(job.page), "rejected", reason))
                self._replace(job.generation, reason, deliberate=True)

    def close(self) -> None:
        with self._lock:
            self._closing = True
            executor, self._executor = self._executor, None
        self._wake.set()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if self._watchdog is not None:
            self._watchdog.join(timeout=5)


def _url(page: FetchedPage) -> str:
    return page.final_url or page.url


def _terminate(executor: ProcessPoolExecutor) -> None:
    """Stop an executor's workers now, whatever they are doing (a hung page never returns).

    SIGKILL, not SIGTERM: workers ignore SIGTERM so that a signal to the whole process group leaves
    the stopping to the parent.
    """
    processes = dict(getattr(executor, "_processes", None) or {})
    for process in processes.values():
        if process.is_alive():
            process.kill()
    executor.shutdown(wait=False, cancel_futures=True)
