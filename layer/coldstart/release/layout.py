"""Every file and object-key name of a release, in one place.

    PREFIX/current.json                          the published pointer (CurrentPointer)
    PREFIX/projections/<sha256>.npz              a serving width's projection (not in any release: the
                                                 student has it folded in); build-index --projection-from
                                                 reuses the current student's, so a refresh can carry it
    PREFIX/releases/<version>/release.json       every file below with sha256 and size; uploaded last
    PREFIX/releases/<version>/canaries.json      canary texts with expected vectors, neighbours, top tags
    PREFIX/releases/<version>/index/manifest.json   IndexManifest (build-index)
                                   index/index.ann  Annoy (angular)
                                   index/items.npz  item number -> handle and tags (coldstart.items)
                                   index/keywords.json (optional) the keyword baseline's table
                                   index/calibration.json (optional) the confidence calibrator
                                   (a local index may also hold projection.npz: never published)
    PREFIX/releases/<version>/model/model_manifest.json   ModelManifest (export)
                                   model/vocab.txt, model/student.int8.onnx, model/*.nb, ...
                                   model/canaries.json  canary texts and the served model's vectors (export)

A local build directory has the same component layout (``build-index --out DIR`` is an index
component, ``export --out DIR`` a model component). Other jobs may add optional files: register the
name in ``OPTIONAL_INDEX_FILES`` (or ``OPTIONAL_RELEASE_FILES``) and publish ships it when present;
readers download every file release.json lists.
"""
from __future__ import annotations

import re

from ..errors import ManifestError

SCHEMA_VERSION = 1

# object keys under the release prefix
CURRENT_KEY = "current.json"
RELEASES = "releases"
RELEASE_MANIFEST = "release.json"
CANARIES = "canaries.json"  # also the model component's file of the same name (its vectors only)

# components (directories inside a release, and the local build directories)
INDEX_DIR = "index"
MODEL_DIR = "model"

# the index component
INDEX_MANIFEST = "manifest.json"
INDEX_FILE = "index.ann"
ITEMS_NPZ = "items.npz"
ITEMS_JSON = "items.json"  # the table as JSON: small test tables only (releases carry items.npz)
KEYWORDS = "keywords.json"       # the keyword baseline's table (infra keywords)
CALIBRATION = "calibration.json"  # the confidence calibrator (infra calibrate; publish checks what it was fitted on)
OPTIONAL_INDEX_FILES = (KEYWORDS, CALIBRATION)  # shipped when present next to the index (not in its manifest)
# beside a local index built at a reduced width (build-index --width): the projection export folds into
# the student. Never published (the student applies it); both manifests carry its ProjectionInfo.
PROJECTION_FILE = "projection.npz"
PROJECTIONS = "projections"  # under the release prefix, beside releases/: PROJECTIONS/<sha256>.npz

# the model component
MODEL_MANIFEST = "model_manifest.json"
VOCAB = "vocab.txt"
ONNX_FP32 = "student.fp32.onnx"
ONNX_INT8 = "student.int8.onnx"

# files at the release root besides release.json (optional ones are shipped when the publisher has them)
OPTIONAL_RELEASE_FILES: tuple = ()

VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def index_name(name: str) -> str:
    """A release-relative name in the index component: ``index/<name>``."""
    return f"{INDEX_DIR}/{name}"


def model_name(name: str) -> str:
    """A release-relative name in the model component: ``model/<name>``."""
    return f"{MODEL_DIR}/{name}"


def check_version(version: str) -> str:
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise ManifestError(f"invalid release version {str(version)[:80]!r}: use letters, digits, '.', '_', '-' "
                            "(max 64)")
    return version


def release_key(version: str, name: str = "") -> str:
    """The object key of ``name`` (release-relative) in release ``version``."""
    check_version(version)
    return f"{RELEASES}/{version}/{name}" if name else f"{RELEASES}/{version}/"


def projection_key(sha256: str) -> str:
    """The object key of a published projection (publish uploads it, build-index --projection-from reads it)."""
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ManifestError(f"not a sha256: {sha256[:80]!r}")
    return f"{PROJECTIONS}/{sha256}.npz"


def safe_name(name: str) -> bool:
    """A relative '/'-separated path that stays inside the release: no '..', no empty parts, no '\\' or NUL."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and "\\" not in name and "\x00" not in name \
        and all(p and p != ".." for p in parts)
