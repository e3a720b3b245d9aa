"""Exact nearest neighbours for the recall gate: on a GPU when Paddle sees one, else a bounded CPU run.

The recall gate compares Annoy's answers with exact search on held-out queries. Exact search is
queries x items x dim multiply-adds: trivial on a GPU at any scale (1,000 queries over 10M x 768
took 0.11 s on an H200, issue 18), minutes on two CPU cores once the index has millions of items.
So ``device="auto"`` uses Paddle on the GPU when it is a CUDA build with a visible device, and
otherwise numpy on the CPU with the number of queries bounded (``recall_queries``) so the gate
costs about ``CPU_BUDGET_FLOP`` (~1 min here) whatever the index size; the recall report says
which device and how many queries were used. Both run in blocks of items, so the items may be a
memory-mapped file larger than RAM.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

CPU_BUDGET_FLOP = 1e12   # ~1 minute of BLAS on 2 shared cores
MIN_QUERIES = 100        # below this the recall estimate is too coarse (+-0.02 at 0.95)
GPU_QUERIES = 10_000


def gpu_available() -> bool:
    try:
        import paddle
    except ImportError:
        return False
    return bool(paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0)


def resolve_device(device: str = "auto") -> str:
    """'gpu' or 'cpu'; 'gpu' asked for but not there is an error, not a silent hour on the CPU."""
    if device == "auto":
        return "gpu" if gpu_available() else "cpu"
    if device == "gpu" and not gpu_available():
        raise RuntimeError("exact search on the GPU was asked for, but Paddle sees no CUDA device")
    if device not in ("gpu", "cpu"):
        raise ValueError(f"device must be auto, gpu or cpu, not {device!r}")
    return device


def recall_queries(n_items: int, dim: int, requested: int, device: str) -> int:
    """How many held-out queries the gate uses: at least ``requested`` on a GPU (and up to
    GPU_QUERIES), on the CPU at most what CPU_BUDGET_FLOP allows (never under MIN_QUERIES)."""
    if device == "gpu":
        return min(n_items, max(requested, GPU_QUERIES))
    affordable = int(CPU_BUDGET_FLOP // max(2.0 * n_items * dim, 1.0))
    return min(n_items, requested, max(MIN_QUERIES, affordable))


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int, exclude: Optional[Sequence[int]] = None,
                device: str = "cpu", block_rows: int = 262_144) -> np.ndarray:
    """Indices of the exact top-k cosine neighbours per query (rows normalised), best first;
    ``exclude[i]`` is never returned for query i. Same contract as coldstart.vector_index.exact_top_k."""
    queries = np.asarray(queries, dtype=np.float32)
    n = len(vectors)
    k = min(k, n - (1 if exclude is not None else 0))
    excl = None if exclude is None else np.asarray(exclude, dtype=np.int64)
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), k), dtype=np.int64)
    block = _paddle_block if device == "gpu" else _numpy_block
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        ids, scores = block(np.asarray(vectors[start:stop], dtype=np.float32), queries, k, start, excl)
        best_ids, best_scores = _merge(best_ids, best_scores, ids, scores, k)
    return best_ids


def _numpy_block(block: np.ndarray, queries: np.ndarray, k: int, offset: int, exclude):
    scores = queries @ block.T
    if exclude is not None:
        rows = np.flatnonzero((exclude >= offset) & (exclude < offset + len(block)))
        scores[rows, exclude[rows] - offset] = -np.inf
    kk = min(k, scores.shape[1])
    top = np.argpartition(-scores, kth=kk - 1, axis=1)[:, :kk] if kk < scores.shape[1] else \
        np.tile(np.arange(scores.shape[1]), (len(queries), 1))
    return top + offset, np.take_along_axis(scores, top, axis=1)


def _paddle_block(block: np.ndarray, queries: np.ndarray, k: int, offset: int, exclude):
    """The same on Paddle (on the GPU when the caller picked it: paddle's current device). One
    more than k is taken, so dropping a query's own item on the CPU still leaves k."""
    import paddle

    scores = paddle.matmul(paddle.to_tensor(queries), paddle.to_tensor(block), transpose_y=True)
    values, top = paddle.topk(scores, k=min(k + 1, block.shape[0]), axis=1)
    top = top.numpy().astype(np.int64) + offset
    values = values.numpy()
    if exclude is not None:
        values = np.where(top == exclude[:, None], -np.inf, values).astype(np.float32)
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(values, order, axis=1)


def _merge(ids_a, scores_a, ids_b, scores_b, k):
    ids = np.concatenate([ids_a, ids_b], axis=1)
    scores = np.concatenate([scores_a, scores_b], axis=1)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(scores, order, axis=1)
