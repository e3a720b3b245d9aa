"""The Annoy index of active users' teacher vectors: build, tune, measure, load, query.

Vectors are L2-normalised, so Annoy's angular distance d relates to cosine by
cos = 1 - d**2 / 2. Recall is always measured against exact (numpy) search.

Annoy trusts its file: ``load()`` mmaps whatever is there and a query follows the child indexes
it finds, so a damaged or foreign file crashes the process (SIGSEGV, std::length_error) instead of
raising. ``open_annoy`` therefore checks the file against the index manifest first
(``validate_annoy_file``): the node size, the node count against the bounds the item count and
tree count allow, every item node, every child index of every tree node (a child is always built
before its parent, so it has a smaller index: no pointer outside the file, no cycle), and the roots
at the end. One sequential read in 8 MB blocks into one reused buffer (40-80 ms for the 91 MB of a
100k x 192 index on a quiet machine here, 136 ms at load average 10; no mmap, so no file pages join
the process's RSS).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from annoy import AnnoyIndex

from .errors import RecallGateError, VerificationError
from .release.layout import INDEX_FILE  # noqa: F401  (re-exported: the name lives in the release layout)

METRIC = "angular"
# An angular node: int32 n_descendants, int32 children[2] (a bucket stores up to dim + 2 item ids
# from there on), then float32 v[dim] (annoylib.h, Angular::Node; S = int32, T = float).
_NODE_HEADER = 12


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def angular_to_cosine(distances: Sequence[float]) -> np.ndarray:
    d = np.asarray(distances, dtype=np.float32)
    return 1.0 - d * d / 2.0


def build_annoy(vectors: np.ndarray, n_trees: int, seed: int = 42, n_jobs: int = -1) -> AnnoyIndex:
    """Build an angular Annoy index over rows of ``vectors`` (item i = row i)."""
    count, dim = vectors.shape
    index = AnnoyIndex(dim, METRIC)
    index.set_seed(seed)
    for i in range(count):
        index.add_item(i, vectors[i])
    index.build(n_trees, n_jobs=n_jobs)
    return index


def load_annoy(path: Union[str, Path], dim: int) -> AnnoyIndex:
    """mmap an index file this process built or already checked (``open_annoy`` for anything downloaded)."""
    index = AnnoyIndex(dim, METRIC)
    index.load(str(path))
    return index


def open_annoy(path: Union[str, Path], dim: int, count: int, n_trees: int) -> AnnoyIndex:
    """mmap an index file after ``validate_annoy_file``; raises VerificationError, never crashes."""
    validate_annoy_file(path, dim, count, n_trees)
    index = load_annoy(path, dim)
    if index.get_n_items() != count or index.f != dim:
        raise VerificationError(f"{Path(path).name}: Annoy reports {index.get_n_items()} items of dim {index.f}, "
                                f"the manifest {count} of dim {dim}")
    return index


def annoy_node_size(dim: int) -> int:
    return _NODE_HEADER + 4 * dim


def annoy_node_bounds(count: int, n_trees: int) -> Tuple[int, int]:
    """(fewest, most) nodes an index of ``count`` items and ``n_trees`` trees can have: the items,
    then per tree at least its root and the root's copy at the end, at most (count - 1) split nodes
    + count buckets + the copy."""
    return count + n_trees, count + n_trees * (2 * count + 1)


def validate_annoy_file(path: Union[str, Path], dim: int, count: int, n_trees: int,
                        block_bytes: int = 8 << 20) -> None:
    """Raise VerificationError unless ``path`` is an angular Annoy file of ``count`` items of ``dim``
    and ``n_trees`` trees whose every index points inside it (see the module doc)."""
    name = Path(path).name
    node = annoy_node_size(dim)
    size = os.path.getsize(path)
    if count < 1 or n_trees < 1:
        raise VerificationError(f"{name}: the manifest says {count} items in {n_trees} trees")
    if size % node:
        raise VerificationError(f"{name}: {size} bytes is not a whole number of {node}-byte nodes (dim {dim})")
    n_nodes = size // node
    low, high = annoy_node_bounds(count, n_trees)
    if not low <= n_nodes <= high:
        raise VerificationError(f"{name}: {n_nodes} nodes; {count} items in {n_trees} trees need "
                                f"{low}..{high} (size {size} bytes)")
    width = node // 4
    bucket_max = width - 1  # item ids that fit from children[0] on (annoy's _K)
    rows_per_block = max(1, block_bytes // node)
    buffer = bytearray(rows_per_block * node)  # one buffer, refilled: no new allocation per block
    tail_run = 0  # consecutive nodes at the end with n_descendants == count: the roots
    with open(path, "rb", buffering=0) as fh:
        for start in range(0, n_nodes, rows_per_block):
            rows = min(rows_per_block, n_nodes - start)
            view = memoryview(buffer)[:rows * node]
            if fh.readinto(view) != rows * node:
                raise VerificationError(f"{name}: shorter than its size while reading")
            block = np.frombuffer(view, dtype="<i4").reshape(rows, width)
            _check_nodes(name, block, start, count, bucket_max)
            not_root = np.flatnonzero(block[:, 0] != count)
            tail_run = rows - 1 - int(not_root[-1]) if not_root.size else tail_run + rows
    if not n_trees <= tail_run <= 2 * n_trees:
        raise VerificationError(f"{name}: {tail_run} root nodes at the end of the file, the manifest says "
                                f"{n_trees} trees")


def _check_nodes(name: str, block: np.ndarray, start: int, count: int, bucket_max: int) -> None:
    """Rows ``start``.. of the file: items first (node i < count is item i), then tree nodes."""
    n_items = max(0, min(count - start, len(block)))
    if n_items and np.any(block[:n_items, 0] != 1):
        bad = start + int(np.flatnonzero(block[:n_items, 0] != 1)[0])
        raise VerificationError(f"{name}: item node {bad} is not a leaf")
    nodes = block[n_items:]
    if not len(nodes):
        return
    ids = np.arange(start + n_items, start + len(block))
    desc = nodes[:, 0]
    if np.any((desc < 1) | (desc > count)):
        bad = int(ids[np.flatnonzero((desc < 1) | (desc > count))[0]])
        raise VerificationError(f"{name}: node {bad} claims an impossible number of descendants")
    bucket = desc <= bucket_max
    if np.any(bucket):  # children[0:n] are item ids
        members = nodes[bucket, 1:1 + bucket_max]
        used = np.arange(bucket_max)[None, :] < desc[bucket][:, None]
        values = members[used]
        if np.any((values < 0) | (values >= count)):
            raise VerificationError(f"{name}: a bucket node lists an item outside 0..{count - 1}")
    split = ~bucket
    if np.any(split):  # two children, built before this node
        children = nodes[split, 1:3]
        if np.any((children < 0) | (children >= ids[split][:, None])):
            raise VerificationError(f"{name}: a tree node points outside the nodes built before it")


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int,
                exclude: Optional[Sequence[int]] = None) -> np.ndarray:
    """Exact cosine top-k (rows must be normalised). ``exclude[i]`` is dropped from row i."""
    scores = queries @ vectors.T
    if exclude is not None:
        scores[np.arange(len(queries)), np.asarray(exclude)] = -np.inf
    top = np.argpartition(-scores, kth=min(k, scores.shape[1] - 1), axis=1)[:, :k]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, axis=1)


def annoy_top_k(index: AnnoyIndex, query: np.ndarray, k: int, search_k: int,
                exclude: Optional[int] = None) -> List[int]:
    extra = 1 if exclude is not None else 0
    ids = index.get_nns_by_vector(query, k + extra, search_k=search_k)
    if exclude is not None:
        ids = [i for i in ids if i != exclude]
    return ids[:k]


@dataclass(frozen=True)
class RecallMeasurement:
    recall: float
    search_k: int
    n_queries: int
    annoy_ms_per_query: float
    exact_ms_per_query: float


def sample_queries(count: int, n_queries: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(count, size=min(n_queries, count), replace=False))


def measure_recall(index: AnnoyIndex, vectors: np.ndarray, query_ids: Iterable[int],
                   k: int, search_k: int, tie_tolerance: float = 1e-6,
                   truth: Optional[Tuple[np.ndarray, float]] = None) -> RecallMeasurement:
    """Leave-one-out recall@k: each sampled item queries for its k nearest *other* items,
    so a query never counts itself as a hit.

    Ties count: a returned item is a hit when its cosine is at least the exact k-th best
    (minus ``tie_tolerance``), so near-duplicate vectors cannot make a perfect answer look wrong.
    ``truth``: (exact top-k ids, ms per query) computed once by the caller (build_tuned), instead
    of exact search here on every call.
    """
    query_ids = np.asarray(list(query_ids))
    k = min(k, len(vectors) - 1)
    queries = vectors[query_ids]
    if truth is None:
        t0 = time.perf_counter()
        truth = (exact_top_k(vectors, queries, k, exclude=query_ids),
                 (time.perf_counter() - t0) * 1000 / max(len(query_ids), 1))
    truth, exact_ms = truth
    t0 = time.perf_counter()
    found = [annoy_top_k(index, q, k, search_k, exclude=int(i)) for q, i in zip(queries, query_ids)]
    annoy_ms = (time.perf_counter() - t0) * 1000 / max(len(query_ids), 1)
    hits = 0
    for q, got, want in zip(queries, found, truth):
        if not got:
            continue
        kth_best = float(vectors[want[-1]] @ q)
        hits += int(np.count_nonzero(vectors[got] @ q >= kth_best - tie_tolerance))
    recall = hits / float(max(len(query_ids) * k, 1))
    return RecallMeasurement(recall, search_k, len(query_ids), annoy_ms, exact_ms)


@dataclass(frozen=True)
class TunedIndex:
    index: AnnoyIndex
    n_trees: int
    measurement: RecallMeasurement
    tried: Tuple[Tuple[int, int, float], ...]  # (n_trees, search_k, recall) in the order tried


def build_tuned(vectors: np.ndarray, min_recall: float, k: int = 10, n_queries: int = 500,
                n_trees: Optional[int] = None, search_k: Optional[int] = None,
                max_trees: int = 200, seed: int = 42, log=None, exact=None) -> TunedIndex:
    """Build an index meeting ``min_recall`` with the fewest trees, then the smallest search_k.

    Trees first because they are bytes: every Lambda cold start downloads and hashes the whole
    index, while a larger search_k costs microseconds per query (100k x 192: 10 trees + search_k
    400 reach recall 0.953 at 0.13 ms/query in 91 MB; 50 trees + 500 took 142 MB, 0.20 ms).
    With n_trees and search_k both given, builds exactly that and only measures.
    Otherwise doubles search_k (from n_trees*k) up to 64x, then doubles n_trees (from 10)
    up to ``max_trees``. Raises RecallGateError when nothing tried meets the gate.
    The exact neighbours are computed once, by ``exact(vectors, queries, k, exclude)`` (default
    ``exact_top_k``; the batch side passes a blockwise/GPU one, infra/exact.py).
    """
    query_ids = sample_queries(len(vectors), n_queries)
    t0 = time.perf_counter()
    truth = (exact or exact_top_k)(vectors, vectors[query_ids], min(k, len(vectors) - 1), exclude=query_ids)
    truth = (truth, (time.perf_counter() - t0) * 1000 / max(len(query_ids), 1))
    tree_plan = [n_trees] if n_trees else _doubling(min(10, max_trees), max_trees)
    tried = []
    best = None
    for trees in tree_plan:
        index = build_annoy(vectors, trees, seed=seed)
        base = trees * k
        plan = [search_k] if search_k else [base * m for m in (1, 2, 4, 8, 16, 32, 64)]
        for sk in plan:
            m = measure_recall(index, vectors, query_ids, k, sk, truth=truth)
            tried.append((trees, sk, m.recall))
            if log:
                log(f"n_trees={trees} search_k={sk} recall@{k}={m.recall:.4f}")
            if best is None or m.recall > best[2].recall:
                best = (index, trees, m)
            if m.recall >= min_recall:
                return TunedIndex(index, trees, m, tuple(tried))
    assert best is not None
    raise RecallGateError(
        f"recall@{k} {best[2].recall:.4f} is below the gate {min_recall:.4f} "
        f"(best at n_trees={best[1]}, search_k={best[2].search_k}; tried {len(tried)} settings). "
        "Raise --n-trees/--search-k, lower --min-recall, or check the embeddings "
        "(isotropic random vectors defeat any approximate index)."
    )


def _doubling(start: int, stop: int) -> List[int]:
    out = [start]
    while out[-1] * 2 <= stop:
        out.append(out[-1] * 2)
    return out
