"""Dates as news writes them, resolved against the article's publication date.

"September 30" takes the year that puts it nearest the publication (or the next/previous one when
the sentence's tense says so), "on Thursday" is the Thursday before publication unless the sentence
speaks of the future, "October 2025" stays a month ("2025-10"), "October next year", "last month" and
"next October" (the first October after the publication's month) are months counted from the
publication. A reference known only to the month cannot place a weekday, so such dates are dropped
rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Direction = Literal["nearest", "future", "past", "tense"]

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}  # fmt: skip
_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept\.?|Sep\.?|Oct\.?|Nov\.?|Dec\.?)"
)
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
# "the second of October": a day written as an ordinal word, read only in that "the ... of" form
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30,
}  # fmt: skip
_ORDINAL_WORD = (
    r"(?:(?:twenty|thirty)[\s-](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|"
    + "|".join(sorted(_ORDINALS, key=len, reverse=True))
    + ")"
)


def _rel_year(group: str) -> str:
    """ "October next year", "2 October last year": the year counted from the publication's."""
    return rf"(?P<{group}>[Ll]ast|[Nn]ext|[Tt]his)\s+year"


_REL_Y1, _REL_Y2, _REL_Y5 = _rel_year("r1"), _rel_year("r2"), _rel_year("r5")
_REL_SHIFT = {"last": -1, "this": 0, "next": 1}

# Every form starts with a digit, a capital (month, weekday), "the", "last/next/this" or "today/yesterday/
# tomorrow/tonight": the leading lookahead lets the scan skip every other position cheaply.
DATE_RE = re.compile(
    rf"(?=[0-9A-Ztlny])(?<![\w-])(?:"
    rf"(?P<iy>{_YEAR})-(?P<im>[01]\d)-(?P<id>[0-3]\d)"
    rf"|(?:{_WEEKDAY},?\s+)?(?P<m1>{_MONTH})\s+(?P<d1>{_DAY})(?!\d)(?:,?\s+(?P<y1>{_YEAR})|\s+{_REL_Y1})?"
    rf"|(?:{_WEEKDAY},?\s+)?(?:the\s+)?(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m2>{_MONTH})(?:,?\s+(?P<y2>{_YEAR})|\s+{_REL_Y2})?"
    rf"|(?:{_WEEKDAY},?\s+)?the\s+(?P<d6>{_ORDINAL_WORD})\s+of\s+(?P<m6>{_MONTH})(?:,?\s+(?P<y6>{_YEAR}))?"
    rf"|(?P<m3>{_MONTH}),?\s+(?P<y3>{_YEAR})"
    rf"|(?P<m5>{_MONTH})\s+{_REL_Y5}"
    rf"|(?P<rl>[Ll]ast|[Nn]ext|[Tt]his)\s+(?P<m7>{_MONTH})(?!\w|\.?\s*\d|\s+(?:of\s+)?(?:[Ll]ast|[Nn]ext|[Tt]his)\s+year)"
    rf"|(?P<m4>{_MONTH})(?=[\s,.;:)]|$)"
    rf"|(?P<rm>[Ll]ast|[Nn]ext|[Tt]his)\s+month"
    rf"|(?:(?P<rel>[Ll]ast|[Nn]ext|[Tt]his)\s+)?(?P<wd>{_WEEKDAY})"
    rf"|(?P<word>today|yesterday|tomorrow|tonight|this\s+(?:morning|afternoon|evening))"
    rf")(?!\w)"
)
# "Tuesday, the 30th": the day of the month says which Tuesday is meant
_WEEKDAY_DAY = re.compile(r",?\s+the\s+([12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)\b")
_FUTURE_RE = re.compile(
    r"\b(?:will|shall|is\s+(?:set|due|scheduled|expected)|are\s+(?:set|due|scheduled|expected)|"
    r"scheduled|due\s+to|set\s+to|ahead\s+of|upcoming|next|expires?|expiring|(?<!the\s)ends?(?!\s+of\b)|until|till|through|"
    r"plans?\s+to|to\s+be\s+held|would)\b",
    re.IGNORECASE,
)
_PAST_RE = re.compile(
    # (a participle after "be" is a passive still to come: "is expected to be renewed on 30 September")
    r"\b(?:was|were|had|last|ago|earlier|voted|held|"
    r"(?<!\bbe\s)(?:adopted|passed|approved|authori[sz]ed|renewed|created|established|extended))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DateMention:
    value: str  # "YYYY-MM-DD" or "YYYY-MM"
    start: int
    end: int


def _ordinal(words: str) -> int:
    """ "second" -> 2, "twenty-first" -> 21."""
    parts = re.split(r"[\s-]+", words.lower())
    tens = {"twenty": 20, "thirty": 30}
    return tens[parts[0]] + _ORDINALS[parts[1]] if len(parts) == 2 else _ORDINALS[parts[0]]


def _month(token: str) -> int:
    return _MONTHS[token[:3].lower()]


def _tense(sentence: str, start: int, end: int) -> Direction:
    """The sentence's direction in time: the last tense marker before the date, else the verb after it.

    Only the few words after the date count ("on Monday extended ...", "on Monday will vote"): a
    marker further on ("... until 2025") speaks of another event.
    """
    head = sentence[:start]
    future = max((m.start() for m in _FUTURE_RE.finditer(head)), default=-1)
    past = max((m.start() for m in _PAST_RE.finditer(head)), default=-1)
    if future > past:
        return "future"
    if past >= 0:
        return "past"
    tail = sentence[end : end + 40].split()[:3]
    for word in tail:
        bare = word.strip(",;:").lower()
        if _FUTURE_RE.fullmatch(bare) or bare in ("is", "are"):
            return "future"
        if _PAST_RE.fullmatch(bare) or (bare.endswith("ed") and len(bare) > 4):
            return "past"
    return "nearest"


def _place_year(month: int, day: int, ref: date, direction: Direction, slack: int) -> date | None:
    options = []
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            options.append(date(year, month, day))
        except ValueError:
            continue
    if not options:
        return None
    if direction == "future":
        later = [d for d in options if d >= ref - timedelta(days=slack)]
        return min(later) if later else None
    if direction == "past":
        earlier = [d for d in options if d <= ref + timedelta(days=slack)]
        return max(earlier) if earlier else None
    return min(options, key=lambda d: abs((d - ref).days))


def date_matches(sentence: str) -> list[re.Match[str]]:
    """The date-like spans of a sentence, before any resolution: scan once, resolve many ways."""
    return list(DATE_RE.finditer(sentence))


def find_dates(
    sentence: str,
    published: date | None,
    *,
    precision: str = "day",
    direction: Direction = "tense",
    matches: list[re.Match[str]] | None = None,
) -> list[DateMention]:
    """Every date in the sentence that can be placed on the calendar, resolved against `published`.

    `precision` is how well `published` is known ("day" or "month"; "month" means the day is a guess).
    `matches` are the sentence's `date_matches`, when the caller already has them.
    """
    found: list[DateMention] = []
    exact_day = precision != "month"
    slack = 0 if exact_day else 16
    for match in DATE_RE.finditer(sentence) if matches is None else matches:
        groups = match.groupdict()
        want = _tense(sentence, match.start(), match.end()) if direction == "tense" else direction
        value: str | None = None
        if groups["iy"]:
            try:
                value = date(int(groups["iy"]), int(groups["im"]), int(groups["id"])).isoformat()
            except ValueError:
                value = None
        elif groups["m1"] or groups["m2"] or groups["m6"]:
            month = _month(groups["m1"] or groups["m2"] or groups["m6"])
            day = (
                _ordinal(groups["d6"])
                if groups["d6"]
                else int(re.sub(r"\D", "", groups["d1"] or groups["d2"]))
            )
            year = groups["y1"] or groups["y2"] or groups["y6"]
            relative = groups["r1"] or groups["r2"]
            if relative and published is not None:
                year = str(published.year + _REL_SHIFT[relative.lower()])
            if year:
                try:
                    value = date(int(year), month, day).isoformat()
                except ValueError:
                    value = None
            elif published is not None:
                placed = _place_year(month, day, published, want, slack)
                value = placed.isoformat() if placed else None
        elif groups["m3"]:
            value = f"{int(groups['y3']):04d}-{_month(groups['m3']):02d}"
        elif groups["m5"]:
            if published is not None:
                year_number = published.year + _REL_SHIFT[groups["r5"].lower()]
                value = f"{year_number:04d}-{_month(groups['m5']):02d}"
        elif groups["m7"]:
            if (
                published is not None
            ):  # "next October": the first after this month; "last October" the one before
                month = _month(groups["m7"])
                shift = groups["rl"].lower()
                year_number = published.year
                if shift == "next" and month <= published.month:
                    year_number += 1
                elif shift == "last" and month >= published.month:
                    year_number -= 1
                value = f"{year_number:04d}-{month:02d}"
        elif groups["rm"]:
            if published is not None:  # "last month", "this month", "next month": a month, known either way
                months = published.year * 12 + published.month - 1 + _REL_SHIFT[groups["rm"].lower()]
                value = f"{months // 12:04d}-{months % 12 + 1:02d}"
        elif groups["m4"]:
            token = groups["m4"]
            if token == "May" and not re.search(
                r"\b(?:in|by|until|since|of|from|to|early|late|mid-?)\s+$",
                sentence[: match.start()],
                re.IGNORECASE,
            ):
                continue  # "May" is also a modal verb
            if published is not None:
                placed = _place_year(_month(token), 1, published.replace(day=1), want, 0)
                value = placed.isoformat()[:7] if placed else None
        elif groups["wd"]:
            if published is None or not exact_day:
                continue
            weekday = _WEEKDAYS[groups["wd"][:3].lower()]
            rel = (groups["rel"] or "").lower()
            if rel == "next" or (rel != "last" and want == "future"):
                delta = (weekday - published.weekday()) % 7
                if rel == "next" and delta == 0:
                    delta = 7
                value = (published + timedelta(days=delta)).isoformat()
            else:
                delta = (published.weekday() - weekday) % 7
                if rel == "last" and delta == 0:
                    delta = 7
                value = (published - timedelta(days=delta)).isoformat()
            named_day = _WEEKDAY_DAY.match(sentence, match.end())
            if named_day is not None:
                value = _weekday_on(
                    date.fromisoformat(value),
                    int(named_day.group(1)),
                    rel != "last" and (rel == "next" or want == "future"),
                )
        elif groups["word"]:
            if published is None or not exact_day:
                continue
            shift = {"yesterday": -1, "tomorrow": 1}.get(groups["word"], 0)  # "tonight": today
            value = (published + timedelta(days=shift)).isoformat()
        if value is not None:
            found.append(DateMention(value=value, start=match.start(), end=match.end()))
    return found


def _weekday_on(first: date, day: int, forward: bool) -> str | None:
    """The same weekday as `first`, at most four weeks on (or back), that falls on `day`; None if none."""
    step = timedelta(days=7 if forward else -7)
    for weeks in range(5):
        candidate = first + step * weeks
        if candidate.day == day:
            return candidate.isoformat()
    return None


def date_bounds(value: str) -> tuple[date, date]:
    """First and last day a "YYYY-MM-DD" or "YYYY-MM" value covers."""
    if len(value) == 7:
        first = date(int(value[:4]), int(value[5:7]), 1)
        following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        return first, following - timedelta(days=1)
    day = date.fromisoformat(value)
    return day, day
