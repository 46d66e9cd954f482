"""Configuration of sources and crawling, validated by pydantic.

Kept free of Scrapy imports so the config loader and the CLI start fast.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`15m`, `1h`, `3h`, `1d`, `90s`, `2w` as a timedelta; anything else is a ValueError naming the text."""
    match = _DURATION_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 90s, 15m, 1h, 1d or 2w")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class Schedule(BaseModel):
    """When a source is crawled: every interval, or on a crontab schedule."""

    model_config = ConfigDict(extra="forbid")

    every: str | None = Field(default="30m", description="interval such as 15m, 1h, 1d")
    cron: str | None = Field(
        default=None, description="crontab expression (minute hour day month weekday), instead of every"
    )
    jitter: str | None = Field(
        default="60s", description="random delay added to each run, at most ¼ interval"
    )

    @field_validator("every", "jitter")
    @classmethod
    def _duration(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Checked when the config loads, so a typo is reported with its file and line, not at run time.
        if value is not None and parse_duration(value) <= timedelta(0) and info.field_name == "every":
            raise ValueError(f"{value!r}: the interval must be longer than zero")
        return value

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str | None) -> str | None:
        if value is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(value, timezone="UTC")
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a crontab expression: {exc}") from None
        return value


class SourceConfig(BaseModel):
    """One place to watch: a feed, a (news) sitemap or sitemap index, or a listing page."""

    model_config = ConfigDict(extra="forbid")

    name: str
    url: str
    kind: Literal["feed", "sitemap", "listing", "auto"] = "auto"
    schedule: Schedule = Field(default_factory=Schedule)
    allowed_domains: list[str] = Field(
        default_factory=list, description="hosts articles may live on (subdomains included); empty = any"
    )
    keywords: list[str] = Field(
        default_factory=list,
        description="skip entries whose feed/sitemap title or link text mentions none of these "
        "(untitled entries are kept)",
    )
    allow: list[str] = Field(default_factory=list, description="link patterns to follow (listing pages)")
    deny: list[str] = Field(default_factory=list)
    depth: int = Field(default=1, ge=1, le=5, description="listing pages: how many link hops from the page")
    enabled: bool = True
    concurrency: int | None = Field(
        default=None, ge=1, description="requests in flight to this host; default crawl.concurrent_per_domain"
    )
    download_delay: float | None = Field(
        default=None, ge=0, description="seconds between requests to this host; default crawl.download_delay"
    )


class CrawlSettings(BaseModel):
    """Politeness and limits; the Scrapy settings are derived from these in crawler.settings."""

    model_config = ConfigDict(extra="forbid")

    user_agent: str = "factwatch/0.1 (+https://github.com/factwatch/factwatch)"
    contact_url: str | None = Field(default=None, description="replaces the (+URL) part of user_agent")
    obey_robots: bool = True
    concurrent_requests: int = Field(default=16, ge=1, description="requests in flight over all hosts")
    concurrent_per_domain: int = Field(default=2, ge=1)
    download_delay: float = Field(default=1.0, ge=0)
    autothrottle: bool = True
    max_body_bytes: int = Field(default=5_000_000, ge=1024)
    timeout_seconds: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0)
    retry_backoff_seconds: float = Field(default=2.0, ge=0, description="first retry wait; doubles per retry")
    retry_backoff_max_seconds: float = Field(default=60.0, ge=0)
    max_redirects: int = Field(default=5, ge=0)
    revisit: list[str] = Field(default_factory=lambda: ["15m", "1h", "3h", "1d"])
    archive: bool = True
    archive_max_bytes: int = 100_000_000
    process_workers: int | None = Field(
        default=None,
        ge=0,
        description=(
            "worker processes that clean pages and read facts beside the crawler (0: in the crawler's "
            "own process; unset: one per CPU, at most 4, none on one CPU; env FACTWATCH_PROCESS_WORKERS wins)"
        ),
    )
    page_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="a page still not cleaned after this long is rejected and the page workers restarted",
    )

    @field_validator("revisit")
    @classmethod
    def _check_revisit(cls, value: list[str]) -> list[str]:
        for item in value:
            parse_duration(item)
        return value

    def revisit_ages(self) -> list[timedelta]:
        """Ages after publication at which an article is fetched again, ascending."""
        return sorted(parse_duration(item) for item in self.revisit)

    def full_user_agent(self) -> str:
        """The User-Agent sent: the product token plus a contact URL, so site owners can reach us."""
        base = re.sub(r"\s*\(\+[^)]*\)\s*$", "", self.user_agent).strip() or "factwatch"
        contact = self.contact_url
        if contact is None:
            match = re.search(r"\(\+([^)]*)\)\s*$", self.user_agent)
            contact = match.group(1) if match else None
        return f"{base} (+{contact})" if contact else base
