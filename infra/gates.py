"""Release gates for the student: figures measured on held-out texts, each against a threshold."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, List, Optional

import numpy as np


@dataclass(frozen=True)
class GateThresholds:
    int8_cosine: float = 0.99          # INT8 vs FP32 student, mean cosine
    int8_overlap: float = 0.90         # INT8 vs FP32 student, top-10 neighbour overlap in the index
    student_recall: float = 0.80       # student queries' top-10 vs the teacher's own top-10
    top_tag_agreement: float = 0.95    # voted top tag, student vs teacher
    lite_fp32_cosine: float = 0.999    # Paddle Lite FP32 .nb vs ONNX FP32
    lite_int8_cosine: float = 0.99     # Paddle Lite quantized .nb vs ONNX FP32 (also the INT16 fallback's bar)
    lite_int8_overlap: float = 0.90    # Paddle Lite quantized .nb vs ONNX FP32, top-10 neighbour overlap


@dataclass(frozen=True)
class Gate:
    name: str
    value: float
    threshold: float

    @property
    def passed(self) -> bool:
        return self.value >= self.threshold

    def to_dict(self) -> Dict:
        return {**asdict(self), "passed": self.passed}


def mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float(np.mean(np.sum(a * b, axis=1)))


def neighbours(index, queries: np.ndarray, k: int, search_k: int) -> List[List[int]]:
    return [index.get_nns_by_vector(q, k, search_k=search_k) for q in queries]


def overlap(a: List[List[int]], b: List[List[int]], k: int) -> float:
    """Mean |A ∩ B| / k over queries: with B the reference top-k, this is recall@k of A."""
    return float(np.mean([len(set(x) & set(y)) / float(k) for x, y in zip(a, b)]))


def top_tags(neighbour_lists: List[List[int]], queries: np.ndarray, index, items) -> List[Optional[str]]:
    """The voted top tag per query, by the same vote serving uses."""
    from coldstart.voting import ProfileSettings, vote

    settings = ProfileSettings()
    out = []
    for ids, q in zip(neighbour_lists, queries):
        sims = [float(np.dot(index.get_item_vector(i), q)) for i in ids]
        out.append(vote(ids, sims, items, settings).top_tag)
    return out


def agreement(a: List[Optional[str]], b: List[Optional[str]]) -> float:
    return float(np.mean([x == y for x, y in zip(a, b)]))


def format_table(gates: List[Gate]) -> str:
    rows = [f"  {'gate':<22} {'value':>8} {'needs':>8}  result"]
    rows += [f"  {g.name:<22} {g.value:>8.4f} {'>= ' + format(g.threshold, '.3f'):>8}  "
             f"{'pass' if g.passed else 'FAIL'}" for g in gates]
    return "\n".join(rows)
