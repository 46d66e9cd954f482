"""A compact MinHash LSH index (banding), held in sorted numpy arrays.

Banding is the classic scheme (split the num_perm values of a sketch into `bands` runs of `rows`; two
sketches are candidates when any run is identical), the same one datasketch's ``MinHashLSH`` uses. That
class keeps one Python ``set`` per bucket per band; measured here it needs about 1.4 GB for 100,000
sketches at 42 bands, and a news watcher keeps weeks of articles in memory. This index keeps one 64-bit
key and one slot number per band per sketch in two sorted arrays (12 bytes each, ~50 MB per 100,000
sketches at 42 bands), plus a small dict of recent insertions that is merged into the arrays in batches,
so inserts stay cheap and lookups are a binary search.

Slots, not article ids, name the entries: a slot is never reused, so an entry removed after a rolled
back transaction cannot come back when the database hands its article id to another row.
"""

from __future__ import annotations

import numpy as np

_MIN_BUFFER = 8192
_MAX_BUFFER = 262144
_PRIME = np.uint64(0x100000001B3)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def lsh_params(num_perm: int, rows: int | None = None) -> tuple[int, int]:
    """(bands, rows) for the index.

    Three rows per band at 128 permutations (42 bands) finds a pair with Jaccard similarity 0.4 with
    probability 0.94 and one at 0.5 with 0.996: low enough to surface a copy trimmed to half its length,
    whose Jaccard similarity is about 0.5, so containment can verify it. Unrelated texts (Jaccard near
    0.02) collide with probability 3e-4. Every candidate is verified before it counts.
    """
    if rows is None:
        rows = 3 if num_perm >= 48 else 2
    rows = max(1, min(rows, num_perm // 2))
    return num_perm // rows, rows


class BandIndex:
    """Maps sketches to slots; `query` returns the live slots sharing at least one band with a sketch."""

    def __init__(self, num_perm: int, rows: int | None = None) -> None:
        self.num_perm = num_perm
        self.bands, self.rows = lsh_params(num_perm, rows)
        self._band_ids = np.arange(self.bands, dtype=np.uint64) * _GOLDEN
        self._keys = np.empty(0, dtype=np.uint64)
        self._slots = np.empty(0, dtype=np.int64)
        # Recent insertions: key -> slot (a list of slots on the rare collision), plus the same pairs in
        # insertion order for the next merge.
        self._buffer: dict[int, int | list[int]] = {}
        self._buffer_keys: list[int] = []
        self._buffer_slots: list[int] = []
        self._alive = bytearray()
        self._live = 0
        self._removed_since_compact = 0

    def __len__(self) -> int:
        return self._live

    def __contains__(self, slot: int) -> bool:
        return 0 <= slot < len(self._alive) and self._alive[slot] == 1

    def band_keys(self, hashvalues: np.ndarray) -> np.ndarray:
        used = np.asarray(hashvalues[: self.bands * self.rows], dtype=np.uint64).reshape(
            self.bands, self.rows
        )
        key = np.zeros(self.bands, dtype=np.uint64)
        for column in range(self.rows):
            key = key * _PRIME + used[:, column]
        key ^= self._band_ids
        # MurmurHash3 64-bit finalizer, so keys of neighbouring bands do not cluster in the sorted array.
        key ^= key >> _S33
        key *= _M1
        key ^= key >> _S33
        key *= _M2
        key ^= key >> _S33
        return key

    def add(self, hashvalues: np.ndarray) -> int:
        slot = len(self._alive)
        self._alive.append(1)
        self._live += 1
        keys = self.band_keys(hashvalues).tolist()
        buffer = self._buffer
        for key in buffer.keys() & keys:  # rare: another sketch shares this band
            held = buffer[key]
            buffer[key] = [*held, slot] if isinstance(held, list) else [held, slot]
        buffer.update((key, slot) for key in keys if key not in buffer)
        self._buffer_keys.extend(keys)
        self._buffer_slots.extend([slot] * len(keys))
        if len(self._buffer_keys) >= min(max(_MIN_BUFFER, len(self._keys) // 8), _MAX_BUFFER):
            self._merge()
        return slot

    def remove(self, slot: int) -> None:
        if slot not in self:
            return
        self._alive[slot] = 0
        self._live -= 1
        self._removed_since_compact += 1
        if self._removed_since_compact * self.bands * 2 > max(len(self._keys), _MIN_BUFFER):
            self._compact()

    def query(self, hashvalues: np.ndarray) -> set[int]:
        keys = self.band_keys(hashvalues)
        found: set[int] = set()
        if len(self._keys):
            lo = np.searchsorted(self._keys, keys, side="left")
            hi = np.searchsorted(self._keys, keys, side="right")
            for start, stop in zip(lo[hi > lo].tolist(), hi[hi > lo].tolist(), strict=True):
                found.update(self._slots[start:stop].tolist())
        if self._buffer:
            for key in keys.tolist():
                hit = self._buffer.get(key)
                if hit is None:
                    continue
                if isinstance(hit, list):
                    found.update(hit)
                else:
                    found.add(hit)
        alive = self._alive
        return {slot for slot in found if alive[slot]}

    def _merge(self) -> None:
        """Fold the buffer into the sorted arrays; dead entries of the buffer are dropped on the way."""
        keys = np.array(self._buffer_keys, dtype=np.uint64)
        slots = np.array(self._buffer_slots, dtype=np.int64)
        self._buffer.clear()
        self._buffer_keys.clear()
        self._buffer_slots.clear()
        live = np.frombuffer(bytes(self._alive), dtype=np.uint8)[slots] == 1
        keys, slots = keys[live], slots[live]
        order = np.argsort(keys, kind="stable")
        keys, slots = keys[order], slots[order]
        where = np.searchsorted(self._keys, keys, side="right")
        self._keys = np.insert(self._keys, where, keys)
        self._slots = np.insert(self._slots, where, slots)

    def _compact(self) -> None:
        alive = np.frombuffer(bytes(self._alive), dtype=np.uint8)
        keep = alive[self._slots] == 1
        self._keys = self._keys[keep]
        self._slots = self._slots[keep]
        self._removed_since_compact = 0

    def memory_bytes(self) -> int:
        """Approximate bytes held, for benchmarks and logs."""
        return int(self._keys.nbytes + self._slots.nbytes + len(self._alive) + len(self._buffer_keys) * 100)
