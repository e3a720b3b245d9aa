"""The kiosk's releases: the Lambda's ReleaseLoader/ReleaseManager (same download, same sha256
verification, same teacher check, same atomic swap), plus what a kiosk needs on top:

* the serving and previous versions are remembered in ``<data>/releases/state.json`` so a
  restarted kiosk serves its cached release with no network at all;
* refreshes run from the kiosk's scheduler (never on the request path: a flaky network must
  not slow a visitor's request);
* ``rollback()`` swaps back to the previous release kept in the cache.
"""
from __future__ import annotations

import errno
import json
import logging
import time
from pathlib import Path
from typing import Any, Dict, Optional

from coldstart.release import RELEASE_MANIFEST, atomic_write_json
from coldstart.release_loader import EncoderBackend, ReleaseLoader, ReleaseManager
from coldstart.storage import open_store

log = logging.getLogger("edge.releases")

STATE_FILE = "state.json"


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "disk is full" in str(exc) or "No space left" in str(exc)


class KioskReleaseManager(ReleaseManager):
    def __init__(self, loader: ReleaseLoader, keep_releases: int = 2):
        super().__init__(loader, refresh_seconds=0, keep_releases=keep_releases)
        self.state_path = loader.cache_dir / STATE_FILE
        self.last_sync: Optional[float] = None      # wall time of the last successful check
        self.disk_full: Optional[str] = None

    # -- state on disk ---------------------------------------------------------------------
    def _read_state(self) -> Dict[str, Any]:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _write_state(self) -> None:
        if self.current is None:
            return
        try:
            self.loader.cache_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.state_path, {"current": self.current.version, "previous": self.previous_version})
        except OSError as exc:
            if is_disk_full(exc):
                self.disk_full = f"cannot write {STATE_FILE}: {exc.strerror or exc}"
            self.last_error = f"{exc.__class__.__name__}: {exc}"

    # -- lifecycle -------------------------------------------------------------------------
    def open_cached(self) -> bool:
        """Serve the release remembered in state.json, after verifying its cached files again
        (size + sha256 against the cached release.json) and its smoke test."""
        state = self._read_state()
        for version in (state.get("current"), state.get("previous")):
            if not version:
                continue
            if not (self.loader.cache_dir / version / RELEASE_MANIFEST).is_file():
                continue
            try:
                self.current = self.loader.open_cached(version)
                self.previous_version = state.get("previous") if version == state.get("current") else None
                return True
            except Exception as exc:  # a damaged cache: try the previous one, then the network
                self.last_error = f"cached release {version}: {exc.__class__.__name__}: {exc}"
        return False

    def start(self):
        self.open_cached()
        self.sync()
        return self.current

    def maybe_refresh(self) -> None:
        """Requests never touch the network; the scheduler calls sync()."""

    def sync(self) -> Dict[str, Any]:
        """Check the release URI once; a newer release is fetched, verified and swapped in."""
        before = self.current.version if self.current else None
        self._check()
        after = self.current.version if self.current else None
        if self.last_error is None:
            self.last_sync = time.time()
            self.disk_full = None
        elif "No space left" in self.last_error or "disk is full" in self.last_error:
            self.disk_full = self.last_error
        if after != before:
            self._write_state()
        return {"before": before, "after": after, "changed": after != before, "error": self.last_error}

    def rollback(self) -> str:
        """Serve the previous release again (kept in the cache since the last swap)."""
        state = self._read_state()
        previous = state.get("previous") or self.previous_version
        if not previous or not (self.loader.cache_dir / previous / RELEASE_MANIFEST).is_file():
            raise RuntimeError("no previous release is cached; nothing to roll back to")
        loaded = self.loader.open_cached(previous)  # verified again: the cache may have changed on disk
        self.previous_version = self.current.version if self.current else None
        self.current = loaded
        self._write_state()
        return previous

    def status(self) -> Dict[str, Any]:
        return {"current": self.current.version if self.current else None, "previous": self.previous_version,
                "last_sync": self.last_sync, "last_error": self.last_error, "disk_full": self.disk_full,
                "backend": self.loader.backend.name}


def make_manager(release_uri: str, data_dir: Path, backend: EncoderBackend, threads: int = 1,
                 store_settings=None) -> KioskReleaseManager:
    loader = ReleaseLoader(open_store(release_uri, store_settings), str(Path(data_dir) / "releases"),
                           threads=threads, backend=backend)
    return KioskReleaseManager(loader)
