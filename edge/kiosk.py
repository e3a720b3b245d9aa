"""The kiosk: a visitor page and JSON API on 127.0.0.1, over the shared ``coldstart`` service.

Visitor listener (``--port``, default 8090), what the public sees:

    GET  /                      the page (Chinese UI; edge/static/)
    POST /api/profile           same request rules, response and 4xx error shape as the Lambda's POST /profile;
                                5xx bodies keep their code but not their message (it names S3 endpoints,
                                exception types: operator matters, see below)
    GET  /api/ready             {"ready", "ocr", "idle_seconds"}: what the page needs, nothing more
                                (/api/health answers the same, for liveness checks)

Operator listener (``--operator-port``, default 8091, token from the kiosk's config: edge/operator.py):
release versions, last sync and its error, the outbox backlog, disk-full state.

Requests never wait on the network: releases are synced and the outbox uploaded by a
background scheduler; a profile is answered from the release on disk.

This module is the one place edge/ calls the core's request path (``ProfileService``,
``coldstart.api``): the rest of edge/ goes through ``Kiosk``.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from coldstart.api import MAX_BODY_BYTES, answer_health, answer_profile, error_body, error_response
from coldstart.errors import MethodNotAllowed
from coldstart.service import ProfileService
from coldstart.settings import ServingSettings
from coldstart.storage import open_store

from .config import DEFAULT_IDLE_SECONDS
from .outbox import OUTBOX_FILE, Outbox, kiosk_id
from .page import SECURITY_HEADERS, asset, visitor_page
from .releases import KioskReleaseManager, make_manager

log = logging.getLogger("edge.kiosk")

__all__ = ["Kiosk", "KioskConfig", "serve", "error_body", "read_body", "rollback_cached", "ocr_available"]

# What a visitor-facing 5xx says instead of the core's message (which names endpoints and exception
# types: StorageError, NoCredentialsError...). The operator page has the real reason.
_VISITOR_5XX = {
    "not_ready": "the kiosk has no model loaded yet; the operator status has the reason",
    "internal": "internal error; the request was not processed",
}
_VISITOR_5XX_DEFAULT = "the kiosk cannot answer right now; the operator status has the reason"


@dataclass
class KioskConfig:
    release: str                          # local dir or s3://bucket/prefix holding current.json
    data: Path                            # the kiosk's own state: releases/, outbox.sqlite, kiosk_id, kiosk.json
    outbox_uri: Optional[str] = None      # where records are uploaded (default: the release URI)
    backend: str = "auto"                 # lite | onnx | auto
    target: Optional[str] = None          # Paddle Lite target (x86 | arm), default from the CPU
    sync_every: float = 300.0             # seconds between sync + upload runs (0: never)
    threads: int = 1
    kiosk_id: Optional[str] = None
    keep_uploaded_days: float = 7.0       # uploaded outbox rows are deleted after this long
    idle_seconds: float = DEFAULT_IDLE_SECONDS  # the page clears itself after this long without input


def ocr_available() -> bool:
    """True when avatars can be read here: ``coldstart.ocr`` answers ``"available": false`` exactly when
    Pillow or ``rapidocr-onnxruntime`` (OpenCV under it) does not import, as on the 3.9 kiosk toolchain."""
    import importlib.util

    if importlib.util.find_spec("PIL") is None or importlib.util.find_spec("rapidocr_onnxruntime") is None:
        return False  # the common kiosk case, answered without importing anything
    try:
        import PIL.Image  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except Exception:  # ImportError, or OpenCV missing a system library
        return False
    return True


class Kiosk:
    def __init__(self, config: KioskConfig, store_settings=None):
        from coldstart.lite_encoder import make_backend

        self.config = config
        data = Path(config.data).expanduser()
        data.mkdir(parents=True, exist_ok=True, mode=0o700)  # outbox, releases, kiosk_id: this account only
        self.data = data
        self._ocr: Optional[bool] = None
        self._ocr_probe = threading.Thread(target=self._probe_ocr, name="kiosk-ocr-probe", daemon=True)
        self._ocr_probe.start()  # importing OpenCV takes ~0.5 s: not on the first visitor's time
        self.backend = make_backend(config.backend, config.target)
        self.store_settings = store_settings
        self.manager: KioskReleaseManager = make_manager(config.release, data, self.backend, config.threads,
                                                         store_settings)
        self.manager.start()
        settings = ServingSettings(release_uri=config.release, cache_dir=str(data / "releases"),
                                   refresh_seconds=0, threads=config.threads)
        self.service = ProfileService(settings, manager=self.manager)
        self.outbox = Outbox(data / OUTBOX_FILE, config.kiosk_id or kiosk_id(data), config.keep_uploaded_days)
        self._outbox_store = None
        self._profile_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _probe_ocr(self) -> None:
        self._ocr = ocr_available()

    @property
    def ocr(self) -> bool:
        self._ocr_probe.join(timeout=30)
        return bool(self._ocr)

    # -- background work -------------------------------------------------------------------
    def outbox_store(self):
        if self._outbox_store is None:
            self._outbox_store = open_store(self.config.outbox_uri or self.config.release, self.store_settings)
        return self._outbox_store

    def upload(self) -> Dict[str, Any]:
        try:
            store = self.outbox_store()
        except Exception as exc:
            self.outbox.last_upload_error = f"{exc.__class__.__name__}: {exc}"
            return {**self.outbox.counts(), "put": 0, "error": self.outbox.last_upload_error}
        return self.outbox.upload(store)

    def sync_once(self) -> Dict[str, Any]:
        return {"release": self.manager.sync(), "outbox": self.upload()}

    def start_scheduler(self) -> None:
        if self.config.sync_every <= 0 or self._thread is not None:
            return

        def loop():
            while not self._stop.wait(self.config.sync_every):
                try:
                    self.sync_once()
                except Exception as exc:  # never let the scheduler die
                    log.warning("scheduled sync failed: %s", exc.__class__.__name__)

        self._thread = threading.Thread(target=loop, name="kiosk-sync", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.outbox.close()

    # -- what the visitor page may know ------------------------------------------------------
    def ready(self) -> Tuple[int, Dict[str, Any]]:
        ready = self.manager.current is not None
        return (200 if ready else 503), {"ready": ready, "ocr": self.ocr, "idle_seconds": self.config.idle_seconds}

    # -- what the operator sees (edge/operator.py, python -m edge status) ----------------------
    def status(self) -> Tuple[int, Dict[str, Any]]:
        status, body = answer_health(self.service)
        if status != 200:  # the operator (token, 127.0.0.1) may read the reason callers never see
            body["error"]["message"] = self.service.not_ready_reason()
        body["kiosk"] = {"id": self.outbox.kiosk_id, "sync": self.manager.status(), "outbox": self.outbox.status(),
                         "disk_full": self.manager.disk_full or self.outbox.disk_full, "ocr": self.ocr,
                         "idle_seconds": self.config.idle_seconds, "sync_every": self.config.sync_every,
                         "release_uri": self.config.release, "data": str(self.data)}
        return status, body

    # -- requests --------------------------------------------------------------------------
    def profile(self, raw: bytes, content_type: Optional[str]) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
        with self._profile_lock:  # one at a time: a Paddle Lite predictor is not thread-safe
            status, body, outcome = answer_profile(self.service, raw, content_type)
        if outcome is None:
            return status, body, {}
        versions = {"model_version": outcome.model_version, "index_version": outcome.index_version,
                    "backend": self.backend.name}
        record = self.outbox.append(outcome.masked_text, outcome.vector, body.get("tags", []), versions)
        return 200, body, {"X-Outbox-Record": record or "not-saved"}

    def profile_uncached(self, text: str) -> Tuple[Dict[str, Any], Any]:
        """The whole kiosk path for ``text`` without the SimHash cache and without the outbox
        (``python -m edge bench``, the arm64 check): (the profile with its neighbours' handles, the
        encoder's vector or None)."""
        from coldstart.preprocess import mask_input

        masked = mask_input(text, None, self.service.settings.max_text_chars).composed
        with self._profile_lock:
            result = self.service.profile_text(masked, use_cache=False)
        return result.profile.to_dict(expose_neighbors=True), result.vector

    def visitor_view(self, status: int, body: Dict[str, Any]) -> Dict[str, Any]:
        """What leaves the visitor listener: 4xx as the Lambda says them (they name the field, never
        internals); a 5xx keeps its code and gets a fixed message."""
        if status < 500 or "error" not in body:
            return body
        code = str(body["error"].get("code") or "unavailable")
        return error_body(code, _VISITOR_5XX.get(code, _VISITOR_5XX_DEFAULT))


def rollback_cached(config: KioskConfig) -> Tuple[str, Optional[str]]:
    """Serve the previous cached release again (no network); returns (now serving, previous)."""
    from coldstart.lite_encoder import make_backend

    manager = make_manager(config.release, Path(config.data).expanduser(), make_backend(config.backend, config.target),
                           config.threads)
    manager.open_cached()
    version = manager.rollback()
    return version, manager.previous_version


def read_body(handler: BaseHTTPRequestHandler) -> Tuple[Optional[bytes], Optional[Tuple[int, Dict[str, Any]]]]:
    """The request body, or the error to answer: bad Content-Length 400, over the Lambda's limit 413
    (drained, bounded, so the client reads the 413 and not a reset)."""
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        length = -1
    if length < 0:
        handler.close_connection = True
        return None, (400, error_body("invalid_request", "bad Content-Length"))
    if length > MAX_BODY_BYTES:
        if length <= 4 * MAX_BODY_BYTES:
            left = length
            while left > 0:
                chunk = handler.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
        handler.close_connection = True
        return None, (413, error_body("body_too_large", f"the request body is over {MAX_BODY_BYTES} bytes"))
    return (handler.rfile.read(length) if length else b""), None


class QuietHandler(BaseHTTPRequestHandler):
    """No request lines on the console; responses never cached; the page's security headers."""

    server_version = "coldstart-kiosk"
    sys_version = ""  # no Python version in the Server header
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        log.debug(fmt, *args)

    def send(self, status: int, payload: bytes, content_type: str, headers: Optional[Dict[str, str]] = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for k, v in {**SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def send_json(self, status: int, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None):
        self.send(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8",
                  headers)

    def send_asset(self, name: str) -> bool:
        found = asset(name)
        if found is None:
            return False
        self.send(200, *found)
        return True


VISITOR_ROUTES = "routes: GET /, POST /api/profile, GET /api/ready"


def make_handler(kiosk: Kiosk):
    class Handler(QuietHandler):
        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self.send(200, visitor_page(kiosk.config.idle_seconds), "text/html; charset=utf-8")
            elif path.startswith("/static/") and self.send_asset(path[len("/static/"):]):
                return
            elif path in ("/api/ready", "/api/health", "/health"):
                self.send_json(*kiosk.ready())
            elif path in ("/api/profile", "/profile"):
                self.send_json(*error_response(MethodNotAllowed("method_not_allowed",
                                                                "use POST /profile with a JSON body")))  # the Lambda's 405
            else:
                self.send_json(404, error_body("not_found", VISITOR_ROUTES))

        def do_POST(self):
            path = self.path.split("?", 1)[0]
            raw, refused = read_body(self)
            if refused:
                return self.send_json(*refused)
            if path in ("/api/profile", "/profile"):
                status, body, headers = kiosk.profile(raw, self.headers.get("Content-Type"))
                return self.send_json(status, kiosk.visitor_view(status, body), headers)
            if path in ("/api/ready", "/api/health", "/health"):
                return self.send_json(405, error_body("method_not_allowed", "use GET /api/ready"))
            return self.send_json(404, error_body("not_found", VISITOR_ROUTES))

    return Handler


def serve(kiosk: Kiosk, port: int = 8090, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Bind the visitor listener (port 0: any free port); the caller runs ``serve_forever()``."""
    server = ThreadingHTTPServer((host, port), make_handler(kiosk))
    server.daemon_threads = True
    return server
