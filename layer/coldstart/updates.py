"""Profile updates from a queue: ``{"user_id", "fields": {...}, "version": int}`` per message.

``apply_update`` merges the message's fields (masked first) into the stored record's masked
fields (new values win; an empty string removes the field), re-profiles the stored masked
free text with the merged fields through the same ``Profiler`` as the API, and writes the
record with the message's version. A message whose version is not newer than the stored
record's is ignored, so out-of-order and duplicate deliveries are harmless.

Outcomes: ``InvalidUpdate`` (the message itself is bad: retrying cannot help, the caller drops
it), any other exception (the store or the release is unavailable: the caller retries it).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict

from .api import ApiError, _parse_fields, _parse_user_id
from .errors import ColdstartError
from .profile_store import ProfileRecord, ProfileStore, mask_fields
from .profiler import Profiler

APPLIED = "applied"
STALE = "stale"   # version not newer than the stored record's: ignored
MAX_VERSION = 2 ** 63 - 1


class InvalidUpdate(ColdstartError):
    """The message cannot be processed, now or ever. The message never quotes the values."""


@dataclass(frozen=True)
class UpdateMessage:
    user_id: str
    fields: Dict[str, str]
    version: int


def parse_update(body: Any) -> UpdateMessage:
    if not isinstance(body, (str, bytes)):
        raise InvalidUpdate("the message body is not a string")
    try:
        data = json.loads(body)
    except (RecursionError, UnicodeDecodeError, ValueError):
        raise InvalidUpdate("the message body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidUpdate('the message body must be an object {"user_id", "fields", "version"}')
    unknown = sorted(k for k in data if k not in ("user_id", "fields", "version"))
    if unknown:
        raise InvalidUpdate(f"unknown key(s) in the message: {', '.join(repr(k[:40]) for k in unknown[:5])}")
    for key in ("user_id", "fields", "version"):
        if key not in data:
            raise InvalidUpdate(f'the message has no "{key}"')
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise InvalidUpdate('"version" must be a whole number >= 1 (0 is the sign-up profile)')
    try:
        user_id = _parse_user_id(data["user_id"])
        fields = _parse_fields(data["fields"])
    except ApiError as exc:
        raise InvalidUpdate(exc.message) from None
    if user_id is None or not isinstance(data["fields"], dict):
        raise InvalidUpdate('"user_id" and "fields" (an object) are required')
    return UpdateMessage(user_id=user_id, fields=fields, version=version)


def apply_update(profiler: Profiler, store: ProfileStore, message: UpdateMessage, max_chars: int = 2000) -> str:
    """APPLIED or STALE. Raises StorageError/NotReady/CorruptRecord for the caller to retry."""
    stored = store.get(message.user_id)
    if stored is not None and stored.version >= message.version:
        return STALE
    merged = dict(stored.fields) if stored is not None else {}
    for name, value in mask_fields(message.fields, max_chars).items():
        if value:
            merged[name] = value
        else:
            merged.pop(name, None)
    text = stored.text if stored is not None else ""
    result = profiler.profile(text, merged, use_cache=False)
    record = ProfileRecord.from_result(message.user_id, text, merged, result, version=message.version,
                                       max_chars=max_chars)
    # re-checked right before the write: a newer version may have landed while this one was profiled
    return APPLIED if store.put_if_newer(record) else STALE
