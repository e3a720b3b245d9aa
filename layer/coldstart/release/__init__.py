"""The release format, owned here: names, typed manifests, canaries and the file helpers that
write them. Writers (build-index, export, train-fusion, publish, bench) and readers (the serving
loader, the kiosk, the pipeline) go through this package; nobody else spells a file name or
subscripts a manifest.

    layout     every file and object-key name, version rules (see its docstring for the tree)
    manifests  IndexManifest, ModelManifest, ReleaseManifest, CurrentPointer (+ FileEntry, TeacherInfo)
    canaries   the smoke test a release must pass before it serves
    files      atomic_write / staged_directory / verify_files / read_json

A reader that follows current.json only ever sees a complete, verified release: publish uploads
every file, then release.json, checks everything it uploaded, and only then replaces current.json.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from .layout import (CALIBRATION, CANARIES, CURRENT_KEY, INDEX_DIR, INDEX_FILE, INDEX_MANIFEST, ITEMS_JSON, ITEMS_NPZ, KEYWORDS,
                     MODEL_DIR, MODEL_MANIFEST, ONNX_FP32, ONNX_INT8, OPTIONAL_INDEX_FILES, OPTIONAL_RELEASE_FILES, PROJECTION_FILE,
                     PROJECTIONS, RELEASE_MANIFEST, projection_key,
                     RELEASES, SCHEMA_VERSION, VERSION_RE, VOCAB, check_version, index_name, model_name, release_key,
                     safe_name)
from .manifests import (CurrentPointer, FileEntry, GateResult, IndexManifest, Int8Info, ModelManifest, ProjectionInfo,
                        RecallReport,
                        ReleaseManifest, ServingFiles, StudentInfo, TeacherInfo, file_entries, file_entry,
                        read_index_manifest, teacher_info, utc_now)
from .files import (atomic_write, atomic_write_json, atomic_write_text, describe_files, read_json,
                    remove_directory, replace_directory, staged_directory, verify_files)
from .canaries import Canaries, Canary

if TYPE_CHECKING:  # coldstart.storage writes through .files: imported lazily below, no cycle
    from ..storage import ObjectStore


def read_current(store: "ObjectStore") -> Optional[CurrentPointer]:
    """The published pointer, or None when nothing was ever published."""
    from ..storage import ObjectNotFound

    try:
        data = store.get_bytes(CURRENT_KEY)
    except ObjectNotFound:
        return None
    return CurrentPointer.from_bytes(data, store.uri(CURRENT_KEY))


def read_release(store: "ObjectStore", version: str) -> ReleaseManifest:
    return ReleaseManifest.from_bytes(store.get_bytes(release_key(version, RELEASE_MANIFEST)))


__all__ = [
    "CALIBRATION", "CANARIES", "CURRENT_KEY", "INDEX_DIR", "INDEX_FILE", "INDEX_MANIFEST", "ITEMS_JSON", "ITEMS_NPZ", "KEYWORDS",
    "MODEL_DIR", "MODEL_MANIFEST", "ONNX_FP32", "ONNX_INT8", "OPTIONAL_INDEX_FILES", "OPTIONAL_RELEASE_FILES", "PROJECTION_FILE", "PROJECTIONS", "projection_key", "RELEASE_MANIFEST", "RELEASES",
    "SCHEMA_VERSION", "VERSION_RE", "VOCAB", "check_version", "index_name", "model_name", "release_key", "safe_name",
    "CurrentPointer", "FileEntry", "GateResult", "IndexManifest", "Int8Info", "ModelManifest", "ProjectionInfo", "RecallReport", "ReleaseManifest",
    "ServingFiles", "StudentInfo", "TeacherInfo", "file_entries", "file_entry", "read_index_manifest",
    "teacher_info", "utc_now", "atomic_write", "atomic_write_json", "atomic_write_text", "describe_files",
    "read_json", "remove_directory", "replace_directory", "staged_directory", "verify_files", "Canaries", "Canary",
    "read_current", "read_release"]
