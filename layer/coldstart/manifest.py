"""Manifests: what a built artefact contains, with the sha256 and size of every file.

This module holds what every manifest shares (file entries with their hashes, the teacher's
identity, schema checks, atomic JSON writes) and the index manifest itself
(``index/manifest.json``, written by ``infra build-index``). The other kinds live with their
owners: the release manifest and ``current.json`` in ``coldstart.release`` (written by ``infra
publish``), the model manifest in ``infra/model_manifest.py`` (written by ``infra export``).
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
        """A manifest from parsed JSON; anything malformed raises ManifestError (and nothing else)."""
        _check_schema(data, "index")
        try:
            created_at = data["created_at"]
            metric = data.get("metric", "angular")
            if not isinstance(created_at, str) or not isinstance(metric, str):
                raise ValueError("created_at and metric must be strings")
            manifest = cls(
                teacher=teacher_info(data["teacher"], "index manifest"),
                dim=_whole(data["dim"], "dim", 1),
                count=_whole(data["count"], "count", 0),
                n_trees=_whole(data["n_trees"], "n_trees", 0),
                search_k=_whole(data["search_k"], "search_k", -1),
                recall=RecallReport(**_object(data["recall"], "recall")),
                files=file_entries(data["files"], "index manifest"),
                metric=metric,
                created_at=created_at,
                extra=dict(data.get("extra", {})),
            )
        except ManifestError:
            raise
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ManifestError(f"index manifest is malformed: {exc!r}"[:500]) from None
        return manifest


_HEX = frozenset("0123456789abcdef")


def _object(value: Any, what: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be a JSON object")
    return value


def _whole(value: Any, what: str, minimum: int) -> int:
    """An int field (JSON numbers like 12.0 and numeric strings are accepted, as before)."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number")
    number = int(value)  # TypeError/ValueError/OverflowError (inf) → ManifestError in the caller
    if number < minimum:
        raise ValueError(f"{what} must be >= {minimum}")
    return number


def file_entry(name: Any, value: Any, where: str = "manifest") -> FileEntry:
    """One ``{"sha256": <64 lowercase hex>, "size": <int >= 0>}`` entry, checked."""
    if not isinstance(value, dict) or set(value) != {"sha256", "size"}:
        raise ManifestError(f"{where}: entry for {str(name)[:80]!r} must be {{\"sha256\", \"size\"}}")
    sha, size = value["sha256"], value["size"]
    if not isinstance(sha, str) or len(sha) != 64 or not set(sha) <= _HEX:
        raise ManifestError(f"{where}: {str(name)[:80]!r} has no valid sha256 (64 lowercase hex digits)")
    if type(size) is not int or size < 0:
        raise ManifestError(f"{where}: {str(name)[:80]!r} has no valid size (a whole number >= 0)")
    return FileEntry(sha256=sha, size=size)


def file_entries(value: Any, where: str = "manifest") -> Dict[str, FileEntry]:
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: files must be a JSON object of name -> {{sha256, size}}")
    return {name: file_entry(name, entry, where) for name, entry in value.items()}


def teacher_info(value: Any, where: str = "manifest") -> TeacherInfo:
    """``{"id", "weights_sha256", "dim"[, "demo"]}`` with their types checked."""
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: teacher must be a JSON object")
    try:
        teacher = TeacherInfo(**value)
    except TypeError as exc:
        raise ManifestError(f"{where}: teacher is malformed: {exc}"[:500]) from None
    if not isinstance(teacher.id, str) or not isinstance(teacher.weights_sha256, str) \
            or type(teacher.dim) is not int or teacher.dim <= 0 or not isinstance(teacher.demo, bool):
        raise ManifestError(f"{where}: teacher needs id and weights_sha256 (strings), dim (int > 0), demo (bool)")
    return teacher


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
    except RecursionError:  # fuzz finding: "[[[[..." deeper than the interpreter's limit
        raise ManifestError(f"{path}: JSON nested too deeply") from None


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
