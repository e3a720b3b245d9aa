"""Near-duplicate cache for embeddings, keyed by 64-bit SimHash fingerprints (never by text).

Why: sign-up texts repeat (templates, copy-paste, retries with a trailing "!" or emoji), and
an identical or near-identical text can reuse the embedding instead of running the encoder.

Fingerprint (``fingerprint``)
    Canonical text: ``normalize_text`` (NFKC, controls removed), lower-cased, whitespace
    removed; pass text that is already PII-masked (``prepare_text``), as for the encoder.
    Features: every character 2-gram and 3-gram, each hashed to 64 bits by packing its
    code points (21 bits each) into one integer, tagging 3-grams in the top bit, and mixing
    with the splitmix64 finaliser. Packing is injective and the mixer is a bijection, so
    distinct shingles never collide; it is pure integer arithmetic, identical in every
    process and on every platform (Python's ``hash()`` is salted per process), and runs
    vectorised in numpy with no per-shingle Python work and no shingle strings at all.
    Bit i of the fingerprint is set when more than half of the shingle hashes have bit i set.

    Texts under ``MIN_SIMHASH_CHARS`` (4) canonical characters give at most 3 shingles,
    too few for a meaningful SimHash: they get a plain 64-bit blake2b hash of the
    canonical text instead and only ever match exactly.

Near matches
    Two fingerprints match when their Hamming distance is at most ``max_distance``
    (default 3). Lookup uses the pigeonhole bands: the 64 bits are cut into
    ``max_distance + 1`` bands; fingerprints within the distance agree on at least one whole
    band, so only entries sharing a band value with the query are compared (4 bands of 16
    bits by default: a few candidates among 10,000 entries, not a scan).

    What distance 3 means for short texts, measured on the 3,600 demo bios (SimHash
    distance follows the angle between the shingle sets, so a one-character edit in a
    30-character text moves ~7 of 64 bits, median): for texts of 30+ characters, a
    character appended at the end stays within 3 bits 63% of the time, one inserted or
    deleted in the middle 14-16%, one substituted 10%; no two distinct demo bios are within
    3 bits (unrelated bios: median 31, minimum 19). ``max_distance=6`` catches 43% of
    substitutions and 98% of appends, and matches two pairs of distinct bios ("...踢毽子🌟"
    / "...踢毽子"), both with the same tags; from 8 bits distinct bios with different tags
    match. The default 3 keeps a reused embedding safe; a miss only costs one encoder run.

Bounded LRU (``cachetools.LRUCache``), ``capacity`` entries; evicting an entry also removes it
from the band index (the SimHash banding is this module's own; the LRU is the library's). The cache holds fingerprints, values and counters: no text,
no shingles. Thread-safe (one lock around each operation).
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Dict, Generic, List, Optional, Set, Tuple, TypeVar

import numpy as np
from cachetools import LRUCache

from .text import normalize_text

__all__ = ["CacheStats", "MIN_SIMHASH_CHARS", "SimHashCache", "canonical", "simhash64"]

V = TypeVar("V")

MIN_SIMHASH_CHARS = 4
_BITS = 64
_M64 = (1 << 64) - 1

# splitmix64 finaliser constants, and the golden-ratio pre-multiplier.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S21, _S27, _S30, _S31 = np.uint64(21), np.uint64(27), np.uint64(30), np.uint64(31)
_TRIGRAM = np.uint64(1 << 63)
# byte value -> its 8 bits spread into 8 one-byte counters: summing these over shingles
# counts every bit position at once (valid while a counter stays below 256).
_SPREAD = np.array([sum(((v >> j) & 1) << (8 * j) for j in range(8)) for v in range(256)], dtype="<u8")
_SPREAD_MAX_ROWS = 255

if hasattr(int, "bit_count"):  # Python 3.10+
    def _popcount(x: int) -> int:
        return x.bit_count()
else:  # Python 3.9
    def _popcount(x: int) -> int:
        return bin(x).count("1")


def canonical(text: str) -> str:
    """The form that is fingerprinted: normalised, lower-cased, without whitespace."""
    return normalize_text(text).lower().replace(" ", "")


def _shingle_hashes(canon: str) -> np.ndarray:
    cp = np.frombuffer(canon.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    bigrams = (cp[:-1] << _S21) | cp[1:]
    trigrams = ((bigrams[:-1] << _S21) | cp[2:]) | _TRIGRAM
    x = np.concatenate((bigrams, trigrams))
    x *= _GOLDEN
    x ^= x >> _S30
    x *= _MIX1
    x ^= x >> _S27
    x *= _MIX2
    x ^= x >> _S31
    return x


def _majority_bits(hashes: np.ndarray) -> int:
    """Bit i set when more than half of ``hashes`` have bit i set."""
    n = len(hashes)
    raw = hashes.astype("<u8", copy=False).view(np.uint8)  # byte b of each hash = bits 8b..8b+7
    if n <= _SPREAD_MAX_ROWS:
        counts = _SPREAD.take(raw).reshape(n, 8).sum(axis=0).astype("<u8", copy=False).view(np.uint8)
    else:
        counts = np.unpackbits(raw, bitorder="little").reshape(n, _BITS).sum(axis=0)
    on = np.packbits(counts > (n >> 1), bitorder="little")  # count > n/2 <=> count > floor(n/2)
    return int.from_bytes(on.tobytes(), "little")


def simhash64(canon: str) -> int:
    """64-bit SimHash of the 2- and 3-character shingles of ``canon`` (needs >= 3 characters)."""
    if len(canon) < 3:
        raise ValueError("simhash64 needs at least 3 characters")
    return _majority_bits(_shingle_hashes(canon))


def _exact_hash(canon: str) -> int:
    return int.from_bytes(hashlib.blake2b(canon.encode("utf-8"), digest_size=8).digest(), "little")


def _band_spec(max_distance: int) -> Tuple[Tuple[int, int], ...]:
    """(shift, mask) of ``max_distance + 1`` bands covering the 64 bits, widths differing by <= 1."""
    bands = max_distance + 1
    base, extra = divmod(_BITS, bands)
    spec = []
    shift = 0
    for b in range(bands):
        width = base + (1 if b < extra else 0)
        spec.append((shift, (1 << width) - 1))
        shift += width
    return tuple(spec)


@dataclass(frozen=True)
class CacheStats:
    """``hits`` counts every ``get`` that returned a value; ``near_hits`` the non-exact ones among them."""

    hits: int
    misses: int
    near_hits: int
    size: int

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


_MISSING = object()


class _Entries(LRUCache):
    """fingerprint -> value, least recently used evicted first; tells the band index what it evicts."""

    def __init__(self, capacity: int, on_evict):
        super().__init__(maxsize=capacity)
        self._on_evict = on_evict

    def popitem(self):
        fp, value = super().popitem()
        self._on_evict(fp)
        return fp, value


class SimHashCache(Generic[V]):
    """LRU cache text -> value (an embedding) that also answers for near-identical texts."""

    def __init__(self, capacity: int = 10000, max_distance: int = 3):
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        if not 0 <= max_distance <= 15:
            raise ValueError("max_distance must be in 0..15 (bands narrower than 4 bits scan too much)")
        self.capacity = int(capacity)
        self.max_distance = int(max_distance)
        self._entries = _Entries(self.capacity, self._unindex)
        self._exact_only: Set[int] = set()  # fingerprints of short texts: not in the band index
        self._bands = _band_spec(self.max_distance)
        self._index: List[Dict[int, List[int]]] = [{} for _ in self._bands]  # band value -> fingerprints
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._near_hits = 0

    # ------------------------------------------------------------------ fingerprints

    @staticmethod
    def key(text: str) -> Tuple[int, bool]:
        """(fingerprint, exact-only) of ``text``: compute once, pass to ``get`` and then ``put``."""
        canon = canonical(text)
        if len(canon) < MIN_SIMHASH_CHARS:
            return _exact_hash(canon), True
        return simhash64(canon), False

    @staticmethod
    def fingerprint(text: str) -> int:
        """64-bit fingerprint: SimHash for 4+ canonical characters, else a plain hash (exact only)."""
        return SimHashCache.key(text)[0]

    # ------------------------------------------------------------------ lookups

    def _nearest(self, fp: int) -> Optional[int]:
        best: Optional[int] = None
        best_distance = self.max_distance + 1
        for (shift, mask), table in zip(self._bands, self._index):
            bucket = table.get((fp >> shift) & mask)
            if not bucket:
                continue
            for other in bucket:
                d = _popcount(other ^ fp)
                if d < best_distance:
                    best, best_distance = other, d
        return best

    def get(self, text: str, key: Optional[Tuple[int, bool]] = None) -> Optional[V]:
        """The value cached for ``text`` or the nearest near-identical text, else None."""
        fp, short = key or self.key(text)
        with self._lock:
            value = self._entries.get(fp, _MISSING)  # a read marks it recently used
            if value is not _MISSING and (fp in self._exact_only) == short:
                self._hits += 1
                return value  # type: ignore[return-value]
            found = None if short else self._nearest(fp)
            if found is None:
                self._misses += 1
                return None
            self._hits += 1
            self._near_hits += 1
            return self._entries[found]

    def put(self, text: str, value: V, key: Optional[Tuple[int, bool]] = None) -> int:
        """Cache ``value`` under the fingerprint of ``text``; returns the fingerprint."""
        if value is None:
            raise ValueError("None cannot be cached (get returns None for a miss)")
        fp, short = key or self.key(text)
        with self._lock:
            self._insert(fp, short, value)
        return fp

    def _insert(self, fp: int, short: bool, value: V) -> None:
        if fp in self._entries:
            self._unindex(fp)
            del self._entries[fp]
        self._entries[fp] = value  # evicts (and unindexes) the least recently used when full
        if short:
            self._exact_only.add(fp)
        else:
            for (shift, mask), table in zip(self._bands, self._index):
                table.setdefault((fp >> shift) & mask, []).append(fp)

    def _unindex(self, fp: int) -> None:
        if fp in self._exact_only:
            self._exact_only.discard(fp)
            return
        for (shift, mask), table in zip(self._bands, self._index):
            band = (fp >> shift) & mask
            bucket = table[band]
            bucket.remove(fp)
            if not bucket:
                del table[band]

    def clear(self) -> None:
        with self._lock:
            self._entries = _Entries(self.capacity, self._unindex)
            self._exact_only.clear()
            for table in self._index:
                table.clear()

    # ------------------------------------------------------------------ introspection

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def stats(self) -> CacheStats:
        return CacheStats(self._hits, self._misses, self._near_hits, len(self._entries))

    @property
    def index_size(self) -> int:
        """Fingerprints referenced by the band index (bands x entries that are not exact-only)."""
        return sum(len(bucket) for table in self._index for bucket in table.values())
