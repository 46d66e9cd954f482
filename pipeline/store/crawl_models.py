"""Tables the crawler keeps so incremental crawling survives restarts.

`crawl_url` remembers every URL the crawler has dealt with (articles and the feeds/sitemaps/listings
they came from): the validators to ask "changed?" cheaply, what the source last said about the page, and
when to revisit it. `bad_response` is the audit trail of pages refused and why. `source_health` is one row
per configured source for `factwatch sources` and alerting on sources that stop working.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel

from pipeline.store.types import UTCDateTime


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CrawlUrl(SQLModel, table=True):
    """One normalized URL the crawler fetched or decided not to fetch."""

    __tablename__ = "crawl_url"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, index=True, description="normalized URL as listed by the source")
    source: str | None = Field(default=None, index=True)
    role: str = Field(default="article", description="article, feed, sitemap or listing")
    etag: str | None = None
    last_modified: str | None = Field(
        default=None, description="the server's Last-Modified, echoed back verbatim"
    )
    source_lastmod: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        description="date the feed/sitemap gave for the page when last fetched",
    )
    published: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_seen: datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime)
    last_fetched: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: int | None = None
    last_outcome: str | None = Field(default=None, description="processor status, not-modified, bad or error")
    fetches: int = 0
    revisits: int = 0
    next_revisit: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class BadResponse(SQLModel, table=True):
    """A response that was refused (never stored as an article), with the reason."""

    __tablename__ = "bad_response"

    id: int | None = Field(default=None, primary_key=True)
    url: str
    source: str | None = Field(default=None, index=True)
    kind: str = Field(index=True, description="stable category: http-status, content-type, too-large, ...")
    reason: str
    status: int | None = None
    time: datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime, index=True)


class SourceHealth(SQLModel, table=True):
    """How one source has been doing; consecutive_failures drives alerting on dead sources."""

    __tablename__ = "source_health"

    name: str = Field(primary_key=True)
    url: str
    kind: str | None = Field(default=None, description="configured kind, or the detected one for auto")
    last_crawl: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consecutive_failures: int = 0
    last_new_item: datetime | None = Field(default=None, sa_type=UTCDateTime)
    crawls: int = 0
    pages: int = 0
    new_items: int = 0
    bad_responses: int = 0
