"""Tables of the store. SQLite by default, PostgreSQL by URL; the schema is managed by Alembic.

Timestamps are UTC. Values of facts are stored as JSON so ints stay ints and dates stay strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from pipeline.store.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Article(SQLModel, table=True):
    """One version of one article. An edit of the same canonical URL is a new row, version + 1."""

    __tablename__ = "article"
    __table_args__ = (
        UniqueConstraint("canonical_url", "version", name="uq_article_canonical_version"),
        Index("ix_article_publisher_title", "publisher", "title_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    url: str
    canonical_url: str = Field(index=True)
    version: int = 1
    is_current: bool = Field(default=True, index=True)
    source: str | None = None
    publisher: str | None = None
    title: str | None = None
    title_key: str | None = None
    author: str | None = None
    published: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    published_precision: str = "day"
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    text: str
    content_hash: str = Field(index=True)
    minhash: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    cluster_id: int | None = Field(default=None, index=True)
    duplicate_of: int | None = Field(default=None, description="article this one copies, if any")
    duplicate_reason: str | None = None


class Cluster(SQLModel, table=True):
    """Articles that are copies of one story. Corroboration counts clusters, not articles."""

    __tablename__ = "cluster"

    id: int | None = Field(default=None, primary_key=True)
    first_article_id: int | None = None
    first_publisher: str | None = None
    first_published: datetime | None = Field(default=None, sa_type=UTCDateTime)
    size: int = 1
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FactObservation(SQLModel, table=True):
    """A value of a fact stated by one article version, with its evidence sentence."""

    __tablename__ = "fact_observation"
    __table_args__ = (Index("ix_observation_fact_entity", "fact", "entity_key"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    fact: str
    entity: str | None = None
    entity_key: str = ""  # entity or "" so it can be indexed and compared on every database
    value: Any = Field(sa_column=Column(JSON, nullable=False))
    evidence: str
    start: int
    end: int
    extractor: str = "rules"
    published: datetime | None = Field(default=None, sa_type=UTCDateTime)
    active: bool = Field(default=True, description="false once a newer version of the article replaced it")


class FactState(SQLModel, table=True):
    """Current value of each (fact, entity): derived from observations, kept for cheap reads."""

    __tablename__ = "fact_state"
    __table_args__ = (UniqueConstraint("fact", "entity_key", name="uq_fact_state"),)

    id: int | None = Field(default=None, primary_key=True)
    fact: str
    entity: str | None = None
    entity_key: str = ""
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = "confirmed"  # confirmed | reported | conflict
    independent_sources: int = 0
    pending_value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    updated: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FactChange(SQLModel, table=True):
    """An event in a fact's life: first value, a change, a conflict, a reported-but-unconfirmed value."""

    __tablename__ = "fact_change"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)  # initial | change | reported | conflict
    fact: str = Field(index=True)
    entity: str | None = None
    old_value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    new_value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    observation_id: int | None = Field(default=None, foreign_key="fact_observation.id")
    article_id: int | None = Field(default=None, foreign_key="article.id")
    published: datetime | None = Field(default=None, sa_type=UTCDateTime)
    independent_sources: int = 0
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Alert(SQLModel, table=True):
    """The outbox: written in the same transaction as the event that causes it."""

    __tablename__ = "alert"

    id: int | None = Field(default=None, primary_key=True)
    event: str = Field(index=True)  # change | conflict | reported | initial | source_error | ...
    key: str = Field(unique=True, description="idempotency key: the same event never makes two alerts")
    fact: str | None = None
    entity: str | None = None
    title: str
    body: str
    payload: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    change_id: int | None = Field(default=None, foreign_key="fact_change.id")
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    state: str = Field(default="pending", index=True)  # pending | delivered | failed
    attempts: int = 0
    next_attempt: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    delivered: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AlertDelivery(SQLModel, table=True):
    """Delivery of one alert through one route: marked delivered exactly once."""

    __tablename__ = "alert_delivery"
    __table_args__ = (UniqueConstraint("alert_id", "route", name="uq_delivery_route"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    route: str
    state: str = "pending"  # pending | delivered | failed
    attempts: int = 0
    next_attempt: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    delivered: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # fingerprints of the route's URLs that already accepted this alert: a retry skips them
    sent_to: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    # set while one process is sending, so a concurrent `alerts flush` and the daemon never both send
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
