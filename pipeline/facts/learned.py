"""A learned extractor: one linear model per fact over the words around typed values, beside the rules.

Candidates are the typed values of the sentences that hold a cue word of some fact (the specs'
triggers): counts, dates resolved against publication, identifiers (`value_pattern`) and, for a
per-entity fact, every pair of a count and an entity the sentence names (the spec's aliases). Each
candidate is described by sparse string features: the words just left and right of the value and
further away, its hedge and size, the facts whose cue words this sentence and the one before hold,
the words between the value and the nearest cue word or entity, years against the publication, the
date's distance from publication. A fact's model adds the weights of the features it knows; the best
candidate per fact and entity is proposed when its probability reaches the fact's threshold, with its
whole sentence as evidence.

Nothing here knows the topic: cue words, entities and plausible ranges come from the specs, weights and
thresholds from the model file that scripts/train_facts_model.py writes (JSON, read with the standard
library only).
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pipeline.facts.dates import DateMention, date_bounds, date_matches, find_dates
from pipeline.facts.numbers import NumberMention, find_numbers
from pipeline.facts.registry import Candidate, ExtractorOptions, FactKey, register
from pipeline.facts.sentences import SentenceIndex
from pipeline.facts.spec import FactKind, FactSpec
from pipeline.types import Observation

MODEL_FORMAT = 1
_LONGEST_SENTENCE = 1000  # longer "sentences" are page fragments, not quotable evidence
_TOKEN = re.compile(r"[a-z]+(?:['’][a-z]+)?|\d(?:[\d,.]*\d)?|[:;()?|$%–—-]")
_YEAR_TOKEN = re.compile(r"(?:19[5-9]\d|20[0-4]\d)")
# Every form pipeline/facts/dates.py reads holds a digit, a month or weekday name or one of these words.
_DATE_HINT = re.compile(
    r"\d|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|day|tomorrow|tonight|morning|afternoon|evening"
)
_SINCE = re.compile(r"\bsince\s+(?:\w+\s+){0,2}$", re.IGNORECASE)
_CITED = re.compile(r"\d\s*\($")
_NOW = re.compile(r"\b(?:now|currently|so\s+far|to\s+date|today|at\s+present)\b", re.IGNORECASE)
_NEAR = 3  # words read one by one at each side of the value
_MIDDLE = 8  # then a bag of words up to this far
_BETWEEN = 6  # words between the value and its cue word or entity, at most


class ModelError(ValueError):
    """A model file that cannot be used; the message says why (the caller names the file)."""


@dataclass(frozen=True, slots=True)
class FactModel:
    bias: float
    threshold: float
    weights: dict[str, float]


@dataclass(frozen=True, slots=True)
class LearnedModel:
    facts: dict[str, FactModel]

    @classmethod
    def load(cls, path: Path) -> LearnedModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError("file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"cannot read: {exc}") from None
        except json.JSONDecodeError as exc:
            raise ModelError(f"not JSON: {exc}") from None
        return cls.from_json(data)

    @classmethod
    def from_json(cls, data: object) -> LearnedModel:
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ModelError(f"not a fact model of format {MODEL_FORMAT}")
        facts = data.get("facts")
        if not isinstance(facts, dict):
            raise ModelError("no `facts` mapping")
        models: dict[str, FactModel] = {}
        for name, item in facts.items():
            try:
                weights = item["weights"]
                if not isinstance(weights, dict):
                    raise TypeError("weights is not a mapping")
                models[str(name)] = FactModel(
                    bias=float(item["bias"]),
                    threshold=float(item["threshold"]),
                    weights={str(k): float(v) for k, v in weights.items()},
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ModelError(f"fact {name!r}: bad entry ({exc})") from None
        return cls(models)


@dataclass(slots=True)
class Mention:
    """A candidate value with its features, before any model scores it."""

    fact: str
    value: int | str
    entity: str | None
    start: int  # the sentence, in the text
    end: int
    position: int  # where the value starts, in the text
    features: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Spec:
    spec: FactSpec
    value_re: re.Pattern[str] | None = None
    entity_re: re.Pattern[str] | None = None
    canonical: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Read:
    """A sentence to read: its span, its cue words and the facts they and the sentence before cue."""

    start: int
    end: int
    cues: list[tuple[int, int, tuple[str, ...]]]
    here: set[str]
    previous_facts: set[str]
    eligible: set[str]  # the facts it may state: here | previous_facts


def _bucket(distance: int) -> str:
    return (
        "0"
        if distance <= 0
        else "1"
        if distance == 1
        else "2"
        if distance <= 3
        else "4"
        if distance <= 8
        else "9"
    )


def _day_bucket(days: int) -> str:
    for limit, name in ((-200, "<-200"), (-60, "<-60"), (-8, "<-8"), (-1, "<0"), (0, "0"), (7, "<8")):
        if days <= limit:
            return name
    for limit, name in ((60, "<61"), (200, "<201"), (400, "<401")):
        if days <= limit:
            return name
    return ">400"


class FeatureReader:
    """Finds the candidate values of an article and describes each with features (training and runtime)."""

    def __init__(self, specs: Sequence[FactSpec]) -> None:
        self.specs = [self._compile(spec) for spec in specs]
        self._date_specs = [c for c in self.specs if c.spec.kind is FactKind.DATE]
        self._identifier_specs = [c for c in self.specs if c.value_re is not None]
        owners: dict[str, set[str]] = {}
        for spec in specs:
            for trigger in spec.triggers:
                owners.setdefault(trigger.lower(), set()).add(spec.name)
        self._owners = {word: tuple(sorted(names)) for word, names in owners.items()}
        # One scan of the lower-cased text finds every cue word: an alternation grouped by first letter,
        # longest first, so the regex engine tries few branches per position.
        groups: dict[str, list[str]] = {}
        for word in sorted(owners, key=len, reverse=True):
            groups.setdefault(word[0], []).append(re.escape(word[1:]))
        branches = "|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in groups.items())
        self._trigger_re = re.compile(rf"\b(?:{branches})" if branches else r"(?!)")

    @staticmethod
    def _compile(spec: FactSpec) -> _Spec:
        compiled = _Spec(spec)
        if spec.value_pattern:
            compiled.value_re = re.compile(spec.value_pattern, re.IGNORECASE)
        if spec.entities:
            for name, aliases in spec.entities.items():
                compiled.canonical[name.lower()] = name
                for alias in aliases:
                    compiled.canonical[alias.lower()] = name
            alternation = "|".join(re.escape(a) for a in sorted(compiled.canonical, key=len, reverse=True))
            compiled.entity_re = re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])", re.IGNORECASE)
        return compiled

    def mentions(
        self,
        text: str,
        published: date | None,
        precision: str,
        *,
        wanted: AbstractSet[str] | None = None,
        filled: AbstractSet[FactKey] = frozenset(),
    ) -> list[Mention]:
        """The candidate values of `text`, each with its features.

        With `wanted`, only the mentions of those facts whose (fact, entity) is not in `filled` are
        asked for, with every mention that competes with them for a value (at the same position) and
        so must be scored too. Those are the same, features included, as without `wanted`; other
        mentions may be missing, as sentences that cannot change them are left unread.
        """
        lower = text.lower()
        if len(lower) != len(text):  # a few letters grow when lowered: keep offsets aligned
            lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        index = SentenceIndex(text)
        sentences: list[tuple[int, int]] = []
        cues: list[tuple[int, int, tuple[str, ...]]] = []
        owners = self._owners
        for match in self._trigger_re.finditer(lower):
            cues.append((match.start(), match.end(), owners[match.group()]))
            if sentences and match.start() < sentences[-1][1]:
                continue
            sentences.append(index.at(match.start()))
        places = [cue[0] for cue in cues]
        reads: list[_Read] = []
        for start, end in sentences:
            if end - start > _LONGEST_SENTENCE:
                continue
            own_cues = cues[bisect_left(places, start) : bisect_left(places, end)]
            here = {n for _, _, names in own_cues for n in names}
            previous = index.preceding(start)
            previous_facts: set[str] = set()
            if previous is not None:
                for _, _, names in cues[bisect_left(places, previous[0]) : bisect_left(places, previous[1])]:
                    previous_facts.update(names)
            reads.append(_Read(start, end, own_cues, here, previous_facts, here | previous_facts))
        if wanted is not None:
            reads = self._needed(text, reads, wanted, filled)
        found: list[Mention] = []
        for read in reads:
            found.extend(self._sentence(text, lower, read, published, precision))
        said: dict[tuple[str, int | str], set[int]] = {}  # how many sentences state the value
        for mention in found:
            said.setdefault((mention.fact, mention.value), set()).add(mention.start)
        for mention in found:
            mention.features.append(f"rep={min(3, len(said[(mention.fact, mention.value)]))}")
        return found

    def _needed(
        self, text: str, reads: list[_Read], wanted: AbstractSet[str], filled: AbstractSet[FactKey]
    ) -> list[_Read]:
        """The sentences that may state an open (fact, entity) of a wanted fact, and every sentence that
        may state a value of a fact eligible in one of those: it competes there for a value, and its
        `rep` feature counts its sentences."""
        compiled = {c.spec.name: c for c in self.specs}
        named: dict[tuple[str, int], set[str]] = {}

        def may_state(fact: str, read: _Read, open_only: bool) -> bool:
            spec = compiled[fact]
            if (spec.entity_re is None or spec.value_re is not None) and (
                not open_only or (fact, None) not in filled
            ):
                return True  # a value with no entity
            if spec.entity_re is None:
                return False
            names = named.get((fact, read.start))
            if names is None:  # an entity's count needs the entity named in the sentence
                sentence = text[read.start : read.end]
                names = {spec.canonical[m.group().lower()] for m in spec.entity_re.finditer(sentence)}
                named[(fact, read.start)] = names
            if open_only:
                return any((fact, name) not in filled for name in names)
            return bool(names)

        seeds = [r for r in reads if any(may_state(f, r, True) for f in r.eligible & wanted)]
        competing = set().union(*(r.eligible for r in seeds)) & wanted
        if not competing:
            return []
        starts = {r.start for r in seeds}
        return [
            r
            for r in reads
            if r.start in starts or any(may_state(f, r, False) for f in r.eligible & competing)
        ]

    def _sentence(
        self, text: str, lower: str, read: _Read, published: date | None, precision: str
    ) -> list[Mention]:
        start, end = read.start, read.end
        # A fact is read only where its own cue words stand, in this sentence or the one before.
        eligible = read.eligible
        sentence = text[start:end]
        numbers = find_numbers(sentence)
        date_specs = [c for c in self._date_specs if c.spec.name in eligible]
        dates: dict[str, list[DateMention]] = {}
        if date_specs and _DATE_HINT.search(sentence):
            spans = date_matches(sentence)
            if spans:
                for compiled in date_specs:
                    direction = compiled.spec.date_direction
                    if direction not in dates:
                        dates[direction] = find_dates(
                            sentence, published, precision=precision, direction=direction, matches=spans
                        )
        identifiers = [
            c
            for c in self._identifier_specs
            if c.spec.name in eligible and c.value_re is not None and c.value_re.search(sentence)
        ]
        if not numbers and not any(dates.values()) and not identifiers:
            return []
        low = lower[start:end]
        tokens = [(m.start(), m.end(), _word(m.group())) for m in _TOKEN.finditer(low)]
        starts = [t[0] for t in tokens]
        ends = [t[1] for t in tokens]
        cues = read.cues
        previous_facts = read.previous_facts
        context = [f"cue={name}" for name in sorted(read.here)]
        context.extend(f"pcue={name}" for name in sorted(previous_facts))
        line = text.count("\n", 0, start)
        context.append(f"line={_bucket(line)}")
        if sentence.rstrip("\"'”’)").endswith("?"):
            context.append("question")
        years: list[tuple[int, str]] = []  # (where, "<", "=" or ">" against the publication year)
        if published is not None:
            for token_start, _, word in tokens:
                if word == "<year>":
                    year = int(low[token_start : token_start + 4])
                    side = "<" if year < published.year else "=" if year == published.year else ">"
                    context.append(f"year{side}")
                    years.append((token_start, side))
        found: list[Mention] = []
        values = sorted(n.value for n in numbers)
        for number_index, number in enumerate(numbers):
            shared = [*context, *self._window(tokens, starts, ends, number.start, number.end)]
            hedge = " ".join(sentence[number.start : number.value_start].lower().split())
            shared.append(f"h={hedge}")
            shared.append(f"mag={len(str(number.value))}")
            shared.append(f"zeros={len(str(number.value)) - len(str(number.value).rstrip('0'))}")
            if number.value == values[-1] and len(values) > 1:
                shared.append("largest")
            if number_index == 0:
                shared.append("first")
            shared.append(f"nn={min(3, len(numbers))}")
            for where, side in years:  # "in 2024 it had 400": a year before the value dates it
                shared.append(f"year{side}{'l' if where < number.start else 'r'}")
            history: bool | None = None
            for compiled in self.specs:
                spec = compiled.spec
                if spec.kind not in (FactKind.COUNT, FactKind.COUNT_PER_ENTITY) or spec.name not in eligible:
                    continue
                if (spec.min_value is not None and number.value < spec.min_value) or (
                    spec.max_value is not None and number.value > spec.max_value
                ):
                    continue
                if spec.past_years and history is None:
                    history = _dated_before(sentence, number.start, number.end, years)
                if spec.past_years and history:
                    continue
                own = self._own(spec.name, cues, tokens, starts, ends, start, number.start, number.end)
                if spec.name in previous_facts:
                    own.append("pown")
                position = start + number.value_start
                if compiled.entity_re is None:
                    features = [*shared, *own]
                    found.append(Mention(spec.name, number.value, None, start, end, position, features))
                    continue
                found.extend(
                    self._entities(
                        compiled, sentence, tokens, starts, ends, number, shared + own, (start, end)
                    )
                )
        described: dict[tuple[int, int], list[str]] = {}
        for compiled in date_specs:
            spec = compiled.spec
            if spec.name not in eligible:
                continue
            for mention in dates.get(spec.date_direction, []):
                first, last = date_bounds(mention.value)
                if published is not None:
                    if spec.max_age_days is not None and last < published - timedelta(days=spec.max_age_days):
                        continue
                    if spec.max_ahead_days is not None and first > published + timedelta(
                        days=spec.max_ahead_days
                    ):
                        continue
                    days = f"dd={_day_bucket((first - published).days)}"
                else:
                    days = "dd=none"
                about = described.get((mention.start, mention.end))
                if about is None:
                    about = described[(mention.start, mention.end)] = self._date(
                        sentence, tokens, starts, ends, mention, context
                    )
                own = self._own(spec.name, cues, tokens, starts, ends, start, mention.start, mention.end)
                if spec.name in previous_facts:
                    own.append("pown")
                features = [*about, days, *own]
                found.append(
                    Mention(spec.name, mention.value, None, start, end, start + mention.start, features)
                )
        for compiled in identifiers:
            assert compiled.value_re is not None
            spec = compiled.spec
            matches = [m for m in compiled.value_re.finditer(sentence) if (m.group("value") or "").isdigit()]
            numbered = sorted(int(m.group("value")) for m in matches)
            for match in matches:
                value = int(match.group("value"))
                if (spec.min_value is not None and value < spec.min_value) or (
                    spec.max_value is not None and value > spec.max_value
                ):
                    continue
                features = [*context, *self._window(tokens, starts, ends, match.start(), match.end())]
                features.extend(
                    self._own(spec.name, cues, tokens, starts, ends, start, match.start(), match.end())
                )
                if value == numbered[-1]:
                    features.append("largest")
                features.append(f"nn={min(3, len(numbered))}")
                position = start + match.start("value")
                found.append(Mention(spec.name, value, None, start, end, position, features))
        return found

    @classmethod
    def _date(
        cls,
        sentence: str,
        tokens: list[tuple[int, int, str]],
        starts: list[int],
        ends: list[int],
        mention: DateMention,
        context: list[str],
    ) -> list[str]:
        features = [*context, *cls._window(tokens, starts, ends, mention.start, mention.end)]
        features.append(f"dk={'day' if len(mention.value) == 10 else 'month'}")
        written = sentence[mention.start : mention.end]
        if _YEAR_TOKEN.search(written):
            features.append("dyear")
        if not any(c.isdigit() for c in written):
            features.append("dword")  # "on Tuesday", "tomorrow", a bare month
        return features

    @staticmethod
    def _window(
        tokens: list[tuple[int, int, str]], starts: list[int], ends: list[int], left: int, right: int
    ) -> list[str]:
        """Words one by one near the value, then bags further out, on each side."""
        before = bisect_right(ends, left)  # tokens[:before] end at or before the value
        after = bisect_left(starts, right)  # tokens[after:] start at or after its end
        features: list[str] = []
        near_left = [tokens[i][2] for i in range(before - 1, max(-1, before - 1 - _NEAR), -1)]
        near_right = [tokens[i][2] for i in range(after, min(len(tokens), after + _NEAR))]
        for place, word in enumerate(near_left, start=1):
            features.append(f"l{place}={word}")
        for place, word in enumerate(near_right, start=1):
            features.append(f"r{place}={word}")
        features.append(f"l12={'_'.join(near_left[:2])}")
        features.append(f"r12={'_'.join(near_right[:2])}")
        for i in range(max(0, before - _MIDDLE), max(0, before - _NEAR)):
            features.append(f"lm={tokens[i][2]}")
        for i in range(after + _NEAR, min(len(tokens), after + _MIDDLE)):
            features.append(f"rm={tokens[i][2]}")
        for i in range(0, max(0, before - _MIDDLE)):
            features.append(f"lf={tokens[i][2]}")
        for i in range(after + _MIDDLE, len(tokens)):
            features.append(f"rf={tokens[i][2]}")
        return features

    @staticmethod
    def _own(
        fact: str,
        cues: list[tuple[int, int, tuple[str, ...]]],
        tokens: list[tuple[int, int, str]],
        starts: list[int],
        ends: list[int],
        offset: int,
        left: int,
        right: int,
    ) -> list[str]:
        """Where the fact's own nearest cue word stands from the value, and the words in between."""
        best: tuple[int, int, int] | None = None  # (distance in words, cue start, cue end), in the sentence
        before = bisect_right(ends, left)
        after = bisect_left(starts, right)
        for cue_start, cue_end, names in cues:
            if fact not in names:
                continue
            cue_start -= offset
            cue_end -= offset
            if cue_end <= left:
                distance = before - bisect_right(ends, cue_end) + 1
            elif cue_start >= right:
                distance = bisect_left(starts, cue_start) - after + 1
            else:
                distance = 0
            if best is None or distance < best[0]:
                best = (distance, cue_start, cue_end)
        if best is None:
            return ["nocue"]
        distance, cue_start, cue_end = best
        side = "l" if cue_end <= left else "r" if cue_start >= right else "in"
        features = ["own", f"cd{side}={_bucket(distance)}"]
        if side == "l":
            between = range(bisect_left(starts, cue_end), before)
        elif side == "r":
            between = range(after, bisect_left(starts, cue_start))
        else:
            between = range(0)
        if len(between) <= _BETWEEN:
            features.extend(f"cb{side}={tokens[i][2]}" for i in between)
        return features

    def _entities(
        self,
        compiled: _Spec,
        sentence: str,
        tokens: list[tuple[int, int, str]],
        starts: list[int],
        ends: list[int],
        number: NumberMention,
        shared: list[str],
        span: tuple[int, int],
    ) -> Iterable[Mention]:
        """One candidate per entity the sentence names, described by where the entity stands."""
        assert compiled.entity_re is not None
        left, right = number.start, number.end
        start, end = span
        named = [
            (m.start(), m.end(), compiled.canonical[m.group().lower()])
            for m in compiled.entity_re.finditer(sentence)
        ]
        if not named:
            return []
        before = bisect_right(ends, left)
        after = bisect_left(starts, right)
        nearest: dict[str, tuple[int, int, int, str]] = {}
        for entity_start, entity_end, name in named:
            if entity_end <= left:
                distance = before - bisect_right(ends, entity_end) + 1
            elif entity_start >= right:
                distance = bisect_left(starts, entity_start) - after + 1
            else:
                continue
            if name not in nearest or distance < nearest[name][0]:
                nearest[name] = (distance, entity_start, entity_end, sentence[entity_start:entity_end])
        if not nearest:
            return []
        closest = min(d for d, _, _, _ in nearest.values())
        mentions: list[Mention] = []
        for name, (distance, entity_start, entity_end, alias) in sorted(nearest.items()):
            side = "l" if entity_end <= left else "r"
            features = [*shared, f"ed{side}={_bucket(distance)}", f"ne={min(3, len(nearest))}"]
            if distance == closest:
                features.append("enearest")
            features.append("ename" if alias.lower() == name.lower() else "ealias")
            if side == "l":
                between = range(bisect_left(starts, entity_end), before)
                others = any(left > s >= entity_end for s, _, n in named if n != name)
            else:
                between = range(after, bisect_left(starts, entity_start))
                others = any(right <= s < entity_start for s, _, n in named if n != name)
            if others:
                features.append("eother")
            if len(between) <= _BETWEEN:
                features.extend(f"eb{side}={tokens[i][2]}" for i in between)
            position = start + number.value_start
            mentions.append(Mention(compiled.spec.name, number.value, name, start, end, position, features))
        return mentions


def _dated_before(sentence: str, left: int, right: int, years: list[tuple[int, str]]) -> bool:
    """The spec's `past_years`: the value's clause (semicolons split a sentence) names an earlier year,
    not as a start ("since June 2024") nor a document's ("resolution 2699 (2023)"), and does not say now."""
    clause_start = sentence.rfind(";", 0, left) + 1
    clause_end = sentence.find(";", right)
    if clause_end < 0:
        clause_end = len(sentence)
    for where, side in years:
        if side != "<" or not clause_start <= where < clause_end:
            continue
        if _SINCE.search(sentence, 0, where) or (
            _CITED.search(sentence, 0, where) and sentence[where + 4 : where + 5] == ")"
        ):
            continue
        return _NOW.search(sentence, clause_start, clause_end) is None
    return False


def _word(token: str) -> str:
    if token[0].isdigit():
        return "<year>" if _YEAR_TOKEN.fullmatch(token) else "<num>"
    return token


def probability(model: FactModel, features: Iterable[str]) -> float:
    weights = model.weights
    total = model.bias
    for feature in features:
        total += weights.get(feature, 0.0)
    if total < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-total))


@register("learned")
class LearnedExtractor:
    """Proposes the best-scoring candidate per fact and entity, when the model is sure enough."""

    name = "learned"
    skips_filled = True

    def __init__(self, specs: Sequence[FactSpec], model: LearnedModel | None = None) -> None:
        if model is None:
            raise ModelError("the learned extractor needs a model file (extraction.model in the config)")
        self._models = dict(model.facts)  # a threshold above 1 proposes nothing, yet still claims values
        known = [spec for spec in specs if spec.name in self._models]
        self._reader = FeatureReader(specs) if known else None
        self._facts = {spec.name for spec in known}
        # Every (fact, entity) a fact's candidates can have: an entity's count, else no entity.
        self._keys: dict[str, frozenset[FactKey]] = {}
        for spec in known:
            keys: set[FactKey] = {(spec.name, entity) for entity in spec.entities}
            if not spec.entities or spec.value_pattern:
                keys.add((spec.name, None))
            self._keys[spec.name] = frozenset(keys)

    @classmethod
    def configured(cls, specs: Sequence[FactSpec], options: ExtractorOptions) -> LearnedExtractor:
        if options.model is None:
            raise ModelError("the learned extractor needs a model file (extraction.model in the config)")
        return cls(specs, load_model(options.model))

    def candidates(
        self,
        text: str,
        published: date | None,
        precision: str,
        *,
        filled: frozenset[FactKey] = frozenset(),
    ) -> list[Candidate]:
        """`filled`: the (fact, entity) pairs an earlier extractor holds. No candidate is proposed for
        them, and what they cannot change is not read: a value still goes to the likeliest fact, filled
        or not, so every other candidate is the one proposed without `filled`."""
        if self._reader is None:
            return []
        wanted: set[str] | None = None
        if filled:
            wanted = {fact for fact in self._facts if not self._keys[fact] <= filled}
            if not wanted:
                return []
        mentions = self._reader.mentions(text, published, precision, wanted=wanted, filled=filled)
        if wanted is not None:
            # A value matters only where an open (fact, entity) may claim it.
            places = {m.position for m in mentions if m.fact in wanted and (m.fact, m.entity) not in filled}
            mentions = [m for m in mentions if m.position in places]
        # One number or date states one fact: the likeliest one claims it, whatever the thresholds.
        claims: dict[int, tuple[float, Mention]] = {}
        for mention in mentions:
            if mention.fact not in self._facts:
                continue
            score = probability(self._models[mention.fact], mention.features)
            held = claims.get(mention.position)
            if held is None or score > held[0]:
                claims[mention.position] = (score, mention)
        best: dict[tuple[str, str | None], tuple[float, Mention]] = {}
        for score, mention in claims.values():
            if score < self._models[mention.fact].threshold:
                continue
            key = (mention.fact, mention.entity)
            if key in filled:
                continue
            held = best.get(key)
            if held is None or score > held[0]:
                best[key] = (score, mention)
        found: list[Candidate] = []
        for score, mention in best.values():
            observation = Observation(
                fact=mention.fact,
                value=mention.value,
                evidence=text[mention.start : mention.end],
                start=mention.start,
                end=mention.end,
                entity=mention.entity,
                extractor=self.name,
            )
            found.append(Candidate(observation, score=round(score * 100), position=mention.position))
        return found


_CACHE: dict[tuple[Path, float], LearnedModel] = {}


def load_model(path: Path) -> LearnedModel:
    """A model file, read once per process (and again when it changes); ModelError when unusable."""
    key = (path.resolve(), path.stat().st_mtime if path.exists() else 0.0)
    model = _CACHE.get(key)
    if model is None:
        model = _CACHE[key] = LearnedModel.load(path)
    return model
