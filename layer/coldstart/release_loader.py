"""Load a published release for serving: follow current.json, download into a local cache,
verify every file (size + sha256, hashed while downloading), check that the student and the
index come from the same teacher, then open the index (mmap) and the encoder.

``ReleaseManager`` keeps one release serving and refreshes: at most every N seconds it reads
current.json; a newer release is loaded next to the old one and swapped in only when fully
verified. Any failure keeps the old release serving and is recorded for /health.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from .errors import ColdstartError, ManifestError, VerificationError
from .items import ITEMS_FILE, ItemTable
from .manifest import FileEntry, IndexManifest, read_json
from .release import ReleaseManifest, read_current, read_release, release_key
from .storage import ObjectStore
from .vector_index import INDEX_FILE, load_annoy

log = logging.getLogger("coldstart.release")

MODEL_MANIFEST = "model_manifest.json"



class EncoderBackend:
    """How a runtime turns a release's model component into an encoder, and which files it needs
    (a Lambda downloads the INT8 ONNX model only, a kiosk only its Paddle Lite .nb)."""

    name = "base"

    def model_files(self, model_manifest: Dict[str, Any]) -> List[str]:
        raise NotImplementedError

    def create(self, model_dir: Path, model_manifest: Dict[str, Any], threads: int) -> Any:
        raise NotImplementedError


class OnnxBackend(EncoderBackend):
    name = "onnx"

    def model_files(self, model_manifest: Dict[str, Any]) -> List[str]:
        return [model_manifest["serving"]["onnx"]]

    def create(self, model_dir: Path, model_manifest: Dict[str, Any], threads: int) -> Any:
        from .encoder import OnnxEncoder

        return OnnxEncoder(str(model_dir / model_manifest["serving"]["onnx"]), threads=threads)


@dataclass
class LoadedRelease:
    version: str
    root: Path
    manifest: ReleaseManifest
    index_manifest: IndexManifest
    model_manifest: Dict[str, Any]
    index: Any            # AnnoyIndex, mmapped
    items: ItemTable
    encoder: Any          # .encode_ids(input_ids, attention_mask) -> vectors
    tokenizer: Any        # .encode(text) -> ids, mask
    loaded_at: float = field(default_factory=time.time)
    model_file: Optional[str] = None  # the model file the encoder runs (under model/), for model_version

    @property
    def model_version(self) -> str:
        return f"{self.version}/model"

    @property
    def search_k(self) -> int:
        return self.index_manifest.search_k


def _download_verified(store: ObjectStore, key: str, dest: Path, entry: FileEntry) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    tmp = dest.with_name(f".{dest.name}.part")
    with open(tmp, "wb") as fh:
        for block in store.iter_chunks(key):
            fh.write(block)
            digest.update(block)
            size += len(block)
    if size != entry.size or digest.hexdigest() != entry.sha256:
        tmp.unlink()
        what = f"size {size} != {entry.size}" if size != entry.size else "sha256 differs from release.json"
        raise VerificationError(f"{key}: {what}")
    os.replace(tmp, dest)


class ReleaseLoader:
    """Downloads and opens releases; knows nothing about refresh timing."""

    def __init__(self, store: ObjectStore, cache_dir: str, threads: int = 1,
                 backend: Optional[EncoderBackend] = None):
        self.store = store
        self.cache_dir = Path(cache_dir)
        self.threads = threads
        self.backend = backend or OnnxBackend()

    def current_version(self) -> Optional[str]:
        pointer = read_current(self.store)
        return pointer.version if pointer else None

    def _needed(self, manifest: ReleaseManifest, model_manifest: Dict[str, Any]) -> List[str]:
        names = [n for n in manifest.files if n.startswith("index/")]
        names += ["model/" + MODEL_MANIFEST, "model/vocab.txt"]
        names += ["model/" + n for n in self.backend.model_files(model_manifest)]
        missing = [n for n in names if n not in manifest.files]
        if missing:
            raise ManifestError(f"release {manifest.version} lacks {', '.join(missing)} (needed by the {self.backend.name} runtime)")
        return sorted(set(names))

    def fetch(self, version: str) -> Path:
        """Download what this runtime needs of ``version`` into cache_dir/<version>, every file
        verified against release.json; reuse a complete earlier download."""
        final = self.cache_dir / version
        manifest_bytes = self.store.get_bytes(release_key(version, "release.json"))
        manifest = ReleaseManifest.from_bytes(manifest_bytes)
        if "model/" + MODEL_MANIFEST not in manifest.files:
            raise ManifestError(f"release {version} carries no student model (model/{MODEL_MANIFEST})")
        if (final / "release.json").is_file() and (final / "release.json").read_bytes() == manifest_bytes:
            needed = self._needed(manifest, read_json(final / "model" / MODEL_MANIFEST))
            if all((final / n).is_file() for n in needed):
                return final  # verified when downloaded; the directory only ever appears whole
        staging = self.cache_dir / f".{version}.partial"
        if staging.exists():
            shutil.rmtree(staging)
        try:
            first = "model/" + MODEL_MANIFEST
            _download_verified(self.store, release_key(version, first), staging / first, manifest.files[first])
            for name in self._needed(manifest, read_json(staging / first)):
                if name != first:
                    _download_verified(self.store, release_key(version, name), staging / name, manifest.files[name])
            (staging / "release.json").write_bytes(manifest_bytes)
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final

    def open(self, version: str, root: Path) -> LoadedRelease:
        from .tokenizer import WordPieceTokenizer

        manifest = ReleaseManifest.from_bytes((root / "release.json").read_bytes())
        index_manifest = IndexManifest.from_dict(read_json(root / "index" / "manifest.json"))
        model_manifest = read_json(root / "model" / MODEL_MANIFEST)
        self._check_teachers(version, manifest, index_manifest, model_manifest)
        index = load_annoy(root / "index" / INDEX_FILE, index_manifest.dim)
        items = ItemTable.load(root / "index" / ITEMS_FILE)
        encoder = self.backend.create(root / "model", model_manifest, self.threads)
        tokenizer = WordPieceTokenizer(str(root / "model" / "vocab.txt"),
                                       max_seq_len=int(model_manifest["student"]["max_seq_len"]))
        return LoadedRelease(version, root, manifest, index_manifest, model_manifest, index, items, encoder, tokenizer,
                             model_file=self.backend.model_files(model_manifest)[0])

    @staticmethod
    def _check_teachers(version, manifest, index_manifest, model_manifest) -> None:
        from .manifest import TeacherInfo

        model_teacher = TeacherInfo(**model_manifest["teacher"])
        if not (manifest.teacher.same_space(index_manifest.teacher) and model_teacher.same_space(index_manifest.teacher)):
            raise ManifestError(
                f"release {version}: the student comes from teacher {model_teacher.id} but the index from "
                f"{index_manifest.teacher.id}; refusing a mismatched pair")
        if int(model_manifest["student"]["out_dim"]) != index_manifest.dim:
            raise ManifestError(f"release {version}: student dim {model_manifest['student']['out_dim']} "
                                f"!= index dim {index_manifest.dim}")

    def load(self, version: str) -> LoadedRelease:
        return self.open(version, self.fetch(version))

    def prune(self, keep: set) -> None:
        """Remove cached releases not in ``keep`` (old versions pile up in /tmp otherwise)."""
        if not self.cache_dir.is_dir():
            return
        for child in self.cache_dir.iterdir():
            if child.is_dir() and child.name not in keep and not child.name.startswith("."):
                shutil.rmtree(child, ignore_errors=True)


class ReleaseManager:
    """The release being served, and the refresh policy around it."""

    def __init__(self, loader: ReleaseLoader, refresh_seconds: float, keep_releases: int = 2,
                 clock: Callable[[], float] = time.monotonic, background: bool = True):
        self.loader = loader
        self.background = background
        self.refresh_seconds = refresh_seconds
        self.keep_releases = keep_releases
        self.clock = clock
        self.current: Optional[LoadedRelease] = None
        self.previous_version: Optional[str] = None
        self.last_error: Optional[str] = None
        self.last_check: Optional[float] = None
        self._lock = threading.Lock()

    def start(self) -> Optional[LoadedRelease]:
        """Load the published release at init; on failure serve nothing (503) and keep the reason."""
        self._check()
        return self.current

    def maybe_refresh(self) -> None:
        if self.refresh_seconds <= 0 and self.current is not None:
            return
        now = self.clock()
        if self.last_check is not None and now - self.last_check < self.refresh_seconds:
            return
        if self.background and self.current is not None:
            # A due refresh may download hundreds of MB: never make a request wait for it.
            self.last_check = now
            threading.Thread(target=self._check, name="coldstart-refresh", daemon=True).start()
            return
        self._check()

    def _check(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # another thread is already refreshing
        try:
            self.last_check = self.clock()
            version = self.loader.current_version()
            if version is None:
                self.last_error = "no release published yet (current.json missing)"
                return
            if self.current is not None and self.current.version == version:
                self.last_error = None  # reachable again and up to date: an earlier failure is over
                return
            loaded = self.loader.load(version)
            self.previous_version = self.current.version if self.current else None
            self.current = loaded  # one reference swap: requests see the old or the new release
            self.last_error = None
            log.info("release loaded", extra={"version": version, "previous": self.previous_version})
            keep = {v for v in (version, self.previous_version) if v}
            self.loader.prune(keep)
        except (ColdstartError, OSError, ValueError, KeyError) as exc:
            self.last_error = f"{exc.__class__.__name__}: {exc}"
            log.warning("release refresh failed; still serving %s", self.current.version if self.current else "nothing",
                        extra={"error": self.last_error})
        finally:
            self._lock.release()
