"""A directory as an object store (tests, kiosks, and runs without S3)."""
from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional, Union

from ..release.files import atomic_write
from .base import ABSENT, ObjectNotFound, ObjectStore, PreconditionFailed, ProgressCallback


def _copy(blocks, fh, progress: Optional[ProgressCallback]) -> None:
    for block in blocks:
        fh.write(block)
        if progress:
            progress(len(block))


class LocalStore(ObjectStore):
    def __init__(self, root: Union[str, Path]):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        parts = [p for p in key.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise ValueError(f"invalid key {key!r}")
        return self.root.joinpath(*parts) if parts else self.root

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(f"{self.uri(key)}: not found") from None

    def _write_atomic(self, key: str, writer) -> None:
        atomic_write(self._path(key), writer)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._write_atomic(key, lambda fh: fh.write(data))

    def get_versioned(self, key: str):
        try:
            data = self.get_bytes(key)
        except ObjectNotFound:
            return None, ABSENT
        return data, hashlib.sha256(data).hexdigest()

    def put_if_unchanged(self, key: str, data: bytes, token: Optional[str]) -> None:
        with self._locked_dir(key):
            if self.get_versioned(key)[1] != token:
                raise PreconditionFailed(f"{self.uri(key)} changed since it was read")
            self.put_bytes(key, data)

    @contextmanager
    def _locked_dir(self, key: str):
        """An exclusive flock of the object's directory: no lock files for list() to trip over."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(path.parent), os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def put_file(self, key: str, path, progress: Optional[ProgressCallback] = None) -> None:
        def copy(fh):
            with open(path, "rb") as src:
                _copy(iter(lambda: src.read(1 << 20), b""), fh, progress)

        self._write_atomic(key, copy)

    def download(self, key: str, path, progress: Optional[ProgressCallback] = None) -> None:
        src = self._path(key)
        if not src.is_file():
            raise ObjectNotFound(f"{self.uri(key)}: not found")
        atomic_write(path, lambda fh: _copy(self.iter_chunks(key), fh, progress))

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20):
        try:
            fh = open(self._path(key), "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(f"{self.uri(key)}: not found") from None
        with fh:
            for block in iter(lambda: fh.read(chunk_size), b""):
                yield block

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def delete_all_versions(self, key: str) -> int:
        """A directory keeps one version: removing the file removes all of them."""
        try:
            self._path(key).unlink()
            return 1
        except FileNotFoundError:
            return 0

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise ObjectNotFound(f"{self.uri(key)}: not found") from None

    def list(self, prefix: str = "") -> List[str]:
        if not self.root.exists():
            return []
        keys = []
        for dirpath, _, files in os.walk(self.root):
            for name in files:
                if name.startswith(".") and (name.endswith(".part") or name.endswith(".tmp")):
                    continue  # in-flight temporaries are not objects
                rel = Path(dirpath, name).relative_to(self.root).as_posix()
                if rel.startswith(prefix):
                    keys.append(rel)
        return sorted(keys)

    def uri(self, key: str = "") -> str:
        return str(self._path(key))
