"""What the crawler remembers between runs, kept in the store (never only in memory).

Everything here is synchronous SQL; the spider and the item pipeline call it from worker threads so the
reactor keeps downloading meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from pipeline.store import Store
from pipeline.store.crawl_models import BadResponse, CrawlUrl, SourceHealth
from pipeline.urls import normalize_url

logger = logging.getLogger(__name__)

# Outcomes after which a URL counts as dealt with; anything else (transient errors) is tried again.
STORED_OUTCOMES = frozenset({"new", "version", "duplicate", "unchanged"})
TRANSIENT_OUTCOME = "error"
HUB_OUTCOME = "hub"  # a listing page inside a listing source: fetched again every crawl, conditionally


@dataclass(frozen=True, slots=True)
class UrlState:
    url: str
    source: str | None
    role: str
    etag: str | None
    last_modified: str | None
    source_lastmod: datetime | None
    published: datetime | None
    first_seen: datetime
    last_fetched: datetime | None
    last_outcome: str | None
    next_revisit: datetime | None

    @property
    def settled(self) -> bool:
        """Fetched (or known) with a final answer, so a plain re-listing is no reason to fetch it again."""
        return self.last_outcome != TRANSIENT_OUTCOME

    def changed_since(self, claimed: datetime | None) -> bool:
        """True when the source's date for the page is newer than anything we have seen for it."""
        if claimed is None:
            return False
        reference = self.source_lastmod or self.last_fetched
        return reference is not None and claimed > reference


@dataclass(frozen=True, slots=True)
class Fetch:
    """One fetch to remember (see CrawlState.record_fetch for the fields)."""

    url: str
    source: str | None
    role: str
    outcome: str
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    source_lastmod: datetime | None = None
    published: datetime | None = None
    revisit: bool = False
    now: datetime | None = None


def _state(row: CrawlUrl) -> UrlState:
    return UrlState(
        url=row.url,
        source=row.source,
        role=row.role,
        etag=row.etag,
        last_modified=row.last_modified,
        source_lastmod=row.source_lastmod,
        published=row.published,
        first_seen=row.first_seen,
        last_fetched=row.last_fetched,
        last_outcome=row.last_outcome,
        next_revisit=row.next_revisit,
    )


def next_revisit(base: datetime, ages: Sequence[timedelta], now: datetime) -> datetime | None:
    """The first scheduled age after `base` still in the future; None once the schedule is used up."""
    future = [base + age for age in ages if base + age > now]
    return min(future) if future else None


class CrawlState:
    def __init__(self, store: Store, *, revisit_ages: Sequence[timedelta] = ()) -> None:
        self.store = store
        self.revisit_ages = sorted(revisit_ages)

    # -- URLs ------------------------------------------------------------------------------------------

    def lookup(self, urls: Iterable[str]) -> dict[str, UrlState]:
        """States of these URLs keyed by normalized URL (missing ones are absent)."""
        keys = sorted({normalize_url(url) for url in urls})
        found: dict[str, UrlState] = {}
        with self.store.session() as session:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                for row in session.exec(select(CrawlUrl).where(col(CrawlUrl.url).in_(chunk))).all():
                    found[row.url] = _state(row)
        return found

    def get(self, url: str) -> UrlState | None:
        return self.lookup([url]).get(normalize_url(url))

    def remember(self, entries: Iterable[tuple[str, str | None, datetime | None, datetime | None]]) -> None:
        """Record (url, source, source_lastmod, published) of pages the processor already holds."""
        now = datetime.now(UTC)
        with self.store.session() as session:
            for url, source, lastmod, published in entries:
                key = normalize_url(url)
                if session.exec(select(CrawlUrl.id).where(CrawlUrl.url == key)).first() is not None:
                    continue
                session.add(
                    CrawlUrl(
                        url=key,
                        source=source,
                        source_lastmod=lastmod,
                        published=published,
                        first_seen=now,
                        last_outcome="known",
                    )
                )
            session.commit()

    def record_fetch(
        self,
        *,
        url: str,
        source: str | None,
        role: str,
        outcome: str,
        status: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        source_lastmod: datetime | None = None,
        published: datetime | None = None,
        revisit: bool = False,
        now: datetime | None = None,
    ) -> None:
        """Remember one fetch; articles with a stored outcome get their next revisit scheduled."""
        self.record_fetches(
            [
                Fetch(
                    url=url,
                    source=source,
                    role=role,
                    outcome=outcome,
                    status=status,
                    etag=etag,
                    last_modified=last_modified,
                    source_lastmod=source_lastmod,
                    published=published,
                    revisit=revisit,
                    now=now,
                )
            ]
        )

    def record_fetches(self, fetches: Sequence[Fetch]) -> None:
        """Remember many fetches in one transaction (the item pipeline batches them for throughput)."""
        if not fetches:
            return
        for attempt in range(2):
            try:
                with self.store.session() as session:
                    keys = sorted({normalize_url(fetch.url) for fetch in fetches})
                    rows: dict[str, CrawlUrl] = {}
                    for start in range(0, len(keys), 500):
                        chunk = keys[start : start + 500]
                        for found in session.exec(select(CrawlUrl).where(col(CrawlUrl.url).in_(chunk))).all():
                            rows[found.url] = found
                    for fetch in fetches:
                        key = normalize_url(fetch.url)
                        row = rows.get(key)
                        if row is None:
                            row = rows[key] = CrawlUrl(
                                url=key,
                                source=fetch.source,
                                role=fetch.role,
                                first_seen=fetch.now or datetime.now(UTC),
                            )
                        self._apply(row, fetch)
                        session.add(row)
                    session.commit()
                return
            except IntegrityError:
                # Another thread inserted one of these URLs a moment ago; the second attempt updates it.
                if attempt:
                    raise

    def _apply(self, row: CrawlUrl, fetch: Fetch) -> None:
        moment = fetch.now or datetime.now(UTC)
        row.source = fetch.source or row.source
        row.role = fetch.role
        row.last_fetched = moment
        row.last_status = fetch.status
        row.fetches += 1
        if fetch.revisit:
            row.revisits += 1
        if fetch.outcome != "not-modified" or row.last_outcome is None:
            row.last_outcome = fetch.outcome
        if fetch.etag or fetch.last_modified:
            row.etag, row.last_modified = fetch.etag, fetch.last_modified
        if fetch.source_lastmod is not None:
            row.source_lastmod = max(fetch.source_lastmod, row.source_lastmod or fetch.source_lastmod)
        if fetch.published is not None and row.published is None:
            row.published = fetch.published
        if fetch.role == "article":
            stored = row.last_outcome in STORED_OUTCOMES
            base = row.published or row.first_seen
            row.next_revisit = next_revisit(base, self.revisit_ages, moment) if stored else None

    def due_revisits(
        self, sources: Iterable[str] | None, *, now: datetime | None = None, limit: int = 1000
    ) -> list[UrlState]:
        moment = now or datetime.now(UTC)
        query = select(CrawlUrl).where(
            col(CrawlUrl.next_revisit).is_not(None), col(CrawlUrl.next_revisit) <= moment
        )
        if sources is not None:
            query = query.where(col(CrawlUrl.source).in_(list(sources)))
        with self.store.session() as session:
            rows = session.exec(query.order_by(col(CrawlUrl.next_revisit)).limit(limit)).all()
            return [_state(row) for row in rows]

    # -- bad responses ---------------------------------------------------------------------------------

    def record_bad(self, *, url: str, source: str | None, kind: str, reason: str, status: int | None) -> None:
        with self.store.session() as session:
            session.add(BadResponse(url=url, source=source, kind=kind, reason=reason[:1000], status=status))
            session.commit()

    def bad_responses(self, source: str | None = None) -> list[BadResponse]:
        query = select(BadResponse).order_by(col(BadResponse.id))
        if source is not None:
            query = query.where(BadResponse.source == source)
        with self.store.session() as session:
            return list(session.exec(query).all())

    # -- source health ---------------------------------------------------------------------------------

    def health(self, name: str) -> SourceHealth | None:
        with self.store.session() as session:
            return session.get(SourceHealth, name)

    def update_health(
        self,
        *,
        name: str,
        url: str,
        kind: str | None,
        error: str | None,
        pages: int = 0,
        new_items: int = 0,
        bad_responses: int = 0,
        last_new_item: datetime | None = None,
        now: datetime | None = None,
    ) -> tuple[SourceHealth | None, SourceHealth]:
        """Apply one crawl's result; returns (before, after) so callers can tell failure from recovery."""
        moment = now or datetime.now(UTC)
        with self.store.session() as session:
            row = session.get(SourceHealth, name)
            before = SourceHealth.model_validate(row.model_dump()) if row is not None else None
            if row is None:
                row = SourceHealth(name=name, url=url)
            row.url = url
            row.kind = kind or row.kind
            row.last_crawl = moment
            row.crawls += 1
            row.pages += pages
            row.new_items += new_items
            row.bad_responses += bad_responses
            if last_new_item is not None:
                row.last_new_item = last_new_item
            if error is None:
                row.last_success = moment
                row.consecutive_failures = 0
            else:
                row.last_error = error[:1000]
                row.last_error_at = moment
                row.consecutive_failures += 1
            session.add(row)
            session.commit()
            after = SourceHealth.model_validate(row.model_dump())
        return before, after

    def all_health(self) -> list[SourceHealth]:
        with self.store.session() as session:
            return list(session.exec(select(SourceHealth).order_by(col(SourceHealth.name))).all())
