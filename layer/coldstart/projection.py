"""A reduced serving width: a linear projection of the teacher's space, learned by the batch side.

The index's bytes are its vectors (item nodes are 12 + 4 x dim bytes), so the width is the other
lever on the cold start besides the number of users. ``build-index --width d`` learns a
``Projection`` from the sampled users' teacher vectors (infra/projection.py) and indexes the
projected vectors; ``export`` folds the same projection into the student's last layer, so the
Lambda and the kiosk encode straight into the reduced space and nothing at serving time knows
about it: the release's model simply outputs ``width`` numbers (``model_manifest.json``
"student.out_dim") and the index has that dim. Its record (``coldstart.release.ProjectionInfo``:
sha256, widths, kept energy) is in both manifests (``IndexManifest.projection``,
``ModelManifest.projection``) and the loader (and publish, before it uploads) refuses a pair that
disagree, since a vector projected one way searched in an index projected another way finds the
wrong users without any error. The canaries export records are the folded student's outputs, so
they are in the reduced space too.

The file (``projection.npz``, beside the index on the batch side; not part of a release) holds
``components`` (width x dim, orthonormal rows): reduced(v) = normalise(components @ v). It is not
centred: the index and the vote use dot products of the raw vectors, and an uncentred projection
(truncated SVD) is the one that best keeps them; it is also what lets ``export`` fold it into the
student's last Linear layer exactly. Python 3.9 compatible, numpy only.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np

from .errors import ManifestError
from .release.files import atomic_write
from .release.layout import PROJECTION_FILE  # noqa: F401  (the name lives with the release layout)
from .release.manifests import ProjectionInfo

_FORMAT = 1


@dataclass(frozen=True)
class Projection:
    components: np.ndarray   # (width, dim) float32, orthonormal rows
    kept_energy: float       # share of the fitted vectors' squared norm the components keep

    @property
    def width(self) -> int:
        return int(self.components.shape[0])

    @property
    def source_dim(self) -> int:
        return int(self.components.shape[1])

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Project rows of ``vectors`` (teacher space) and L2-normalise them (float32)."""
        v = np.asarray(vectors, dtype=np.float32)
        if v.shape[-1] != self.source_dim:
            raise ValueError(f"vectors of dim {v.shape[-1]}, the projection takes {self.source_dim}")
        out = v @ self.components.T
        norms = np.linalg.norm(out, axis=-1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, format=np.array([_FORMAT]), components=self.components.astype(np.float32),
                 kept_energy=np.array([self.kept_energy], dtype=np.float64))
        return buf.getvalue()

    def save(self, path: Union[str, Path]) -> None:
        atomic_write(Path(path), self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> "Projection":
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                if int(z["format"][0]) != _FORMAT:
                    raise ManifestError(f"unknown projection format {int(z['format'][0])}")
                components = z["components"].astype(np.float32)
                kept = float(z["kept_energy"][0])
        except (KeyError, ValueError, OSError) as exc:
            raise ManifestError(f"not a projection file ({exc.__class__.__name__})") from None
        if components.ndim != 2 or not 0 < components.shape[0] <= components.shape[1]:
            raise ManifestError(f"projection components have the shape {components.shape}; want (width <= dim, dim)")
        return cls(components, kept)

    @classmethod
    def load(cls, path: Union[str, Path]) -> "Projection":
        return cls.from_bytes(Path(path).read_bytes())

    def describe(self, sha256: str) -> ProjectionInfo:
        """The record both manifests carry."""
        return ProjectionInfo(sha256=sha256, width=self.width, source_dim=self.source_dim,
                              kept_energy=round(float(self.kept_energy), 6))


def check_projection_pair(version: str, index_projection: Optional[ProjectionInfo],
                          model_projection: Optional[ProjectionInfo]) -> None:
    """Refuse a release whose index and student were not reduced by the same projection (or
    where only one of them was)."""
    index_sha = index_projection.sha256 if index_projection else None
    model_sha = model_projection.sha256 if model_projection else None
    if index_sha != model_sha:
        def what(sha):
            return f"projection {sha[:12]}…" if sha else "the teacher's full width"

        raise ManifestError(f"release {version}: the index holds vectors in {what(index_sha)} but the student "
                            f"encodes into {what(model_sha)}; refusing a mismatched pair")
