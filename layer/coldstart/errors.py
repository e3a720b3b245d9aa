"""Every error coldstart raises, in one hierarchy. Messages never carry raw user text.

    ColdstartError
    ├── RequestError            the caller can fix the request (code + message for the error body)
    │   ├── InvalidRequest          malformed or invalid values
    │   ├── PayloadTooLarge         body, text, field or image over a limit
    │   ├── UnsupportedMediaType    explicit non-JSON content type, unsupported image format
    │   ├── Unauthenticated         no caller identity where one is required
    │   ├── Forbidden               the identity may not act on this user
    │   ├── NotFound                no such route, stored profile or avatar object
    │   └── MethodNotAllowed
    │   └── InvalidUpdate           a queued update message that can never be applied
    ├── ServiceUnavailable      nothing the caller did: no release loaded, storage down
    │   ├── NotReady
    │   ├── OcrUnavailable          this runtime has no OCR (answered from the text alone)
    │   └── StorageError
    │       ├── ObjectNotFound
    │       └── PreconditionFailed  a compare-and-swap write lost the race
    ├── ConfigError             a setting, key file or experiment is wrong (at start-up)
    │   └── ExperimentError
    ├── InputError              bad batch input (names file and line)
    ├── ManifestError / VerificationError / RecallGateError / QualityGateError   releases
    │   (VerificationError ⊃ SmokeTestError: verified files that do not open or miss their canaries)
    └── CorruptRecord           a stored profile object is not a record

HTTP statuses are not here: ``coldstart.api.status_for`` maps these types at the edge (the Lambda's
resolver and the kiosk's server), so nothing below the API layer knows about HTTP.
"""
from __future__ import annotations

from typing import Any, Dict


class ColdstartError(Exception):
    """Base class: an error a caller can act on (the message says what to do)."""

    code = "error"


class RequestError(ColdstartError):
    """A request the caller can correct. ``code`` is stable (clients switch on it); ``message``
    names the problem and the field, never the caller's values."""

    code = "invalid_request"

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> Dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class InvalidRequest(RequestError):
    pass


class PayloadTooLarge(RequestError):
    pass


class UnsupportedMediaType(RequestError):
    pass


class Unauthenticated(RequestError):
    pass


class Forbidden(RequestError):
    pass


class NotFound(RequestError):
    pass


class MethodNotAllowed(RequestError):
    pass


class ServiceUnavailable(ColdstartError):
    """The service cannot answer now (no release, storage unreachable); retrying later may work.
    The message is for operators' logs; callers get a generic body."""

    code = "unavailable"


class NotReady(ServiceUnavailable):
    """No release is loaded (never published, or every load failed)."""

    code = "not_ready"


class StorageError(ServiceUnavailable):
    """Object storage failed (unreachable, access denied, timed out, missing object)."""

    code = "storage_unavailable"


class ObjectNotFound(StorageError):
    """The key does not exist in the store."""


class PreconditionFailed(StorageError):
    """The object changed (or appeared) since it was read; re-read and decide again."""


class OcrUnavailable(ServiceUnavailable):
    """This runtime cannot read text from images (no OCR package); the text alone is profiled."""


class ConfigError(ColdstartError):
    """A setting, key file or experiment definition is wrong; fix the configuration."""


class ExperimentError(ConfigError):
    """COLDSTART_EXPERIMENT is not a valid experiment definition."""


class InvalidUpdate(RequestError):
    """A queued profile update that cannot be processed, now or ever (never quotes its values)."""

    def __init__(self, message: str, code: str = "invalid_update"):
        super().__init__(code, message)


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


class RecallGateError(ColdstartError):
    """The index's measured recall is below the configured threshold."""


class QualityGateError(ColdstartError):
    """A release's measured profile quality is below the configured gate."""


class CorruptRecord(ColdstartError):
    """A stored profile object is not a valid record (never quotes its content)."""


class SmokeTestError(VerificationError):
    """A release's files verified, but it does not answer its canary texts as recorded at export
    (or does not open): it is never swapped in."""
