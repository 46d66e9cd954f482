"""The pure half of processing in worker processes: same results as in-process, and no page lost."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from warcio.archiveiterator import ArchiveIterator

from config.loader import load_config
from config.models import AppConfig
from pipeline.prepare import PreparePool, Preparer, auto_workers, configured_workers
from pipeline.process import Processor
from pipeline.store import Store
from pipeline.store.models import Article, FactObservation
from pipeline.types import FetchedPage

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def config() -> AppConfig:
    return load_config(ROOT / "config" / "haiti-mss.yaml")


@pytest.fixture(scope="module")
def pages() -> list[FetchedPage]:
    """Every archived response of the fixture site, in archive order (articles, feeds, bad pages)."""
    found: list[FetchedPage] = []
    for archive in sorted(FIXTURES.glob("*.warc.gz")):
        with archive.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                found.append(
                    FetchedPage(
                        url=record.rec_headers.get_header("WARC-Target-URI"),
                        status=int(record.http_headers.get_statuscode()),
                        body=record.content_stream().read(),
                        headers=dict(record.http_headers.headers),
                        source="fixture",
                    )
                )
    assert len(found) > 20
    return found


@pytest.fixture
def pool(config: AppConfig) -> Iterator[PreparePool]:
    local = Preparer(config)
    pool = PreparePool(config, 1, local.prepare_page)
    yield pool
    pool.close()


def test_a_worker_prepares_exactly_what_this_process_prepares(
    config: AppConfig, pages: list[FetchedPage], pool: PreparePool
) -> None:
    local = Preparer(config)
    futures = [pool.submit(page) for page in pages]
    remote = [future.result(timeout=120) for future in futures]
    assert pool.active and pool._executor is not None  # really ran in a worker
    expected = [local.prepare_page(page) for page in pages]
    assert remote == expected
    verdicts = {prepared.verdict for prepared in remote}
    assert {"ready", "rejected"} <= verdicts
    assert any(prepared.observations for prepared in remote)


def _kill_workers(pool: PreparePool) -> None:
    """What the OOM killer does: SIGKILL every worker of the current executor."""
    assert pool._executor is not None
    for process in list(pool._executor._processes.values()):
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=10)


def _article(config: AppConfig, pages: list[FetchedPage]) -> FetchedPage:
    return next(p for p in pages if Preparer(config).prepare_page(p).observations)


def test_dead_workers_are_replaced_and_cost_no_page(
    config: AppConfig, pages: list[FetchedPage], pool: PreparePool, caplog: pytest.LogCaptureFixture
) -> None:
    article = _article(config, pages)
    first = pool.submit(article).result(timeout=120)
    _kill_workers(pool)
    with caplog.at_level(logging.WARNING, logger="pipeline.prepare"):
        again = [pool.submit(article).result(timeout=120) for _ in range(2)]
    assert again == [first, first]
    assert pool.active and pool.restarts == 1  # new workers, not a fallback to this process
    assert "page workers stopped" in caplog.text and "starting new ones" in caplog.text


def test_workers_that_keep_dying_leave_the_work_to_this_process(
    config: AppConfig, pages: list[FetchedPage], caplog: pytest.LogCaptureFixture
) -> None:
    pool = PreparePool(config, 1, Preparer(config).prepare_page, max_restarts=0)
    try:
        article = _article(config, pages)
        first = pool.submit(article).result(timeout=120)
        _kill_workers(pool)
        with caplog.at_level(logging.WARNING, logger="pipeline.prepare"):
            again = pool.submit(article).result(timeout=120)
        assert again == first
        assert not pool.active
        assert "preparing pages in this process from now on" in caplog.text
    finally:
        pool.close()


def test_a_page_that_takes_too_long_is_rejected_and_the_workers_restart(
    config: AppConfig, pages: list[FetchedPage], caplog: pytest.LogCaptureFixture
) -> None:
    article = _article(config, pages)
    # 5,000 paragraphs (0.5 MB): about 3 s of cleaning here, ten times the 0.3 s limit (a page: ~25 ms).
    heavy = "".join(
        f"<p>Kenyan police officers patrolled district {i} of the capital, the Haiti mission said.</p>"
        for i in range(5000)
    )
    slow = FetchedPage(
        url="http://127.0.0.1:9/slow.html",
        status=200,
        body=f"<html><body><article>{heavy}</article></body></html>".encode(),
        headers={"Content-Type": "text/html"},
    )
    local = Preparer(config)
    pool = PreparePool(config, 1, local.prepare_page, timeout=0.3)
    try:
        pool.submit(article).result(timeout=120)  # the workers' start-up is not on the clock
        with caplog.at_level(logging.WARNING, logger="pipeline.prepare"):
            rejected = pool.submit(slow).result(timeout=60)
            after = pool.submit(article).result(timeout=120)
        assert rejected.verdict == "rejected"
        assert rejected.reason == "preparing the page took longer than 0.3 s"
        assert after == local.prepare_page(article)
        assert pool.active and pool.restarts == 1
        assert "restarting the page workers" in caplog.text
    finally:
        pool.close()


def _stored(store: Store) -> tuple[list[Any], list[Any]]:
    with store.session() as session:
        articles = session.exec(select(Article).order_by(col(Article.id))).all()
        rows = [(a.canonical_url, a.version, a.text, a.published, a.cluster_id) for a in articles]
        facts = session.exec(select(FactObservation).order_by(col(FactObservation.id))).all()
        seen = [(f.fact, f.entity, f.value, f.evidence, f.start, f.end, f.active) for f in facts]
    return rows, seen


def test_processor_with_workers_stores_what_it_stores_without(
    config: AppConfig, pages: list[FetchedPage], tmp_path: Path
) -> None:
    results = []
    for workers in (0, 1):
        store = Store.open(f"sqlite:///{tmp_path / f'workers-{workers}.db'}")
        processor = Processor(store, config, workers=workers)
        try:
            # As the crawler does: many pages in flight in the pool, committed in arrival order.
            futures = [processor.prepare_async(page) for page in pages]
            assert all(f is None for f in futures) == (workers == 0)  # no workers: the caller's thread
            outcomes = [
                processor.commit(future.result(timeout=120))
                if future is not None
                else processor.process_page(page)
                for page, future in zip(pages, futures, strict=True)
            ]
            assert (processor.pool._executor is not None) == (workers == 1)
            results.append(([(o.url, o.status) for o in outcomes], _stored(store)))
        finally:
            processor.close()
            store.close()
    assert results[0] == results[1]
    statuses = {status for _, status in results[0][0]}
    assert "new" in statuses and "rejected" in statuses
    assert results[0][1][1], "the fixture pages state facts"


def test_worker_count_comes_from_env_then_config_then_cpus(
    config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTWATCH_PROCESS_WORKERS", "3")
    assert configured_workers(config) == 3
    monkeypatch.setenv("FACTWATCH_PROCESS_WORKERS", "")
    configured = config.model_copy(update={"crawl": config.crawl.model_copy(update={"process_workers": 2})})
    assert configured_workers(configured) == 2
    assert configured_workers(config) == auto_workers()
    assert 0 <= auto_workers() <= 4
    cpus = len(os.sched_getaffinity(0))
    assert auto_workers() == (0 if cpus < 2 else min(cpus, 4))
