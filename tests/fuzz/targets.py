"""Fuzz targets and their oracles, shared by the hypothesis tests and the atheris harness.

Every ``check_*`` function runs one input through one component and raises ``OracleError``
(an AssertionError) when an oracle is violated:

* only the component's documented error types may escape (everything else is a crash);
* each input finishes within a time bound (hang detection; atheris adds libFuzzer's -timeout);
* results are well formed (status codes, shapes, types, ranges);
* planted personal data (tests/fuzz/plant.py) never appears in any output or log line;
* the handler never answers 5xx once a release is loaded.

Known crashes in files this suite's author does not own are listed in ``KNOWN_EVENT_ISSUES``:
inputs that hit them are skipped here (so CI stays green) and pinned, strict-xfail, in
tests/fuzz/test_regressions.py. When one is fixed its xfail starts passing (XPASS fails the
suite under strict=True): delete the entry here and the xfail marker there.
"""
from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import logging
import os
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from tests.fuzz.plant import Planted, leaked

ROOT = Path(__file__).resolve().parents[2]
for _p in (ROOT, ROOT / "layer"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))


class OracleError(AssertionError):
    """A fuzz oracle was violated (crash, hang, malformed result, 5xx or leaked PII)."""


def _bound(name: str, default: float) -> float:
    return float(os.environ.get(f"COLDSTART_FUZZ_{name}_SECONDS", default))


# Per-input time bounds (seconds). Generous: CI machines are shared; a real hang is unbounded.
HANG = {
    "pii": _bound("PII_HANG", 2.0),
    "tokenizer": _bound("TOKENIZER_HANG", 2.0),
    "manifest": _bound("MANIFEST_HANG", 2.0),
    "image": _bound("IMAGE_HANG", 5.0),
    "handler": _bound("HANDLER_HANG", 10.0),
}


@contextlib.contextmanager
def time_bound(target: str):
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    if elapsed > HANG[target]:
        raise OracleError(f"{target}: one input took {elapsed:.2f} s (bound {HANG[target]} s): hang or blow-up")


def _call(target: str, allowed: tuple, fn: Callable, *args):
    """fn(*args) within the time bound; (result, None) or (None, allowed exception)."""
    with time_bound(target):
        try:
            return fn(*args), None
        except allowed as exc:
            return None, exc
        except Exception as exc:
            raise OracleError(f"{target}: unhandled {type(exc).__name__}: {exc!r}"[:2000]) from exc


# ----------------------------------------------------------------------------- PII masker

def check_mask(text: str, planted: Sequence[Planted] = ()):
    """coldstart.pii.mask_pii: never raises on a str, output free of planted values and idempotent."""
    from coldstart.pii import PII_TYPES, MaskResult, mask_pii

    result, _ = _call("pii", (), mask_pii, text)
    if not isinstance(result, MaskResult) or not isinstance(result.text, str):
        raise OracleError("pii: mask_pii did not return a MaskResult with text")
    if not set(result.counts) <= set(PII_TYPES) or not all(isinstance(v, int) and v > 0
                                                           for v in result.counts.values()):
        raise OracleError(f"pii: bad counts {result.counts!r}")
    if not result.counts and result.text != unicodedata.normalize("NFKC", text):
        raise OracleError("pii: nothing masked but the text is not the NFKC form of the input")
    secret = leaked(planted, result.text, repr(result))
    if secret is not None:
        raise OracleError(f"pii: planted value survived masking: {secret!r}")
    if result.total < len(planted):
        raise OracleError(f"pii: {len(planted)} planted values but counts {result.counts!r}")
    again, _ = _call("pii", (), mask_pii, result.text)
    if again.text != result.text or again.counts:
        raise OracleError(f"pii: masked output still holds PII {again.counts!r} (masking is not complete)")
    return result


def check_normalize(text: str, max_chars: Optional[int] = None):
    """coldstart.text.normalize_text: idempotent, NFKC-stable, no controls, within max_chars."""
    from coldstart.text import normalize_text

    out, _ = _call("pii", (), normalize_text, text, max_chars)
    if max_chars is not None and len(out) > max_chars:
        raise OracleError("text: normalize_text exceeded max_chars")
    if normalize_text(out) != out:
        raise OracleError("text: normalize_text is not idempotent")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in out) or out != out.strip():
        raise OracleError("text: control/format characters or outer whitespace left")
    return out


# ----------------------------------------------------------------------------- tokenizer

def tiny_vocab() -> Dict[str, int]:
    """A small ERNIE-style vocabulary: specials, ASCII, common CJK, a few ## pieces and words."""
    tokens = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]"]
    tokens += [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    tokens += list("我喜欢看科幻电影和打篮球的是在了有人这中大为上个国以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经")
    tokens += ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    tokens += ["hello", "world", "##ing", "##ed", "play", "phone", "[", "]", "ab", "##ab"]
    return {t: i for i, t in enumerate(dict.fromkeys(tokens))}


def check_tokenizer(tokenizer, text: str, pair: Optional[str] = None):
    """coldstart.tokenizer: valid ids, [CLS]/[SEP] framing, truncation, batch == single, fast == exact."""
    import numpy as np

    from coldstart.tokenizer import _exact_words

    enc, _ = _call("tokenizer", (), tokenizer.encode, text, pair)
    n, limit = len(enc), tokenizer.max_seq_len
    ids = enc.input_ids
    if not (3 if pair is not None else 2) <= n <= limit:
        raise OracleError(f"tokenizer: length {n} outside [2, {limit}]")
    if ids.dtype != np.int64 or enc.token_type_ids.shape != ids.shape or enc.attention_mask.shape != ids.shape:
        raise OracleError("tokenizer: arrays differ in dtype or shape")
    if ids[0] != tokenizer.cls_id or ids[-1] != tokenizer.sep_id or not (enc.attention_mask == 1).all():
        raise OracleError("tokenizer: not [CLS] ... [SEP] with a full mask")
    valid = set(tokenizer.vocab.values())
    if not set(ids.tolist()) <= valid:
        raise OracleError("tokenizer: id outside the vocabulary")
    types = enc.token_type_ids.tolist()
    if pair is None and any(types):
        raise OracleError("tokenizer: token types on a single text")
    if pair is not None and (types != sorted(types) or types[0] != 0 or types[-1] != 1):
        raise OracleError("tokenizer: token types are not 0...0 1...1 on a pair")
    if pair is None:
        count = tokenizer.token_count(text)
        if n != min(count, limit - 2) + 2:
            raise OracleError(f"tokenizer: {count} tokens but encode gave {n} (limit {limit})")
    batch, _ = _call("tokenizer", (), tokenizer.encode_batch, [text, "我"],
                     None if pair is None else [pair, "我"])
    if batch.input_ids[0, :n].tolist() != ids.tolist() or batch.attention_mask[0].sum() != n:
        raise OracleError("tokenizer: encode_batch row differs from encode")
    if "[" not in text:  # special tokens are handled before the basic step; compare the basic step itself
        fast = tokenizer.words(text)
        exact = _exact_words(text)
        if fast != exact:
            raise OracleError(f"tokenizer: fast basic step {fast[:20]!r} != paddlenlp-literal {exact[:20]!r}")
    return enc


# ----------------------------------------------------------------------------- manifests

_HEX = frozenset("0123456789abcdef")


def _check_entry(name: Any, entry: Any) -> None:
    from coldstart.manifest import FileEntry

    if not isinstance(name, str) or not isinstance(entry, FileEntry):
        raise OracleError("manifest: files is not str -> FileEntry")
    if not isinstance(entry.sha256, str) or len(entry.sha256) != 64 or not set(entry.sha256) <= _HEX:
        raise OracleError(f"manifest: accepted sha256 {entry.sha256!r}")
    if type(entry.size) is not int or entry.size < 0:
        raise OracleError(f"manifest: accepted size {entry.size!r}")


def _check_teacher(teacher: Any) -> None:
    from coldstart.manifest import TeacherInfo

    if not isinstance(teacher, TeacherInfo) or not isinstance(teacher.id, str) \
            or not isinstance(teacher.weights_sha256, str) or type(teacher.dim) is not int or teacher.dim <= 0 \
            or not isinstance(teacher.demo, bool):
        raise OracleError(f"manifest: accepted teacher {teacher!r}")


def check_release_manifest(data: bytes):
    """ReleaseManifest.from_bytes: ManifestError or a well-typed manifest that round-trips."""
    from coldstart.errors import ManifestError
    from coldstart.release import VERSION_RE, ReleaseManifest

    manifest, _ = _call("manifest", (ManifestError,), ReleaseManifest.from_bytes, data)
    if manifest is None:
        return None
    if not isinstance(manifest.version, str) or not VERSION_RE.match(manifest.version):
        raise OracleError(f"manifest: accepted version {manifest.version!r}")
    _check_teacher(manifest.teacher)
    if not isinstance(manifest.files, dict) or not isinstance(manifest.created_at, str):
        raise OracleError("manifest: files/created_at of the wrong type")
    for name, entry in manifest.files.items():
        _check_entry(name, entry)
        if name.startswith("/") or ".." in name.split("/") or "\\" in name or "\x00" in name or not name:
            raise OracleError(f"manifest: accepted unsafe path {name!r}")
    if not isinstance(manifest.components, dict) or not all(isinstance(v, dict) for v in manifest.components.values()):
        raise OracleError("manifest: components is not an object of objects")
    again, _ = _call("manifest", (), ReleaseManifest.from_bytes, manifest.to_bytes())
    if again != manifest:
        raise OracleError("manifest: to_bytes/from_bytes does not round-trip")
    return manifest


def check_index_manifest(data: Any):
    """IndexManifest.from_dict on any JSON value: ManifestError or a well-typed manifest."""
    from coldstart.errors import ManifestError
    from coldstart.manifest import IndexManifest, RecallReport

    manifest, _ = _call("manifest", (ManifestError,), IndexManifest.from_dict, data)
    if manifest is None:
        return None
    _check_teacher(manifest.teacher)
    for value in (manifest.dim, manifest.count, manifest.n_trees, manifest.search_k):
        if type(value) is not int:
            raise OracleError(f"manifest: index field {value!r} is not an int")
    if manifest.dim <= 0 or manifest.count < 0 or manifest.n_trees < 0:
        raise OracleError("manifest: index dim/count/n_trees out of range")
    if not isinstance(manifest.recall, RecallReport) or not isinstance(manifest.created_at, str) \
            or not isinstance(manifest.metric, str) or not isinstance(manifest.extra, dict):
        raise OracleError("manifest: index recall/created_at/metric/extra of the wrong type")
    for name, entry in manifest.files.items():
        _check_entry(name, entry)
    again, _ = _call("manifest", (), IndexManifest.from_dict, json.loads(json.dumps(manifest.to_dict())))
    if again != manifest:
        raise OracleError("manifest: index to_dict/from_dict does not round-trip")
    return manifest


def check_model_manifest(data: Any):
    """ModelManifest.from_dict on any JSON value: ManifestError or a well-typed manifest that round-trips."""
    from coldstart.errors import ManifestError
    from coldstart.release import ModelManifest

    manifest, _ = _call("manifest", (ManifestError,), ModelManifest.from_dict, data)
    if manifest is None:
        return None
    _check_teacher(manifest.teacher)
    if type(manifest.student.out_dim) is not int or manifest.student.out_dim < 1 \
            or type(manifest.student.max_seq_len) is not int or manifest.student.max_seq_len < 1:
        raise OracleError("manifest: model student out_dim/max_seq_len out of range")
    for name, entry in manifest.files.items():
        _check_entry(name, entry)
    for served in [manifest.serving.onnx, *manifest.serving.lite.values()]:
        if served not in manifest.files:
            raise OracleError(f"manifest: model serves {served!r}, which is not among its files")
    again, _ = _call("manifest", (), ModelManifest.from_dict, json.loads(json.dumps(manifest.to_dict())))
    if again != manifest:
        raise OracleError("manifest: model to_dict/from_dict does not round-trip")
    return manifest


def check_canaries(data: Any):
    """Canaries.from_dict on any JSON value: ManifestError or well-typed canaries that round-trip."""
    from coldstart.errors import ManifestError
    from coldstart.release import Canaries

    canaries, _ = _call("manifest", (ManifestError,), Canaries.from_dict, data)
    if canaries is None:
        return None
    if not canaries.canaries or canaries.k < 1:
        raise OracleError("manifest: canaries accepted with no canary or k < 1")
    for c in canaries.canaries:
        if not isinstance(c.text, str) or not all(isinstance(x, float) for x in c.vector) \
                or not all(type(i) is int for i in c.neighbors):
            raise OracleError(f"manifest: canary of the wrong types {c!r}"[:200])
    again, _ = _call("manifest", (), Canaries.from_dict, json.loads(json.dumps(canaries.to_dict())))
    if again != canaries:
        raise OracleError("manifest: canaries to_dict/from_dict does not round-trip")
    return canaries


class BytesStore:
    """The one ObjectStore method read_current uses, returning fuzzed bytes (or 'not found')."""

    def __init__(self, data: Optional[bytes]):
        self.data = data

    def get_bytes(self, key: str) -> bytes:
        from coldstart.storage import ObjectNotFound

        if self.data is None:
            raise ObjectNotFound(f"memory://{key}: not found")
        return self.data

    def uri(self, key: str = "") -> str:
        return f"memory://{key}"


def check_current(data: Optional[bytes]):
    """read_current: None, ManifestError, or a pointer with a valid version and string fields."""
    from coldstart.errors import ManifestError
    from coldstart.release import VERSION_RE, read_current

    pointer, _ = _call("manifest", (ManifestError,), read_current, BytesStore(data))
    if pointer is None:
        return None
    if not VERSION_RE.match(pointer.version) or not isinstance(pointer.release_sha256, str) \
            or not isinstance(pointer.published_at, str):
        raise OracleError(f"manifest: accepted current.json {pointer!r}")
    if pointer.previous is not None and not (isinstance(pointer.previous, str) and VERSION_RE.match(pointer.previous)):
        raise OracleError(f"manifest: accepted previous {pointer.previous!r}")
    return pointer


# ----------------------------------------------------------------------------- image decoder

IMAGE_CODES = {400: {"invalid_avatar"}, 413: {"avatar_too_large", "avatar_too_many_pixels"},
               415: {"unsupported_avatar_format"}}


def check_image(data: bytes, max_pixels: Optional[int] = None):
    """coldstart.ocr.decode_image: an RGB image within the side limit, or a RequestError 400/413/415."""
    from coldstart.api import status_for
    from coldstart.errors import RequestError
    from coldstart.ocr import MAX_AVATAR_PIXELS, MAX_OCR_SIDE, decode_image

    limit = MAX_AVATAR_PIXELS if max_pixels is None else max_pixels
    img, err = _call("image", (RequestError,), decode_image, data, 2 * 1024 * 1024, limit, MAX_OCR_SIDE)
    if err is not None:
        if err.code not in IMAGE_CODES.get(status_for(err), ()):
            raise OracleError(f"image: unexpected error {status_for(err)} {err.code}")
        return None
    if img.mode != "RGB" or not 1 <= min(img.size) or max(img.size) > MAX_OCR_SIDE:
        raise OracleError(f"image: decoded to {img.mode} {img.size}")
    return img


# ----------------------------------------------------------------------------- handler

class FakeContext:
    function_name = "coldstart-fuzz"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart-fuzz"
    aws_request_id = "fuzz-request"


class HandlerHarness:
    """function/app.py imported once against a local-directory release; runs events under the oracles."""

    def __init__(self, release_store: str, cache_dir: str):
        os.environ["COLDSTART_RELEASE_URI"] = str(release_store)
        os.environ["COLDSTART_CACHE_DIR"] = str(cache_dir)
        os.environ["POWERTOOLS_METRICS_NAMESPACE"] = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ColdstartFuzz"
        os.environ["COLDSTART_REFRESH_SECONDS"] = "0"  # no refresh threads while fuzzing
        function = str(ROOT / "function")
        if function not in sys.path:
            sys.path.insert(0, function)
        sys.modules.pop("app", None)
        buf = io.StringIO()
        with self._capture(buf):
            self.app = importlib.import_module("app")
        if self.app.SERVICE.manager is None or self.app.SERVICE.manager.current is None:
            raise RuntimeError(f"the fuzz release at {release_store} did not load: {buf.getvalue()[-2000:]}")
        self.context = FakeContext()
        self.runs = 0

    @staticmethod
    @contextlib.contextmanager
    def _capture(buf: io.StringIO):
        """Every log line and print (Powertools logger, metrics EMF, stdlib logging) into buf."""
        handlers: List[logging.Handler] = []
        for name in (None, "coldstart", "coldstart.service", "coldstart.release"):
            handlers.extend(h for h in logging.getLogger(name).handlers if isinstance(h, logging.StreamHandler))
        saved = [(h, h.stream) for h in handlers]
        catch_all = logging.StreamHandler(buf)
        root = logging.getLogger()
        root.addHandler(catch_all)
        try:
            for h in handlers:
                h.setStream(buf)
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                yield buf
        finally:
            root.removeHandler(catch_all)
            for h, stream in saved:
                h.setStream(stream)

    def __call__(self, event: Any, planted: Sequence[Planted] = ()) -> Optional[Dict[str, Any]]:
        return self.run(event, planted)

    def run(self, event: Any, planted: Sequence[Planted] = ()) -> Dict[str, Any]:
        """One event under every oracle, known issues included (test_regressions.py uses this)."""
        self.runs += 1
        buf = io.StringIO()
        with self._capture(buf):
            with time_bound("handler"):
                try:
                    response = self.app.handler(event, self.context)
                except Exception as exc:
                    raise OracleError(f"handler: unhandled {type(exc).__name__}: {exc!r}"[:2000]) from exc
        logs = buf.getvalue()
        return check_response(response, logs, planted)


def check_response(response: Any, logs: str, planted: Sequence[Planted] = ()) -> Dict[str, Any]:
    if not isinstance(response, dict) or type(response.get("statusCode")) is not int:
        raise OracleError(f"handler: not an API Gateway response: {type(response).__name__}")
    status = response["statusCode"]
    body_text = response.get("body")
    if not isinstance(body_text, str):
        raise OracleError("handler: body is not a string")
    secret = leaked(planted, body_text, logs)
    if secret is not None:
        where = "response" if secret in body_text else "logs"
        raise OracleError(f"handler: planted personal data {secret!r} in the {where} (status {status})")
    if "internal error" in logs.lower() or "Traceback" in logs:
        raise OracleError(f"handler: an internal error was logged (status {status}): {logs[-1500:]}")
    if not 200 <= status < 500:
        raise OracleError(f"handler: status {status}: {body_text[:500]}")
    try:
        body_text.encode("utf-8")
        body = json.loads(body_text)
    except (UnicodeEncodeError, ValueError) as exc:
        raise OracleError(f"handler: body is not UTF-8 JSON ({type(exc).__name__})") from None
    headers = dict(response.get("headers") or {})  # REST answers with multiValueHeaders (Powertools)
    headers.update({k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items() if v})
    if not headers.get("Content-Type", "").startswith("application/json"):
        raise OracleError("handler: no JSON content type")
    if status >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or not isinstance(error.get("code"), str) or not error.get("message"):
            raise OracleError(f"handler: {status} without an error code and message")
    return {"status": status, "body": body}


# ----------------------------------------------------------------------------- event building

CONTENT_TYPES = ("application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.x+json",
                 "text/plain", "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/json;;;", "application/jsonx")
METHODS = ("POST", "GET", "post", "PUT", "DELETE", "", "OPTIONS", "HEAD")
PATHS = ("/profile", "/health", "/profile/", "/prod/profile", "/", "", "/profile//", "/nope", "/health/x/../profile")


def make_event(body: Any, *, v2: bool, method: str = "POST", path: str = "/profile",
               content_type: Optional[str] = "application/json", b64: bool = False,
               header_name: str = "Content-Type") -> Dict[str, Any]:
    """An API Gateway REST (v1) or HTTP API (v2) event around a body (str, bytes or None)."""
    if isinstance(body, bytes):
        body = base64.b64encode(body).decode("ascii") if b64 else body.decode("utf-8", "replace")
    elif b64 and isinstance(body, str):
        body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode("ascii")
    headers = {} if content_type is None else {header_name: content_type}
    if v2:
        return {"version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
                "headers": headers, "requestContext": {"http": {"method": method, "path": path}},
                "body": body, "isBase64Encoded": b64}
    return {"resource": path, "path": path, "httpMethod": method, "headers": headers,
            "multiValueHeaders": {}, "requestContext": {"httpMethod": method, "path": path},
            "body": body, "isBase64Encoded": b64}


def profile_body(text: str, planted: Sequence[Planted], fields: Optional[Dict[str, Any]] = None,
                 extra: Optional[Dict[str, Any]] = None, where: int = 0) -> Dict[str, Any]:
    """A /profile request with each planted value in the text or in a field value."""
    body: Dict[str, Any] = {"text": text}
    fields = dict(fields or {})
    for i, p in enumerate(planted):
        if (where + i) % 2 == 0 or not fields:
            body["text"] = body["text"] + p.framed()
        else:
            name = sorted(fields)[i % len(fields)]
            value = fields[name]
            fields[name] = (value if isinstance(value, str) else "") + p.framed()
    if fields:
        body["fields"] = fields
    body.update(extra or {})
    return body


def seeds_from_events() -> List[Dict[str, Any]]:
    """The API Gateway events checked into events/ (not the SQS ones)."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "events").glob("*.json"))
            if not p.name.startswith("sqs_")]

