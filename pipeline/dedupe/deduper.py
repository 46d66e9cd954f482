"""Decides whether an article is new, an edit of a stored one, or a copy of a stored story.

Layers run cheapest first and the first that matches decides:

1. canonical URL: the same URL with the same normalized text is ``unchanged``; with other text it is a
   ``new_version`` of the article and stays in its cluster;
2. publisher + normalized title within ``title_window_days``: a republish under another URL
   (``same_title``), provided the two texts share something (a recurring headline such as "News in brief"
   over unrelated texts is not a copy);
3. hash of the normalized text at another URL (``same_text``);
4. MinHash LSH over a rolling window of ``near_window_days``, each candidate verified by estimated Jaccard
   similarity >= ``threshold`` or containment >= ``containment`` (``near_duplicate``).

Copies are stored like any article (own URL and publisher) and joined to the cluster of what they copy;
a cluster records its earliest article (by publication time), and its ``size`` counts articles, not
versions, so corroboration can count clusters rather than copies.

The in-memory index is only a cache of ``Article.minhash``: `load` rebuilds it from the store, and each
match is confirmed against the database before it is trusted. Entries registered inside a transaction
are visible to later checks in the same transaction; `rollback_pending` takes them out again if it
rolls back, `commit_pending` keeps them and prunes what left the window.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
from sqlalchemy import bindparam, func
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from config.models import DedupSettings
from pipeline.dedupe.index import BandIndex
from pipeline.dedupe.sketch import Fingerprint, Sketcher, blob_num_perm, decode, similarity
from pipeline.dedupe.text import title_key
from pipeline.store.models import Article, Cluster, utcnow

logger = logging.getLogger(__name__)

VerdictKind = Literal["new", "unchanged", "new_version", "same_text", "near_duplicate", "same_title"]

# A headline of one or two words ("Haiti", "Live updates") says nothing about the story under it.
MIN_TITLE_WORDS = 3
# Same publisher and headline still needs this much shared text (containment) to count as a republish.
MIN_TITLE_OVERLAP = 0.2
# Containment is only trusted when the smaller text has this many distinct shingles: a one-line text is
# "contained" in any long article that quotes it.
MIN_CONTAINMENT_SHINGLES = 20
# Published dates further ahead of the clock than this are treated as unknown.
_FUTURE_SLACK = timedelta(days=1)
_HASH_PREFIX = 16

# The per-article queries, built once: constructing a statement costs more than running it on SQLite.
_BY_URL = (
    sa_select(
        col(Article.id),
        col(Article.version),
        col(Article.content_hash),
        col(Article.cluster_id),
        col(Article.minhash),
    )
    .where(col(Article.canonical_url) == bindparam("url"), col(Article.is_current))
    .order_by(col(Article.version).desc())
    .limit(1)
)
_BY_TITLE = (
    sa_select(
        col(Article.id),
        col(Article.cluster_id),
        col(Article.published),
        col(Article.fetched_at),
        col(Article.minhash),
    )
    .where(
        col(Article.publisher) == bindparam("publisher"),
        col(Article.title_key) == bindparam("key"),
        col(Article.canonical_url) != bindparam("url"),
        col(Article.is_current),
    )
    .order_by(col(Article.id).desc())
    .limit(20)
)
_BY_HASH = (
    sa_select(col(Article.id), col(Article.cluster_id))
    .where(col(Article.content_hash) == bindparam("hash"), col(Article.canonical_url) != bindparam("url"))
    .order_by(col(Article.id))
    .limit(1)
)
_CONFIRM = sa_select(col(Article.cluster_id), col(Article.content_hash), col(Article.canonical_url)).where(
    col(Article.id) == bindparam("id")
)


@dataclass(frozen=True)
class Verdict:
    """What `Deduper.check` decided for one article, and against which stored article."""

    kind: VerdictKind
    match_article_id: int | None  # previous version (new_version/unchanged) or the matched copy
    cluster_id: int | None  # cluster to join (None for "new")
    similarity: float | None = None
    reason: str = ""

    @property
    def is_duplicate(self) -> bool:
        return self.kind in ("same_text", "near_duplicate", "same_title")


@dataclass(frozen=True, slots=True)
class _Entry:
    article_id: int
    when: float  # epoch seconds: published, else fetched
    hash_prefix: str
    shingles: int
    hashvalues: bytes


def _epoch(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class Deduper:
    """Holds the near-duplicate index; every decision also reads the session it is given.

    Not thread-safe: the caller processes one page at a time (as `pipeline.process` does).
    """

    def __init__(
        self,
        settings: DedupSettings,
        *,
        lsh_rows: int | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self._sketcher = Sketcher(settings.num_perm, settings.shingle_words)
        self._lsh_rows = lsh_rows
        self._clock = clock or (lambda: datetime.now(UTC))
        self._window = timedelta(days=settings.near_window_days).total_seconds()
        self._reset()

    def _reset(self) -> None:
        self._index = BandIndex(self.settings.num_perm, self._lsh_rows)
        self._entries: dict[int, _Entry] = {}
        self._by_time: list[tuple[float, int]] = []
        self._watermark: float | None = None
        self._committed_watermark: float | None = None
        self._pending: list[int] = []

    # -- public API --------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of sketches in the near-duplicate index."""
        return len(self._entries)

    def memory_bytes(self) -> int:
        """Approximate bytes held by the index (band arrays plus one stored sketch per entry)."""
        per_entry = 4 * self.settings.num_perm + 200  # hash values, entry record, dict slot, heap item
        return self._index.memory_bytes() + per_entry * len(self._entries)

    def fingerprint(self, text: str) -> Fingerprint:
        return self._sketcher.fingerprint(text)

    def load(self, session: Session) -> int:
        """Rebuild the index from stored sketches inside the rolling window; returns how many it holds."""
        self._reset()
        event_time = func.coalesce(col(Article.published), col(Article.fetched_at))
        horizon = self._clock() + _FUTURE_SLACK
        newest = session.exec(
            select(func.max(event_time)).where(col(Article.minhash).is_not(None), event_time <= horizon)
        ).one()
        if newest is None:
            return 0
        cutoff = newest - timedelta(days=self.settings.near_window_days)
        # sqlmodel's select() is typed for up to four columns; SQLAlchemy's is the same statement.
        rows = session.execute(
            sa_select(
                col(Article.id),
                col(Article.published),
                col(Article.fetched_at),
                col(Article.content_hash),
                col(Article.minhash),
            )
            .where(col(Article.minhash).is_not(None), event_time >= cutoff)
            .order_by(col(Article.id))
            .execution_options(yield_per=5000)
        )
        skipped = 0
        for article_id, published, fetched_at, content_hash, blob in rows:
            if article_id is None or blob is None or blob_num_perm(blob) != self.settings.num_perm:
                skipped += 1
                continue
            try:
                shingle_count, _ = decode(blob)
            except ValueError:
                skipped += 1
                continue
            if shingle_count:
                self._add(article_id, self._event_time(published, fetched_at), content_hash, blob)
        self._committed_watermark = self._watermark
        self._prune()
        if skipped:
            logger.warning(
                "dedup: %d stored sketches were not loaded (made with other settings than num_perm=%d or "
                "unreadable); those articles are still found by URL, title and text hash",
                skipped,
                self.settings.num_perm,
            )
        logger.info(
            "dedup: index holds %d sketches from the last %d days", len(self), self.settings.near_window_days
        )
        return len(self)

    def check(
        self,
        session: Session,
        *,
        canonical_url: str,
        publisher: str | None,
        title: str | None,
        published: datetime | None,
        fingerprint: Fingerprint,
    ) -> Verdict:
        verdict = self._check_url(session, canonical_url, fingerprint)
        if verdict is not None:
            return verdict
        if fingerprint.words == 0:
            return Verdict("new", None, None, reason="no text to compare")
        if published is not None and published > self._clock() + _FUTURE_SLACK:
            published = None
        verdict = self._check_title(session, canonical_url, publisher, title, published, fingerprint)
        if verdict is None:
            verdict = self._check_text(session, canonical_url, fingerprint)
        if verdict is None:
            verdict = self._check_near(session, canonical_url, published, fingerprint)
        return verdict or Verdict("new", None, None, reason="no earlier copy found")

    def register(
        self, session: Session, article: Article, verdict: Verdict, fingerprint: Fingerprint
    ) -> None:
        """Store the fingerprint on a flushed article, put it in its cluster and in the index.

        The index entry is pending until `commit_pending`; `rollback_pending` takes it out again.
        """
        if article.id is None:
            raise ValueError("dedup register: the article has no id yet; add and flush it first")
        if verdict.kind == "unchanged":
            raise ValueError(
                f"dedup register: {article.url} is unchanged (#{verdict.match_article_id}); store nothing"
            )
        if verdict.cluster_id is None and verdict.match_article_id is None:
            # A new story (the common case): insert its cluster before touching the article, so the
            # insert does not first flush the article's changes as a separate statement.
            article.cluster_id = self._insert_cluster(session, article)
        else:
            cluster = self._cluster_for(session, article, verdict)
            article.cluster_id = cluster.id
            if verdict.kind != "new_version":
                cluster.size = (cluster.size or 0) + (0 if cluster.first_article_id == article.id else 1)
            if _earlier(article.published, cluster.first_published):
                cluster.first_article_id = article.id
                cluster.first_publisher = article.publisher
                cluster.first_published = article.published
            session.add(cluster)
        article.content_hash = fingerprint.content_hash
        article.minhash = fingerprint.minhash
        article.title_key = title_key(article.title, article.publisher)
        if verdict.is_duplicate:
            article.duplicate_of = verdict.match_article_id
            article.duplicate_reason = verdict.reason
        session.add(article)
        if fingerprint.shingles:
            when = self._event_time(article.published, article.fetched_at)
            slot = self._add(article.id, when, fingerprint.content_hash, fingerprint.minhash)
            if slot is not None:
                self._pending.append(slot)

    def commit_pending(self) -> None:
        """The transaction holding the registered articles committed: keep their entries."""
        self._pending.clear()
        self._committed_watermark = self._watermark
        self._prune()

    def rollback_pending(self) -> None:
        """The transaction rolled back: forget the entries registered since the last commit."""
        for slot in self._pending:
            self._index.remove(slot)
            self._entries.pop(slot, None)
        self._pending.clear()
        self._watermark = self._committed_watermark

    # -- layers ------------------------------------------------------------------------------------

    def _check_url(self, session: Session, canonical_url: str, fingerprint: Fingerprint) -> Verdict | None:
        row = session.execute(_BY_URL, {"url": canonical_url}).first()
        if row is None:
            return None
        article_id, version, content_hash, cluster_id, blob = row
        if content_hash == fingerprint.content_hash:
            return Verdict(
                "unchanged", article_id, cluster_id, 1.0, f"same text as #{article_id} (version {version})"
            )
        sim = self._similarity_to_blob(fingerprint, blob)
        detail = f", jaccard {sim[0]:.2f}" if sim else ""
        return Verdict(
            "new_version",
            article_id,
            cluster_id,
            sim[0] if sim else None,
            f"text of #{article_id} changed (version {version} -> {version + 1}{detail})",
        )

    def _check_title(
        self,
        session: Session,
        canonical_url: str,
        publisher: str | None,
        title: str | None,
        published: datetime | None,
        fingerprint: Fingerprint,
    ) -> Verdict | None:
        key = title_key(title, publisher)
        if not publisher or not key or len(key.split()) < MIN_TITLE_WORDS:
            return None
        rows = session.execute(_BY_TITLE, {"publisher": publisher, "key": key, "url": canonical_url}).all()
        reference = _epoch(published) if published is not None else self._now_epoch()
        window = timedelta(days=self.settings.title_window_days).total_seconds()
        best: tuple[float, int, int | None] | None = None
        for article_id, cluster_id, row_published, fetched_at, blob in rows:
            if abs(self._event_time(row_published, fetched_at) - reference) > window:
                continue
            sim = self._similarity_to_blob(fingerprint, blob)
            overlap = sim[1] if sim else 1.0
            if overlap < MIN_TITLE_OVERLAP:
                continue
            if best is None or overlap > best[0]:
                best = (overlap, article_id, cluster_id)
        if best is None:
            return None
        overlap, article_id, cluster_id = best
        return Verdict(
            "same_title",
            article_id,
            cluster_id,
            overlap,
            f"same title as #{article_id} from {publisher} (containment {overlap:.2f})",
        )

    def _check_text(self, session: Session, canonical_url: str, fingerprint: Fingerprint) -> Verdict | None:
        row = session.execute(_BY_HASH, {"hash": fingerprint.content_hash, "url": canonical_url}).first()
        if row is None:
            return None
        article_id, cluster_id = row
        return Verdict("same_text", article_id, cluster_id, 1.0, f"same text as #{article_id} at another URL")

    def _check_near(
        self, session: Session, canonical_url: str, published: datetime | None, fingerprint: Fingerprint
    ) -> Verdict | None:
        if not fingerprint.shingles or not self._entries:
            return None
        query = fingerprint.hashvalues
        slots = [slot for slot in self._index.query(query) if slot in self._entries]
        if published is not None:
            reference = _epoch(published)
            slots = [s for s in slots if abs(self._entries[s].when - reference) <= self._window]
        if not slots:
            return None
        entries = [self._entries[s] for s in slots]
        matrix = np.frombuffer(b"".join(e.hashvalues for e in entries), dtype="<u4").reshape(len(entries), -1)
        sizes = np.fromiter((e.shingles for e in entries), dtype=np.int64, count=len(entries))
        jaccard, containment = similarity(query, fingerprint.shingles, matrix, sizes)
        by_jaccard = jaccard >= self.settings.threshold
        by_containment = (containment >= self.settings.containment) & (
            np.minimum(sizes, fingerprint.shingles) >= MIN_CONTAINMENT_SHINGLES
        )
        passing = np.flatnonzero(by_jaccard | by_containment)
        for i in sorted(passing.tolist(), key=lambda i: (-containment[i], -jaccard[i])):
            entry = entries[i]
            row = session.execute(_CONFIRM, {"id": entry.article_id}).first()
            if row is None or not (row[1] or "").startswith(entry.hash_prefix):
                # The index outlived its row (a rollback nobody reported): forget the entry.
                logger.debug("dedup: index entry for #%s has no matching row; dropped", entry.article_id)
                self._index.remove(slots[i])
                self._entries.pop(slots[i], None)
                continue
            cluster_id, _, other_url = row
            if other_url == canonical_url:
                continue
            j, c = float(jaccard[i]), float(containment[i])
            return Verdict(
                "near_duplicate",
                entry.article_id,
                cluster_id,
                j if by_jaccard[i] else c,
                f"near-duplicate of #{entry.article_id} (jaccard {j:.2f}, containment {c:.2f})",
            )
        return None

    # -- helpers -----------------------------------------------------------------------------------

    def _cluster_for(self, session: Session, article: Article, verdict: Verdict) -> Cluster:
        if verdict.cluster_id is not None:
            cluster = session.get(Cluster, verdict.cluster_id)
            if cluster is not None:
                if verdict.kind == "new_version":
                    self._inherit_duplicate(session, article, verdict.match_article_id)
                return cluster
        # A new story, or a match stored without a cluster (written before dedup ran): start one.
        first = article
        match_id = verdict.match_article_id
        match = session.get(Article, match_id) if match_id is not None else None
        if match is not None and match.id != article.id:
            first = match
        cluster = Cluster(
            first_article_id=first.id,
            first_publisher=first.publisher,
            first_published=first.published,
            size=1,
        )
        session.add(cluster)
        session.flush()
        if first is not article:
            first.cluster_id = cluster.id
            session.add(first)
        return cluster

    @staticmethod
    def _insert_cluster(session: Session, first: Article) -> int:
        statement = (
            sa_insert(Cluster)
            .values(
                first_article_id=first.id,
                first_publisher=first.publisher,
                first_published=first.published,
                size=1,
                created=utcnow(),
            )
            .returning(col(Cluster.id))
        )
        return int(session.execute(statement).scalar_one())

    @staticmethod
    def _inherit_duplicate(session: Session, article: Article, previous_id: int | None) -> None:
        """A new version of a copy is still a copy of the same story."""
        previous = session.get(Article, previous_id) if previous_id is not None else None
        if previous is not None and previous.duplicate_of is not None:
            article.duplicate_of = previous.duplicate_of
            article.duplicate_reason = previous.duplicate_reason

    def _similarity_to_blob(self, fingerprint: Fingerprint, blob: bytes | None) -> tuple[float, float] | None:
        if not blob or not fingerprint.shingles or blob_num_perm(blob) != self.settings.num_perm:
            return None
        try:
            count, values = decode(blob)
        except ValueError:
            return None
        if not count:
            return None
        jaccard, containment = similarity(
            fingerprint.hashvalues, fingerprint.shingles, values[None, :], np.array([count])
        )
        return float(jaccard[0]), float(containment[0])

    def _now_epoch(self) -> float:
        return self._watermark if self._watermark is not None else self._clock().timestamp()

    def _event_time(self, published: datetime | None, fetched_at: datetime | None) -> float:
        """When an article happened for the window: its publication, else when it was fetched."""
        horizon = (self._clock() + _FUTURE_SLACK).timestamp()
        if published is not None:
            when = _epoch(published)
            if when <= horizon:
                return when
        if fetched_at is not None:
            return min(_epoch(fetched_at), horizon)
        return self._clock().timestamp()

    def _add(self, article_id: int, when: float, content_hash: str, blob: bytes) -> int | None:
        if self._watermark is not None and when < self._watermark - self._window:
            return None  # already outside the window
        count, values = decode(blob)
        slot = self._index.add(values)
        self._entries[slot] = _Entry(article_id, when, content_hash[:_HASH_PREFIX], count, values.tobytes())
        heapq.heappush(self._by_time, (when, slot))
        if self._watermark is None or when > self._watermark:
            self._watermark = when
        return slot

    def _prune(self) -> None:
        """Drop entries older than the window, measured back from the newest article seen."""
        if self._watermark is None:
            return
        limit = self._watermark - self._window
        pending = set(self._pending)
        while self._by_time and self._by_time[0][0] < limit:
            _, slot = heapq.heappop(self._by_time)
            if slot in pending:
                continue
            if self._entries.pop(slot, None) is not None:
                self._index.remove(slot)


def _earlier(candidate: datetime | None, current: datetime | None) -> bool:
    if candidate is None:
        return False
    if current is None:
        return True
    return _epoch(candidate) < _epoch(current)
