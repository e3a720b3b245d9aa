"""The profile store: one JSON object per user, so new users' profiles can be kept up to date,
fed to the next batch rebuild, and erased on request.

Layout (the store's root is ``COLDSTART_PROFILE_STORE_URI``, e.g. ``s3://bucket/PREFIX/profiles``)::

    <user_key>.json            the record (user_key: coldstart.pseudonyms, an HMAC of the user id)
    deleted/<user_key>         a tombstone: the user asked to be forgotten (no content but a date)

Neither the key nor the body holds the user id: ids are often phone numbers or e-mail addresses,
and an unkeyed hash of one is reversed by enumeration. The same user always maps to the same key
(under the current pseudonym key), so a retried write overwrites instead of adding an object.
During a key rotation a record found under a previous key is moved to the current one by the
next write (``put_if_newer``) or erased with it (``delete``).

A record holds only *masked* text, which the service hands over already masked
(``coldstart.preprocess.MaskedInput``): the free text and each form field masked separately (so an
update can merge fields without the raw text, which is never stored), and ``masked_text``, the
composed text the profile was computed from. A placeholder such as ``[PHONE]`` stays a placeholder.

``version`` orders updates: 0 at sign-up, then the version of the update message that produced
the record. ``put_if_newer`` never replaces a record by an older one, also when two writers race
(conditional writes: S3 ``If-Match``/``If-None-Match``).

Erasure (``DELETE /profile/{user_id}``): every version of the object is deleted (S3 keeps
noncurrent versions in a versioned bucket), and a tombstone is written so the next rebuild drops
the user even if the app's active-user export still lists them (``infra embed`` reads the
tombstones). Tombstones hold only the date; they expire with the bucket's lifecycle rule (SECURITY.md).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from .errors import CorruptRecord, StorageError
from .manifest import utc_now
from .pseudonyms import Pseudonymizer, looks_like_user_key
from .storage import ObjectNotFound, ObjectStore, PreconditionFailed

RECORD_KIND = "coldstart-profile"
RECORD_SCHEMA = 2          # 1 held the raw user id; such objects are read as corrupt and replaced
TOMBSTONES = "deleted/"


@dataclass
class StoredProfile:
    user_key: str                              # keyed pseudonym of the user id (never the id)
    text: str                                  # masked free text (sign-up "text"), without the fields
    fields: Dict[str, str]                     # masked form fields
    masked_text: str                           # the composed, masked text the profile was computed from
    embedding: Optional[List[float]]           # the student's vector (float32 values); None when not encoded
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
    def from_outcome(cls, user_key: str, masked, outcome, version: int = 0) -> "StoredProfile":
        """``masked``: the request's ``MaskedInput``; ``outcome``: the service's ``Outcome``."""
        profile = outcome.profile
        vector = outcome.vector
        return cls(user_key=user_key, text=masked.text, fields=dict(masked.fields), masked_text=masked.composed,
                   embedding=None if vector is None else [float(x) for x in vector.astype("float32")],
                   tags=[{"tag": t.tag, "score": round(float(t.score), 4)} for t in profile.tags],
                   top_tag=profile.top_tag, confidence=float(profile.confidence), fallback=bool(profile.fallback),
                   model_version=outcome.model_version, index_version=outcome.index_version, version=int(version))

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "StoredProfile":
        try:
            raw = json.loads(data)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise CorruptRecord("stored profile is not valid JSON") from None
        if not isinstance(raw, dict) or raw.get("kind") != RECORD_KIND:
            raise CorruptRecord("stored object is not a coldstart profile record")
        if raw.get("schema_version") != RECORD_SCHEMA:
            raise CorruptRecord(f"unknown profile record schema {str(raw.get('schema_version'))[:20]!r}")
        try:
            record = cls(**raw)
        except TypeError:
            raise CorruptRecord("stored profile record has missing or unknown fields") from None
        if (not isinstance(record.version, int) or isinstance(record.version, bool)
                or not isinstance(record.fields, dict) or not isinstance(record.text, str)
                or not looks_like_user_key(record.user_key)):
            raise CorruptRecord("stored profile record has fields of the wrong type")
        return record

    def __repr__(self) -> str:  # masked text and vectors stay out of logs
        return f"StoredProfile(version={self.version}, top_tag={self.top_tag!r}, fallback={self.fallback})"


class ProfileStore:
    """Records by user id, through keyed pseudonyms. Every method may raise StorageError."""

    def __init__(self, store: ObjectStore, pseudonyms: Pseudonymizer):
        self.store = store
        self.pseudonyms = pseudonyms

    def user_key(self, user_id: str) -> str:
        return self.pseudonyms.user_key(user_id)

    @staticmethod
    def object_key(user_key: str) -> str:
        return f"{user_key}.json"

    def get(self, user_id: str) -> Optional[StoredProfile]:
        """The stored record (under the current key, else under a previous one), or None.
        CorruptRecord when the object is not a record."""
        for user_key in self.pseudonyms.lookup_keys(user_id):
            try:
                data = self.store.get_bytes(self.object_key(user_key))
            except ObjectNotFound:
                continue
            return StoredProfile.from_bytes(data)
        return None

    def put_if_newer(self, record: StoredProfile, user_id: str, strictly: bool = True, attempts: int = 8) -> bool:
        """Write unless the stored record's version is newer (or, with ``strictly``, the same).

        Compare-and-swap: the write succeeds only if the object is still the one just read, so
        two writers of one user (two queue messages handled concurrently) cannot lose the newer
        record; the one that loses the race re-reads and decides again. A record under a previous
        pseudonym key counts as the stored one and is removed once the new one is written."""
        key = self.object_key(record.user_key)
        data = record.to_bytes()
        old_keys = [k for k in self.pseudonyms.lookup_keys(user_id)[1:]]
        for _ in range(attempts):
            raw, token = self.store.get_versioned(key)
            stored = _parse_or_none(raw)
            if stored is None and raw is None:
                stored = self._under_old_keys(old_keys)
            if stored is not None and (stored.version >= record.version if strictly else stored.version > record.version):
                return False
            try:
                self.store.put_if_unchanged(key, data, token)
            except PreconditionFailed:
                continue  # someone wrote in between: look again
            for old in old_keys:
                self.store.delete_all_versions(self.object_key(old))
            return True
        raise StorageError(f"profile write kept conflicting with concurrent writers ({attempts} attempts)")

    def _under_old_keys(self, old_keys: List[str]) -> Optional[StoredProfile]:
        for user_key in old_keys:
            try:
                return _parse_or_none(self.store.get_bytes(self.object_key(user_key)))
            except ObjectNotFound:
                continue
        return None

    def delete(self, user_id: str) -> int:
        """Erase the user's record: every version of it under every key, then leave a tombstone.
        Returns the number of object versions removed (0: nothing was stored)."""
        removed = 0
        for user_key in self.pseudonyms.lookup_keys(user_id):
            removed += self.store.delete_all_versions(self.object_key(user_key))
        self.store.put_bytes(TOMBSTONES + self.user_key(user_id),
                             json.dumps({"deleted_at": utc_now()}).encode("utf-8"))
        return removed

    def tombstones(self) -> List[str]:
        """User keys that asked to be forgotten (for the batch rebuild)."""
        return [k[len(TOMBSTONES):] for k in self.store.list(TOMBSTONES)]


def _parse_or_none(raw: Optional[bytes]) -> Optional[StoredProfile]:
    """A stored record, or None for no object or one that is not a current record (it is replaced)."""
    if raw is None:
        return None
    try:
        return StoredProfile.from_bytes(raw)
    except CorruptRecord:
        return None
