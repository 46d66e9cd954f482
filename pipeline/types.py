"""Plain data passed between the stages of the pipeline.

Nothing here knows about Scrapy, SQL or apprise: the crawler, replay and the CLI build these values and
hand them to the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One HTTP response as the crawler (or replay) saw it."""

    url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    fetched_at: datetime | None = None
    source: str | None = None
    # What the listing/feed/sitemap said about the page, before we parsed it.
    hint_title: str | None = None
    hint_published: datetime | None = None
    final_url: str | None = None  # after redirects, when different from url


@dataclass(frozen=True, slots=True)
class Document:
    """A page cleaned to article text plus the metadata we keep."""

    text: str  # one paragraph per line, leftovers removed
    url: str | None = None
    canonical_url: str | None = None
    title: str | None = None
    published: datetime | None = None  # timezone-aware UTC when known
    published_precision: str = "day"  # "day", "month" or "datetime"
    publisher: str | None = None  # site name, else the host
    author: str | None = None
    language: str | None = None
    paywalled: bool = False  # a paywall prompt was found and little article text remains


@dataclass(frozen=True, slots=True)
class Observation:
    """One typed value of a fact, with the sentence that states it."""

    fact: str
    value: int | str
    evidence: str
    start: int  # character offsets of evidence in the cleaned text
    end: int
    entity: str | None = None
    extractor: str = "rules"

    def as_json(self) -> dict[str, object]:
        return {
            "fact": self.fact,
            "value": self.value,
            "entity": self.entity,
            "evidence": self.evidence,
            "start": self.start,
            "end": self.end,
        }


def as_date(value: datetime | date | None) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value
