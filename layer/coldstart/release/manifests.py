"""The typed manifests of a release: each class writes its file and reads it back.

* ``IndexManifest``   ``index/manifest.json``        written by ``build-index``
* ``ModelManifest``   ``model/model_manifest.json``  written by ``export`` (``train-fusion`` adds ``fusion``)
* ``ReleaseManifest`` ``release.json``               written by ``publish``: every file with sha256 + size
* ``CurrentPointer``  ``current.json``               written by ``publish`` / ``--rollback``

``from_dict`` / ``from_bytes`` accept parsed JSON from anywhere (a release is downloaded data) and
raise ``ManifestError`` for anything malformed, never KeyError/TypeError/ValueError: a loader can
catch one type and keep serving the old release.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from ..errors import ManifestError
from . import layout
from .files import atomic_write, json_bytes, parse_json_bytes, read_json, verify_files

PathLike = Union[str, Path]
_HEX = frozenset("0123456789abcdef")
_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError)


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------ parts

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


@dataclass(frozen=True)
class ProjectionInfo:
    """The serving width's projection (coldstart.projection): the index holds vectors reduced by
    it and the student has it folded in. Both manifests carry the same record and the loader
    refuses a pair that differ: a vector reduced one way, searched in an index reduced another
    way, finds the wrong users without any error."""

    sha256: str          # of projection.npz, which stays beside the index on the batch side
    width: int           # the reduced dim (the index's dim, the student's out_dim)
    source_dim: int      # the teacher's dim
    kept_energy: float   # share of the sampled vectors' squared norm the projection keeps


def projection_info(value: Any, where: str = "manifest") -> Optional[ProjectionInfo]:
    """``{"sha256", "width", "source_dim", "kept_energy"}`` checked, or None when absent (full width)."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"sha256", "width", "source_dim", "kept_energy"}:
        raise ManifestError(f"{where}: projection must be {{sha256, width, source_dim, kept_energy}}")
    sha = value["sha256"]
    if not isinstance(sha, str) or len(sha) != 64 or not set(sha) <= _HEX:
        raise ManifestError(f"{where}: projection has no valid sha256 (64 lowercase hex digits)")
    try:
        info = ProjectionInfo(sha256=sha, width=_whole(value["width"], "projection.width", 1),
                              source_dim=_whole(value["source_dim"], "projection.source_dim", 1),
                              kept_energy=_number(value["kept_energy"], "projection.kept_energy"))
    except _MALFORMED as exc:
        raise _malformed(f"{where}: projection", exc) from None
    if info.width >= info.source_dim:
        raise ManifestError(f"{where}: projection width {info.width} must be below its source dim {info.source_dim}")
    return info


def _object(value: Any, what: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be a JSON object")
    return value


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string")
    return value


def _whole(value: Any, what: str, minimum: int) -> int:
    """An int field (JSON numbers like 12.0 and numeric strings are accepted, as before)."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number")
    number = int(value)  # TypeError/ValueError/OverflowError (inf) → ManifestError in the caller
    if number < minimum:
        raise ValueError(f"{what} must be >= {minimum}")
    return number


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number")
    return float(value)


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
    """name -> FileEntry; every name must stay inside its directory."""
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: files must be a JSON object of name -> {{sha256, size}}")
    out = {}
    for name, entry in value.items():
        if not isinstance(name, str) or not layout.safe_name(name):
            raise ManifestError(f"{where} names an unsafe path {str(name)[:200]!r}")
        out[name] = file_entry(name, entry, where)
    return out


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


def asdict_omitting_none(obj: Any, *optional: str) -> Dict[str, Any]:
    """``asdict(obj)`` without the ``optional`` fields that are None (files written before they existed
    read the same, and a manifest that does not use one does not mention it)."""
    out = asdict(obj)
    for name in optional:
        if out.get(name) is None:
            out.pop(name, None)
    return out


def check_kind(data: Any, kind: str, what: str) -> Dict[str, Any]:
    """``data`` as a JSON object of this ``kind`` and the schema version this code reads, else ManifestError."""
    if not isinstance(data, dict):
        raise ManifestError(f"{what} must be a JSON object")
    if data.get("kind") != kind:
        raise ManifestError(f"{what}: expected a manifest of kind {kind!r}, got {str(data.get('kind'))[:40]!r}")
    version = data.get("schema_version")
    if version != layout.SCHEMA_VERSION:
        raise ManifestError(f"{what} has schema_version {str(version)[:20]!r}; this coldstart reads "
                            f"{layout.SCHEMA_VERSION}")
    return data


def _malformed(what: str, exc: BaseException) -> ManifestError:
    return ManifestError(f"{what} is malformed: {exc!r}"[:500])


class _ComponentManifest:
    """save/load of a component's manifest file (``FILE`` in its directory), shared by index and model."""

    FILE = ""

    def save(self, directory: PathLike) -> None:
        atomic_write(Path(directory) / self.FILE, json_bytes(self.to_dict()))

    @classmethod
    def load(cls, directory: PathLike, verify: bool = True):
        """Read ``directory/FILE``; with ``verify``, every file it lists is checked (size, sha256)."""
        manifest = cls.from_dict(read_json(Path(directory) / cls.FILE))
        if verify:
            verify_files(directory, manifest.files)
        return manifest


# ------------------------------------------------------------------------------ index

@dataclass
class IndexManifest(_ComponentManifest):
    """``index/manifest.json``: the Annoy index, its sidecar files and how well it recalls."""

    FILE = layout.INDEX_MANIFEST

    teacher: TeacherInfo
    dim: int
    count: int
    n_trees: int
    search_k: int
    recall: RecallReport
    files: Dict[str, FileEntry]
    metric: str = "angular"
    kind: str = "index"
    schema_version: int = layout.SCHEMA_VERSION
    created_at: str = field(default_factory=utc_now)
    extra: Dict[str, Any] = field(default_factory=dict)
    projection: Optional[ProjectionInfo] = None  # None: the teacher's width (build-index --width)

    def to_dict(self) -> Dict[str, Any]:
        return asdict_omitting_none(self, "projection")  # an index at the teacher's width reads as before

    @classmethod
    def from_dict(cls, data: Any) -> "IndexManifest":
        """A manifest from parsed JSON; anything malformed raises ManifestError (and nothing else)."""
        check_kind(data, "index", "index manifest")
        try:
            recall = _object(data["recall"], "recall")
            manifest = cls(
                teacher=teacher_info(data["teacher"], "index manifest"),
                dim=_whole(data["dim"], "dim", 1),
                count=_whole(data["count"], "count", 0),
                n_trees=_whole(data["n_trees"], "n_trees", 0),
                search_k=_whole(data["search_k"], "search_k", -1),
                recall=RecallReport(k=_whole(recall["k"], "recall.k", 1), recall=_number(recall["recall"], "recall"),
                                    search_k=_whole(recall["search_k"], "recall.search_k", -1),
                                    n_queries=_whole(recall["n_queries"], "recall.n_queries", 0),
                                    threshold=_number(recall["threshold"], "recall.threshold"),
                                    annoy_ms_per_query=_number(recall["annoy_ms_per_query"], "annoy_ms_per_query"),
                                    exact_ms_per_query=_number(recall["exact_ms_per_query"], "exact_ms_per_query")),
                files=file_entries(data["files"], "index manifest"),
                metric=_string(data.get("metric", "angular"), "metric"),
                created_at=_string(data["created_at"], "created_at"),
                extra=dict(_object(data.get("extra", {}), "extra")),
                projection=projection_info(data.get("projection"), "index manifest"),
            )
        except ManifestError:
            raise
        except _MALFORMED as exc:
            raise _malformed("index manifest", exc) from None
        if manifest.projection is not None and manifest.projection.width != manifest.dim:
            raise ManifestError(f"index manifest: dim {manifest.dim} but its projection is {manifest.projection.width} wide")
        return manifest



def read_index_manifest(index_dir: PathLike, verify: bool = True) -> IndexManifest:
    return IndexManifest.load(index_dir, verify)


# ------------------------------------------------------------------------------ model

@dataclass(frozen=True)
class StudentInfo:
    shape: Dict[str, Any]   # hidden_size, num_hidden_layers, num_attention_heads, intermediate_size
    out_dim: int
    max_seq_len: int
    init: str = ""
    train_texts: int = 0


@dataclass(frozen=True)
class ServingFiles:
    """Which file each runtime serves: ``onnx`` (Lambda) and ``lite[target]`` (kiosks, x86/arm)."""

    onnx: str
    lite: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Int8Info:
    variant: str = ""        # per-tensor | per-channel (the one that held the gates)
    weight_type: str = ""    # QInt8


@dataclass(frozen=True)
class GateResult:
    name: str
    value: Optional[float]  # None: could not be measured (e.g. an arm-only .nb)
    threshold: float
    passed: bool
    shipped: Optional[bool] = None  # optional gates: whether the variant was shipped

    def to_dict(self) -> Dict[str, Any]:
        return asdict_omitting_none(self, "shipped")

    @classmethod
    def from_dict(cls, data: Any) -> "GateResult":
        data = _object(data, "gate")
        value = data.get("value")
        shipped = data.get("shipped")
        if shipped is not None and not isinstance(shipped, bool):
            raise TypeError("gate shipped must be a boolean")
        if not isinstance(data["passed"], bool):
            raise TypeError("gate passed must be a boolean")
        return cls(name=_string(data["name"], "gate name"),
                   value=None if value is None else _number(value, "gate value"),
                   threshold=_number(data["threshold"], "gate threshold"), passed=data["passed"], shipped=shipped)


@dataclass
class ModelManifest(_ComponentManifest):
    """``model/model_manifest.json``: the student, its serving files, the gates it passed."""

    FILE = layout.MODEL_MANIFEST

    teacher: TeacherInfo
    student: StudentInfo
    serving: ServingFiles
    files: Dict[str, FileEntry]
    gates: Dict[str, GateResult] = field(default_factory=dict)
    optional_gates: Dict[str, GateResult] = field(default_factory=dict)
    inputs: List[str] = field(default_factory=list)         # the ONNX graph's input names, in order
    int8: Int8Info = field(default_factory=Int8Info)          # how the served ONNX model was quantized
    figures: Dict[str, Any] = field(default_factory=dict)    # extra measured figures (not gates)
    versions: Dict[str, str] = field(default_factory=dict)   # toolchain versions that made it
    inputs_sha256: Dict[str, str] = field(default_factory=dict)  # what export read (freshness check)
    fusion: Optional[Dict[str, Any]] = None                  # the avatar fusion gate (train-fusion)
    projection: Optional[ProjectionInfo] = None              # folded into the student (the index's)
    kind: str = "model"
    schema_version: int = layout.SCHEMA_VERSION
    created_at: str = field(default_factory=utc_now)

    @property
    def failed_gates(self) -> List[GateResult]:
        return [g for g in self.gates.values() if not g.passed]

    def to_dict(self) -> Dict[str, Any]:
        out = asdict_omitting_none(self, "fusion", "projection")
        out["gates"] = {k: g.to_dict() for k, g in self.gates.items()}
        out["optional_gates"] = {k: g.to_dict() for k, g in self.optional_gates.items()}
        return out

    @classmethod
    def from_dict(cls, data: Any) -> "ModelManifest":
        check_kind(data, "model", "model manifest")
        try:
            student = _object(data["student"], "student")
            serving = _object(data["serving"], "serving")
            lite = _object(serving.get("lite") or {}, "serving.lite")
            manifest = cls(
                teacher=teacher_info(data["teacher"], "model manifest"),
                student=StudentInfo(shape=dict(_object(student.get("shape", {}), "student.shape")),
                                    out_dim=_whole(student["out_dim"], "student.out_dim", 1),
                                    max_seq_len=_whole(student["max_seq_len"], "student.max_seq_len", 1),
                                    init=str(student.get("init", "")),
                                    train_texts=_whole(student.get("train_texts", 0), "student.train_texts", 0)),
                serving=ServingFiles(onnx=_string(serving["onnx"], "serving.onnx"),
                                     lite={_string(k, "lite target"): _string(v, "lite file") for k, v in lite.items()}),
                files=file_entries(data["files"], "model manifest"),
                gates={_string(k, "gate"): GateResult.from_dict(v)
                       for k, v in _object(data.get("gates", {}), "gates").items()},
                optional_gates={_string(k, "gate"): GateResult.from_dict(v)
                                for k, v in _object(data.get("optional_gates", {}), "optional_gates").items()},
                inputs=[_string(i, "input name") for i in data.get("inputs", [])],
                int8=Int8Info(**{k: _string(v, "int8." + k) for k, v in _object(data.get("int8", {}), "int8").items()}),
                figures=dict(_object(data.get("figures", {}), "figures")),
                versions={_string(k, "version"): str(v) for k, v in _object(data.get("versions", {}), "versions").items()},
                inputs_sha256=dict(_object(data.get("inputs_sha256", {}), "inputs_sha256")),
                fusion=None if data.get("fusion") is None else dict(_object(data["fusion"], "fusion")),
                projection=projection_info(data.get("projection"), "model manifest"),
                created_at=_string(data["created_at"], "created_at"),
            )
        except ManifestError:
            raise
        except _MALFORMED as exc:
            raise _malformed("model manifest", exc) from None
        if manifest.projection is not None and manifest.projection.width != manifest.student.out_dim:
            raise ManifestError(f"model manifest: student.out_dim {manifest.student.out_dim} but its projection is "
                                f"{manifest.projection.width} wide")
        for name in [manifest.serving.onnx, *manifest.serving.lite.values()]:
            if name not in manifest.files:
                raise ManifestError(f"model manifest: serving file {name[:80]!r} is not among its files")
        return manifest

    def serving_file(self, runtime: str, target: Optional[str] = None) -> str:
        """The file a runtime serves: ``onnx``, or ``lite`` for a target (x86 / arm)."""
        if runtime == "onnx":
            return self.serving.onnx
        name = self.serving.lite.get(target or "")
        if not name:
            raise ManifestError(f"the release's model has no Paddle Lite .nb for target {target!r} (serving.lite "
                                f"has: {', '.join(sorted(self.serving.lite)) or 'nothing'}); use the onnx backend")
        return name


    def paths(self, model_dir: PathLike) -> Dict[str, Path]:
        """Every file of the component, the manifest included (name -> local path)."""
        model_dir = Path(model_dir)
        out = {name: model_dir / name for name in self.files}
        out[layout.MODEL_MANIFEST] = model_dir / layout.MODEL_MANIFEST
        return out


# ------------------------------------------------------------------------------ release + pointer

@dataclass
class ReleaseManifest:
    """``release.json``: every file of the release (release-relative names) with sha256 and size."""

    version: str
    teacher: TeacherInfo
    files: Dict[str, FileEntry]
    components: Dict[str, Dict[str, Any]]  # summaries for people and --list (index counts, model gates, origin)
    created_at: str = field(default_factory=utc_now)
    kind: str = "release"
    schema_version: int = layout.SCHEMA_VERSION

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")

    @property
    def has_model(self) -> bool:
        return layout.model_name(layout.MODEL_MANIFEST) in self.files

    def component_files(self, component: str) -> Dict[str, FileEntry]:
        """The files of ``index`` or ``model``, named relative to the component directory."""
        prefix = component + "/"
        return {n[len(prefix):]: e for n, e in self.files.items() if n.startswith(prefix)}

    @classmethod
    def from_dict(cls, raw: Any) -> "ReleaseManifest":
        check_kind(raw, "release", "release.json")
        try:
            components = _object(raw.get("components", {}), "components")
            if not all(isinstance(v, dict) for v in components.values()):
                raise ManifestError("release.json components must be an object of objects")
            return cls(version=layout.check_version(raw["version"]), teacher=teacher_info(raw["teacher"], "release.json"),
                       files=file_entries(raw["files"], "release.json"), components=dict(components),
                       created_at=_string(raw["created_at"], "release.json created_at"))
        except ManifestError:
            raise
        except _MALFORMED as exc:
            raise _malformed("release.json", exc) from None

    @classmethod
    def from_bytes(cls, data: bytes) -> "ReleaseManifest":
        """Parse release.json; anything malformed raises ManifestError (and nothing else)."""
        return cls.from_dict(parse_json_bytes(data, "release.json"))


@dataclass(frozen=True)
class CurrentPointer:
    """``current.json``: the release readers load, and the one before it (their fallback)."""

    version: str
    release_sha256: str                        # sha256 of the release.json publish verified
    published_at: str
    previous: Optional[str] = None
    previous_release_sha256: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict_omitting_none(self, "previous_release_sha256")

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True).encode("utf-8")

    @classmethod
    def from_dict(cls, raw: Any, where: str = layout.CURRENT_KEY) -> "CurrentPointer":
        if not isinstance(raw, dict):
            raise ManifestError(f"{where} is malformed: not a JSON object")
        try:
            pointer = cls(version=layout.check_version(raw["version"]),
                          release_sha256=_string(raw["release_sha256"], "release_sha256"),
                          published_at=_string(raw["published_at"], "published_at"),
                          previous=raw.get("previous"), previous_release_sha256=raw.get("previous_release_sha256"))
        except ManifestError:
            raise
        except _MALFORMED:
            raise ManifestError(f"{where} is malformed: release_sha256 and published_at must be strings") from None
        if pointer.previous is not None:
            layout.check_version(pointer.previous)
        if pointer.previous_release_sha256 is not None and not isinstance(pointer.previous_release_sha256, str):
            raise ManifestError(f"{where} is malformed: previous_release_sha256 must be a string")
        return pointer

    @classmethod
    def from_bytes(cls, data: bytes, where: str = layout.CURRENT_KEY) -> "CurrentPointer":
        return cls.from_dict(parse_json_bytes(data, where), where)


def teacher_from_dict(data: Optional[Dict[str, Any]]) -> Optional[TeacherInfo]:
    return teacher_info(data) if data else None


__all__ = [
    "FileEntry", "TeacherInfo", "RecallReport", "ProjectionInfo", "projection_info", "IndexManifest", "StudentInfo", "ServingFiles", "Int8Info", "GateResult",
    "ModelManifest", "ReleaseManifest", "CurrentPointer", "file_entry", "file_entries", "teacher_info",
    "read_index_manifest", "utc_now", "teacher_from_dict"]
