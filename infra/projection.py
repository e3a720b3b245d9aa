"""Learn the serving width's projection from teacher embeddings, and fold it into the student.

``fit_projection``: the top ``width`` right singular vectors of the (sampled) users' teacher
vectors, i.e. PCA without centring (coldstart.projection says why not centred). The d x d Gram
matrix is accumulated in blocks, so the fit costs one pass and d^2 floats whatever the row count;
at most ``max_rows`` rows are used (the sample is in random order, so the first rows are a random
subset; 100k rows pin down a 768 x 768 spectrum). The demo teacher is 128 wide and nearly low-rank
(16 uncentred components keep 99.84% of the energy of its 16,000 demo users' vectors, measured
2026-12-04), so it says little about ERNIE's 768; build-index prints
the kept energy and the manifests record it (bench/scale.py prints it per cell).

``fold_into_student``: the student ends in ``proj`` (Linear hidden -> teacher dim) and an
L2 normalisation. normalise(P @ normalise(A h + b)) = normalise((A h + b) @ P^T) for any positive
scale, so the projection P becomes part of ``proj`` (weight A P^T, bias b P^T) exactly: the
exported ONNX (FP32 and INT8) and Paddle Lite models output the reduced vector, with the same
graph as before and a narrower last layer (tests/test_projection.py checks all three against the
Paddle student followed by ``Projection.apply``).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from coldstart.projection import Projection

DEFAULT_MAX_ROWS = 100_000


def fit_projection(vectors: np.ndarray, width: int, max_rows: int = DEFAULT_MAX_ROWS,
                   block_rows: int = 65_536) -> Projection:
    """An uncentred PCA projection to ``width`` dims from (up to ``max_rows``) rows of ``vectors``."""
    n, dim = vectors.shape
    if not 0 < width < dim:
        raise ValueError(f"width {width} must be between 1 and the vectors' dim {dim} (exclusive)")
    if n < width:
        raise ValueError(f"{n} vectors cannot define {width} components")
    rows = min(n, max_rows)
    gram = np.zeros((dim, dim), dtype=np.float64)
    for start in range(0, rows, block_rows):
        block = np.asarray(vectors[start:min(start + block_rows, rows)], dtype=np.float64)
        gram += block.T @ block
    values, vecs = np.linalg.eigh(gram)  # ascending
    order = np.argsort(values)[::-1][:width]
    components = vecs[:, order].T
    # a deterministic sign per component (eigh may return either), so refits give the same file
    signs = np.sign(components[np.arange(width), np.argmax(np.abs(components), axis=1)])
    components *= signs[:, None]
    kept = float(values[order].sum() / max(values.sum(), 1e-30))
    return Projection(components.astype(np.float32), kept)


def fold_into_student(student: Any, projection: Projection) -> Any:
    """The student (infra.student.build_student_layer) with ``projection`` folded into its last
    Linear layer; changed in place and returned. Its output is ``projection.apply(old output)``."""
    import paddle

    weight = student.proj.weight.numpy().astype(np.float64)  # paddle Linear: x @ weight + bias, weight [in, out]
    if weight.shape[1] != projection.source_dim:
        raise ValueError(f"the student outputs {weight.shape[1]} dims, the projection takes {projection.source_dim}")
    components = projection.components.astype(np.float64)
    folded = paddle.nn.Linear(weight.shape[0], projection.width)
    folded.weight.set_value((weight @ components.T).astype(np.float32))
    folded.bias.set_value((student.proj.bias.numpy().astype(np.float64) @ components.T).astype(np.float32))
    student.proj = folded
    return student


def index_projection(index_dir, index_manifest) -> Optional[Projection]:
    """The projection an index was built with (its projection.npz, checked against the sha256 in
    its manifest), or None for an index at the teacher's width."""
    from pathlib import Path

    from coldstart.errors import VerificationError
    from coldstart.hashing import sha256_bytes
    from coldstart.release import PROJECTION_FILE

    if index_manifest.projection is None:
        return None
    wanted = index_manifest.projection.sha256
    path = Path(index_dir) / PROJECTION_FILE
    if not path.is_file():
        raise VerificationError(f"{path}: missing (the index manifest says the index was built with a projection)")
    data = path.read_bytes()
    if sha256_bytes(data) != wanted:
        raise VerificationError(f"{path}: sha256 differs from the index manifest's projection")
    return Projection.from_bytes(data)
