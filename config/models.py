"""The typed shape of a topic configuration file."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts.config import AlertSettings, RouteConfig
from crawler.config import CrawlSettings, SourceConfig
from pipeline.facts.spec import FactSpec


class TopicConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = ""
    keywords: list[str] = Field(default_factory=list, description="an article must mention one to count")
    min_keyword_hits: int = 1


class ChangePolicy(BaseModel):
    """How many independent sources make a change, and what counts as a conflict."""

    model_config = ConfigDict(extra="forbid")

    min_sources: int = Field(default=1, ge=1, description="independent sources needed before alerting")
    conflict_window_hours: float = Field(default=48, ge=0)
    alert_initial: bool = Field(default=False, description="alert on a fact's first value too")


class DedupSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_window_days: int = 3
    near_window_days: int = 14
    # Estimated Jaccard similarity of the word shingles that makes two texts copies.
    threshold: float = Field(default=0.8, gt=0, le=1)
    # Share of the shorter text's shingles found in the longer one that makes it a copy (trimmed or
    # lightly edited copies). 5% of words changed already breaks ~23% of 5-word shingles, while two
    # independent reports of one event share under 10% (bench/dedup_scale.py, tests/pipeline/test_dedupe.py).
    containment: float = Field(default=0.5, gt=0, le=1)
    num_perm: int = Field(default=128, ge=16, le=1024)
    shingle_words: int = Field(default=5, ge=1, le=12)


class AppConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: TopicConfig
    facts: list[FactSpec] = Field(default_factory=list)
    changes: ChangePolicy = Field(default_factory=ChangePolicy)
    sources: list[SourceConfig] = Field(default_factory=list)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    routes: list[RouteConfig] = Field(default_factory=list)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @field_validator("facts", "sources", "routes")
    @classmethod
    def _names_are_unique(cls, items: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for item in items:
            if item.name in seen:
                raise ValueError(f"the name {item.name!r} is used twice; names must be unique")
            seen.add(item.name)
        return items
