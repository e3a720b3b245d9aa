"""The storage interface every backend implements."""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Dict, Iterator, List, Mapping, Optional, Union

from ..errors import ObjectNotFound, PreconditionFailed, StorageError  # noqa: F401  (re-exported)

EXPECT_CONTINUE_SECONDS = 1.0  # botocore waits this long for "100 Continue" before sending a PUT body anyway

# A version token meaning "the object does not exist" (get_versioned / put_if_unchanged).
ABSENT: Optional[str] = None


# The two sets of defaults. Serving (the Lambda, the kiosk): one call on a small object must end well
# inside the function's 10 s timeout. Batch (`python -m infra`): uploads and downloads of hundreds of MB,
# no 10 s limit, so an S3 hiccup is waited out instead of failing a multi-hour run.
SERVING_DEFAULTS = {"max_attempts": 2, "connect_timeout": 1.0, "read_timeout": 2.0}
BATCH_DEFAULTS = {"max_attempts": 4, "connect_timeout": 3.0, "read_timeout": 30.0}
_defaults = [SERVING_DEFAULTS]  # which set StoreSettings.from_env starts from (see batch_defaults)


@contextmanager
def batch_defaults() -> Iterator[None]:
    """``StoreSettings.from_env`` starts from BATCH_DEFAULTS inside this block (infra.cli runs every
    job in one); the environment still overrides either set."""
    before = _defaults[0]
    _defaults[0] = BATCH_DEFAULTS
    try:
        yield
    finally:
        _defaults[0] = before


@dataclass(frozen=True)
class StoreSettings:
    """How every S3 client connects: defaults → environment (``COLDSTART_S3_*``, ``AWS_*``) → this
    object → ``make_client``. Nothing else reads these variables.

    Every storage call is bounded in time. Each attempt waits at most ``connect_timeout`` for the
    TCP (and TLS) connection and at most ``read_timeout`` for each read from the socket (the
    response, then every block of a body); at most ``max_attempts`` attempts, with botocore's
    "standard" backoff between them (full jitter, at most 0.05 * 2^n s). ``call_budget_seconds``
    is the resulting worst case for one call on a small object. The serving defaults keep it
    inside the Lambda's 10 s timeout with room for the request itself (8.05 s): an S3 that accepts
    connections and never answers costs a call 2 x 2 s = 4 s, then the caller gets a StorageError
    (tests/test_storage_bounds.py measures it against such a black hole). A large download is
    bounded per read, not in total: the Lambda downloads its release at init.

    Batch jobs (``python -m infra``) start from BATCH_DEFAULTS instead: read 30 s, connect 3 s,
    4 attempts (a multipart upload part on a busy S3 can take seconds to be acknowledged).
    """

    endpoint_url: Optional[str] = None
    region: str = "us-east-1"
    max_attempts: int = SERVING_DEFAULTS["max_attempts"]        # total attempts, the first included
    connect_timeout: float = SERVING_DEFAULTS["connect_timeout"]  # seconds per attempt to connect
    read_timeout: float = SERVING_DEFAULTS["read_timeout"]      # seconds per socket read (S3's first byte: < 0.1 s)

    ENV: ClassVar[Dict[str, str]] = {"max_attempts": "COLDSTART_S3_MAX_ATTEMPTS",
                                     "connect_timeout": "COLDSTART_S3_CONNECT_TIMEOUT",
                                     "read_timeout": "COLDSTART_S3_READ_TIMEOUT"}

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("S3 settings: max_attempts >= 1 and timeouts > 0 are required")

    @classmethod
    def from_env(cls, env: "Optional[Mapping[str, str]]" = None) -> "StoreSettings":
        env = os.environ if env is None else env
        values = dict(_defaults[0])
        for name, var in cls.ENV.items():
            raw = env.get(var)
            if raw:
                kind = int if name == "max_attempts" else float
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise ValueError(f"{var}={raw!r} is not a valid {kind.__name__}") from None
        return cls(
            endpoint_url=env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            **values,
        )

    @property
    def call_budget_seconds(self) -> float:
        """Worst case of one call on a small object: every attempt connects and waits for its
        answer as long as allowed, with the backoffs in between; then either the body's one read
        (GET) or botocore's wait of up to 1 s per attempt for "100 Continue" (PUT with a body)."""
        backoff = sum(min(0.05 * 2 ** n, 20.0) for n in range(self.max_attempts - 1))
        extra = max(self.read_timeout, self.max_attempts * EXPECT_CONTINUE_SECONDS)
        return self.max_attempts * (self.connect_timeout + self.read_timeout) + backoff + extra


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
