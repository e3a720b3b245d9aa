"""A stratified sample of the active users for the serving index: its size is a setting, not the user count.

Why: the Lambda downloads and hashes the whole index at every cold start. Every active user in it
costs 91 MB per 100k users at 192 dims and 369 MB at 768 (bench/README.md): a 1M x 768 index is
~3.7 GB, which no Lambda can load inside its 10 s init. The neighbours' *vote* needs a
representative population, not every user: bench/scale.py measures how many users it takes to
give the same top tag as the full population (the defaults in infra/jobs/build_index.py come
from that curve).

How a user is chosen (deterministic for a seed, independent of chunk order and sharding):
  priority   p(user) = the first 8 bytes of BLAKE2b(seed, user_key) as a number in [0, 1): a
             uniformly random order that stays the same across rebuilds, so the same users stay
             in the index when the population changes a little (stable neighbours, stable profiles).
  strata     the user's tag set (sorted; no tags is a stratum of its own). Seats are given to
             strata in proportion to their size by the largest-remainder method, so every tag set,
             and so every tag, is represented in proportion (to within one seat per tag set); a tag
             that rounding would drop altogether still gets one seat.
  activity   within a stratum the candidates are sorted by activity (the input's optional
             "activity" field, e.g. active days in the last 30) and taken systematically (every
             m/q-th from a seeded offset), which keeps the stratum's activity distribution
             (implicit stratification: no activity bucket edges to choose, no second pass).
  streaming  rows arrive chunk by chunk; only candidates are kept: every user with
             p < oversample * size / population, plus the `floor` lowest priorities of each
             stratum above that threshold (so a stratum of 3 users still has its 3 candidates).
             Both are prefixes of the priority order, so the candidates of a stratum are a
             uniform random subset of it. Memory is ~oversample * size rows, not the population.
             When a stratum has fewer candidates than seats (rare: the threshold expects 1.5x the
             seats), the missing seats go to the strata with candidates to spare.
"""
from __future__ import annotations

import hashlib
import heapq
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

NO_TAGS = ""          # the stratum of users without tags
_SEP = "\x1f"         # between the tags of a stratum key (a tag never contains it: input tags are text)
OVERSAMPLE = 1.5
FLOOR = 16


def stratum_of(tags: Sequence[str]) -> str:
    """The stratum key of a user: its tag set, sorted (``NO_TAGS`` when it has none)."""
    return _SEP.join(sorted(set(tags)))


def tags_of_stratum(key: str) -> List[str]:
    return key.split(_SEP) if key else []


def priorities(user_keys: Sequence[str], seed: int) -> np.ndarray:
    """Each user's place in the seeded random order, in [0, 1) (float64, 53 bits).

    FNV-1a over the key's UTF-8 bytes, seeded, then the splitmix64 finaliser: vectorised over a
    chunk (a Python hash per row cost ~10 us, i.e. ~17 min for 100M users). Not cryptographic, and
    it need not be: user keys are already HMACs, the order only has to be uniform and repeatable."""
    if len(user_keys) == 0:
        return np.zeros(0, dtype=np.float64)
    raw = np.array([k.encode("utf-8") for k in user_keys], dtype=bytes)
    width = raw.dtype.itemsize
    cols = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(len(user_keys), width).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = np.full(len(user_keys), _FNV_OFFSET ^ _mix(np.uint64(seed & _MASK)), dtype=np.uint64)
        for j in range(width):  # zero padding past a key's end hashes like the end itself: keys have no NUL
            h = (h ^ cols[:, j]) * _FNV_PRIME
        h = _mix(h)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


_MASK = (1 << 64) - 1
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


def _mix(x):
    """splitmix64's finaliser (numpy uint64 arithmetic wraps, as it should)."""
    with np.errstate(over="ignore"):
        x = np.asarray(x, dtype=np.uint64)
        x = (x + np.uint64(0x9E3779B97F4A7C15))
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def largest_remainder(counts: Dict[str, int], seats: int) -> Dict[str, int]:
    """Seats per stratum in proportion to ``counts`` (Hamilton's method); sums to ``seats``.
    Ties in the remainder go to the larger stratum, then to the key (deterministic)."""
    total = sum(counts.values())
    if total == 0 or seats <= 0:
        return {k: 0 for k in counts}
    seats = min(seats, total)
    quota = {k: seats * c / total for k, c in counts.items()}
    out = {k: int(math.floor(q)) for k, q in quota.items()}
    left = seats - sum(out.values())
    order = sorted(counts, key=lambda k: (-(quota[k] - out[k]), -counts[k], k))
    for k in order[:left]:
        out[k] += 1
    return out


@dataclass
class SampleReport:
    """What the sample looks like next to the population (printed by build-index, kept in its manifest)."""

    population: int
    size: int
    seed: int
    strata: int
    tags: int
    max_tag_share_error: float       # max over tags of |share in sample - share in population|
    tags_missing: int                # tags of the population with no user in the sample
    activity_known: float            # share of the population with an activity value
    # estimated from the candidates (a uniform subset of each stratum), weighted by stratum size
    activity_quartiles_population: Optional[List[float]] = None
    activity_quartiles_sample: Optional[List[float]] = None
    shortfall_seats: int = 0         # seats moved to other strata for want of candidates
    candidates: int = 0

    def to_dict(self) -> Dict:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class Sample:
    """The chosen rows, in priority order, with what the index needs of them."""

    vectors: np.ndarray
    user_keys: List[str]
    tags: List[List[str]]
    activity: np.ndarray
    report: SampleReport


@dataclass
class _Stratum:
    count: int = 0
    # the lowest priorities at or above the threshold, as a max-heap of (-priority, serial)
    floor: List[Tuple[float, int]] = field(default_factory=list)


@dataclass
class _Block:
    """The candidates kept from one offered chunk."""

    vectors: np.ndarray
    user_keys: List[str]
    tags: List[List[str]]
    activity: np.ndarray
    priority: np.ndarray
    strata: List[str]
    serials: np.ndarray
    below: np.ndarray   # under the threshold: always a candidate (else: one while in its stratum's floor)


class StratifiedSampler:
    """Feed it every chunk of the population (``offer``), then ``finish`` for the sample."""

    def __init__(self, size: int, population: int, seed: int = 0, oversample: float = OVERSAMPLE,
                 floor: int = FLOOR):
        if size < 1:
            raise ValueError("sample size must be >= 1")
        if population < 1:
            raise ValueError("population must be >= 1")
        self.size, self.population, self.seed, self.floor = int(size), int(population), int(seed), int(floor)
        self.threshold = min(1.0, oversample * size / population)
        self._strata: Dict[str, _Stratum] = {}
        self._blocks: List[_Block] = []
        self._key_codes: Dict[str, int] = {}
        self._code_keys: List[str] = []
        self._memo: Dict[tuple, int] = {}
        self._activity_known = 0
        self._offered = 0

    def offer(self, vectors: np.ndarray, user_keys: Sequence[str], tags: Sequence[Sequence[str]],
              activity: Optional[np.ndarray] = None, priority: Optional[np.ndarray] = None) -> None:
        """One chunk of users. ``priority`` defaults to ``priorities(user_keys, seed)``;
        ``activity`` to unknown (NaN)."""
        n = len(user_keys)
        if n == 0:
            return
        if len(vectors) != n or len(tags) != n:
            raise ValueError("vectors, user_keys and tags differ in length")
        p = priorities(user_keys, self.seed) if priority is None else np.asarray(priority, dtype=np.float64)
        act = np.full(n, np.nan) if activity is None else np.asarray(activity, dtype=np.float64)
        if len(p) != n or len(act) != n:
            raise ValueError("priority and activity must have one value per user")
        codes = np.fromiter((self._code(t) for t in tags), dtype=np.int64, count=n)
        keys = [self._code_keys[c] for c in codes.tolist()]
        for code, count in zip(*np.unique(codes, return_counts=True)):
            self._strata.setdefault(self._code_keys[int(code)], _Stratum()).count += int(count)
        serials = np.arange(self._offered, self._offered + n)
        self._offered += n
        self._activity_known += int(np.count_nonzero(~np.isnan(act)))
        below = p < self.threshold
        keep = below.copy()
        for i in _lowest_per_group(np.flatnonzero(~below), codes, p, self.floor).tolist():
            heap = self._strata[keys[i]].floor  # the lowest priorities above the threshold, per stratum
            entry = (-float(p[i]), int(serials[i]))
            if len(heap) < self.floor:
                heapq.heappush(heap, entry)
                keep[i] = True
            elif entry > heap[0]:  # a lower priority than the highest one kept
                heapq.heapreplace(heap, entry)
                keep[i] = True
        idx = np.flatnonzero(keep)
        if len(idx):
            self._blocks.append(_Block(np.asarray(vectors)[idx], [user_keys[i] for i in idx],
                                       [list(tags[i]) for i in idx], act[idx], p[idx], [keys[i] for i in idx],
                                       serials[idx], below[idx]))

    def _code(self, tags: Sequence[str]) -> int:
        """The stratum's number, memoised on the tag tuple (a chunk repeats the same few tag sets)."""
        raw = tuple(tags)
        code = self._memo.get(raw)
        if code is None:
            key = stratum_of(raw)
            code = self._key_codes.get(key)
            if code is None:
                code = self._key_codes[key] = len(self._code_keys)
                self._code_keys.append(key)
            self._memo[raw] = code
        return code

    def finish(self) -> Sample:
        if self._offered != self.population:
            raise ValueError(f"offered {self._offered} users, the population was announced as {self.population}")
        candidates = self._candidates()
        counts = {k: s.count for k, s in self._strata.items()}
        seats = largest_remainder(counts, self.size)
        self._every_tag_seated(seats, counts)
        seats, moved = _fill_shortfalls(seats, {k: len(v) for k, v in candidates.items()}, counts)
        chosen: List[Tuple[float, int, int]] = []  # (priority, block, row)
        for key, rows in candidates.items():
            q = seats.get(key, 0)
            if q <= 0:
                continue
            rows.sort()  # by activity (unknown first), then priority
            m = len(rows)
            offset = _unit(self.seed, key)
            picks = [int((j + offset) * m / q) for j in range(q)] if q < m else range(m)
            chosen.extend((rows[i][1], rows[i][2], rows[i][3]) for i in picks)
        chosen.sort()  # priority order: the same whatever order the chunks came in
        return self._assemble(chosen, counts, moved, candidates)

    # -- internals --------------------------------------------------------------------------------
    def _candidates(self) -> Dict[str, List[Tuple[float, float, int, int]]]:
        """Per stratum: (activity key, priority, block, row) of every live candidate."""
        in_floor = {serial for s in self._strata.values() for _, serial in s.floor}
        out: Dict[str, List[Tuple[float, float, int, int]]] = {}
        for b, block in enumerate(self._blocks):
            live = block.below | np.isin(block.serials, np.fromiter(in_floor, dtype=np.int64, count=len(in_floor)))
            for r in np.flatnonzero(live).tolist():
                a = float(block.activity[r])
                out.setdefault(block.strata[r], []).append((-math.inf if a != a else a, float(block.priority[r]), b, r))
        return out

    def _every_tag_seated(self, seats: Dict[str, int], counts: Dict[str, int]) -> None:
        """A tag that rounding left without a seat gets one, taken from the stratum with the most seats."""
        tag_strata: Dict[str, List[str]] = {}
        for key in counts:
            for tag in tags_of_stratum(key):
                tag_strata.setdefault(tag, []).append(key)
        if self.size >= self.population or self.size < 2 * len(tag_strata):
            return
        for tag in sorted(tag_strata):
            if any(seats[k] for k in tag_strata[tag]):
                continue
            home = max(tag_strata[tag], key=lambda k: (counts[k], k))
            donor = max((k for k in seats if seats[k] > 1), key=lambda k: (seats[k], k), default=None)
            if donor is None:
                return
            seats[donor] -= 1
            seats[home] += 1

    def _population_tag_shares(self) -> Dict[str, float]:
        counts: Counter = Counter()
        for key, stratum in self._strata.items():
            for tag in tags_of_stratum(key):
                counts[tag] += stratum.count
        return {t: c / self.population for t, c in counts.items()}

    def _assemble(self, chosen, counts, moved: int, candidates) -> Sample:
        rows = [(self._blocks[b], r) for _, b, r in chosen]
        dim = self._blocks[0].vectors.shape[1] if self._blocks else 0
        vectors = (np.stack([blk.vectors[r] for blk, r in rows]) if rows else np.zeros((0, dim))).astype(np.float32)
        user_keys = [blk.user_keys[r] for blk, r in rows]
        tags = [blk.tags[r] for blk, r in rows]
        activity = np.asarray([blk.activity[r] for blk, r in rows], dtype=np.float64)
        shares = self._population_tag_shares()
        in_sample = Counter(t for row in tags for t in set(row))
        errors = [abs(in_sample.get(t, 0) / max(len(tags), 1) - s) for t, s in shares.items()]
        # the population's activity, estimated from the candidates (a random subset of each stratum)
        # weighted by stratum size / candidates: no population-sized array is kept
        per_stratum = [(rows, counts[key] / len(rows)) for key, rows in candidates.items()]
        candidate_activity = np.array([row[0] for rows, _ in per_stratum for row in rows], dtype=np.float64)
        weights = np.array([w for rows, w in per_stratum for _ in rows], dtype=np.float64)
        report = SampleReport(
            population=self.population, size=len(user_keys), seed=self.seed, strata=len(counts), tags=len(shares),
            max_tag_share_error=round(max(errors, default=0.0), 6),
            tags_missing=sum(1 for t in shares if not in_sample.get(t)),
            activity_known=round(self._activity_known / self.population, 6),
            activity_quartiles_population=_quartiles(candidate_activity, weights),
            activity_quartiles_sample=_quartiles(activity), shortfall_seats=moved,
            candidates=sum(len(rows) for rows in candidates.values()))
        return Sample(vectors, user_keys, tags, activity, report)


def _lowest_per_group(rows: np.ndarray, groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Of ``rows``, those among the ``n`` lowest ``values`` of their group (vectorised: the floor
    heaps then see a few rows per stratum and chunk instead of every row)."""
    if not len(rows):
        return rows
    order = rows[np.lexsort((values[rows], groups[rows]))]
    g = groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return order[rank < n]


def _unit(seed: int, key: str) -> float:
    """A seeded offset in [0, 1) per stratum for the systematic pick."""
    digest = hashlib.blake2b(f"coldstart/offset/{int(seed)}\0{key}".encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / float(1 << 53)


def _quartiles(values: np.ndarray, weights: Optional[np.ndarray] = None) -> Optional[List[float]]:
    """Quartiles of the known (finite) values, weighted when ``weights`` are given."""
    known = np.isfinite(values)
    if not known.any():
        return None
    v = values[known]
    w = np.ones(len(v)) if weights is None else weights[known]
    order = np.argsort(v, kind="stable")
    cumulative = np.cumsum(w[order]) / w.sum()
    return [round(float(v[order][min(np.searchsorted(cumulative, q), len(v) - 1)]), 4) for q in (0.25, 0.5, 0.75)]


def _fill_shortfalls(seats: Dict[str, int], available: Dict[str, int],
                     counts: Dict[str, int]) -> Tuple[Dict[str, int], int]:
    """Cap each stratum's seats at its candidates and give the missing seats to strata with
    candidates to spare, in proportion to their size. Returns (seats, seats moved)."""
    wanted = sum(seats.values())
    capped = {k: min(q, available.get(k, 0)) for k, q in seats.items()}
    moved = missing = wanted - sum(capped.values())
    while missing > 0:
        spare = {k: counts[k] for k in capped if available.get(k, 0) > capped[k]}
        if not spare:
            break
        given = 0
        for key, extra in largest_remainder(spare, missing).items():
            add = min(extra, available[key] - capped[key])
            capped[key] += add
            given += add
        if given == 0:
            break
        missing -= given
    return capped, moved
