"""Error types shared by the core and the jobs. Messages never carry raw user text."""
from __future__ import annotations


class ColdstartError(Exception):
    """Base class: an error a caller can act on (the message says what to do)."""


class InputError(ColdstartError):
    """Bad input data, e.g. a malformed JSONL line. Names the source and line."""

    def __init__(self, message: str, source: str = "", line: int = 0):
        where = f"{source}:{line}: " if source and line else (f"{source}: " if source else "")
        super().__init__(f"{where}{message}")
        self.source = source
        self.line = line


class ManifestError(ColdstartError):
    """A manifest is missing, unreadable or of an unknown schema."""


class VerificationError(ColdstartError):
    """A file's size or sha256 does not match its manifest entry."""


class StorageError(ColdstartError):
    """Object storage failed (unreachable, access denied, missing object)."""


class RecallGateError(ColdstartError):
    """The index's measured recall is below the configured threshold."""


class SmokeTestError(VerificationError):
    """A release's files verified, but it does not answer its canary texts as recorded at export
    (or does not open): it is never swapped in."""
