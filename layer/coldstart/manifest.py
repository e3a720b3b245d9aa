"""Manifests: what a built artefact contains, with the sha256 and size of every file.

Three kinds share this module:
- the index manifest (``index/manifest.json``), written by ``infra build-index``;
- the model manifest (``model/model_manifest.json``), written by ``infra export``;
- the release manifest (``release.json``), written by ``infra publish``: every file
  of the release with its hash, and the teacher both components were built from.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Union

from .errors import ManifestError, VerificationError
from .hashing import sha256_file

SCHEMA_VERSION = 1
INDEX_MANIFEST = "manifest.json"

PathLike = Union[str, Path]


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class TeacherInfo:
    """Identifies the teacher whose vector space an index (and a student) lives in."""

    id: str
    weights_sha256: str
    dim: int
    demo: bool = False  # True for the project's small demo model, never pretrained ERNIE

    def same_space(self, other: "TeacherInfo") -> bool:
        return self.weights_sha256 == other.weights_sha256 and self.dim == other.dim


@dataclass(frozen=True)
class RecallReport:
    k: int
    recall: float
    search_k: int
    n_queries: int
    threshold: float
    annoy_ms_per_query: float
    exact_ms_per_query: float


@dataclass
class IndexManifest:
    teacher: TeacherInfo
    dim: int
    count: int
    n_trees: int
    search_k: int
    recall: RecallReport
    files: Dict[str, FileEntry]
    metric: str = "angular"
    kind: str = "index"
    schema_version: int = SCHEMA_VERSION
    created_at: str = field(default_factory=lambda: utc_now())
    extra: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "IndexManifest":
        _check_schema(data, "index")
        try:
            return cls(
                teacher=TeacherInfo(**data["teacher"]),
                dim=int(data["dim"]),
                count=int(data["count"]),
                n_trees=int(data["n_trees"]),
                search_k=int(data["search_k"]),
                recall=RecallReport(**data["recall"]),
                files={k: FileEntry(**v) for k, v in data["files"].items()},
                metric=data.get("metric", "angular"),
                created_at=data["created_at"],
                extra=dict(data.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"index manifest is malformed: {exc!r}") from None


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_schema(data: Any, kind: str) -> None:
    if not isinstance(data, dict):
        raise ManifestError(f"{kind} manifest must be a JSON object")
    if data.get("kind") != kind:
        raise ManifestError(f"expected a manifest of kind {kind!r}, got {data.get('kind')!r}")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ManifestError(
            f"{kind} manifest has schema_version {version!r}; this coldstart reads {SCHEMA_VERSION}"
        )


def describe_files(root: PathLike, names: Iterable[str]) -> Dict[str, FileEntry]:
    """sha256 and size of each named file under root (names are '/'-separated)."""
    root = Path(root)
    out = {}
    for name in sorted(names):
        path = root / name
        out[name] = FileEntry(sha256=sha256_file(path), size=path.stat().st_size)
    return out


def verify_files(root: PathLike, files: Dict[str, FileEntry]) -> None:
    """Raise VerificationError naming the first file whose size or sha256 differs."""
    root = Path(root)
    for name, entry in sorted(files.items()):
        path = root / name
        if not path.is_file():
            raise VerificationError(f"{name}: missing")
        size = path.stat().st_size
        if size != entry.size:
            raise VerificationError(f"{name}: size {size} != manifest {entry.size}")
        digest = sha256_file(path)
        if digest != entry.sha256:
            raise VerificationError(f"{name}: sha256 {digest[:12]}… != manifest {entry.sha256[:12]}…")


def read_json(path: PathLike) -> Any:
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise ManifestError(f"{path}: not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: not valid JSON ({exc.__class__.__name__})") from None


def write_json_atomic(path: PathLike, data: Any) -> None:
    """Write JSON so that readers see the old file or the whole new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; manifests are meant to be read by others
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_index_manifest(index_dir: PathLike, verify: bool = True) -> IndexManifest:
    manifest = IndexManifest.from_dict(read_json(Path(index_dir) / INDEX_MANIFEST))
    if verify:
        verify_files(index_dir, manifest.files)
    return manifest


def teacher_from_dict(data: Optional[Dict[str, Any]]) -> Optional[TeacherInfo]:
    return TeacherInfo(**data) if data else None
