"""Text normalization shared by every dedup layer.

Two copies of a story differ in typography long before they differ in words: curly or straight quotes,
en or em dashes, non-breaking spaces, capitalised headlines. Normalizing these first means the content
hash only changes when the words or punctuation really change, and the shingles of a wire copy line up
with the original's.
"""

from __future__ import annotations

import re
import unicodedata

# Typographic variants mapped to one ASCII form. NFKC already folds non-breaking spaces and ellipses.
_PUNCT = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "′": "'",
        "`": "'",
        "´": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "″": '"',
        "«": '"',
        "»": '"',
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
        "\u00ad": None,  # soft hyphen: invisible, but breaks words apart for the tokenizer
        "\u200b": None,  # zero-width space
        "\ufeff": None,
    }
)
_SPACES = re.compile(r"[^\S\n]+")
# A word keeps inner apostrophes and number separators ("don't", "2,500", "3.5") so an edit of a figure
# changes a shingle instead of vanishing between two tokens.
_WORD = re.compile(r"\w+(?:['.,]\w+)*")
_NON_ALNUM = re.compile(r"\W+")
_TITLE_SEPARATORS = re.compile(r"\s+[|–—-]\s+|\s*\|\s*")


def normalize_text(text: str) -> str:
    """Lower-case, typography folded to ASCII, whitespace collapsed, one non-empty line per paragraph."""
    folded = unicodedata.normalize("NFKC", text).translate(_PUNCT).casefold()
    lines = (_SPACES.sub(" ", line).strip() for line in folded.splitlines())
    return "\n".join(line for line in lines if line)


def words(normalized: str) -> list[str]:
    """The word tokens of already-normalized text; punctuation and line breaks are not words."""
    return _WORD.findall(normalized)


def shingles(tokens: list[str], size: int) -> set[str]:
    """Distinct runs of `size` consecutive words; a text shorter than that is one shingle."""
    if not tokens:
        return set()
    if len(tokens) <= size:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def _compact(value: str) -> str:
    return _NON_ALNUM.sub("", normalize_text(value))


def _publisher_names(publisher: str) -> set[str]:
    """The publisher as written and, when it is a host name, without "www." and the top-level domain."""
    names = {_compact(publisher)}
    host = publisher.strip().lower().removeprefix("www.")
    if "." in host and " " not in host:
        names.add(_compact(host.rsplit(".", 1)[0]))
    names.discard("")
    return names


def title_key(title: str | None, publisher: str | None = None) -> str | None:
    """A headline reduced to its words, without a trailing " | Publisher" or " - Publisher" part.

    Sites append their own name to the title tag; the same headline must compare equal with or without it.
    """
    if not title:
        return None
    parts = [p for p in _TITLE_SEPARATORS.split(unicodedata.normalize("NFKC", title).strip()) if p.strip()]
    if len(parts) > 1 and publisher and _compact(parts[-1]) in _publisher_names(publisher):
        parts = parts[:-1]
    key = " ".join(words(normalize_text(" ".join(parts))))
    return key or None
