"""Synthetic embedding sets for index and publish tests (no model needed)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np

TAGS = ["体育", "科技", "娱乐", "教育", "旅游", "美食"]


def clustered(n: int, dim: int = 32, clusters: int = 6, spread: float = 0.35, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    labels = np.arange(n) % clusters
    x = centres[labels] + spread * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic_user_key(i: int) -> str:
    """A stand-in keyed pseudonym for synthetic user i (the shape coldstart.pseudonyms makes)."""
    return f"k00000000.{i:032x}"


def write_embeddings(out: Path, vectors: np.ndarray, chunk_size: int = 256, teacher_id: str = "synthetic",
                     weights_sha256: Optional[str] = None) -> Path:
    from coldstart.manifest import TeacherInfo
    from coldstart.storage import LocalStore
    from infra.embeddings import EMBED_MANIFEST, EmbedSpec, chunk_key, encode_chunk

    store = LocalStore(out)
    teacher = TeacherInfo(id=teacher_id, weights_sha256=weights_sha256 or "0" * 64, dim=vectors.shape[1], demo=True)
    spec = EmbedSpec(teacher=teacher, input_sha256="1" * 64, count=len(vectors), chunk_size=chunk_size,
                     max_seq_len=32, preprocess="test", pseudonym_key_id="00000000")
    store.put_bytes(EMBED_MANIFEST, json.dumps(spec.to_dict()).encode())
    for c in range(spec.n_chunks):
        rows = range(c * chunk_size, min(len(vectors), (c + 1) * chunk_size))
        store.put_bytes(chunk_key(c), encode_chunk(vectors[list(rows)], [synthetic_user_key(i) for i in rows],
                                                   [(TAGS[i % len(TAGS)],) for i in rows],
                                                   [f"text {i}" for i in rows]))
    return Path(out)
