"""The storage interface every backend implements."""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Union

from ..errors import ObjectNotFound, PreconditionFailed, StorageError  # noqa: F401  (re-exported)

# A version token meaning "the object does not exist" (get_versioned / put_if_unchanged).
ABSENT: Optional[str] = None


@dataclass(frozen=True)
class StoreSettings:
    """Connection settings; from the environment by default (AWS_* variables)."""

    endpoint_url: Optional[str] = None
    region: str = "us-east-1"
    max_attempts: int = 4          # bounded retries (botocore "standard" mode: backoff + jitter)
    connect_timeout: float = 3.0
    read_timeout: float = 30.0

    @classmethod
    def from_env(cls) -> "StoreSettings":
        return cls(
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None,
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            max_attempts=int(os.environ.get("COLDSTART_S3_MAX_ATTEMPTS", "4")),
            connect_timeout=float(os.environ.get("COLDSTART_S3_CONNECT_TIMEOUT", "3")),
            read_timeout=float(os.environ.get("COLDSTART_S3_READ_TIMEOUT", "30")),
        )


ProgressCallback = Callable[[int], None]


class ObjectStore(ABC):
    """Keys are '/'-separated and relative to the store's root (a directory or bucket prefix)."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Replace the object whole: readers see the old or the new content, never a mix."""

    @abstractmethod
    def put_file(self, key: str, path: Union[str, Path],
                 progress: Optional[ProgressCallback] = None) -> None: ...

    @abstractmethod
    def download(self, key: str, path: Union[str, Path],
                 progress: Optional[ProgressCallback] = None) -> None:
        """Write the object to ``path`` via a temporary file, so ``path`` is whole or absent."""

    @abstractmethod
    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The object's bytes in chunks (download and hash in one pass)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; no error when it is already gone."""

    @abstractmethod
    def delete_all_versions(self, key: str) -> int:
        """Remove the object and every noncurrent version of it (erasure); returns how many
        versions were removed (0: there was nothing)."""

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def list(self, prefix: str = "") -> List[str]:
        """Keys under ``prefix``, sorted."""

    @abstractmethod
    def uri(self, key: str = "") -> str: ...

    # Compare-and-swap of one object: two writers of one record (two queue messages for one user,
    # two shards freezing one selection) cannot silently overwrite each other; the loser re-reads.
    @abstractmethod
    def get_versioned(self, key: str) -> "tuple[Optional[bytes], Optional[str]]":
        """(content, version token), or (None, ABSENT) when there is no such object."""

    @abstractmethod
    def put_if_unchanged(self, key: str, data: bytes, token: Optional[str]) -> None:
        """Write only if the object is still the one ``token`` was read from (ABSENT: only if it
        still does not exist); else PreconditionFailed and nothing is written."""

    def open_lines(self, key: str):
        """Iterate the object's lines as bytes (used for JSONL inputs)."""
        return iter(self.get_bytes(key).splitlines())
