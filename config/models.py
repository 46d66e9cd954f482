"""The typed shape of a topic configuration file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alerts.config import AlertSettings, RouteConfig
from crawler.config import CrawlSettings, SourceConfig
from pipeline.facts.registry import ExtractorOptions
from pipeline.facts.spec import FactSpec

if TYPE_CHECKING:
    from pipeline.facts.engine import FactEngine


class TopicConfig(BaseModel):
    """What the topic is called and how a page shows it is about the topic."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="short name: lower case, digits, - and _")
    title: str = Field(default="", description="human title, used in alerts")
    keywords: list[str] = Field(
        default_factory=list, description="words or phrases (any case) that mark a page as on topic"
    )
    min_keyword_hits: int = Field(
        default=1, ge=1, description="distinct keywords a page must mention to be processed"
    )


class ChangePolicy(BaseModel):
    """How many independent sources make a change, and what counts as a conflict."""

    model_config = ConfigDict(extra="forbid")

    min_sources: int = Field(default=1, ge=1, description="independent sources needed before alerting")
    conflict_window_hours: float = Field(
        default=48, ge=0, description="a contradiction published this close to a change is a conflict"
    )
    alert_initial: bool = Field(default=False, description="alert on a fact's first value too")


class DedupSettings(BaseModel):
    """Which articles are copies of one another: same URL, title, text, or near-identical text."""

    model_config = ConfigDict(extra="forbid")

    title_window_days: int = Field(
        default=3, ge=0, description="same publisher and title within this many days is a republish"
    )
    near_window_days: int = Field(
        default=14, ge=1, description="how far back near-duplicates are looked for (the in-memory index)"
    )
    # Estimated Jaccard similarity of the word shingles that makes two texts copies.
    threshold: float = Field(default=0.8, gt=0, le=1, description="Jaccard similarity that makes a copy")
    # Share of the shorter text's shingles found in the longer one that makes it a copy (trimmed or
    # lightly edited copies). 5% of words changed already breaks ~23% of 5-word shingles, while two
    # independent reports of one event share under 10% (bench/dedup_scale.py, tests/pipeline/test_dedupe.py).
    containment: float = Field(
        default=0.5, gt=0, le=1, description="share of the shorter text found in the longer that makes a copy"
    )
    num_perm: int = Field(default=128, ge=16, le=1024, description="MinHash permutations per text")
    shingle_words: int = Field(default=5, ge=1, le=12, description="words per shingle")


class ExtractionSettings(BaseModel):
    """Which fact extractors run, in order: an earlier one wins a fact, later ones fill its gaps."""

    model_config = ConfigDict(extra="forbid")

    extractors: list[str] = Field(
        default_factory=lambda: ["rules"],
        min_length=1,
        description="extractors, first wins: rules (the facts' patterns), learned (a trained model)",
    )
    model: str | None = Field(
        default=None,
        description="the learned extractor's model file (JSON, scripts/train_facts_model.py), beside the "
        "topic file",
    )

    @field_validator("extractors")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        from pipeline.facts.registry import UnknownExtractorError, get_extractor

        for name in names:
            try:
                get_extractor(name)
            except UnknownExtractorError as exc:
                raise ValueError(str(exc)) from None
        if len(set(names)) != len(names):
            raise ValueError("an extractor is listed twice")
        return names

    @model_validator(mode="after")
    def _model_for_learned(self) -> ExtractionSettings:
        if "learned" in self.extractors and not self.model:
            raise ValueError("the learned extractor needs `model`: the file of a trained model")
        return self

    def options(self) -> ExtractorOptions:
        """What the extractors receive; `model` is already resolved against the config file by the loader."""
        return ExtractorOptions(model=Path(self.model) if self.model else None)

    def build_engine(self, facts: Sequence[FactSpec]) -> FactEngine:
        """The fact engine these settings describe, for these facts."""
        from pipeline.facts.engine import FactEngine

        return FactEngine(facts, extractors=self.extractors, options=self.options())


class AppConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: TopicConfig = Field(description="name, title and keywords of the topic")
    facts: list[FactSpec] = Field(default_factory=list, description="the facts to watch (or a file name)")
    changes: ChangePolicy = Field(default_factory=ChangePolicy, description="what makes a change an alert")
    sources: list[SourceConfig] = Field(
        default_factory=list, description="feeds, news sitemaps, listing pages"
    )
    crawl: CrawlSettings = Field(default_factory=CrawlSettings, description="politeness, limits, archive")
    dedup: DedupSettings = Field(default_factory=DedupSettings, description="duplicate and copy detection")
    extraction: ExtractionSettings = Field(
        default_factory=ExtractionSettings, description="which fact extractors run, and their model"
    )
    routes: list[RouteConfig] = Field(default_factory=list, description="where alerts go (apprise URLs)")
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="retries, backoff, error alerts")

    @field_validator("facts", "sources", "routes")
    @classmethod
    def _names_are_unique(cls, items: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for item in items:
            if item.name in seen:
                raise ValueError(f"the name {item.name!r} is used twice; names must be unique")
            seen.add(item.name)
        return items
