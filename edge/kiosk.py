"""The kiosk: a local web page and JSON API on 127.0.0.1 over the shared ``coldstart`` service.

    GET  /             the page (Chinese UI)
    POST /api/profile  same request rules, response and error shape as the Lambda's POST /profile
    GET  /api/health   the Lambda's /health plus the kiosk's sync, outbox and disk-full state

Requests never wait on the network: releases are synced and the outbox uploaded by a
background scheduler; a profile is answered from the release on disk.
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

from .outbox import OUTBOX_FILE, Outbox, kiosk_id
from .page import PAGE
from .releases import KioskReleaseManager, make_manager

log = logging.getLogger("edge.kiosk")


@dataclass
class KioskConfig:
    release: str                          # local dir or s3://bucket/prefix holding current.json
    data: Path                            # the kiosk's own state: releases/, outbox.sqlite, kiosk_id
    outbox_uri: Optional[str] = None      # where records are uploaded (default: the release URI)
    backend: str = "auto"                 # lite | onnx | auto
    target: Optional[str] = None          # Paddle Lite target (x86 | arm), default from the CPU
    sync_every: float = 300.0             # seconds between sync + upload runs (0: never)
    threads: int = 1
    kiosk_id: Optional[str] = None
    keep_uploaded_days: float = 7.0       # uploaded outbox rows are deleted after this long


class Kiosk:
    def __init__(self, config: KioskConfig, store_settings=None):
        from coldstart.lite_encoder import make_backend

        self.config = config
        data = Path(config.data).expanduser()
        data.mkdir(parents=True, exist_ok=True, mode=0o700)  # outbox, releases, kiosk_id: this account only
        self.data = data
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

    # -- requests --------------------------------------------------------------------------
    def health(self) -> Tuple[int, Dict[str, Any]]:
        status, body = answer_health(self.service)
        body["kiosk"] = {"id": self.outbox.kiosk_id, "sync": self.manager.status(), "outbox": self.outbox.status(),
                         "disk_full": self.manager.disk_full or self.outbox.disk_full}
        return status, body

    def profile(self, raw: bytes, content_type: Optional[str]) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
        with self._profile_lock:  # one at a time: a Paddle Lite predictor is not thread-safe
            status, body, outcome = answer_profile(self.service, raw, content_type)
        if outcome is None:
            return status, body, {}
        tags = body.get("tags", [])
        versions = {"model_version": outcome.model_version, "index_version": outcome.index_version,
                    "backend": self.backend.name}
        record = self.outbox.append(outcome.masked_text, outcome.vector, tags, versions)
        return 200, body, {"X-Outbox-Record": record or "not-saved"}


def make_handler(kiosk: Kiosk):
    class Handler(BaseHTTPRequestHandler):
        server_version = "coldstart-kiosk"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # no request lines (paths only, but keep the console quiet)
            log.debug(fmt, *args)

        def _send(self, status: int, payload: bytes, content_type: str, headers: Optional[Dict[str, str]] = None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

        def _json(self, status: int, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None):
            self._send(status, json.dumps(body, ensure_ascii=False).encode("utf-8"),
                       "application/json; charset=utf-8", headers)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(200, PAGE.encode("utf-8"), "text/html; charset=utf-8")
            elif path in ("/api/health", "/health"):
                self._json(*kiosk.health())
            elif path in ("/api/profile", "/profile"):
                self._json(*error_response(MethodNotAllowed("method_not_allowed", "use POST /profile with a JSON body")))
            else:
                self._json(404, error_body("not_found", "routes: GET /, POST /api/profile, GET /api/health"))

        def do_POST(self):
            path = self.path.split("?", 1)[0]
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
                return self._json(400, error_body("invalid_request", "bad Content-Length"))
            if length > MAX_BODY_BYTES:
                # refuse without keeping it: drain (bounded) so the client reads the 413, not a reset
                if length <= 4 * MAX_BODY_BYTES:
                    left = length
                    while left > 0:
                        chunk = self.rfile.read(min(left, 1 << 16))
                        if not chunk:
                            break
                        left -= len(chunk)
                self.close_connection = True
                return self._json(413, error_body("body_too_large", f"the request body is over {MAX_BODY_BYTES} bytes"))
            raw = self.rfile.read(length) if length else b""
            if path in ("/api/profile", "/profile"):
                status, body, headers = kiosk.profile(raw, self.headers.get("Content-Type"))
                return self._json(status, body, headers)
            if path in ("/api/health", "/health"):
                return self._json(*error_response(MethodNotAllowed("method_not_allowed", "use GET /health")))
            return self._json(404, error_body("not_found", "routes: GET /, POST /api/profile, GET /api/health"))

    return Handler


def serve(kiosk: Kiosk, port: int = 8090, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Bind (port 0: any free port); the caller runs ``serve_forever()`` (or a thread does)."""
    server = ThreadingHTTPServer((host, port), make_handler(kiosk))
    server.daemon_threads = True
    return server
