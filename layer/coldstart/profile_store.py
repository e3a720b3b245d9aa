"""The profile store: one JSON object per user, so new users' profiles can be kept up to date and
fed to the next batch rebuild.

Layout (the store's root is ``COLDSTART_PROFILE_STORE_URI``, e.g. ``s3://bucket/PREFIX/profiles``)::

    <sha256(user_id) hex>.json

The key is a hash of the user id: ids may be phone numbers or e-mail addresses, and object keys
end up in listings, access logs and CloudTrail. The same user always maps to the same key, so a
retried write overwrites instead of adding a second object.

A record holds only *masked* text (``coldstart.preprocess.prepare_text``): the free text and each
form field masked separately (so an update can merge fields without the raw text, which is never
stored), and ``masked_text``, the composed text the profile was computed from. A placeholder such
as ``[PHONE]`` stays a placeholder forever: the original value cannot be recovered, and masking
masked text again changes nothing. An update's new fields are masked before they are merged.

``version`` orders updates: 0 at sign-up, then the version of the update message that produced
the record. ``put_if_newer`` never replaces a record by an older one, also when two writers race
(conditional writes: S3 ``If-Match``/``If-None-Match``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from .errors import ColdstartError, StorageError
from .manifest import utc_now
from .preprocess import prepare_text
from .storage import ObjectNotFound, ObjectStore, PreconditionFailed

RECORD_KIND = "coldstart-profile"
RECORD_SCHEMA = 1


class CorruptRecord(ColdstartError):
    """A stored profile object is not a valid record (never quotes its content)."""


def profile_key(user_id: str) -> str:
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest() + ".json"


def mask_fields(fields: Optional[Mapping[str, str]], max_chars: Optional[int] = None) -> Dict[str, str]:
    """Each field masked and normalised on its own (masking masked text is a no-op)."""
    return {name: prepare_text(value, max_chars=max_chars)[0] for name, value in (fields or {}).items()}


@dataclass
class ProfileRecord:
    user_id: str
    text: str                                  # masked free text (sign-up "text"), without the fields
    fields: Dict[str, str]                     # masked form fields
    masked_text: str                           # the composed, masked text the profile was computed from
    embedding: Optional[List[float]]           # the student's vector (float32 values); None when it fell back
    tags: List[Dict[str, Any]]
    top_tag: Optional[str]
    confidence: float
    fallback: bool
    model_version: str
    index_version: str
    version: int = 0                           # 0 at sign-up, then the update message's version
    updated_at: str = field(default_factory=utc_now)
    kind: str = RECORD_KIND
    schema_version: int = RECORD_SCHEMA

    @classmethod
    def from_result(cls, user_id: str, text: str, fields: Mapping[str, str], result, version: int = 0,
                    max_chars: Optional[int] = None) -> "ProfileRecord":
        """``result``: a ``coldstart.profiler.ProfileResult``. ``text``/``fields`` may be raw or
        already masked: both are masked here, and only the masked forms are kept."""
        body = result.body
        vector = result.vector
        return cls(user_id=user_id, text=prepare_text(text, max_chars=max_chars)[0],
                   fields=mask_fields(fields, max_chars), masked_text=result.masked_text,
                   embedding=None if vector is None else [float(x) for x in vector.astype("float32")],
                   tags=list(body["tags"]), top_tag=body["top_tag"], confidence=float(body["confidence"]),
                   fallback=bool(body["fallback"]), model_version=body["model_version"],
                   index_version=body["index_version"], version=int(version))

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "ProfileRecord":
        try:
            raw = json.loads(data)
        except (UnicodeDecodeError, ValueError):
            raise CorruptRecord("stored profile is not valid JSON") from None
        if not isinstance(raw, dict) or raw.get("kind") != RECORD_KIND:
            raise CorruptRecord("stored object is not a coldstart profile record")
        if raw.get("schema_version") != RECORD_SCHEMA:
            raise CorruptRecord(f"unknown profile record schema {raw.get('schema_version')!r}")
        try:
            record = cls(**raw)
        except TypeError:
            raise CorruptRecord("stored profile record has missing or unknown fields") from None
        if (not isinstance(record.version, int) or isinstance(record.version, bool)
                or not isinstance(record.fields, dict) or not isinstance(record.text, str)):
            raise CorruptRecord("stored profile record has fields of the wrong type")
        return record


class ProfileStore:
    def __init__(self, store: ObjectStore):
        self.store = store

    def key(self, user_id: str) -> str:
        return profile_key(user_id)

    def get(self, user_id: str) -> Optional[ProfileRecord]:
        """The stored record, or None. StorageError when the store fails; CorruptRecord when the
        object is not a record."""
        try:
            data = self.store.get_bytes(self.key(user_id))
        except ObjectNotFound:
            return None
        return ProfileRecord.from_bytes(data)

    def put(self, record: ProfileRecord) -> None:
        """Write (or overwrite) the user's one object."""
        self.store.put_bytes(self.key(record.user_id), record.to_bytes())

    def put_if_newer(self, record: ProfileRecord, strictly: bool = True, attempts: int = 8) -> bool:
        """Write unless the stored record's version is newer (or, with ``strictly``, the same).

        Compare-and-swap: the write succeeds only if the object is still the one just read, so
        two writers of one user (two queue messages handled concurrently) cannot lose the newer
        record; the one that loses the race re-reads and decides again."""
        key = self.key(record.user_id)
        data = record.to_bytes()
        for _ in range(attempts):
            raw, token = self.store.get_versioned(key)
            if raw is not None:
                stored = ProfileRecord.from_bytes(raw)
                if stored.version >= record.version if strictly else stored.version > record.version:
                    return False
            try:
                self.store.put_if_unchanged(key, data, token)
                return True
            except PreconditionFailed:
                continue  # someone wrote in between: look again
        raise StorageError(f"profile write kept conflicting with concurrent writers ({attempts} attempts)")
