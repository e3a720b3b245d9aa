"""The HTTP contract shared by the Lambda and the kiosk: parse requests, render responses once,
and map coldstart's error types to HTTP statuses. Nothing below this layer knows about HTTP.

Messages name the problem and the field, never the caller's values (not even the names of
unknown keys: a JSON key can be a phone number), and a 503 never names internal locations,
hosts or exception classes: those go to the operator's log, masked.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from .errors import (ColdstartError, Forbidden, InvalidRequest, MethodNotAllowed, NotFound, PayloadTooLarge,
                     RequestError, ServiceUnavailable, Unauthenticated, UnsupportedMediaType)

if TYPE_CHECKING:
    from .outcome import Outcome

MAX_BODY_BYTES = 6 * 1024 * 1024   # API Gateway / Lambda synchronous payload limit
MAX_FIELDS = 20
MAX_FIELD_CHARS = 500
MAX_USER_ID_CHARS = 128
MAX_AVATAR_BYTES = 2 * 1024 * 1024  # decoded image; coldstart.ocr checks pixels and format
MAX_AVATAR_URI_CHARS = 1024         # S3's key limit, plus the bucket
ALLOWED_KEYS = frozenset({"user_id", "text", "fields", "k", "store", "avatar"})

# The one place where error types become HTTP statuses (the Lambda's resolver and the kiosk use it).
HTTP_STATUS = (
    (UnsupportedMediaType, 415),
    (PayloadTooLarge, 413),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (MethodNotAllowed, 405),
    (RequestError, 400),
    (ServiceUnavailable, 503),
)
UNAVAILABLE_MESSAGE = "the service cannot answer right now (no release loaded or storage unreachable); retry later"


@dataclass(frozen=True)
class Identity:
    """Who is calling, as the API's authorizer established it (never from the request body).

    ``subject``: the signed-in user's id (a JWT / Cognito ``sub``); ``trusted``: a backend caller
    (IAM) that may act for any user. Anonymous callers (API key only) may profile but never store,
    update or delete a user's profile."""

    subject: Optional[str] = None
    trusted: bool = False

    def may_act_for(self, user_id: str) -> bool:
        return self.trusted or (self.subject is not None and self.subject == user_id)

    def __repr__(self) -> str:  # the subject is a user id: keep it out of logs
        return f"Identity(subject={'set' if self.subject else None}, trusted={self.trusted})"


ANONYMOUS = Identity()


@dataclass(frozen=True)
class ProfileRequest:
    text: str
    fields: Dict[str, str] = field(default_factory=dict)
    user_id: Optional[str] = field(default=None, repr=False)
    k: Optional[int] = None
    store: Optional[bool] = None   # persist the profile (coldstart.profile_store); None: the configured default
    avatar: Optional[bytes] = field(default=None, repr=False)  # decoded image bytes (coldstart.ocr)
    avatar_uri: Optional[str] = field(default=None, repr=False)  # s3://bucket/key (coldstart.avatar_source)

    @property
    def has_avatar(self) -> bool:
        return self.avatar is not None or self.avatar_uri is not None


def status_for(exc: BaseException) -> int:
    for kind, status in HTTP_STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def error_body(code: str, message: str) -> Dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(exc: BaseException) -> Tuple[int, Dict[str, Any]]:
    """(status, body) for any exception: the caller's own mistakes in detail, everything else generic."""
    status = status_for(exc)
    if isinstance(exc, RequestError):
        return status, exc.body()
    if isinstance(exc, ServiceUnavailable):
        return status, error_body(exc.code, UNAVAILABLE_MESSAGE)
    return 500, error_body("internal", "internal error; the request was not processed")


# ------------------------------------------------------------------------------------------ requests

def _json_content_type(content_type: Any) -> bool:
    """A missing content type means JSON (API Gateway and Powertools read it so, and `sam local
    generate-event` sends none); only an explicit other type is refused."""
    if content_type is None or content_type == "":
        return True
    if not isinstance(content_type, str):
        return False
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def read_json_body(body: Any, content_type: Optional[str]) -> Any:
    """The parsed JSON of a request body (str or bytes), or a RequestError naming what is wrong."""
    if not _json_content_type(content_type):
        raise UnsupportedMediaType("unsupported_media_type",
                                   "send the request body as JSON with Content-Type: application/json")
    if body is None or body == b"" or body == "":
        raise InvalidRequest("empty_body", 'the request body is empty; send {"text": "..."}')
    if not isinstance(body, (str, bytes, bytearray)):  # bytes(5) would allocate; bytes({}) raises
        raise InvalidRequest("invalid_event", "the request body must be a string (JSON text)")
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge("body_too_large", f"the request body is over {MAX_BODY_BYTES} bytes")
    try:
        text_body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("invalid_encoding", "the request body is not valid UTF-8") from None
    try:
        return json.loads(text_body)
    except RecursionError:
        raise InvalidRequest("invalid_json", "the JSON body is nested too deeply") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line}, column {exc.colno})" if line else ""
        raise InvalidRequest("invalid_json", f"the request body is not valid JSON{where}") from None


def parse_profile_request(body: Any, content_type: Optional[str], max_text_chars: int = 2000,
                          max_k: int = 50) -> ProfileRequest:
    data = read_json_body(body, content_type)
    if not isinstance(data, dict):
        raise InvalidRequest("invalid_request", 'the JSON body must be an object like {"text": "..."}')
    unknown = [k for k in data if k not in ALLOWED_KEYS]
    if unknown:  # the names are not echoed: a key can be personal data
        raise InvalidRequest("unknown_field", f"{len(unknown)} unknown field(s) in the body; "
                                              f"allowed: {', '.join(sorted(ALLOWED_KEYS))}")
    if "text" not in data:
        raise InvalidRequest("missing_text", 'the field "text" is required (a string, may be empty)')
    text = data["text"]
    if not isinstance(text, str):
        raise InvalidRequest("invalid_text", '"text" must be a string')
    require_unicode(text, "invalid_text", '"text"')
    if len(text) > max_text_chars:
        raise PayloadTooLarge("text_too_long", f'"text" has {len(text)} characters; the limit is {max_text_chars}')
    fields = parse_fields(data.get("fields"))
    user_id = parse_user_id(data.get("user_id"))
    store = data.get("store")
    if store is not None and not isinstance(store, bool):
        raise InvalidRequest("invalid_store", '"store" must be true or false')
    avatar = _parse_avatar(data.get("avatar"))
    return ProfileRequest(text=text, fields=fields, user_id=user_id, k=_parse_k(data.get("k"), max_k), store=store,
                          avatar=avatar if isinstance(avatar, bytes) else None,
                          avatar_uri=avatar if isinstance(avatar, str) else None)


def parse_fields(value: Any) -> Dict[str, str]:
    """Sign-up form fields: an object of at most MAX_FIELDS strings. Errors name the entry by
    position, not by its key."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest("invalid_fields", '"fields" must be an object of strings, e.g. {"occupation": "..."}')
    if len(value) > MAX_FIELDS:
        raise InvalidRequest("invalid_fields", f'"fields" may have at most {MAX_FIELDS} entries')
    out = {}
    for position, (name, item) in enumerate(value.items(), 1):
        if not isinstance(item, str):
            raise InvalidRequest("invalid_fields", f'"fields" entry #{position} must be a string')
        if len(item) > MAX_FIELD_CHARS:
            raise PayloadTooLarge("field_too_long", f'"fields" entry #{position} is over {MAX_FIELD_CHARS} characters')
        require_unicode(name + item, "invalid_fields", f'"fields" entry #{position}')
        out[name[:40]] = item
    return out


def parse_user_id(value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_USER_ID_CHARS:
        raise InvalidRequest("invalid_user_id",
                             f'"user_id" must be a non-empty string of at most {MAX_USER_ID_CHARS} characters')
    require_unicode(value, "invalid_user_id", '"user_id"')
    return value


def require_unicode(value: str, code: str, what: str) -> None:
    """JSON's "\\ud800" escape yields a lone surrogate, which no UTF-8 encoder (hashes, S3 keys,
    logs) accepts: refuse it here, in one place, instead of failing deep inside."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(code, f"{what} contains an unpaired surrogate (a \\ud800-\\udfff escape); "
                                   "send valid Unicode") from None


def _parse_k(value: Any, max_k: int) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= max_k:
        raise InvalidRequest("invalid_k", f'"k" must be a whole number from 1 to {max_k}')
    return value


def _parse_avatar(value: Any):
    """``"avatar"``: base64 of a JPEG/PNG/WebP image (a ``data:image/...;base64,`` prefix is accepted),
    returned as bytes, or an ``s3://bucket/key`` returned as a string (the service checks the bucket)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest("invalid_avatar", '"avatar" must be a base64 string of a JPEG, PNG or WebP image')
    if value.startswith("s3://"):
        from .storage import split_s3_uri

        bucket, key = split_s3_uri(value)
        if (not bucket or not key or len(value) > MAX_AVATAR_URI_CHARS
                or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)):
            raise InvalidRequest("invalid_avatar", '"avatar" as an s3:// URI must be s3://bucket/key')
        return value
    if value.startswith("data:"):
        value = value.split(",", 1)[1] if "," in value else ""
    value = "".join(value.split())  # line-wrapped base64
    if len(value) > (MAX_AVATAR_BYTES + 2) // 3 * 4:
        raise PayloadTooLarge("avatar_too_large", f'"avatar" is over {MAX_AVATAR_BYTES} bytes')
    import base64
    import binascii
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("invalid_avatar", '"avatar" is not valid base64') from None
    if not data:
        raise InvalidRequest("invalid_avatar", '"avatar" is empty')
    return data


def parse_path_user_id(raw: Any) -> str:
    """The ``{user_id}`` of ``DELETE /profile/{user_id}`` (already URL-decoded by the gateway)."""
    return parse_user_id(raw if isinstance(raw, str) else None) or _missing_user_id()


def _missing_user_id() -> str:
    raise InvalidRequest("invalid_user_id", "the path must name a user: /profile/{user_id}")


# ----------------------------------------------------------------------------------------- responses

def render_profile(outcome: "Outcome", expose_neighbors: bool = False) -> Dict[str, Any]:
    """The JSON response of ``POST /profile``, built once from the typed outcome."""
    body = outcome.profile.to_dict(expose_neighbors=expose_neighbors)
    body.update({"pii_masked": dict(outcome.pii_masked), "cache": outcome.cache,
                 "model_version": outcome.model_version, "index_version": outcome.index_version,
                 "latency_ms": outcome.latency_ms})
    if outcome.experiment is not None:
        e = outcome.experiment
        body["experiment"] = {"name": e.name, "variant": e.variant, "assigned": e.assigned}
    if outcome.avatar is not None:
        a = outcome.avatar
        body["ocr"] = {"available": a.available, "used": a.used, "lines": list(a.lines), "ms": a.ms,
                       "pii_masked": dict(a.pii_masked), "fusion": a.fusion, "image_weight": a.image_weight,
                       "text_only_top_tag": a.text_only_top_tag, "changed_top_tag": a.changed_top_tag,
                       "profile_shift": a.profile_shift}
    if outcome.stored is not None:
        body["stored"] = outcome.stored
    return body


def answer_profile(service, body: Any, content_type: Optional[str], identity: Identity = ANONYMOUS,
                   expose_neighbors: bool = False) -> Tuple[int, Dict[str, Any], Optional["Outcome"]]:
    """``POST /profile`` for a front door without a resolver (the kiosk's server, tests):
    parse → ``service.profile`` → render, every error as (status, error body). Exceptions that are
    not coldstart's own are bugs: they become a generic 500 here and are logged by type and place."""
    try:
        request = parse_profile_request(body, content_type, service.settings.max_text_chars, service.settings.max_k)
        outcome = service.profile(request, identity)
    except Exception as exc:
        if not isinstance(exc, ColdstartError):
            log_bug(exc)
        status, error = error_response(exc)
        return status, error, None
    return 200, render_profile(outcome, expose_neighbors), outcome


def answer_health(service) -> Tuple[int, Dict[str, Any]]:
    """``GET /health``: 200 with the release serving, or 503; never internal locations or errors."""
    health = service.health()
    if not health.ready:
        return 503, {"status": "unavailable", "ready": False,
                     **error_body("not_ready", "no release is loaded yet; retry later")}
    body = {"status": "ok", "ready": True, "release": health.release, "model_version": health.model_version,
            "index_version": health.index_version, "teacher": health.teacher, "demo_model": health.demo_model,
            "users": health.users, "recall_at_10": health.recall_at_10}
    if health.refresh_failed:  # details (locations, exception types) stay in the operator's log
        body["refresh_failed"] = True
    return 200, body


def log_bug(exc: BaseException) -> None:
    """A bug: its type and where it happened, never its message (messages may quote data)."""
    import logging

    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
    logging.getLogger("coldstart.api").error("internal error", extra={"error_type": type(exc).__name__,
                                                                      "where": where})
