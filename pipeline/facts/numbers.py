"""Numbers as news writes them: "2,500", "1.3 million", "four hundred", "nearly 400".

An approximation keeps its number ("nearly 400" is 400): the hedge is part of the mention, so rules
looking at the words before a number see the verb ("has some 400"), not the hedge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_SHORT_SCALES = {"k": 1_000, "m": 1_000_000, "mn": 1_000_000, "bn": 1_000_000_000}

_HEDGE = (
    r"(?:about|around|roughly|approximately|approx\.|nearly|almost|some|close\s+to|more\s+than|over|"
    r"at\s+least|upwards\s+of|an\s+estimated|estimated|just\s+over|just\s+under|fewer\s+than|less\s+than|"
    r"under|up\s+to|as\s+many\s+as|only|just|barely|a\s+little\s+over|well\s+over)"
)
_UNIT_WORDS = "|".join(sorted(_UNITS, key=len, reverse=True))
_WORD_NUMBER = (
    rf"(?:(?:{_UNIT_WORDS}|a)(?:[\s-]+(?:and[\s-]+)?(?:{_UNIT_WORDS}|hundred|thousand|million|billion))*)"
)
_DIGIT_NUMBER = r"(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?)(?:\s*(?:hundred|thousand|million|billion)\b|(?:k|m|mn|bn)\b)?"

NUMBER_RE = re.compile(
    rf"(?<![\w$€£.,-])(?:(?P<hedge>{_HEDGE})\s+)?(?:(?P<digits>{_DIGIT_NUMBER})|(?P<words>{_WORD_NUMBER}))"
    r"(?![\w%]|\s*(?:%|per\s?cent))",
    re.IGNORECASE,
)
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
    """"four hundred and twenty" -> 420; None when the words do not make a number ("a")."""
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
    """"2,500" -> 2500, "1.3 million" -> 1300000, "12k" -> 12000."""
    match = re.fullmatch(r"([\d,]+(?:\.\d+)?)\s*([a-z]*)", text.strip().lower())
    if match is None:
        return None
    number = float(match.group(1).replace(",", ""))
    suffix = match.group(2)
    if suffix:
        scale = _SCALES.get(suffix) or _SHORT_SCALES.get(suffix)
        if scale is None:
            return None
        number *= scale
    elif "." in match.group(1):
        return None  # a bare decimal is no count
    return round(number)


def find_numbers(sentence: str) -> list[NumberMention]:
    """Every count-like number in the sentence; years, percentages and money are left out."""
    found: list[NumberMention] = []
    for match in NUMBER_RE.finditer(sentence):
        digits = match.group("digits")
        if digits is not None:
            if _YEAR_RE.fullmatch(digits):
                continue  # a bare 4-digit year is a date, not a count
            value = parse_digits(digits)
            value_start = match.start("digits")
            if value is not None and value <= 31 and _is_day_of_month(sentence, value_start, match.end()):
                continue
        else:
            value = parse_words(match.group("words"))
            value_start = match.start("words")
        if value is None:
            continue
        found.append(
            NumberMention(
                value=value,
                start=match.start(),
                value_start=value_start,
                end=match.end(),
                approximate=match.group("hedge") is not None,
            )
        )
    return found


def _is_day_of_month(sentence: str, start: int, end: int) -> bool:
    return bool(
        _MONTH_BEFORE.search(sentence, max(0, start - 12), start) or _MONTH_AFTER.match(sentence, end)
    )
