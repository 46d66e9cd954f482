"""The one path every page takes: extract, relevance, dedup, facts, timeline, outbox.

The pure half (cleaning, relevance, fingerprint, facts) is pipeline/prepare.py's `Preparer`; this module is
the database half (`Processor.commit`). The crawler and replay send the pure half to page worker
processes (`prepare_async`) and commit here; tests and the CLI call `process_page`, which runs both in the
caller. Each page is one transaction: its article, observations, fact changes and alerts are committed
together or not at all, so a crash never leaves a change without its alert.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from config.models import AppConfig
from pipeline.changes import Entry, Event, Policy, State, diff, evaluate
from pipeline.prepare import Prepared, PreparePool, Preparer, configured_workers
from pipeline.store import Store
from pipeline.store.models import Article, FactChange, FactObservation, FactState
from pipeline.types import Document, FetchedPage, Observation
from pipeline.urls import canonical_url, host_of, normalize_url

logger = logging.getLogger(__name__)

Status = Literal["new", "version", "duplicate", "unchanged", "irrelevant", "rejected"]


@dataclass(frozen=True, slots=True)
class PageOutcome:
    url: str
    status: Status
    reason: str = ""
    article_id: int | None = None
    events: int = 0


def _value_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class Processor:
    """Holds what is costly to build once (fact engine, dedup index) and processes pages one at a time."""

    def __init__(self, store: Store, config: AppConfig, *, workers: int | None = None) -> None:
        from pipeline.dedupe import Deduper

        self.store = store
        self.config = config
        self.preparer = Preparer(config)
        self.policy = Policy(
            min_sources=config.changes.min_sources,
            conflict_window=timedelta(hours=config.changes.conflict_window_hours),
        )
        # Routes can select alerts by tag: a fact's own tags, plus its name and the topic's.
        self.fact_tags = {
            spec.name: sorted({spec.name, config.topic.name, *spec.tags}) for spec in config.facts
        }
        self.deduper = Deduper(config.dedup)
        with store.session() as session:
            self.deduper.load(session)
        self._lock = threading.Lock()
        # Worker processes for the pure half (cleaning, fingerprints, facts); started on first use.
        self.pool = PreparePool(
            config,
            configured_workers(config) if workers is None else workers,
            self.preparer.prepare_page,
            timeout=config.crawl.page_timeout_seconds,
        )

    def close(self) -> None:
        """Stops the worker processes (the store stays open: its owner closes it)."""
        self.pool.close()

    # -- entry points -------------------------------------------------------------------------------

    def process_page(self, page: FetchedPage) -> PageOutcome:
        """Both halves in the calling thread (tests, the CLI, anything without a pool)."""
        return self.commit(self.preparer.prepare_page(page))

    def prepare_async(self, page: FetchedPage) -> Future[Prepared] | None:
        """The pure half in a worker process; pass the result to `commit`.

        None when there are no workers (none configured, or they kept dying): the caller then runs
        `process_page` in a thread of its own, as it would block an event loop for the whole page.
        """
        return self.pool.submit(page) if self.pool.active else None

    def process_document(
        self,
        doc: Document,
        *,
        source: str | None = None,
        fetched_at: datetime | None = None,
        hint_published: datetime | None = None,
        hint_title: str | None = None,
    ) -> PageOutcome:
        prepared = self.preparer.prepare_document(
            doc,
            source=source,
            fetched_at=fetched_at,
            hint_published=hint_published,
            hint_title=hint_title,
        )
        return self.commit(prepared)

    def commit(self, prepared: Prepared) -> PageOutcome:
        """The database half: dedup verdict, article, observations, timeline and alerts in one transaction."""
        url = prepared.url
        if prepared.verdict != "ready":
            return PageOutcome(url, prepared.verdict, prepared.reason)
        with self._lock:
            try:
                return self._ingest(prepared)
            except Exception as exc:  # a bad page must never stop the crawl or lose stored data
                self.deduper.rollback_pending()
                logger.warning(
                    "skipped %s: %s: %s",
                    url,
                    type(exc).__name__,
                    exc,
                    exc_info=logger.isEnabledFor(logging.DEBUG),
                )
                return PageOutcome(url, "rejected", f"processing failed: {type(exc).__name__}: {exc}")

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        """Which of these URLs are stored already (by their normalized form), for incremental crawls."""
        by_norm: dict[str, list[str]] = {}
        for url in urls:
            by_norm.setdefault(normalize_url(url), []).append(url)
        if not by_norm:
            return set()
        found: set[str] = set()
        norms = list(by_norm)
        with self.store.session() as session:
            for i in range(0, len(norms), 500):
                chunk = norms[i : i + 500]
                rows = session.exec(
                    select(Article.canonical_url, Article.url).where(
                        col(Article.canonical_url).in_(chunk) | col(Article.url).in_(chunk)
                    )
                ).all()
                for canon, raw in rows:
                    for key in (canon, raw, normalize_url(raw)):
                        found.update(by_norm.get(key, ()))
        return found

    # -- internals ----------------------------------------------------------------------------------

    def _ingest(self, prepared: Prepared) -> PageOutcome:
        doc, fingerprint = prepared.doc, prepared.fingerprint
        if doc is None or fingerprint is None:  # pragma: no cover - "ready" always carries both
            raise ValueError("a prepared page without its document")
        url, title, source = prepared.url, prepared.title, prepared.source
        canon = canonical_url(url, doc.canonical_url)
        publisher = doc.publisher or host_of(url)
        published = doc.published or prepared.hint_published
        fetched = prepared.fetched_at or datetime.now(UTC)
        with self.store.session() as session:
            verdict = self.deduper.check(
                session,
                canonical_url=canon,
                publisher=publisher,
                title=title,
                published=published,
                fingerprint=fingerprint,
            )
            if verdict.kind == "unchanged":
                return PageOutcome(url, "unchanged", verdict.reason, verdict.match_article_id)
            version = 1
            retired: list[FactObservation] = []
            if verdict.kind == "new_version" and verdict.match_article_id is not None:
                previous = session.get(Article, verdict.match_article_id)
                if previous is not None:
                    previous.is_current = False
                    version = previous.version + 1
                    published = published or previous.published
                    retired = list(
                        session.exec(
                            select(FactObservation).where(
                                FactObservation.article_id == previous.id, col(FactObservation.active)
                            )
                        ).all()
                    )
            article = Article(
                url=url,
                canonical_url=canon,
                version=version,
                source=source,
                publisher=publisher,
                title=title,
                author=doc.author,
                published=published,
                published_precision=doc.published_precision,
                fetched_at=fetched,
                text=doc.text,
                content_hash="",
            )
            session.add(article)
            session.flush()
            self.deduper.register(session, article, verdict, fingerprint)
            observations: Sequence[Observation] = prepared.observations
            if published != prepared.facts_published:  # dated by the previous version: read again
                observations = self.preparer.read_facts(doc, published)
            events = self._record_facts(session, article, observations, retired, published or fetched)
            session.commit()
        self.deduper.commit_pending()
        status: Status = {"new": "new", "new_version": "version"}.get(verdict.kind, "duplicate")  # type: ignore[assignment]
        return PageOutcome(url, status, verdict.reason, article.id, events)

    def _record_facts(
        self,
        session: Session,
        article: Article,
        observations: Sequence[Observation],
        retired: Sequence[FactObservation],
        when: datetime,
    ) -> int:
        keys = {(o.fact, o.entity or "") for o in observations} | {(r.fact, r.entity_key) for r in retired}
        if not keys:
            return 0
        befores = {key: self._state(session, key) for key in keys}
        for old in retired:
            old.active = False
            session.add(old)
        rows = [
            FactObservation(
                article_id=article.id or 0,
                fact=o.fact,
                entity=o.entity,
                entity_key=o.entity or "",
                value=o.value,
                evidence=o.evidence,
                start=o.start,
                end=o.end,
                extractor=o.extractor,
                published=when,
            )
            for o in observations
        ]
        session.add_all(rows)
        session.flush()
        count = 0
        for key in sorted(keys):
            after = self._state(session, key)
            self._save_state(session, key, after)
            for event in diff(befores[key], after):
                self._emit(session, key, event)
                count += 1
        return count

    def _entries(self, session: Session, key: tuple[str, str]) -> list[Entry]:
        rows = session.execute(
            sa_select(
                col(FactObservation.id),
                col(FactObservation.value),
                col(FactObservation.published),
                col(Article.cluster_id),
                col(Article.id),
                col(Article.url),
            )
            .join(Article, col(Article.id) == col(FactObservation.article_id))
            .where(
                col(FactObservation.fact) == key[0],
                col(FactObservation.entity_key) == key[1],
                col(FactObservation.active),
            )
        ).all()
        return [
            Entry(
                observation_id=oid or 0,
                value=value,
                published=published or datetime.min.replace(tzinfo=UTC),
                cluster=cluster if cluster is not None else -(aid or 0),
                url=url,
            )
            for oid, value, published, cluster, aid, url in rows
        ]

    def _state(self, session: Session, key: tuple[str, str]) -> State:
        return evaluate(self._entries(session, key), self.policy)

    def _save_state(self, session: Session, key: tuple[str, str], state: State) -> None:
        row = session.exec(
            select(FactState).where(FactState.fact == key[0], FactState.entity_key == key[1])
        ).first()
        if row is None:
            row = FactState(fact=key[0], entity=key[1] or None, entity_key=key[1])
        row.value = state.value
        row.since = state.since
        row.status = state.status
        row.independent_sources = len(state.sources)
        row.pending_value = state.pending_value if state.pending_value is not None else state.conflict_value
        row.updated = datetime.now(UTC)
        session.add(row)

    def _emit(self, session: Session, key: tuple[str, str], event: Event) -> None:
        from alerts.outbox import enqueue

        fact, entity_key = key
        obs = session.get(FactObservation, event.observation_id) if event.observation_id else None
        article = session.get(Article, obs.article_id) if obs else None
        change = FactChange(
            kind=event.kind,
            fact=fact,
            entity=entity_key or None,
            old_value=event.old_value,
            new_value=event.new_value,
            observation_id=obs.id if obs else None,
            article_id=article.id if article else None,
            published=obs.published if obs else None,
            independent_sources=event.independent_sources,
        )
        session.add(change)
        session.flush()
        if event.kind == "initial" and not self.config.changes.alert_initial:
            return
        payload: dict[str, Any] = {
            "topic": self.config.topic.name,
            "topic_title": self.config.topic.title,
            "fact": fact,
            "entity": entity_key or None,
            "kind": event.kind,
            "old_value": event.old_value,
            "new_value": event.new_value,
            "evidence": obs.evidence if obs else "",
            "url": article.url if article else "",
            "publisher": article.publisher if article else None,
            "title": article.title if article else None,
            "published": obs.published.isoformat() if obs and obs.published else None,
            "independent_sources": event.independent_sources,
            "tags": self.fact_tags.get(fact, [fact, self.config.topic.name]),
            "history": self._history(session, key),
        }
        alert_key = "|".join(
            [
                event.kind,
                fact,
                entity_key,
                _value_key(event.old_value),
                _value_key(event.new_value),
                str(event.observation_id),
            ]
        )
        enqueue(session, event=event.kind, key=alert_key, payload=payload, change_id=change.id)

    def _history(self, session: Session, key: tuple[str, str], limit: int = 20) -> list[dict[str, Any]]:
        rows = session.exec(
            select(FactObservation, Article)
            .join(Article, col(Article.id) == col(FactObservation.article_id))
            .where(
                FactObservation.fact == key[0],
                FactObservation.entity_key == key[1],
                col(FactObservation.active),
            )
            .order_by(col(FactObservation.published), col(Article.url))
        ).all()
        out = [
            {
                "value": o.value,
                "published": o.published.isoformat() if o.published else None,
                "url": a.url,
                "publisher": a.publisher,
                "evidence": o.evidence,
            }
            for o, a in rows
        ]
        return out[-limit:]
