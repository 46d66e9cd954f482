"""Numbers as news writes them: "2,500", "1.3 million", "four hundred", "nearly 400".

An approximation keeps its number ("nearly 400" is 400): the hedge is part of the mention, so rules
looking at the words before a number see the verb ("has some 400"), not the hedge.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"dozen": 12, "hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_SHORT_SCALES = {"k": 1_000, "m": 1_000_000, "mn": 1_000_000, "bn": 1_000_000_000}

_UNIT_WORDS = "|".join(sorted(_UNITS, key=len, reverse=True))
# "the thousand it pledged": a bare scale word after "the" counts one of it
_WORD_NUMBER = (
    r"(?:(?<=the\s)thousand|(?<=['’]s\s)thousand|"
    rf"(?:{_UNIT_WORDS}|a)(?:[\s-]+(?:and[\s-]+)?(?:{_UNIT_WORDS}|dozen|hundred|thousand|million|billion))*)"
)
_DIGIT_NUMBER = (
    r"(?:\d{1,3}(?:,\d{3})+(?!\d|,\d)|\d+(?:\.\d+)?)"
    r"(?:\s*(?:hundred|thousand|million|billion)\b|(?:k|m|mn|bn)\b)?"
)

_DIGITS_RE = re.compile(_DIGIT_NUMBER)
# "Kenya's thousand-officer pledge": a bare "thousand" may lead a compound adjective
_WORDS_RE = re.compile(
    rf"(?<![\w-])(?:{_WORD_NUMBER}(?![\w%-])|(?:(?<=the\s)|(?<=['’]s\s))thousand(?=-[a-z]))", re.IGNORECASE
)
_HEDGES = {
    ("about",), ("around",), ("roughly",), ("approximately",), ("approx.",), ("nearly",), ("almost",),
    ("some",), ("close", "to"), ("more", "than"), ("over",), ("at", "least"), ("upwards", "of"),
    ("an", "estimated"), ("estimated",), ("just", "over"), ("just", "under"), ("fewer", "than"),
    ("less", "than"), ("under",), ("up", "to"), ("as", "many", "as"), ("only",), ("just",), ("barely",),
    ("a", "little", "over"), ("well", "over"),
}  # fmt: skip
_HEDGE_LONGEST = max(len(h) for h in _HEDGES)
_HEDGE_LAST_WORDS = frozenset(h[-1] for h in _HEDGES)
_NUMBER_WORDS = frozenset([*_UNITS, *_SCALES])
_DIGIT_START = re.compile(r"[0-9]")
_PUNCTUATION_TO_SPACE = str.maketrans({c: " " for c in "-.,;:!?()[]\"'“”‘’"})
_AFTER_EXCLUDED = re.compile(r"\s*(?:%|per\s?cent\b)")
_YEAR_RE = re.compile(r"(?:19[5-9]\d|20[0-4]\d)")
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_MONTH_BEFORE = re.compile(rf"{_MONTH}\s+$")
_MONTH_AFTER = re.compile(rf"(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?!\w)")


@dataclass(frozen=True, slots=True)
class NumberMention:
    value: int
    start: int  # where the mention starts, hedge included
    value_start: int  # where the number itself starts
    end: int
    approximate: bool


def parse_words(phrase: str) -> int | None:
    """ "four hundred and twenty" -> 420; None when the words do not make a number ("a")."""
    total = 0
    current = 0
    seen_number = False
    for word in re.split(r"[\s-]+", phrase.lower()):
        if word == "and" or not word:
            continue
        if word == "a":
            if seen_number:
                return None
            current = 1
            continue
        if word in _UNITS:
            current += _UNITS[word]
            seen_number = True
        elif word in _SCALES:
            scale = _SCALES[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
            seen_number = True
        else:
            return None
    return total + current if seen_number else None


def parse_digits(text: str) -> int | None:
    """ "2,500" -> 2500, "1.3 million" -> 1300000, "12k" -> 12000."""
    cleaned = text.strip().lower()
    digits = cleaned.rstrip("abcdefghijklmnopqrstuvwxyz")
    suffix = cleaned[len(digits) :]
    digits = digits.rstrip()
    try:
        number = float(digits.replace(",", ""))
    except ValueError:
        return None
    if suffix:
        scale = _SCALES.get(suffix) or _SHORT_SCALES.get(suffix)
        if scale is None:
            return None
        number *= scale
    elif "." in digits:
        return None  # a bare decimal is no count
    return round(number)


def find_numbers(sentence: str) -> list[NumberMention]:
    """Every count-like number in the sentence; years, percentages, money and days of months are left out.

    Written around cheap string tests first: regex scans are the slow part of extraction.
    """
    found: list[NumberMention] = []
    first = _DIGIT_START.search(sentence)
    if first is not None:
        length = len(sentence)
        for match in _digit_runs(sentence, first.start()):
            start, end = match.span()
            before = sentence[start - 1] if start else " "
            after = sentence[end] if end < length else " "
            if before.isalnum() or before in "$€£.,-_" or after.isalnum() or after == "_" or after == "%":
                continue
            if _AFTER_EXCLUDED.match(sentence, end):
                continue
            digits = match.group()
            if _YEAR_RE.fullmatch(digits):
                continue  # a bare 4-digit year is a date, not a count
            value = parse_digits(digits)
            if value is None or (value <= 31 and _is_day_of_month(sentence, start, end)):
                continue
            found.append(_mention(sentence, value, start, end))
    if not _NUMBER_WORDS.isdisjoint(sentence.lower().translate(_PUNCTUATION_TO_SPACE).split()):
        for match in _WORDS_RE.finditer(sentence):
            value = parse_words(match.group())
            if value is not None:
                found.append(_mention(sentence, value, match.start(), match.end()))
        found.sort(key=lambda m: m.value_start)
    return found


def _digit_runs(sentence: str, pos: int) -> Iterator[re.Match[str]]:
    """Full number matches, tried only where a digit stands (a plain `\\d` scan is far cheaper)."""
    while True:
        match = _DIGITS_RE.match(sentence, pos)
        if match is None:  # pragma: no cover - a digit always starts a number
            return
        yield match
        following = _DIGIT_START.search(sentence, match.end())
        if following is None:
            return
        pos = following.start()


def _mention(sentence: str, value: int, start: int, end: int) -> NumberMention:
    """The mention, widened to a hedge ("nearly", "more than") right before the number."""
    words = sentence[max(0, start - 24) : start].split()
    hedge_start = start
    if not words or words[-1].lower() not in _HEDGE_LAST_WORDS:
        return NumberMention(value=value, start=start, value_start=start, end=end, approximate=False)
    for size in range(_HEDGE_LONGEST, 0, -1):
        tail = tuple(w.lower() for w in words[-size:])
        if len(tail) == size and tail in _HEDGES:
            hedge_start = start
            for word in reversed(words[-size:]):
                hedge_start = sentence.rfind(word, 0, hedge_start)
            break
    return NumberMention(
        value=value,
        start=hedge_start,
        value_start=start,
        end=end,
        approximate=hedge_start != start,
    )


def _is_day_of_month(sentence: str, start: int, end: int) -> bool:
    return bool(
        _MONTH_BEFORE.search(sentence, max(0, start - 12), start) or _MONTH_AFTER.match(sentence, end)
    )
