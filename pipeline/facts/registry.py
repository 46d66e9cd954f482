"""The seam for extractors: rule-based today, a model-based one can be registered beside it.

An extractor proposes candidates; the engine, not the extractor, checks that every quoted evidence
exists verbatim in the text and picks one value per fact and entity, so a new extractor inherits both.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol, TypeGuard, TypeVar

from pipeline.facts.spec import FactSpec
from pipeline.types import Observation


@dataclass(frozen=True, slots=True)
class Candidate:
    """A value an extractor proposes, with how strongly the text supports it."""

    observation: Observation
    score: int = 1
    position: int = 0  # where the value itself sits in the text; an earlier statement wins a tie


FactKey = tuple[str, str | None]  # (fact, entity); the entity is None for a fact not per entity


class Extractor(Protocol):
    """Finds candidate values of the given facts in one cleaned article text."""

    def __init__(self, specs: Sequence[FactSpec]) -> None: ...

    def candidates(self, text: str, published: date | None, precision: str) -> list[Candidate]:
        """`precision` says how well `published` is known: "day" or "month"."""
        ...


class SkipsFilled(Protocol):
    """An extractor that can be told what earlier extractors already found, and so skip the work.

    The engine passes `filled`, the (fact, entity) pairs of the earlier extractors' verbatim candidates,
    which win those pairs outright. The extractor may leave them out; every other candidate must be the
    one it proposes without `filled`, so the engine's choice is the same either way.
    """

    skips_filled: bool  # True: what tells the engine to pass `filled` (see `skips_filled`)

    def candidates(
        self,
        text: str,
        published: date | None,
        precision: str,
        *,
        filled: frozenset[FactKey] = frozenset(),
    ) -> list[Candidate]: ...


def skips_filled(extractor: Extractor) -> TypeGuard[SkipsFilled]:
    """Whether the extractor's `candidates` takes `filled` (its class sets `skips_filled = True`)."""
    return getattr(extractor, "skips_filled", False) is True


@dataclass(frozen=True, slots=True)
class ExtractorOptions:
    """What the config's `extraction` section gives extractors besides the fact specs."""

    model: Path | None = None  # a trained model's file, for an extractor that reads one


class UnknownExtractorError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


EXTRACTORS: dict[str, type[Extractor]] = {}
# Built-in extractors whose module is imported only when one is asked for by name.
_BUILT_IN = {"learned": "pipeline.facts.learned"}

E = TypeVar("E", bound=type[Extractor])


def register(name: str) -> Callable[[E], E]:
    """Class decorator: make an extractor available under `name` (as `extractor:` in config, say)."""

    def add(cls: E) -> E:
        if name in EXTRACTORS and EXTRACTORS[name] is not cls:
            raise ValueError(f"extractor {name!r} is already registered")
        EXTRACTORS[name] = cls
        return cls

    return add


def get_extractor(name: str) -> type[Extractor]:
    if name not in EXTRACTORS and name in _BUILT_IN:
        importlib.import_module(_BUILT_IN[name])
    try:
        return EXTRACTORS[name]
    except KeyError:
        known = ", ".join(sorted({*EXTRACTORS, *_BUILT_IN})) or "none"
        raise UnknownExtractorError(f"unknown extractor {name!r}; known: {known}") from None


def create_extractor(
    name: str, specs: Sequence[FactSpec], options: ExtractorOptions | None = None
) -> Extractor:
    """The extractor `name` for these specs. A class with a `configured(specs, options)` classmethod is
    built by it and so receives the options (a model file, say); any other by `cls(specs)`."""
    cls = get_extractor(name)
    configured = getattr(cls, "configured", None)
    if configured is None:
        return cls(specs)
    extractor: Extractor = configured(specs, options or ExtractorOptions())
    return extractor
