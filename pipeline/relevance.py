"""Is a page about the topic? Cheap keyword evidence, so unrelated pages never reach the fact engine."""

from __future__ import annotations

import re
from collections.abc import Sequence


class Relevance:
    def __init__(self, keywords: Sequence[str], min_hits: int = 1) -> None:
        words = sorted({k.strip() for k in keywords if k.strip()}, key=len, reverse=True)
        self.min_hits = min_hits
        self._pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)
            if words
            else None
        )

    def hits(self, text: str) -> int:
        if self._pattern is None:
            return self.min_hits
        return len({m.group(0).lower() for m in self._pattern.finditer(text)})

    def is_relevant(self, title: str | None, text: str) -> bool:
        """Distinct keywords in title and text must reach `min_hits`; no keywords means all pages count."""
        return self.hits(f"{title or ''}\n{text}") >= self.min_hits
