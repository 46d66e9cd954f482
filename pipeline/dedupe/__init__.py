"""Dedup: the same story once, its copies linked in a cluster, its edits kept as versions.

See `pipeline.dedupe.deduper` for the layers and `pipeline.dedupe.sketch` for the stored MinHash format.
"""

from __future__ import annotations

from pipeline.dedupe.deduper import Deduper, Verdict, VerdictKind
from pipeline.dedupe.sketch import Fingerprint
from pipeline.dedupe.text import normalize_text, title_key

__all__ = ["Deduper", "Fingerprint", "Verdict", "VerdictKind", "normalize_text", "title_key"]
