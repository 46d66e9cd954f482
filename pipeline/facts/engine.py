"""Typed fact extraction from cleaned article text, one evidence sentence per value.

The rule-based extractor reads only sentences that hold one of a fact's trigger words, finds typed
values in them (numbers, dates, identifiers, names) and keeps a value only when a rule of the fact's
spec supports it and no trap (a batch, a pledge, an old year) sits next to it. The engine then keeps
one value per fact and entity: saying nothing beats saying something wrong.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from re import Pattern

from pipeline.facts.dates import DateMention, date_bounds, date_matches, find_dates
from pipeline.facts.numbers import find_numbers
from pipeline.facts.registry import (
    Candidate,
    Extractor,
    ExtractorOptions,
    FactKey,
    create_extractor,
    register,
    skips_filled,
)
from pipeline.facts.sentences import SentenceIndex
from pipeline.facts.spec import FactKind, FactSpec, ValueRule
from pipeline.types import Observation, as_date

logger = logging.getLogger(__name__)

_FLAGS = re.IGNORECASE
_YEAR_IN_TEXT = re.compile(r"(?:19|20)[0-9][0-9]")
_LONGEST_SENTENCE = 1000
_CLOSERS = "\"'”’)]»"
_SINCE = re.compile(r"\bsince\s+(?:\w+\s+){0,2}$", _FLAGS)
_CITED_YEAR = re.compile(r"\d\s*\($")
_NOW = re.compile(r"\b(?:now|currently|so\s+far|to\s+date|today|at\s+present)\b", _FLAGS)
_DATE_HINTS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "day",
               "tomorrow", "tonight", "morning", "afternoon", "evening", "month", "19", "20")  # fmt: skip
_NAME_RUN = re.compile(r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)*(?:[ \u00a0]+[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)*)*")
# a bullet, a numbered item or a short label before a figure: "- ...", "2. ...", "Kenya: 735", "Total - 995"
_LIST_LINE = re.compile(
    r"\s*(?:[-–•*▪]\s*\S|\d{1,2}[.)]\s+\S|[^\n:.;]{1,60}?\s*[:–—]\s*(?:(?:about|some|around|roughly|nearly|"
    r"approximately|almost|over|more\s+than|fewer\s+than|under|just\s+over|just\s+under|~)\s*)?\d)"
)
_LIST_REACH = 15  # lines looked at above a list line for its heading
_HEADING_CHARS = 300  # of a long heading paragraph, only its end introduces the list
_NAME_TOKEN = re.compile(r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)*")


@dataclass(frozen=True, slots=True)
class _Value:
    """A typed value found in a sentence; offsets are relative to the sentence."""

    value: int | str
    start: int  # mention start (a hedge like "about" included): the `before` window ends here
    value_start: int
    end: int
    hedge: str = ""  # "about", "up to" ... in lower case, single-spaced


@dataclass(frozen=True, slots=True)
class _Rule:
    before: Pattern[str] | None
    after: Pattern[str] | None
    sentence: Pattern[str] | None
    window: int
    score: int
    total: bool
    anaphor: bool = False  # `{entity}` stands for an anaphor ("the island"), resolved from context
    after_anchored: bool = False  # `after` began with "^": tried with match() at the value's end
    heading: Pattern[str] | None = None  # searched in the list context of a list line (_list_context)
    max_age: int | None = None  # dates: this rule's own age limit in days (from the first day covered)


@dataclass(slots=True)
class _Sentence:
    start: int
    end: int
    text: str
    numbers: list[_Value] | None = None  # counts, the same for every count fact
    holds: dict[int, bool] = field(default_factory=dict)  # id(pattern) -> found in this sentence
    dates: dict[str, list[DateMention]] = field(default_factory=dict)
    date_spans: list[re.Match[str]] | None = None
    names: list[_Value] | None = None
    context: str | None = None  # heading and list lines above, when the sentence is a list line
    context_known: bool = False


def _entity_pattern(spec: FactSpec) -> str:
    aliases = sorted({a for names in spec.entities.values() for a in [*names]} | set(spec.entities), key=len)
    alternation = "|".join(re.escape(a) for a in reversed(aliases))
    return rf"(?P<entity>(?<![\w-])(?:{alternation})(?![\w-]))"


def _compile(pattern: str | None, entity: str) -> Pattern[str] | None:
    if pattern is None:
        return None
    return re.compile(pattern.replace("{entity}", entity), _FLAGS)


def _any(patterns: Sequence[str]) -> Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), _FLAGS)


class _CompiledSpec:
    """A spec with its patterns compiled once per engine."""

    def __init__(self, spec: FactSpec) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.require = [re.compile(p, _FLAGS) for p in spec.require]
        self.reject = _any(spec.reject)
        entity = _entity_pattern(spec) if spec.entities else ""
        self.rules = self._rules(spec.rules, entity)
        # A rule may read older dates than the fact allows ("renewed last September (resolution 2751)"):
        # values are then found up to the widest limit, and each rule checks its own (_support).
        ages = [rule.max_age_days for rule in spec.rules if rule.max_age_days is not None]
        self.rule_ages = bool(ages)
        self.widest_age = spec.max_age_days
        if ages and spec.max_age_days is not None:
            self.widest_age = max(spec.max_age_days, *ages)
        self.carry_rules = self._rules(spec.carry_rules, "")
        self.carry_block = _any(spec.carry_block)
        self.entity_re = re.compile(entity, _FLAGS) if entity else None
        # "The island now has 40": the same rules, with an anaphor standing where the entity would.
        self.anaphora_re = _any(spec.anaphora)
        anaphor = "|".join(f"(?:{a})" for a in spec.anaphora)
        self.anaphor_rules = (
            self._rules(spec.rules, rf"(?P<entity>(?<![\w-])(?:{anaphor})(?![\w-]))", anaphor=True)
            if spec.anaphora
            else []
        )
        self.with_anaphora = sorted([*self.rules, *self.anaphor_rules], key=lambda rule: -rule.score)
        self.questions = _any(spec.questions)
        self.reject_before = _any(spec.reject_before)
        self.reject_after = _any(spec.reject_after)
        self.value_re = re.compile(spec.value_pattern, _FLAGS) if spec.value_pattern else None
        self.canonical = {}
        for name, aliases in spec.entities.items():
            self.canonical[name.lower()] = name
            for alias in aliases:
                self.canonical[alias.lower()] = name
        self.stopwords = frozenset(w.lower() for w in spec.name_stopwords)
        self.reject_hedges = frozenset(" ".join(h.lower().split()) for h in spec.reject_hedges)

    @staticmethod
    def _rules(rules: Sequence[ValueRule], entity: str, *, anaphor: bool = False) -> list[_Rule]:
        # Strongest first (a stable sort keeps the YAML order among equals): the first rule that holds
        # is then the best one, and the rest need not be tried.
        compiled = [
            _Rule(
                before=_compile(rule.before, entity),
                # "^..." is matched at the value's end in place: no slice of the text per rule and value
                after=_compile(
                    rule.after[1:] if rule.after and rule.after.startswith("^") else rule.after, entity
                ),
                after_anchored=bool(rule.after and rule.after.startswith("^")),
                sentence=_compile(rule.sentence, entity),
                heading=_compile(rule.heading, entity),
                max_age=rule.max_age_days,
                window=rule.window,
                score=rule.score,
                total=rule.total,
                anaphor=anaphor,
            )
            for rule in rules
        ]
        return sorted(compiled, key=lambda rule: -rule.score)


@register("rules")
class RuleExtractor:
    """Cue words and patterns from the fact specs, applied around typed values in a sentence."""

    name = "rules"

    def __init__(self, specs: Sequence[FactSpec]) -> None:
        self._specs = [_CompiledSpec(spec) for spec in specs]
        self._asking = [compiled for compiled in self._specs if compiled.questions is not None]
        self._carrying = {number for number, compiled in enumerate(self._specs) if compiled.carry_rules}
        # Every cue word of every fact in one scan of the lower-cased text: an alternation grouped by
        # first letter, so the regex engine tries few branches per position. A longer trigger that
        # wins at a position also fires the facts whose trigger is its prefix ("force of", "force").
        owners: dict[str, set[int]] = {}
        for number, compiled in enumerate(self._specs):
            for trigger in compiled.spec.triggers:
                owners.setdefault(trigger.lower(), set()).add(number)
        longest_first = sorted(owners, key=len, reverse=True)
        self._fires = {
            word: tuple(sorted({n for other, ns in owners.items() if word.startswith(other) for n in ns}))
            for word in longest_first
        }
        groups: dict[str, list[str]] = {}
        for word in longest_first:
            groups.setdefault(word[0], []).append(re.escape(word[1:]))
        branches = "|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in groups.items())
        # No facts means no cue words: a pattern that never matches (an empty one would match everywhere).
        self._trigger_re = re.compile(rf"\b(?:{branches})" if branches else r"(?!)")

    def candidates(self, text: str, published: date | None, precision: str) -> list[Candidate]:
        if not self._specs:
            return []
        found: list[Candidate] = []
        index = SentenceIndex(text)
        sentences: dict[int, _Sentence] = {}
        lower = text.lower()
        if len(lower) != len(text):  # a few letters ("İ") grow when lowered: keep offsets aligned
            lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        read: list[tuple[_Sentence, set[int]]] = []
        current: _Sentence | None = None
        fired: set[int] = set()
        for match in self._trigger_re.finditer(lower):
            pos = match.start()
            if current is None or pos >= current.end:
                start, end = index.at(pos)
                current = sentences[start] = _Sentence(start, end, text[start:end])
                fired = set()
                read.append((current, fired))
            fired.update(self._fires[match.group()])
        for sentence, numbers in read:
            for number in sorted(numbers):
                compiled = self._specs[number]
                found.extend(self._from_sentence(compiled, sentence, published, precision, index))
        if self._carrying:
            fired_at = {sentence.start: numbers for sentence, numbers in read}
            for position, (sentence, numbers) in enumerate(read):
                carrying = numbers & self._carrying
                if not carrying:
                    continue
                if position + 1 < len(read):
                    upcoming = read[position + 1]
                    if not text[sentence.end : upcoming[0].start].strip():
                        carrying -= upcoming[1]  # the next sentence has cue words of its own
                        if not carrying:
                            continue
                following = index.following(sentence.end)
                if following is None:
                    continue
                carrying -= fired_at.get(following[0], set())
                if not carrying:
                    continue
                nxt = sentences.get(following[0])
                if nxt is None:
                    nxt = sentences[following[0]] = _Sentence(
                        following[0], following[1], text[slice(*following)]
                    )
                for number in sorted(carrying):
                    found.extend(
                        self._carried(self._specs[number], text, sentence, nxt, published, precision)
                    )
        if self._asking and "?" in text:
            found.extend(self._answers(text, index, sentences, published, precision))
        return found

    def _answers(
        self,
        text: str,
        index: SentenceIndex,
        cache: dict[int, _Sentence],
        published: date | None,
        precision: str,
    ) -> Iterator[Candidate]:
        """Question and answer: the question carries the cue words, the answer leads with the value."""
        pos = text.find("?")
        while pos >= 0:
            start, end = index.at(pos)
            after = index.following(end) if text[end - 1] in "?" + _CLOSERS else None
            pos = text.find("?", max(end, pos + 1))
            if after is None or "?" in text[after[0] : after[1]]:
                continue
            question = text[start:end]
            answer = cache.get(after[0])
            if answer is None:
                answer = cache[after[0]] = _Sentence(after[0], after[1], text[after[0] : after[1]])
            if len(answer.text) > _LONGEST_SENTENCE:
                continue
            for compiled in self._asking:
                assert compiled.questions is not None
                if not compiled.questions.search(question):
                    continue
                if compiled.reject is not None and (
                    compiled.reject.search(question) or _holds(answer, compiled.reject)
                ):
                    continue  # "When is the vote?" about an election is no answer for a Council vote
                window = compiled.spec.answer_window
                for value in self._values(compiled, answer, published, precision):
                    if value.start > window:
                        break
                    if not self._plausible(compiled.spec, value.value, published, compiled.spec.max_age_days):
                        continue
                    if self._trapped(compiled, answer.text, value, published):
                        break
                    observation = Observation(
                        fact=compiled.spec.name,
                        value=value.value,
                        evidence=text[start : answer.end],
                        start=start,
                        end=answer.end,
                        extractor=self.name,
                    )
                    yield Candidate(observation, score=2, position=answer.start + value.value_start)
                    break

    def _from_sentence(
        self,
        compiled: _CompiledSpec,
        sentence: _Sentence,
        published: date | None,
        precision: str,
        index: SentenceIndex,
    ) -> Iterator[Candidate]:
        spec = compiled.spec
        text = sentence.text
        if len(text) > _LONGEST_SENTENCE:
            return  # a run-on page fragment, not a sentence anyone could quote as evidence
        # Values first: most cue sentences hold none, and finding that out is the cheapest test.
        values = [
            value
            for value in self._values(compiled, sentence, published, precision)
            if self._plausible(spec, value.value, published, compiled.widest_age)
        ]
        if not values:
            return
        rules = compiled.rules
        carried: str | None = None
        if compiled.entity_re is not None:
            # Per-entity facts: no entity named and none carried over means no rule can hold.
            named = {compiled.canonical.get(m.group().lower()) for m in compiled.entity_re.finditer(text)}
            if compiled.anaphora_re is not None and compiled.anaphora_re.search(text):
                carried = self._carried_entity(compiled, index, sentence.start)
            if carried is not None and named <= {carried}:
                rules = compiled.with_anaphora
            elif not named:
                return
        if compiled.reject is not None and compiled.reject.search(text):
            return
        for pattern in compiled.require:
            if not pattern.search(text) and not _in_question_before(pattern, index, sentence.start):
                return
        for value in values:
            supported = self._support(compiled, sentence, value, rules, carried, index.text, published)
            if supported is None:
                continue
            score, entity, left_edge = supported
            if _now_in_clause(text, value):
                score += 2  # a figure the article marks as current beats one it does not
            if self._trapped(compiled, text, value, published, left_edge):
                continue
            observation = Observation(
                fact=spec.name,
                value=value.value,
                evidence=text,
                start=sentence.start,
                end=sentence.end,
                entity=entity,
                extractor=self.name,
            )
            yield Candidate(observation, score=score, position=sentence.start + value.value_start)

    def _carried(
        self,
        compiled: _CompiledSpec,
        full: str,
        previous: _Sentence,
        sentence: _Sentence,
        published: date | None,
        precision: str,
    ) -> Iterator[Candidate]:
        """A sentence without cue words whose subject is in the cue sentence before ("It said 740 ...")."""
        text = sentence.text
        if len(text) > _LONGEST_SENTENCE or len(previous.text) > _LONGEST_SENTENCE:
            return
        values = [
            value
            for value in self._values(compiled, sentence, published, precision)
            if self._plausible(compiled.spec, value.value, published, compiled.widest_age)
        ]
        if not values:
            return
        block = compiled.carry_block
        if block is not None and (_holds(previous, block) or _holds(sentence, block)):
            return
        if compiled.reject is not None and compiled.reject.search(text):
            return
        for pattern in compiled.require:  # either sentence: "Malta sent boats. It says 12 are at sea."
            if not pattern.search(text) and not pattern.search(previous.text):
                return
        for value in values:
            supported = self._support(
                compiled, sentence, value, compiled.carry_rules, full=full, published=published
            )
            if supported is None:
                continue
            score, _entity, left_edge = supported
            if _now_in_clause(text, value):
                score += 2
            if self._trapped(compiled, text, value, published, left_edge):
                continue
            observation = Observation(
                fact=compiled.spec.name,
                value=value.value,
                evidence=full[previous.start : sentence.end],
                start=previous.start,
                end=sentence.end,
                extractor=self.name,
            )
            yield Candidate(observation, score=score, position=sentence.start + value.value_start)

    def _values(
        self, compiled: _CompiledSpec, sentence: _Sentence, published: date | None, precision: str
    ) -> list[_Value]:
        kind = compiled.kind
        text = sentence.text
        if kind in (FactKind.COUNT, FactKind.COUNT_PER_ENTITY):
            if sentence.numbers is None:
                sentence.numbers = [
                    _Value(n.value, n.start, n.value_start, n.end, _hedge(text, n.start, n.value_start))
                    for n in find_numbers(text)
                ]
            return sentence.numbers
        if kind is FactKind.IDENTIFIER:
            assert compiled.value_re is not None
            return [
                _Value(int(m.group("value")), m.start("value"), m.start("value"), m.end("value"))
                for m in compiled.value_re.finditer(text)
                if m.group("value") and m.group("value").isdigit()
            ]
        if kind is FactKind.DATE:
            if not any(hint in text for hint in _DATE_HINTS):
                return []
            key = f"{compiled.spec.date_direction}/{precision}"
            dates = sentence.dates.get(key)
            if dates is None:
                if sentence.date_spans is None:
                    sentence.date_spans = date_matches(text)
                dates = find_dates(
                    text,
                    published,
                    precision=precision,
                    direction=compiled.spec.date_direction,
                    matches=sentence.date_spans,
                )
                sentence.dates[key] = dates
            return [_Value(d.value, d.start, d.start, d.end) for d in dates]
        if sentence.names is None:
            sentence.names = self._names(text, compiled.stopwords)
        return sentence.names

    @staticmethod
    def _names(text: str, stopwords: frozenset[str]) -> list[_Value]:
        """Runs of two to four capitalised words that are neither titles nor places.

        A possessive ends a name: "Kenya's Godfrey Otunge" is Godfrey Otunge, "Godfrey Otunge's
        officers" too.
        """
        names: list[_Value] = []
        for run in _NAME_RUN.finditer(text):
            tokens = [
                (m.group(), run.start() + m.start(), run.start() + m.end())
                for m in _NAME_TOKEN.finditer(run.group())
            ]
            group: list[tuple[str, int, int]] = []
            for token in [*tokens, ("", -1, -1)]:
                possessive = token[0][-2:] in ("'s", "’s")
                if possessive:
                    token = (token[0][:-2], token[1], token[2] - 2)
                if token[1] >= 0 and token[0].lower() not in stopwords:
                    group.append(token)
                    if not possessive:
                        continue
                if 2 <= len(group) <= 4:
                    start, end = group[0][1], group[-1][2]
                    names.append(_Value(" ".join(t[0] for t in group), start, start, end))
                group = []
        return names

    @staticmethod
    def _plausible(spec: FactSpec, value: int | str, published: date | None, max_age: int | None) -> bool:
        """Within the fact's range; a date no older than `max_age` days (its last day counts)."""
        if isinstance(value, int):
            if spec.min_value is not None and value < spec.min_value:
                return False
            return spec.max_value is None or value <= spec.max_value
        if spec.kind is FactKind.DATE and published is not None:
            first, last = date_bounds(value)
            if max_age is not None and last < published - timedelta(days=max_age):
                return False
            if spec.max_ahead_days is not None and first > published + timedelta(days=spec.max_ahead_days):
                return False
        return True

    @staticmethod
    def _carried_entity(compiled: _CompiledSpec, index: SentenceIndex, pos: int) -> str | None:
        """The one entity the sentence just before names; None when it names none or several."""
        assert compiled.entity_re is not None
        previous = index.preceding(pos)
        if previous is None:
            return None
        named = {
            compiled.canonical.get(m.group().lower())
            for m in compiled.entity_re.finditer(index.text, previous[0], previous[1])
        }
        return named.pop() if len(named) == 1 and None not in named else None

    @staticmethod
    def _support(
        compiled: _CompiledSpec,
        sentence: _Sentence,
        value: _Value,
        rules: list[_Rule],
        carried: str | None = None,
        full: str = "",
        published: date | None = None,
    ) -> tuple[int, str | None, int] | None:
        """The first (strongest) rule that holds around the value, as (score, entity, left edge), or None.

        The left edge is where the trap window may start: 0, or where a `total` rule's match begins.
        """
        text = sentence.text
        if not rules:
            return 1, None, 0
        holds = sentence.holds
        aged = (
            compiled.rule_ages and published is not None and isinstance(value.value, str)
        )  # a date older than the fact allows: only a rule with an age limit of its own may read it
        for rule in rules:  # strongest first: the first rule that holds wins
            entity: str | None = None
            left_edge = 0
            if aged and not _young_enough(compiled.spec, rule, str(value.value), published):
                continue
            if rule.sentence is not None:
                found = holds.get(id(rule.sentence))  # _holds, inlined: this loop is the hot one
                if found is None:
                    found = holds[id(rule.sentence)] = rule.sentence.search(text) is not None
                if not found:
                    continue
            if rule.heading is not None:
                if not sentence.context_known:
                    sentence.context = _list_context(full, sentence.start) if full else None
                    sentence.context_known = True
                if sentence.context is None or rule.heading.search(sentence.context) is None:
                    continue
            # `after` first: it is anchored at the value, so it fails fast; `before` scans its window.
            if rule.after is not None:
                match = (
                    rule.after.match(text, value.end, value.end + rule.window)
                    if rule.after_anchored
                    else rule.after.search(text[value.end : value.end + rule.window])
                )
                if match is None:
                    continue
                entity = match.groupdict().get("entity") or entity
            if rule.before is not None:
                match = rule.before.search(text, max(0, value.start - rule.window), value.start)
                if match is None:
                    continue
                entity = match.groupdict().get("entity") or entity
                if rule.total:
                    left_edge = match.start()
            if compiled.canonical:
                if entity is None:
                    continue
                entity = carried if rule.anaphor else compiled.canonical.get(entity.lower())
                if entity is None:
                    continue
            return rule.score, entity, left_edge
        return None

    @staticmethod
    def _trapped(
        compiled: _CompiledSpec, text: str, value: _Value, published: date | None, left_edge: int = 0
    ) -> bool:
        spec = compiled.spec
        window = spec.reject_window
        left = text[max(left_edge, value.start - window) : value.start]
        right = text[value.end : value.end + window]
        if compiled.reject_before is not None and compiled.reject_before.search(left):
            return True
        if compiled.reject_after is not None and compiled.reject_after.search(right):
            return True
        if value.hedge and value.hedge in compiled.reject_hedges:
            return True
        if spec.past_years and published is not None:
            if "19" not in text and "20" not in text:
                return False
            # History: an earlier year in the value's own clause ("In 2004, the mission had ..."), unless
            # it only dates a start ("since June 2024") or the clause says "now". A semicolon joins two
            # statements: "had 400 by August 2024; today it is 730 strong".
            clause_start = text.rfind(";", 0, value.start) + 1
            clause_end = text.find(";", value.end)
            if clause_end < 0:
                clause_end = len(text)
            for match in _YEAR_IN_TEXT.finditer(text):
                start, end = match.span()
                if (start and text[start - 1].isdigit()) or (end < len(text) and text[end].isdigit()):
                    continue
                if _CITED_YEAR.search(text, 0, start) and text[end : end + 1] == ")":
                    continue  # "resolution 2699 (2023)": a year naming a document, not the figure's time
                if not clause_start <= start < clause_end:
                    continue  # another statement of the sentence
                if int(match.group()) < published.year and not _SINCE.search(text, 0, start):
                    return not _NOW.search(text, clause_start, clause_end)
        return False


class FactEngine:
    """Runs the configured extractors and keeps one verbatim-quoted value per fact and entity."""

    def __init__(
        self,
        specs: Sequence[FactSpec],
        *,
        extractors: Sequence[str] = ("rules",),
        options: ExtractorOptions | None = None,
    ) -> None:
        self.specs = list(specs)
        self._order = {spec.name: index for index, spec in enumerate(self.specs)}
        self._choose = {spec.name: spec.choose for spec in self.specs}
        self._extractors: list[Extractor] = [create_extractor(n, self.specs, options) for n in extractors]

    def extract(
        self, text: str, published: date | datetime | None, *, precision: str = "day"
    ) -> list[Observation]:
        """Facts stated in `text` as current at `published`.

        `precision` is "month" when only the month of publication is known: the reference is then the
        15th of that month (whatever day `published` carries), and weekdays and "yesterday" cannot be
        placed and are skipped. "day" and "datetime" mean the day is known.
        """
        reference = as_date(published)
        if reference is not None and precision == "month":
            reference = reference.replace(day=15)
        candidates: list[tuple[int, Candidate]] = []
        filled: set[FactKey] = set()  # what the earlier extractors hold: a later one cannot win it
        for rank, extractor in enumerate(self._extractors):
            if filled and skips_filled(extractor):
                found = extractor.candidates(text, reference, precision, filled=frozenset(filled))
            else:
                found = extractor.candidates(text, reference, precision)
            for candidate in found:
                if self._verbatim(text, candidate.observation):
                    candidates.append((rank, candidate))
                    filled.add((candidate.observation.fact, candidate.observation.entity))
        return self._select(candidates)

    @staticmethod
    def _verbatim(text: str, observation: Observation) -> bool:
        """Evidence must be the text at its offsets; anything else is a made-up quote and is dropped."""
        ok = (
            bool(observation.evidence)
            and 0 <= observation.start < observation.end <= len(text)
            and text[observation.start : observation.end] == observation.evidence
        )
        if not ok:
            logger.warning(
                "dropped %s from extractor %s: evidence is not verbatim at %s:%s",
                observation.fact,
                observation.extractor,
                observation.start,
                observation.end,
            )
        return ok

    def _select(self, candidates: list[tuple[int, Candidate]]) -> list[Observation]:
        """One value per fact and entity. An earlier extractor in the list wins a fact and entity outright,
        and a value it placed (by position) is not another fact's for a later one: later extractors only
        fill what the earlier ones left empty."""
        groups: dict[tuple[str, str | None], list[Candidate]] = {}
        first: dict[tuple[str, str | None], int] = {}
        placed: dict[int, int] = {}  # value position -> the earliest extractor that proposed it
        for rank, candidate in candidates:
            key = (candidate.observation.fact, candidate.observation.entity)
            first[key] = min(rank, first.get(key, rank))
            placed[candidate.position] = min(rank, placed.get(candidate.position, rank))
        for rank, candidate in candidates:
            key = (candidate.observation.fact, candidate.observation.entity)
            if rank == first[key] and placed[candidate.position] == rank:
                groups.setdefault(key, []).append(candidate)
        chosen: list[tuple[int, int, Observation]] = []
        for (fact, _entity), group in groups.items():
            choose = self._choose.get(fact, "best")
            if choose == "best":
                winner = min(group, key=lambda c: (-c.score, c.position))
            else:
                sign = -1 if choose == "max" else 1
                winner = min(
                    group, key=lambda c: (sign * _sortable(c.observation.value), -c.score, c.position)
                )
            chosen.append((self._order.get(fact, len(self._order)), winner.position, winner.observation))
        chosen.sort(key=lambda item: (item[0], item[1]))
        return [observation for _, _, observation in chosen]


def _young_enough(spec: FactSpec, rule: _Rule, value: str, published: date | None) -> bool:
    """A rule's own age limit counts from the first day the date covers ("September 2024" from the 1st):
    a month that only partly fits is too old. Without one, the fact's limit (from the last day) holds."""
    if published is None:
        return True
    first, last = date_bounds(value)
    if rule.max_age is not None:
        return first >= published - timedelta(days=rule.max_age)
    return spec.max_age_days is None or last >= published - timedelta(days=spec.max_age_days)


def _holds(sentence: _Sentence, pattern: Pattern[str]) -> bool:
    """Whether `pattern` is found in the sentence, asked once per sentence whatever the value."""
    key = id(pattern)
    found = sentence.holds.get(key)
    if found is None:
        found = sentence.holds[key] = pattern.search(sentence.text) is not None
    return found


def _in_question_before(pattern: Pattern[str], index: SentenceIndex, pos: int) -> bool:
    """An answer's context is its question: "When does the mandate end? On October 2, after the vote"."""
    if "?" not in index.text:  # most articles ask nothing: skip finding the sentence before
        return False
    previous = index.preceding(pos)
    if previous is None or index.text[previous[0] : previous[1]].rstrip(_CLOSERS)[-1:] != "?":
        return False
    return pattern.search(index.text, previous[0], previous[1]) is not None


def _list_context(text: str, pos: int) -> str | None:
    """The context of the list line holding `pos`: its heading, then the list lines above it.

    A list line is a bullet ("- ...", "• ...", "1. ...") or a label with a figure ("Jamaica: 24"). The
    heading is the first line above that is neither (blank lines skipped): "PERSONNEL IN HAITI", "Who
    serves in the mission:". None when the line holding `pos` is no list line.
    """
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start : end if end >= 0 else len(text)]
    if not _LIST_LINE.match(line):
        return None
    siblings: list[str] = []
    heading = ""
    for _ in range(_LIST_REACH):
        if start == 0:
            break
        end = start - 1
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if not line.strip():
            continue
        if not _LIST_LINE.match(line):
            heading = line[-_HEADING_CHARS:]
            break
        siblings.append(line)
    return "\n".join([heading, *reversed(siblings)])


def _now_in_clause(text: str, value: _Value) -> bool:
    """Whether the value's own clause (semicolons split a sentence) says "now", "today", "currently".

    "Its predecessor was authorized at 2,500; today it counts 980": the "today" is not the 2,500's.
    """
    start = text.rfind(";", 0, value.start) + 1
    end = text.find(";", value.end)
    return _NOW.search(text, start, end if end >= 0 else len(text)) is not None


def _hedge(text: str, start: int, value_start: int) -> str:
    return " ".join(text[start:value_start].lower().split())


def _sortable(value: int | str) -> int:
    """Order ints by size and "YYYY-MM[-DD]" dates by time (a month counts as its first day)."""
    if isinstance(value, int):
        return value
    digits = value.replace("-", "")
    return int(digits.ljust(8, "0")) if digits.isdigit() else 0
