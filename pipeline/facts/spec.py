"""How a topic declares a fact: what its value looks like and which words around the value state it.

Everything topic-specific (cue words, the countries of a per-entity fact, plausible ranges) lives in
these models, filled from YAML, so the engine stays generic. Patterns are Python regular expressions,
matched case-insensitively unless said otherwise; `{entity}` in a rule stands for any entity alias.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class FactKind(StrEnum):
    DATE = "date"  # value "YYYY-MM-DD" or "YYYY-MM"
    COUNT = "count"  # int
    IDENTIFIER = "identifier"  # int taken from `value_pattern`, e.g. a resolution number
    PERSON = "person"  # str, a personal name
    COUNT_PER_ENTITY = "count_per_entity"  # int, with the entity (e.g. a country) it belongs to


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern.replace("{entity}", "(?:x)"))
    except re.error as exc:
        raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
    return pattern


class ValueRule(BaseModel):
    """One way articles state the value: what stands just before and/or just after it.

    `before` is searched in the text of the sentence ending where the value (with any "about",
    "nearly" in front of it) starts, at most `window` characters long; anchor it with `$` to demand
    adjacency. `after` is searched in the text following the value; anchor it with `^`.
    """

    model_config = ConfigDict(extra="forbid")

    before: str | None = None
    after: str | None = None
    sentence: str | None = Field(default=None, description="must also be found somewhere in the sentence")
    heading: str | None = Field(
        default=None,
        description='for a value on a list line ("- Guatemala: 150"): must be found in the list\'s context, '
        "its heading (the first line above that is no list line) then the list lines above the value's, "
        "one per line; a rule with a heading never holds outside a list",
    )
    window: int = Field(default=80, ge=1, le=400)
    max_age_days: int | None = Field(
        default=None,
        ge=0,
        description="dates: this rule reads dates up to this many days before publication, counted from "
        "the first day a date covers (a month from its 1st), instead of the fact's max_age_days; for "
        "wording that ties an older date to the current state (a renewal, the current resolution)",
    )
    score: int = Field(default=1, ge=1, description="a stronger statement wins when an article has several")
    total: bool = Field(
        default=False,
        description='the `before` match states a running total ("bringing the total to"): words in front of '
        "it describe the batch that led there, so reject_before only reads from where the match starts",
    )

    @field_validator("before", "after", "sentence", "heading")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)

    @model_validator(mode="after")
    def _needs_a_pattern(self) -> ValueRule:
        if self.before is None and self.after is None and self.sentence is None:
            raise ValueError("a rule needs at least one of before, after, sentence")
        return self


class FactSpec(BaseModel):
    """A fact the topic tracks, and the evidence the rule-based extractor accepts for it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: FactKind
    description: str = ""
    tags: list[str] = Field(
        default_factory=list,
        description="labels alert routes can select on, besides the fact's and the topic's names",
    )
    triggers: list[str] = Field(
        min_length=1,
        description="literal words or word beginnings, any case, found at the start of a word; only "
        "sentences holding one are read",
    )
    require: list[str] = Field(default_factory=list, description="each must be found in the sentence")
    reject: list[str] = Field(default_factory=list, description="a sentence holding any of these is skipped")
    rules: list[ValueRule] = Field(default_factory=list, description="the value must satisfy one of them")
    reject_before: list[str] = Field(
        default_factory=list,
        description="a value with any of these just before it is dropped (batch, pledge)",
    )
    reject_after: list[str] = Field(default_factory=list, description="the same, just after the value")
    reject_window: int = Field(default=40, ge=1, le=400)
    reject_hedges: list[str] = Field(
        default_factory=list,
        description='hedges that disqualify a number for this fact, e.g. "up to" (a ceiling)',
    )
    past_years: bool = Field(
        default=False,
        description="drop a value whose clause (up to a semicolon) names a year before the publication "
        "year, unless the clause says now: history, not the current figure",
    )
    entities: dict[str, list[str]] = Field(
        default_factory=dict, description="canonical entity -> aliases (literal words) for count_per_entity"
    )
    anaphora: list[str] = Field(
        default_factory=list,
        description="count_per_entity: words that stand for the entity the sentence just before names "
        '("the island", "the country"), even across a paragraph break; only when it names exactly one',
    )
    carry_rules: list[ValueRule] = Field(
        default_factory=list,
        description="rules for the sentence right after a cue sentence when it holds no cue word itself "
        '("The navy spoke. It said 12 of its boats are at sea"): the subject carries over; the '
        "evidence spans both sentences",
    )
    carry_block: list[str] = Field(
        default_factory=list,
        description="words that make a carried subject ambiguous (another country, the whole mission): "
        "found in either sentence, nothing is carried",
    )
    questions: list[str] = Field(
        default_factory=list,
        description="a question sentence matching one of these is answered by the next sentence, whose "
        "leading value (within answer_window characters) is taken; the evidence spans both",
    )
    answer_window: int = Field(default=40, ge=1, le=200)
    value_pattern: str | None = Field(
        default=None, description="identifier: regex whose group `value` is the number (case-insensitive)"
    )
    min_value: int | None = None
    max_value: int | None = None
    max_age_days: int | None = Field(
        default=None, description="dates: earliest allowed, days before publication"
    )
    max_ahead_days: int | None = Field(
        default=None, description="dates: latest allowed, days after publication"
    )
    date_direction: Literal["nearest", "future", "past", "tense"] = Field(
        default="tense", description="how a date without a year (or a weekday) is placed around publication"
    )
    name_stopwords: list[str] = Field(
        default_factory=list, description="person: capitalised words that are titles or places, not names"
    )
    choose: Literal["best", "max", "min"] = Field(
        default="best",
        description="which value wins when a sentence set yields several: best-supported, max, min",
    )

    @field_validator(
        "require", "reject", "reject_before", "reject_after", "anaphora", "questions", "carry_block"
    )
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        return [_check_regex(v) for v in values]

    @field_validator("value_pattern")
    @classmethod
    def _value_pattern(cls, value: str | None) -> str | None:
        if value is not None and "(?P<value>" not in _check_regex(value):
            raise ValueError("value_pattern needs a named group (?P<value>...)")
        return value

    @field_validator("triggers")
    @classmethod
    def _triggers(cls, values: list[str]) -> list[str]:
        if any(not v.strip() for v in values):
            raise ValueError("a trigger must not be blank")
        return values

    @model_validator(mode="after")
    def _consistent(self) -> FactSpec:
        uses_entity = any("{entity}" in (r.before or "") + (r.after or "") for r in self.rules)
        if self.kind is FactKind.COUNT_PER_ENTITY:
            if not self.entities:
                raise ValueError("a count_per_entity fact needs entities")
            if not self.rules or not all(
                "{entity}" in (r.before or "") + (r.after or "") for r in self.rules
            ):
                raise ValueError(
                    "every rule of a count_per_entity fact must place {entity} in before or after"
                )
        elif uses_entity or self.entities or self.anaphora:
            raise ValueError("entities, anaphora and {entity} belong to count_per_entity facts only")
        if self.carry_rules and (
            self.kind is FactKind.COUNT_PER_ENTITY
            or any(
                "{entity}" in (r.before or "") + (r.after or "") + (r.sentence or "")
                for r in self.carry_rules
            )
        ):
            raise ValueError("carry_rules name no entity: count_per_entity facts use anaphora instead")
        if self.questions and self.kind is FactKind.COUNT_PER_ENTITY:
            raise ValueError("questions cannot name an entity: not for count_per_entity facts")
        if any(r.max_age_days is not None for r in self.carry_rules):
            raise ValueError("max_age_days belongs to rules, not carry_rules")
        if self.kind is not FactKind.DATE and any(r.max_age_days is not None for r in self.rules):
            raise ValueError("a rule's max_age_days belongs to date facts only")
        if self.kind is FactKind.IDENTIFIER and self.value_pattern is None:
            raise ValueError("an identifier fact needs value_pattern")
        if self.kind is not FactKind.IDENTIFIER and self.value_pattern is not None:
            raise ValueError("value_pattern belongs to identifier facts only")
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise ValueError("min_value is above max_value")
        return self


class FactSpecError(ValueError):
    """A facts file that cannot be used; the message names the file and the item."""


def load_fact_specs(path: Path) -> list[FactSpec]:
    """Read a YAML list of fact specs, failing with one message that names the file and the item."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FactSpecError(f"{path}: cannot read facts: {exc}") from exc
    if not isinstance(data, list):
        raise FactSpecError(f"{path}: a facts file must be a YAML list of facts")
    specs: list[FactSpec] = []
    for index, item in enumerate(data):
        try:
            specs.append(FactSpec.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            name = item.get("name", "?") if isinstance(item, dict) else "?"
            raise FactSpecError(f"{path}: fact #{index} ({name}): {where}: {first['msg']}") from exc
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FactSpecError(f"{path}: fact names repeat: {', '.join(duplicates)}")
    return specs
