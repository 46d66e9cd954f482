"""Typed key facts with evidence sentences: specs from config, a pluggable extractor, one engine."""

from __future__ import annotations

from pipeline.facts.engine import FactEngine, RuleExtractor
from pipeline.facts.registry import (
    EXTRACTORS,
    Candidate,
    Extractor,
    UnknownExtractorError,
    get_extractor,
    register,
)
from pipeline.facts.spec import FactKind, FactSpec, FactSpecError, ValueRule, load_fact_specs

__all__ = [
    "EXTRACTORS",
    "Candidate",
    "Extractor",
    "FactEngine",
    "FactKind",
    "FactSpec",
    "FactSpecError",
    "RuleExtractor",
    "UnknownExtractorError",
    "ValueRule",
    "get_extractor",
    "load_fact_specs",
    "register",
]
