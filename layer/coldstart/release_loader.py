"""Load a published release for serving: follow current.json, download into a local cache,
verify every file (size + sha256, hashed while downloading), check that the student and the
index come from the same teacher, open the index (checked, then mmapped), the encoder, the calibrator
and the keyword table, and make the release answer its canary texts (``coldstart.release.canaries``)
before it serves.

Cold start matters (a Lambda loads the release at init), so the files download on a few threads
(the index starts at once; the model once its manifest is read) and the ONNX session is built
from the verified model while index.ann is still downloading. The staging directory is renamed
into place only when every file verified (``staged_directory``); any failure stops the other
downloads and removes it. A release already in the cache is verified again (size + sha256 of
every file it needs) before it is reused: a file changed on disk is downloaded afresh.

``ReleaseManager`` keeps one release serving and refreshes: at most every N seconds it reads
current.json; a newer release is loaded next to the old one and swapped in only when it verified
and passed its smoke test. Any exception (of any type) keeps the old release serving and is
recorded for /health. A release that failed its smoke test is not downloaded again until
current.json names other bytes. At a cold start whose current release fails, current.json's
``previous`` is loaded instead (and the failure still shows in /health).
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import ManifestError, SmokeTestError, VerificationError
from .items import ItemTable, load_index_items
from .release import (CANARIES, INDEX_DIR, INDEX_FILE, MODEL_DIR, MODEL_MANIFEST,
                      OPTIONAL_RELEASE_FILES, RELEASE_MANIFEST, VOCAB, Canaries, CurrentPointer, FileEntry,
                      IndexManifest, ModelManifest, ReleaseManifest, atomic_write, model_name,
                      read_current, release_key, remove_directory, staged_directory, verify_files)
from .storage import ObjectStore
from .vector_index import open_annoy

log = logging.getLogger("coldstart.release")

NOT_READY_RETRY_SECONDS = 5.0  # with no release loaded, how often a request may trigger another attempt


class EncoderBackend:
    """How a runtime turns a release's model component into an encoder, and which files it needs
    (a Lambda downloads the INT8 ONNX model only, a kiosk only its Paddle Lite .nb)."""

    name = "base"  # also the key of the canaries' cosine tolerance
    # True when create() reads the model into memory, so it may run on the staging copy while the
    # index still downloads (the files are renamed into place afterwards)
    loads_into_memory = False

    def model_files(self, model_manifest: ModelManifest) -> List[str]:
        raise NotImplementedError

    def create(self, model_dir: Path, model_manifest: ModelManifest, threads: int) -> Any:
        raise NotImplementedError


class OnnxBackend(EncoderBackend):
    name = "onnx"
    loads_into_memory = True  # an InferenceSession keeps the parsed model, not the path

    def model_files(self, model_manifest: ModelManifest) -> List[str]:
        return [model_manifest.serving_file("onnx")]

    def create(self, model_dir: Path, model_manifest: ModelManifest, threads: int) -> Any:
        from .encoder import OnnxEncoder

        return OnnxEncoder(str(model_dir / model_manifest.serving_file("onnx")), threads=threads)


@dataclass
class LoadedRelease:
    version: str
    root: Path
    manifest: ReleaseManifest
    index_manifest: IndexManifest
    model_manifest: ModelManifest
    index: Any            # AnnoyIndex, mmapped after validate_annoy_file
    items: ItemTable
    encoder: Any          # .encode_ids(input_ids, attention_mask) -> vectors
    tokenizer: Any        # .encode(text) -> ids, mask
    model_file: str       # the model file the encoder runs (under model/), for model_version
    loaded_at: float = field(default_factory=time.time)
    # index/calibration.json and index/keywords.json, read when the release opens (``read_extras``): a file
    # that does not parse refuses the release like a failed smoke test, and the first request does not pay
    # for parsing them (the demo's detector: ~60 ms). False: not read yet (a release built by hand)
    extras_read: bool = False
    calibrator: Any = None  # coldstart.calibration.Calibrator, None: an uncalibrated release
    keywords: Any = None    # coldstart.keyword_baseline.KeywordProfiler, None: no keyword table

    def read_extras(self) -> "LoadedRelease":
        from .calibration import Calibrator
        from .keyword_baseline import KeywordProfiler

        self.calibrator = Calibrator.for_release_dir(self.root)
        self.keywords = KeywordProfiler.for_release_dir(self.root)
        self.extras_read = True
        return self

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
    """``dest`` appears only whole and matching ``entry`` (hashed while downloading: no second pass)."""

    def write(fh) -> None:
        digest = hashlib.sha256()
        size = 0
        for block in store.iter_chunks(key):
            if cancel is not None and cancel.is_set():
                raise _Cancelled(key)
            fh.write(block)
            digest.update(block)
            size += len(block)
        if size != entry.size or digest.hexdigest() != entry.sha256:
            what = f"size {size} != {entry.size}" if size != entry.size else "sha256 differs from release.json"
            raise VerificationError(f"{key}: {what}")

    atomic_write(dest, write)


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
    """Downloads, verifies, opens and smoke-tests releases; knows nothing about refresh timing."""

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

    def current_pointer(self) -> Optional[CurrentPointer]:
        """current.json (version, the sha256 of the release.json it vouches for, previous), or None."""
        return read_current(self.store)

    def _needed(self, manifest: ReleaseManifest, model_manifest: ModelManifest) -> List[str]:
        """Every file this runtime needs: the whole index component, the release's canaries and
        optional root files, the model's manifest, vocabulary and this backend's model file."""
        names = [n for n in manifest.files if n.startswith(INDEX_DIR + "/")]
        names += [n for n in (CANARIES, *OPTIONAL_RELEASE_FILES) if n in manifest.files]
        names += [model_name(MODEL_MANIFEST), model_name(VOCAB)]
        names += [model_name(n) for n in self.backend.model_files(model_manifest)]
        missing = [n for n in names if n not in manifest.files]
        if missing:
            raise ManifestError(f"release {manifest.version} lacks {', '.join(missing)} (needed by the "
                                f"{self.backend.name} runtime)")
        return sorted(set(names))

    def fetch(self, version: str, prepared: Optional[Dict[str, Any]] = None,
              expected_sha256: Optional[str] = None) -> Path:
        """Download what this runtime needs of ``version`` into cache_dir/<version>, every file
        verified against release.json; reuse an earlier download only after verifying it again.
        With a ``prepared`` dict, the encoder and tokenizer are built into it as soon as the model's
        files are verified, while the index is still downloading (``load`` passes them on to ``open``).
        ``expected_sha256``: current.json's ``release_sha256``; a release.json that differs (replaced
        after publishing) is refused, since every other file is trusted because it matches it."""
        final = self.cache_dir / version
        manifest_bytes = self.store.get_bytes(release_key(version, RELEASE_MANIFEST))
        if expected_sha256 is not None and hashlib.sha256(manifest_bytes).hexdigest() != expected_sha256:
            raise VerificationError(f"release {version}: release.json is not the one current.json vouches for "
                                    "(release_sha256 differs); was it changed after publishing?")
        manifest = ReleaseManifest.from_bytes(manifest_bytes)
        if not manifest.has_model:
            raise ManifestError(f"release {version} carries no student model ({model_name(MODEL_MANIFEST)})")
        if self._cached_and_intact(final, manifest, manifest_bytes):
            return final
        with staged_directory(final) as staging:
            self._download(version, manifest, staging, prepared)
            atomic_write(staging / RELEASE_MANIFEST, manifest_bytes)
        return final

    def _cached_and_intact(self, root: Path, manifest: ReleaseManifest, manifest_bytes: bytes) -> bool:
        """True when ``root`` holds this very release.json and every needed file matches it."""
        try:
            if (root / RELEASE_MANIFEST).read_bytes() != manifest_bytes:
                return False
            self.verify_cached(root, manifest)
            return True
        except FileNotFoundError:
            return False
        except Exception as exc:  # changed on disk: log it, and download afresh
            log.warning("cached release %s is damaged (%s: %s); downloading it again",
                        manifest.version, exc.__class__.__name__, exc)
            return False

    def verify_cached(self, root: Path, manifest: Optional[ReleaseManifest] = None) -> ReleaseManifest:
        """Size + sha256 of every file this runtime needs, against the cached release.json."""
        manifest = manifest or ReleaseManifest.from_bytes((root / RELEASE_MANIFEST).read_bytes())
        model_manifest = ModelManifest.load(root / MODEL_DIR, verify=False)
        needed = self._needed(manifest, model_manifest)
        verify_files(root, {n: manifest.files[n] for n in needed})
        return manifest

    def _download(self, version: str, manifest: ReleaseManifest, staging: Path,
                  prepared: Optional[Dict[str, Any]] = None) -> None:
        """Every file this runtime needs, verified, into ``staging``. The index files are known from
        release.json alone, so they start at once; the model's files once its manifest is in."""
        downloads = _Downloads(self.store, version, staging, manifest.files, self.download_workers)
        try:
            downloads.submit([n for n in manifest.files if n.startswith(INDEX_DIR + "/")]
                             + [n for n in (CANARIES, *OPTIONAL_RELEASE_FILES) if n in manifest.files])
            first = model_name(MODEL_MANIFEST)
            _download_verified(self.store, release_key(version, first), staging / first, manifest.files[first],
                               downloads.cancel)
            model_manifest = ModelManifest.load(staging / MODEL_DIR, verify=False)
            needed = self._needed(manifest, model_manifest)
            model = downloads.submit([n for n in needed if n.startswith(MODEL_DIR + "/") and n != first])
            if prepared is not None and self.backend.loads_into_memory:
                for future in model:
                    future.result()
                try:
                    prepared.update(self._prepare(staging / MODEL_DIR, model_manifest))
                except Exception as exc:  # a model that verifies but does not load: refused like a failed probe
                    raise self._rejected(version, "does not open", exc) from None
        except BaseException:
            downloads.abort()
            raise
        downloads.wait()

    def _prepare(self, model_dir: Path, model_manifest: ModelManifest) -> Dict[str, Any]:
        from .tokenizer import WordPieceTokenizer

        return {"encoder": self.backend.create(model_dir, model_manifest, self.threads),
                "tokenizer": WordPieceTokenizer(str(model_dir / VOCAB), max_seq_len=model_manifest.student.max_seq_len)}

    def open(self, version: str, root: Path, prepared: Optional[Dict[str, Any]] = None) -> LoadedRelease:
        """Open verified files and smoke-test them; any failure (of any type) is a SmokeTestError."""
        try:
            release = self._open(version, root, prepared)
        except SmokeTestError:
            raise
        except Exception as exc:  # InvalidProtobuf, std::bad_alloc as MemoryError, a bad npz...: one type
            raise self._rejected(version, "does not open", exc) from None
        try:
            self._smoke_test(release)
        except SmokeTestError:
            raise
        except Exception as exc:  # the runtime chokes on a canary (an id outside the model's table...)
            raise self._rejected(version, "failed its smoke test", exc) from None
        return release

    def open_cached(self, version: str) -> LoadedRelease:
        """Open a release from the cache (no network), after verifying every file it needs."""
        root = self.cache_dir / version
        self.verify_cached(root)
        return self.open(version, root)

    def _open(self, version: str, root: Path, prepared: Optional[Dict[str, Any]]) -> LoadedRelease:
        manifest = ReleaseManifest.from_bytes((root / RELEASE_MANIFEST).read_bytes())
        index_manifest = IndexManifest.load(root / INDEX_DIR, verify=False)
        model_manifest = ModelManifest.load(root / MODEL_DIR, verify=False)
        self._check_teachers(version, manifest, index_manifest, model_manifest)
        index = open_annoy(root / INDEX_DIR / INDEX_FILE, index_manifest.dim, index_manifest.count,
                           index_manifest.n_trees)
        items = load_index_items(root / INDEX_DIR)
        if len(items) != index_manifest.count:
            raise VerificationError(f"release {version}: the items table has {len(items)} rows, the index "
                                    f"{index_manifest.count}")
        made = prepared or self._prepare(root / MODEL_DIR, model_manifest)
        return LoadedRelease(version, root, manifest, index_manifest, model_manifest, index, items, made["encoder"],
                             made["tokenizer"], model_file=self.backend.model_files(model_manifest)[0]).read_extras()

    def _smoke_test(self, release: LoadedRelease) -> None:
        if CANARIES not in release.manifest.files:
            # published before releases carried canaries: at least one finite answer of the right size
            log.warning("release %s carries no canaries; probing it with one text only", release.version)
            enc = release.tokenizer.encode("canary")
            vector = release.encoder.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)
            ids = release.index.get_nns_by_vector(list(map(float, vector.reshape(-1))), 1,
                                                  search_k=release.search_k)
            if vector.size != release.index_manifest.dim or len(ids) != 1:
                raise SmokeTestError(f"release {release.version}: the probe got {vector.size} values and "
                                     f"{len(ids)} neighbours")
            return
        canaries = Canaries.load(release.root)
        try:
            canaries.check(release.encoder, release.tokenizer, release.index, release.items, self.backend.name,
                           release.index_manifest.dim)
        except SmokeTestError as exc:
            raise SmokeTestError(f"release {release.version} failed its smoke test: {exc}") from None

    @staticmethod
    def _rejected(version: str, what: str, exc: BaseException) -> SmokeTestError:
        return SmokeTestError(f"release {version} {what}: {exc.__class__.__name__}: {exc}"[:1000])

    @staticmethod
    def _check_teachers(version: str, manifest: ReleaseManifest, index_manifest: IndexManifest,
                        model_manifest: ModelManifest) -> None:
        model_teacher = model_manifest.teacher
        if not (manifest.teacher.same_space(index_manifest.teacher) and model_teacher.same_space(index_manifest.teacher)):
            raise ManifestError(
                f"release {version}: the student comes from teacher {model_teacher.id} but the index from "
                f"{index_manifest.teacher.id}; refusing a mismatched pair")
        if model_manifest.student.out_dim != index_manifest.dim:
            raise ManifestError(f"release {version}: student dim {model_manifest.student.out_dim} "
                                f"!= index dim {index_manifest.dim}")
        from .projection import check_projection_pair

        check_projection_pair(version, index_manifest.projection, model_manifest.projection)

    def load(self, version: str, expected_sha256: Optional[str] = None) -> LoadedRelease:
        prepared: Dict[str, Any] = {}  # filled during a download; empty when the cache already had it
        return self.open(version, self.fetch(version, prepared, expected_sha256), prepared)

    def discard(self, version: str) -> None:
        """Remove one cached release (one that failed its smoke test: it is not reused)."""
        remove_directory(self.cache_dir / version)

    def prune(self, keep: set) -> None:
        """Remove cached releases not in ``keep`` (old versions pile up in /tmp otherwise)."""
        if not self.cache_dir.is_dir():
            return
        for child in self.cache_dir.iterdir():
            if child.is_dir() and child.name not in keep and not child.name.startswith("."):
                remove_directory(child)


def describe(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"


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
        # (version, release_sha256) -> why it was refused: those bytes are not downloaded again
        self.rejected: Dict[Tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def start(self) -> Optional[LoadedRelease]:
        """Load the published release at init; on failure serve ``previous``, or nothing (503), and keep the reason."""
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
            self._follow(self.loader.current_pointer())
        except Exception as exc:  # any type: a refresh never takes the serving release (or the thread) down
            self._failed(describe(exc))
        finally:
            self._lock.release()

    def _follow(self, pointer: Optional[CurrentPointer]) -> None:
        if pointer is None:
            self.last_error = "no release published yet (current.json missing)"
            return
        if self.current is not None and self.current.version == pointer.version:
            self.last_error = None  # reachable again and up to date: an earlier failure is over
            return
        error = self._try(pointer.version, pointer.release_sha256)
        if error is None:
            return
        if self.current is None and pointer.previous:
            fallback_error = self._try(pointer.previous, pointer.previous_release_sha256)
            if fallback_error is None:
                self._failed(f"release {pointer.version} was refused ({error}); serving the previous release "
                             f"{pointer.previous} from current.json")
                return
            error = f"{error}; the previous release {pointer.previous} failed too: {fallback_error}"
        self._failed(error)

    def _try(self, version: str, release_sha256: Optional[str]) -> Optional[str]:
        """Load ``version`` and swap it in; None on success, else why not (the old release stays)."""
        known = self.rejected.get((version, release_sha256 or ""))
        if known is not None:
            return known
        try:
            loaded = self.loader.load(version, expected_sha256=release_sha256)
        except Exception as exc:  # any type: InvalidProtobuf, MemoryError, a bug in a loader
            error = describe(exc)
            if isinstance(exc, SmokeTestError):  # verified bytes that do not work: never retried as they are
                self.rejected[(version, release_sha256 or "")] = error
                if self.current is None or version != self.current.version:
                    self.loader.discard(version)
            return error
        self.previous_version = self.current.version if self.current else None
        self.current = loaded  # one reference swap: requests see the old or the new release
        self.last_error = None
        log.info("release loaded", extra={"version": version, "previous": self.previous_version})
        self.loader.prune({v for v in (version, self.previous_version) if v})
        return None

    def _failed(self, error: str) -> None:
        self.last_error = error
        log.warning("release refresh failed; serving %s", self.current.version if self.current else "nothing",
                    extra={"error": error})
