"""Configuration of alert routes, validated by pydantic.

A route is a set of apprise URLs plus the rules that pick which alerts it receives and how they look.
Templates are compiled here, at load time, so a typo in a route's template is a config error naming the
route instead of a failure at three in the morning when the first alert goes out.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EventKind = Literal["change", "conflict", "reported", "initial", "source_error", "source_recovered", "silent"]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
FACT_EVENTS: frozenset[str] = frozenset({"change", "conflict", "reported", "initial"})
DEFAULT_EVENTS: tuple[EventKind, ...] = ("change", "conflict")
SOURCE_EVENTS: frozenset[str] = frozenset({"source_error", "source_recovered", "silent"})

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`30s`, `15m`, `6h`, `1d`, `1w` → timedelta; ValueError with the accepted forms otherwise."""
    match = _DURATION_RE.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit such as 30m, 6h, 1d or 1w")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class DigestConfig(BaseModel):
    """Batch a route's alerts into one message per window.

    Windows are aligned to the Unix epoch in UTC (`every: 1d` closes at midnight UTC, `offset: 8h` moves
    that to 08:00 UTC), so the schedule needs no stored state: a restart knows which window is open.
    """

    model_config = ConfigDict(extra="forbid")

    every: str = Field(description="window length, e.g. 1h, 1d, 1w")
    offset: str = Field(default="0s", description="shift of the window boundary from midnight UTC")
    max_items: int = Field(default=200, ge=1, description="alerts listed in one message; the rest wait")

    @field_validator("every", "offset")
    @classmethod
    def _check_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("every")
    @classmethod
    def _positive(cls, value: str) -> str:
        if parse_duration(value).total_seconds() <= 0:
            raise ValueError("digest window must be longer than zero")
        return value

    @property
    def interval(self) -> timedelta:
        return parse_duration(self.every)

    @property
    def shift(self) -> timedelta:
        return parse_duration(self.offset)


class RouteConfig(BaseModel):
    """Where alerts go and which ones. Empty filters match everything."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, description="shown in `factwatch alerts` and used by `alerts test --route`"
    )
    urls: list[str] = Field(default_factory=list, description="apprise URLs; secrets via ${ENV_VAR}")
    tags: list[str] = Field(
        default_factory=list,
        description="only alerts carrying one of these tags (payload `tags`, e.g. a fact's); empty = all",
    )
    events: list[EventKind] = Field(
        default_factory=lambda: list(DEFAULT_EVENTS), description="kinds of event this route receives"
    )
    facts: list[str] = Field(default_factory=list, description="only these facts; empty means all")
    topics: list[str] = Field(default_factory=list, description="only these topics; empty means all")
    format: Literal["text", "markdown", "html"] = Field(default="text", description="body format sent")
    title_template: str | None = Field(default=None, description="Jinja template of the title (one line)")
    body_template: str | None = Field(default=None, description="Jinja template of the body, in `format`")
    digest: DigestConfig | None = Field(default=None, description="batch alerts into one message per window")
    enabled: bool = Field(default=True, description="false keeps the route configured but silent")

    @model_validator(mode="after")
    def _check_templates(self) -> RouteConfig:
        from alerts.render import check_template

        for field in ("title_template", "body_template"):
            source = getattr(self, field)
            if source is not None:
                try:
                    check_template(source, fmt="text" if field == "title_template" else self.format)
                except ValueError as exc:
                    raise ValueError(f"route {self.name!r}: {field}: {exc}") from None
        return self


class AlertSettings(BaseModel):
    """Retry, error and silence policy shared by every route."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=8, ge=1, description="tries per route before an alert is marked failed")
    backoff_seconds: float = Field(default=30.0, ge=0, description="delay after the first failure; doubles")
    backoff_max_seconds: float = Field(default=3600.0, ge=0, description="longest delay between tries")
    send_timeout_seconds: float = Field(default=30.0, gt=0, description="limit for one apprise call")
    claim_seconds: float = Field(
        default=120.0,
        gt=0,
        description="how long a delivery in progress is reserved from other processes; longer than a send. "
        "A process killed mid-send delays that delivery by at most this long",
    )
    error_after: int = Field(default=3, ge=1, description="failed runs in a row before a source error alerts")
    silent_after: str | None = Field(
        default="3d", description="alert when a source has produced nothing new for this long; null = never"
    )
    history_url: str | None = Field(
        default=None,
        description="link to a fact's history, with {fact} and {entity} placeholders (e.g. a dashboard)",
    )

    @field_validator("silent_after")
    @classmethod
    def _check_silent(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    def backoff(self, attempts: int) -> timedelta:
        """Delay before the next try after `attempts` failures: doubling, capped."""
        seconds = self.backoff_seconds * (2 ** max(attempts - 1, 0))
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))

    @property
    def silent_delta(self) -> timedelta | None:
        return parse_duration(self.silent_after) if self.silent_after else None
