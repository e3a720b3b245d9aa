"""The HTTP contract shared by the Lambda and the kiosk: parse and validate a profile request,
and shape errors as ``{"error": {"code", "message"}}``.

Messages name the problem and the field, never the caller's values: a rejected request may
carry personal data, and error bodies end up in logs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

MAX_BODY_BYTES = 6 * 1024 * 1024   # API Gateway / Lambda synchronous payload limit
MAX_FIELDS = 20
MAX_FIELD_CHARS = 500
MAX_USER_ID_CHARS = 128
ALLOWED_KEYS = frozenset({"user_id", "text", "fields", "k", "store", "avatar"})


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> Dict[str, Any]:
        return error_body(self.code, self.message)


def error_body(code: str, message: str) -> Dict[str, Any]:
    return {"error": {"code": code, "message": message}}


@dataclass(frozen=True)
class ProfileRequest:
    text: str
    fields: Dict[str, str] = field(default_factory=dict)
    user_id: Optional[str] = None
    k: Optional[int] = None
    store: Optional[bool] = None   # persist the profile (coldstart.profile_store); None: the configured default
    avatar: Optional[bytes] = field(default=None, repr=False)  # decoded image bytes (coldstart.ocr)
    avatar_uri: Optional[str] = field(default=None, repr=False)  # s3://bucket/key (coldstart.avatar_source)


def _json_content_type(content_type: Any) -> bool:
    if not content_type or not isinstance(content_type, str):
        return False
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def parse_profile_request(body: Any, content_type: Optional[str], max_text_chars: int = 2000,
                          max_k: int = 50) -> ProfileRequest:
    if not _json_content_type(content_type):
        raise ApiError(415, "unsupported_media_type", "send the request body as JSON with Content-Type: application/json")
    if body is None or body == b"" or body == "":
        raise ApiError(400, "empty_body", 'the request body is empty; send {"text": "..."}')
    if not isinstance(body, (str, bytes, bytearray)):  # bytes(5) would allocate; bytes({}) raises
        raise ApiError(400, "invalid_event", "the request body must be a string (JSON text)")
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"the request body is over {MAX_BODY_BYTES} bytes")
    try:
        text_body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_encoding", "the request body is not valid UTF-8") from None
    try:
        data = json.loads(text_body)
    except RecursionError:
        raise ApiError(400, "invalid_json", "the JSON body is nested too deeply") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line}, column {exc.colno})" if line else ""
        raise ApiError(400, "invalid_json", f"the request body is not valid JSON{where}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", 'the JSON body must be an object like {"text": "..."}')
    unknown = sorted(k for k in data if k not in ALLOWED_KEYS)
    if unknown:
        names = ", ".join(repr(_caller_key(k)) for k in unknown[:5])
        raise ApiError(400, "unknown_field", f"unknown field(s) {names}; allowed: {', '.join(sorted(ALLOWED_KEYS))}")
    if "text" not in data:
        raise ApiError(400, "missing_text", 'the field "text" is required (a string, may be empty)')
    text = data["text"]
    if not isinstance(text, str):
        raise ApiError(400, "invalid_text", '"text" must be a string')
    _require_unicode(text, "invalid_text", '"text"')
    if len(text) > max_text_chars:
        raise ApiError(413, "text_too_long", f'"text" has {len(text)} characters; the limit is {max_text_chars}')
    fields = _parse_fields(data.get("fields"))
    user_id = _parse_user_id(data.get("user_id"))
    store = data.get("store")
    if store is not None and not isinstance(store, bool):
        raise ApiError(400, "invalid_store", '"store" must be true or false')
    if store and user_id is None:
        raise ApiError(400, "missing_user_id", '"store": true needs a "user_id" (the stored profile is keyed by it)')
    avatar = _parse_avatar(data.get("avatar"))
    return ProfileRequest(text=text, fields=fields, user_id=user_id, k=_parse_k(data.get("k"), max_k), store=store,
                          avatar=avatar if isinstance(avatar, bytes) else None,
                          avatar_uri=avatar if isinstance(avatar, str) else None)


def _parse_fields(value: Any) -> Dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_fields", '"fields" must be an object of strings, e.g. {"occupation": "..."}')
    if len(value) > MAX_FIELDS:
        raise ApiError(400, "invalid_fields", f'"fields" may have at most {MAX_FIELDS} entries')
    out = {}
    for name, item in value.items():
        if not isinstance(item, str):
            raise ApiError(400, "invalid_fields", f'"fields.{_caller_key(name)}" must be a string')
        if len(item) > MAX_FIELD_CHARS:
            raise ApiError(413, "field_too_long", f'"fields.{_caller_key(name)}" is over {MAX_FIELD_CHARS} characters')
        _require_unicode(name + item, "invalid_fields", f'"fields.{_caller_key(name)}"')
        out[name[:40]] = item
    return out


def _parse_user_id(value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_USER_ID_CHARS:
        raise ApiError(400, "invalid_user_id", f'"user_id" must be a non-empty string of at most {MAX_USER_ID_CHARS} characters')
    _require_unicode(value, "invalid_user_id", '"user_id"')
    return value


def _require_unicode(value: str, code: str, what: str) -> None:
    """JSON's "\\ud800" escape yields a lone surrogate, which no UTF-8 encoder (hashes, S3 keys,
    logs) accepts: refuse it here, in one place, instead of failing deep inside."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, code, f"{what} contains an unpaired surrogate (a \\ud800-\\udfff escape); "
                                  "send valid Unicode") from None


def _caller_key(key: str) -> str:
    """A caller's JSON key for an error message: shortened and masked (a key can be a phone number)."""
    from .pii import mask_pii

    return mask_pii(key[:40].encode("utf-8", "replace").decode("utf-8")).text


def _parse_k(value: Any, max_k: int) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= max_k:
        raise ApiError(400, "invalid_k", f'"k" must be a whole number from 1 to {max_k}')
    return value


MAX_AVATAR_BYTES = 2 * 1024 * 1024  # decoded image; coldstart.ocr checks pixels and format


MAX_AVATAR_URI_CHARS = 1024  # S3's key limit, plus the bucket


def _parse_avatar(value: Any):
    """``"avatar"``: base64 of a JPEG/PNG/WebP image (a ``data:image/...;base64,`` prefix is accepted),
    returned as bytes, or an ``s3://bucket/key`` returned as a string (the service checks the bucket)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_avatar", '"avatar" must be a base64 string of a JPEG, PNG or WebP image')
    if value.startswith("s3://"):
        from .storage import split_s3_uri

        bucket, key = split_s3_uri(value)
        if (not bucket or not key or len(value) > MAX_AVATAR_URI_CHARS
                or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)):
            raise ApiError(400, "invalid_avatar", '"avatar" as an s3:// URI must be s3://bucket/key')
        return value
    if value.startswith("data:"):
        value = value.split(",", 1)[1] if "," in value else ""
    value = "".join(value.split())  # line-wrapped base64
    if len(value) > (MAX_AVATAR_BYTES + 2) // 3 * 4:
        raise ApiError(413, "avatar_too_large", f'"avatar" is over {MAX_AVATAR_BYTES} bytes')
    import base64
    import binascii
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "invalid_avatar", '"avatar" is not valid base64') from None
    if not data:
        raise ApiError(400, "invalid_avatar", '"avatar" is empty')
    return data
