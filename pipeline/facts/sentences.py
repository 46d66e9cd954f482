"""Sentence boundaries, found only in the paragraphs that hold a cue word.

Cleaned text has one paragraph per line. Only the few paragraphs with a trigger word are ever split
(once each, cached), so extraction never segments a whole article up front.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_CLOSERS = "\"'”’)]»"
_ABBREVIATIONS = frozenset([
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "sgt", "st", "jr", "sr", "no", "nos",
    "vs", "etc", "inc", "ltd", "co", "corp", "dept", "gov", "sen", "rep", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft", "approx", "est", "fig", "res",
])  # fmt: skip
_END_MARK = re.compile(r"[.!?]+[\"'”’)\]»]*(?=\s)")
_REACH = 2000  # a "paragraph" longer than this is a page fragment, read in blocks of this size


def _ends_sentence(text: str, mark_start: int, mark_end: int) -> bool:
    """Whether punctuation at text[mark_start:mark_end] (followed by white space) ends a sentence."""
    if text[mark_start] == ".":
        word_start = mark_start
        while word_start > 0 and (text[word_start - 1].isalnum() or text[word_start - 1] == "."):
            word_start -= 1
        word = text[word_start:mark_start]
        last = word.rsplit(".", 1)[-1]
        if word.lower() in _ABBREVIATIONS or (len(last) == 1 and last.isalpha() and last.isupper()):
            return False
        following = mark_end
        length = len(text)
        while following < length and text[following] in " \t\u00a0":
            following += 1
        if following < length and text[following].islower():
            return False
    return True


def _split_span(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as (start, end) pairs, stripped of white space."""
    spans: list[tuple[int, int]] = []
    begin = start
    for mark in _END_MARK.finditer(text, start, end):
        if _ends_sentence(text, mark.start(), mark.end()):
            spans.append((begin, mark.end()))
            begin = mark.end()
    spans.append((begin, end))
    stripped: list[tuple[int, int]] = []
    for left, right in spans:
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if right > left:
            stripped.append((left, right))
    return stripped


class SentenceIndex:
    """Finds the sentence around a position, splitting each paragraph at most once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._paragraphs: dict[int, tuple[list[int], list[tuple[int, int]]]] = {}

    def at(self, pos: int) -> tuple[int, int]:
        """(start, end) of the sentence holding `pos`; white space around it excluded."""
        starts, spans = self._paragraph(pos)
        index = max(0, bisect_right(starts, pos) - 1)
        return spans[index]

    def preceding(self, pos: int) -> tuple[int, int] | None:
        """The sentence just before the one holding `pos`: in its paragraph, else the previous one's last."""
        starts, spans = self._paragraph(pos)
        index = max(0, bisect_right(starts, pos) - 1)
        if index:
            return spans[index - 1]
        text = self.text
        pos = spans[0][0]
        while pos > 0 and text[pos - 1].isspace():
            pos -= 1
        return self.at(pos - 1) if pos > 0 else None

    def following(self, end: int) -> tuple[int, int] | None:
        """The sentence after the one ending at `end`, in the same paragraph or the next one."""
        text = self.text
        pos = end
        length = len(text)
        while pos < length and text[pos].isspace():
            pos += 1
        return self.at(pos) if pos < length else None

    def _paragraph(self, pos: int) -> tuple[list[int], list[tuple[int, int]]]:
        text = self.text
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        if end < 0:
            end = len(text)
        if end - start > _REACH:
            # A run-on "paragraph" (no line breaks): read it in fixed blocks so each is split once.
            start += (pos - start) // _REACH * _REACH
            end = min(end, start + _REACH)
        cached = self._paragraphs.get(start)
        if cached is None:
            spans = _split_span(text, start, end) or [(start, end)]
            cached = ([s for s, _ in spans], spans)
            self._paragraphs[start] = cached
        return cached


def sentence_at(text: str, pos: int) -> tuple[int, int]:
    """Start and end of the sentence holding `pos`, without surrounding white space."""
    return SentenceIndex(text).at(pos)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Every sentence of the text as (start, end); for tests and tools, the engine reads only a few."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        spans.extend(_split_span(text, pos, pos + len(line)))
        pos += len(line) + 1
    return spans
