"""Sentence boundaries found around a position, not by splitting the whole text.

Only the few sentences that hold a cue word are ever read, so finding a sentence's edges with
`str.rfind`/`str.find` from the cue is much cheaper than segmenting every article up front.
"""

from __future__ import annotations

_ENDERS = ".?!"
_CLOSERS = "\"'”’)]»"
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen lt col maj capt sgt st jr sr no nos vs etc inc ltd co corp dept gov sen rep
    jan feb mar apr jun jul aug sep sept oct nov dec mt ft approx est fig""".split()
)


def _is_boundary(text: str, dot: int) -> int | None:
    """Where the next sentence may start if the punctuation at `dot` ends one, else None."""
    char = text[dot]
    if char == "\n":
        return dot + 1
    end = dot + 1
    length = len(text)
    while end < length and text[end] in _CLOSERS:
        end += 1
    if end >= length:
        return end
    if not text[end].isspace():
        return None
    if char == ".":
        word_start = dot
        while word_start > 0 and (text[word_start - 1].isalnum() or text[word_start - 1] == "."):
            word_start -= 1
        word = text[word_start:dot]
        last = word.rsplit(".", 1)[-1]
        if word.lower() in _ABBREVIATIONS or (len(last) == 1 and last.isalpha() and last.isupper()):
            return None
        following = end
        while following < length and text[following] in " \t":
            following += 1
        if following < length and text[following].islower():
            return None
    return end


def _start_of(text: str, pos: int) -> int:
    limit = pos
    while True:
        candidates = [text.rfind(c, 0, limit) for c in "\n.?!"]
        mark = max(candidates)
        if mark < 0:
            return 0
        boundary = _is_boundary(text, mark)
        if boundary is not None and boundary <= pos:
            return boundary
        limit = mark


def _end_of(text: str, pos: int) -> int:
    start = pos
    length = len(text)
    while True:
        found = [i for i in (text.find(c, start) for c in "\n.?!") if i >= 0]
        if not found:
            return length
        mark = min(found)
        if text[mark] == "\n":
            return mark
        boundary = _is_boundary(text, mark)
        if boundary is not None:
            end = mark + 1
            while end < length and text[end] in _CLOSERS:
                end += 1
            return end
        start = mark + 1


def sentence_at(text: str, pos: int) -> tuple[int, int]:
    """Start and end of the sentence holding `pos`, without surrounding white space."""
    start = _start_of(text, pos)
    end = _end_of(text, pos)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Every sentence of the text as (start, end); for tests and tools, the engine reads only a few."""
    spans: list[tuple[int, int]] = []
    pos = 0
    length = len(text)
    while pos < length:
        while pos < length and text[pos].isspace():
            pos += 1
        if pos >= length:
            break
        start, end = sentence_at(text, pos)
        if end <= pos:
            end = _end_of(text, pos + 1)
        spans.append((start, end))
        pos = max(end, pos + 1)
    return spans
