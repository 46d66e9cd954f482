"""Configuration of sources and crawling, validated by pydantic.

Kept free of Scrapy imports so the config loader and the CLI start fast.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every: str | None = Field(default="30m", description="interval such as 15m, 1h, 1d")
    cron: str | None = Field(default=None, description="crontab expression, instead of every")
    jitter: str | None = "60s"


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    url: str
    kind: Literal["feed", "sitemap", "listing", "auto"] = "auto"
    schedule: Schedule = Field(default_factory=Schedule)
    allowed_domains: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list, description="link patterns to follow (listing pages)")
    deny: list[str] = Field(default_factory=list)
    depth: int = 1
    enabled: bool = True


class CrawlSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_agent: str = "factwatch/0.1 (+https://github.com/factwatch/factwatch)"
    contact_url: str | None = None
    obey_robots: bool = True
    concurrent_per_domain: int = 2
    download_delay: float = 1.0
    autothrottle: bool = True
    max_body_bytes: int = 5_000_000
    timeout_seconds: float = 30.0
    retries: int = 3
    revisit: list[str] = Field(default_factory=lambda: ["15m", "1h", "3h", "1d"])
    archive: bool = True
    archive_max_bytes: int = 100_000_000
