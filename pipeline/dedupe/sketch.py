"""Fingerprints: a hash of the normalized text and a MinHash of its word shingles.

The MinHash is stored with the article so the near-duplicate index can be rebuilt after a restart without
reading any text back. Stored format (``Article.minhash``), little-endian::

    byte 0      format version (1)
    bytes 1-2   num_perm (uint16)
    bytes 3-6   number of distinct shingles in the text (uint32), needed to turn a Jaccard estimate
                into a containment estimate
    bytes 7-    num_perm hash values, uint32 each (datasketch's "affine32" scheme, seed 1)

so 7 + 4 * num_perm bytes: 519 bytes at the default 128 permutations.

Shingle hashes are CRC-32 of the UTF-8 shingle: stable across processes and machines (Python's own
``hash`` is salted per process) and fast; datasketch pre-mixes every input hash with the MurmurHash3
finalizer before permuting, so CRC-32's linearity does not leak into the sketch.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from pipeline.dedupe.text import normalize_text, shingles, words

FORMAT_VERSION = 1
SEED = 1
SCHEME = "affine32"
_HEADER = struct.Struct("<BHI")
_MAX_UINT32 = np.uint32(0xFFFFFFFF)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What dedup needs to know about one text; computing it needs no database."""

    content_hash: str  # sha256 hex of the normalized text
    minhash: bytes  # the stored MinHash blob, format above
    shingles: int  # distinct word shingles
    words: int

    @property
    def hashvalues(self) -> np.ndarray:
        return decode(self.minhash)[1]


def encode(hashvalues: np.ndarray, shingle_count: int) -> bytes:
    values = np.asarray(hashvalues, dtype="<u4")
    return _HEADER.pack(FORMAT_VERSION, len(values), min(shingle_count, 0xFFFFFFFF)) + values.tobytes()


def decode(blob: bytes) -> tuple[int, np.ndarray]:
    """(shingle count, hash values) of a stored blob; ValueError when it is not in the format above."""
    if len(blob) < _HEADER.size:
        raise ValueError(f"MinHash blob of {len(blob)} bytes is shorter than its header")
    version, num_perm, count = _HEADER.unpack_from(blob)
    if version != FORMAT_VERSION:
        raise ValueError(f"MinHash blob has format version {version}, expected {FORMAT_VERSION}")
    if len(blob) != _HEADER.size + 4 * num_perm:
        raise ValueError(f"MinHash blob of {len(blob)} bytes does not hold {num_perm} permutations")
    return count, np.frombuffer(blob, dtype="<u4", offset=_HEADER.size)


def blob_num_perm(blob: bytes) -> int:
    return int(_HEADER.unpack_from(blob)[1]) if len(blob) >= _HEADER.size else -1


class Sketcher:
    """Builds fingerprints with one fixed set of permutations, shared by every sketch it makes."""

    def __init__(self, num_perm: int, shingle_words: int) -> None:
        if num_perm < 2 or num_perm > 0xFFFF:
            raise ValueError(f"dedup num_perm must be between 2 and 65535, got {num_perm}")
        if shingle_words < 1:
            raise ValueError(f"dedup shingle_words must be at least 1, got {shingle_words}")
        self.num_perm = num_perm
        self.shingle_words = shingle_words
        self._permutations = MinHash(num_perm=num_perm, seed=SEED, scheme=SCHEME).permutations

    def fingerprint(self, text: str) -> Fingerprint:
        normalized = normalize_text(text)
        tokens = words(normalized)
        grams = shingles(tokens, self.shingle_words)
        sketch = MinHash(
            num_perm=self.num_perm,
            seed=SEED,
            hashfunc=zlib.crc32,
            permutations=self._permutations,
            scheme=SCHEME,
        )
        sketch.update_batch([g.encode("utf-8") for g in grams])
        return Fingerprint(
            content_hash=hashlib.sha256(normalized.encode("utf-8")).hexdigest(),
            minhash=encode(sketch.hashvalues, len(grams)),
            shingles=len(grams),
            words=len(tokens),
        )


def similarity(
    query: np.ndarray, query_shingles: int, others: np.ndarray, other_shingles: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Estimated Jaccard similarity and containment of `query` against each row of `others`.

    Containment is the share of the smaller text's shingles found in the larger one, estimated from the
    Jaccard estimate J and both sizes: |A ∩ B| = J (|A| + |B|) / (1 + J). It is what catches a copy
    that kept only the first half of a story, whose Jaccard similarity is only about 0.5.
    """
    jaccard = np.count_nonzero(others == query[None, :], axis=1) / query.shape[0]
    sizes = other_shingles.astype(np.float64)
    inter = jaccard * (sizes + query_shingles) / (1.0 + jaccard)
    smaller = np.maximum(np.minimum(sizes, float(query_shingles)), 1.0)
    return jaccard, np.minimum(inter / smaller, 1.0)
