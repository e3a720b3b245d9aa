"""Profile updates from a queue: ``{"user_id", "fields": {...}, "version": int}`` per message.

``parse_update`` checks a message; ``ProfileService.apply_update`` merges its fields (masked
first) into the stored record's masked fields (new values win; an empty string removes the
field), re-profiles, and writes the record with the message's version. A message whose version
is not newer than the stored record's is ignored, so out-of-order and duplicate deliveries are
harmless.

``InvalidUpdate`` means the message itself is bad: retrying cannot help. Its reason is generic
(the kind of problem, never a key, a value or a field name: an unknown key can be a phone
number), so it can be logged and counted as it is.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict

from .api import parse_fields, parse_user_id
from .errors import InvalidUpdate, RequestError

APPLIED = "applied"
STALE = "stale"   # version not newer than the stored record's: ignored
MAX_VERSION = 2 ** 63 - 1
_KEYS = ("user_id", "fields", "version")


@dataclass(frozen=True)
class UpdateMessage:
    user_id: str = field(repr=False)
    fields: Dict[str, str] = field(repr=False)
    version: int


def parse_update(body: Any) -> UpdateMessage:
    if not isinstance(body, (str, bytes)):
        raise InvalidUpdate("the message body is not a string", "not_text")
    try:
        data = json.loads(body)
    except (RecursionError, UnicodeDecodeError, ValueError):
        raise InvalidUpdate("the message body is not valid JSON", "invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidUpdate('the message body must be an object {"user_id", "fields", "version"}', "not_object")
    if any(k not in _KEYS for k in data):
        raise InvalidUpdate('the message has keys other than "user_id", "fields", "version"', "unknown_key")
    if any(k not in data for k in _KEYS):
        raise InvalidUpdate('the message lacks one of "user_id", "fields", "version"', "missing_key")
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise InvalidUpdate('"version" must be a whole number >= 1 (0 is the sign-up profile)', "invalid_version")
    if not isinstance(data["fields"], dict):
        raise InvalidUpdate('"fields" must be an object of strings', "invalid_fields")
    try:
        user_id = parse_user_id(data["user_id"])
        fields = parse_fields(data["fields"])
    except RequestError as exc:
        raise InvalidUpdate(exc.message, exc.code) from None
    if user_id is None:
        raise InvalidUpdate('"user_id" is required', "invalid_user_id")
    return UpdateMessage(user_id=user_id, fields=fields, version=version)
