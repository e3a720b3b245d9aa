"""Release layout in object storage, shared by the publisher (infra) and the loaders (serving, kiosk).

  PREFIX/releases/<version>/index/...      the index component (manifest.json, index.ann, items.json)
  PREFIX/releases/<version>/model/...      the student component (when the release carries one)
  PREFIX/releases/<version>/release.json   every file above with sha256 and size; uploaded last
  PREFIX/current.json                      {"version": ...}: replaced only after the release verified

A reader that follows current.json therefore only ever sees a complete, verified release.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Optional

from .errors import ManifestError
from .manifest import SCHEMA_VERSION, FileEntry, TeacherInfo, file_entries, teacher_info, utc_now
from .storage import ObjectNotFound, ObjectStore

CURRENT_KEY = "current.json"
RELEASES = "releases"
RELEASE_MANIFEST = "release.json"
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def release_key(version: str, name: str = "") -> str:
    check_version(version)
    return f"{RELEASES}/{version}/{name}" if name else f"{RELEASES}/{version}/"


def check_version(version: str) -> str:
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise ManifestError(f"invalid release version {version!r}: use letters, digits, '.', '_', '-' (max 64)")
    return version


@dataclass
class ReleaseManifest:
    version: str
    teacher: TeacherInfo
    files: Dict[str, FileEntry]
    components: Dict[str, Dict[str, Any]]
    created_at: str = field(default_factory=utc_now)
    kind: str = "release"
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "ReleaseManifest":
        """Parse release.json; anything malformed raises ManifestError (and nothing else)."""
        try:
            raw = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ManifestError("release.json is not valid JSON") from None
        except RecursionError:  # fuzz finding: "[[[[..." deeper than the interpreter's limit
            raise ManifestError("release.json is nested too deeply") from None
        if not isinstance(raw, dict) or raw.get("kind") != "release":
            raise ManifestError("release.json is not a release manifest")
        if raw.get("schema_version") != SCHEMA_VERSION:
            raise ManifestError(f"release.json schema_version {raw.get('schema_version')!r} is not {SCHEMA_VERSION}"[:300])
        try:
            files = file_entries(raw["files"], "release.json")
            for name in files:
                if not _safe_name(name):
                    raise ManifestError(f"release.json names an unsafe path {name[:200]!r}")
            components = dict(raw.get("components", {}))
            if not all(isinstance(v, dict) for v in components.values()):
                raise ManifestError("release.json components must be an object of objects")
            created_at = raw["created_at"]
            if not isinstance(created_at, str):
                raise ManifestError("release.json created_at must be a string")
            return cls(version=check_version(raw["version"]), teacher=teacher_info(raw["teacher"], "release.json"),
                       files=files, components=components, created_at=created_at)
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"release.json is malformed: {exc!r}"[:500]) from None


def _safe_name(name: str) -> bool:
    """A relative '/'-separated path that stays inside the release: no '..', no empty parts, no '\\' or NUL."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and "\\" not in name and "\x00" not in name \
        and all(p and p != ".." for p in parts)


@dataclass(frozen=True)
class CurrentPointer:
    version: str
    release_sha256: str
    published_at: str
    previous: Optional[str] = None

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode("utf-8")


def read_current(store: ObjectStore) -> Optional[CurrentPointer]:
    """The published pointer, or None when nothing was ever published."""
    try:
        raw = json.loads(store.get_bytes(CURRENT_KEY))
    except ObjectNotFound:
        return None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ManifestError(f"{store.uri(CURRENT_KEY)} is not valid JSON") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"{store.uri(CURRENT_KEY)} is malformed: not a JSON object")
    try:
        pointer = CurrentPointer(version=check_version(raw["version"]), release_sha256=raw["release_sha256"],
                                 published_at=raw["published_at"], previous=raw.get("previous"))
    except (KeyError, TypeError):
        raise ManifestError(f"{store.uri(CURRENT_KEY)} is malformed") from None
    if not isinstance(pointer.release_sha256, str) or not isinstance(pointer.published_at, str):
        raise ManifestError(f"{store.uri(CURRENT_KEY)} is malformed: release_sha256 and published_at must be strings")
    if pointer.previous is not None:
        check_version(pointer.previous)
    return pointer


def read_release(store: ObjectStore, version: str) -> ReleaseManifest:
    return ReleaseManifest.from_bytes(store.get_bytes(release_key(version, RELEASE_MANIFEST)))
