"""Load a published release for serving: follow current.json, download into a local cache,
verify every file (size + sha256, hashed while downloading), check that the student and the
index come from the same teacher, then open the index (mmap) and the encoder.

Cold start matters (a Lambda loads the release at init), so the files download on a few threads
(the index starts at once; the model once its manifest is read) and the ONNX session is built
from the verified model while index.ann is still downloading. The staging directory is renamed
into place only when every file verified; any failure stops the other downloads and removes it.

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
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from .errors import ColdstartError, ManifestError, VerificationError
from .items import ItemTable, load_index_items
from .manifest import FileEntry, IndexManifest, read_json
from .release import ReleaseManifest, read_current, read_release, release_key
from .storage import ObjectStore
from .vector_index import INDEX_FILE, load_annoy

log = logging.getLogger("coldstart.release")

MODEL_MANIFEST = "model_manifest.json"
NOT_READY_RETRY_SECONDS = 5.0  # with no release loaded, how often a request may trigger another attempt



class EncoderBackend:
    """How a runtime turns a release's model component into an encoder, and which files it needs
    (a Lambda downloads the INT8 ONNX model only, a kiosk only its Paddle Lite .nb)."""

    name = "base"
    # True when create() reads the model into memory, so it may run on the staging copy while the
    # index still downloads (the files are renamed into place afterwards)
    loads_into_memory = False

    def model_files(self, model_manifest: Dict[str, Any]) -> List[str]:
        raise NotImplementedError

    def create(self, model_dir: Path, model_manifest: Dict[str, Any], threads: int) -> Any:
        raise NotImplementedError


class OnnxBackend(EncoderBackend):
    name = "onnx"
    loads_into_memory = True  # an InferenceSession keeps the parsed model, not the path

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


class _Cancelled(Exception):
    """A sibling download failed: this one stops at its next chunk (never seen by callers)."""


def _download_verified(store: ObjectStore, key: str, dest: Path, entry: FileEntry,
                       cancel: Optional[threading.Event] = None) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    tmp = dest.with_name(f".{dest.name}.part")
    try:
        with open(tmp, "wb") as fh:
            for block in store.iter_chunks(key):
                if cancel is not None and cancel.is_set():
                    raise _Cancelled(key)
                fh.write(block)
                digest.update(block)  # sha256 while downloading: no second pass over the file
                size += len(block)
        if size != entry.size or digest.hexdigest() != entry.sha256:
            what = f"size {size} != {entry.size}" if size != entry.size else "sha256 differs from release.json"
            raise VerificationError(f"{key}: {what}")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


class _Downloads:
    """Verified downloads on a small thread pool, so the big index.ann and the model (and the
    small files' request round trips) overlap instead of queueing. The first failure cancels
    the rest, and ``wait`` returns only when no thread can still write into the staging dir."""

    def __init__(self, store: ObjectStore, version: str, staging: Path, files: Dict[str, FileEntry], workers: int):
        self.store, self.version, self.staging, self.files = store, version, staging, files
        self.cancel = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="coldstart-fetch")
        self.futures: List[Future] = []

    def submit(self, names) -> List[Future]:
        futures = [self.pool.submit(self.one, name)
                   for name in sorted(names, key=lambda n: -self.files[n].size)]  # biggest first: it sets the pace
        self.futures += futures
        return futures

    def one(self, name: str) -> None:
        _download_verified(self.store, release_key(self.version, name), self.staging / name, self.files[name],
                           self.cancel)

    def wait(self) -> None:
        try:
            for future in as_completed(self.futures):
                future.result()  # the first failure propagates, as the sequential loop did
        finally:
            self.abort()

    def abort(self) -> None:
        self.cancel.set()
        self.pool.shutdown(wait=True, cancel_futures=True)


class ReleaseLoader:
    """Downloads and opens releases; knows nothing about refresh timing."""

    def __init__(self, store: ObjectStore, cache_dir: str, threads: int = 1,
                 backend: Optional[EncoderBackend] = None, download_workers: int = 4):
        self.store = store
        self.cache_dir = Path(cache_dir)
        self.threads = threads
        self.backend = backend or OnnxBackend()
        self.download_workers = download_workers

    def current_version(self) -> Optional[str]:
        pointer = read_current(self.store)
        return pointer.version if pointer else None

    def current_pointer(self):
        """current.json (version and the sha256 of the release.json it vouches for), or None."""
        return read_current(self.store)

    def _needed(self, manifest: ReleaseManifest, model_manifest: Dict[str, Any]) -> List[str]:
        names = [n for n in manifest.files if n.startswith("index/")]
        names += ["model/" + MODEL_MANIFEST, "model/vocab.txt"]
        names += ["model/" + n for n in self.backend.model_files(model_manifest)]
        missing = [n for n in names if n not in manifest.files]
        if missing:
            raise ManifestError(f"release {manifest.version} lacks {', '.join(missing)} (needed by the {self.backend.name} runtime)")
        return sorted(set(names))

    def fetch(self, version: str, prepared: Optional[Dict[str, Any]] = None,
              expected_sha256: Optional[str] = None) -> Path:
        """Download what this runtime needs of ``version`` into cache_dir/<version>, every file
        verified against release.json; reuse a complete earlier download. With a ``prepared`` dict,
        the encoder and tokenizer are built into it as soon as the model's files are verified,
        while the index is still downloading (``load`` passes them on to ``open``).
        ``expected_sha256``: current.json's ``release_sha256``; a release.json that differs (replaced
        after publishing) is refused, since every other file is trusted because it matches it."""
        final = self.cache_dir / version
        manifest_bytes = self.store.get_bytes(release_key(version, "release.json"))
        if expected_sha256 is not None and hashlib.sha256(manifest_bytes).hexdigest() != expected_sha256:
            raise VerificationError(f"release {version}: release.json is not the one current.json vouches for "
                                    "(release_sha256 differs); was it changed after publishing?")
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
            self._download(version, manifest, staging, prepared)
            (staging / "release.json").write_bytes(manifest_bytes)
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final

    def _download(self, version: str, manifest: ReleaseManifest, staging: Path,
                  prepared: Optional[Dict[str, Any]] = None) -> None:
        """Every file this runtime needs, verified, into ``staging``. The index files are known from
        release.json alone, so they start at once; the model's files once its manifest is in."""
        downloads = _Downloads(self.store, version, staging, manifest.files, self.download_workers)
        try:
            downloads.submit([n for n in manifest.files if n.startswith("index/")])
            first = "model/" + MODEL_MANIFEST
            _download_verified(self.store, release_key(version, first), staging / first, manifest.files[first],
                               downloads.cancel)
            model_manifest = read_json(staging / first)
            needed = self._needed(manifest, model_manifest)
            model = downloads.submit([n for n in needed if n != first and not n.startswith("index/")])
            if prepared is not None and self.backend.loads_into_memory:
                for future in model:
                    future.result()
                prepared.update(self._prepare(staging / "model", model_manifest))
        except BaseException:
            downloads.abort()
            raise
        downloads.wait()

    def _prepare(self, model_dir: Path, model_manifest: Dict[str, Any]) -> Dict[str, Any]:
        from .tokenizer import WordPieceTokenizer

        return {"encoder": self.backend.create(model_dir, model_manifest, self.threads),
                "tokenizer": WordPieceTokenizer(str(model_dir / "vocab.txt"),
                                                max_seq_len=int(model_manifest["student"]["max_seq_len"]))}

    def open(self, version: str, root: Path, prepared: Optional[Dict[str, Any]] = None) -> LoadedRelease:
        manifest = ReleaseManifest.from_bytes((root / "release.json").read_bytes())
        index_manifest = IndexManifest.from_dict(read_json(root / "index" / "manifest.json"))
        model_manifest = read_json(root / "model" / MODEL_MANIFEST)
        self._check_teachers(version, manifest, index_manifest, model_manifest)
        index = load_annoy(root / "index" / INDEX_FILE, index_manifest.dim)
        items = load_index_items(root / "index")  # items.npz, or items.json (older releases)
        made = prepared or self._prepare(root / "model", model_manifest)
        encoder, tokenizer = made["encoder"], made["tokenizer"]
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
        from .projection import check_projection_pair

        check_projection_pair(version, index_manifest.extra.get("projection"), model_manifest.get("projection"))

    def load(self, version: str, expected_sha256: Optional[str] = None) -> LoadedRelease:
        prepared: Dict[str, Any] = {}  # filled during a download; empty when the cache already had it
        return self.open(version, self.fetch(version, prepared, expected_sha256), prepared)

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
        # Serving nothing (503), look again soon rather than after a whole refresh period.
        interval = self.refresh_seconds if self.current is not None else min(self.refresh_seconds,
                                                                              NOT_READY_RETRY_SECONDS)
        if self.last_check is not None and now - self.last_check < interval:
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
            pointer = self.loader.current_pointer()
            if pointer is None:
                self.last_error = "no release published yet (current.json missing)"
                return
            version = pointer.version
            if self.current is not None and self.current.version == version:
                self.last_error = None  # reachable again and up to date: an earlier failure is over
                return
            loaded = self.loader.load(version, expected_sha256=pointer.release_sha256)
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
