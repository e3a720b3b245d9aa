"""The operator's view of a kiosk: a second listener on 127.0.0.1 (default port 8091), token required.

    GET  /              the operator page (static; it asks for the token and fetches /api/status)
    GET  /api/status    release versions, last sync and its error, outbox backlog and upload errors,
                        disk-full state, OCR availability (``Kiosk.status``)
    POST /api/sync      run one release sync + outbox upload now, then answer like /api/status

The visitor listener (edge/kiosk.py) no longer carries any of this: what a visitor's page can
fetch is ``{"ready", "ocr", "idle_seconds"}``. The token (``Authorization: Bearer <token>``) is
``operator_token`` in the kiosk's config file (edge/config.py); anything else gets 401 and no data.
Binding to 127.0.0.1 keeps it off the network; the token keeps it from the kiosk's own browser.
"""
from __future__ import annotations

import hmac
from http.server import ThreadingHTTPServer
from typing import Optional

from .kiosk import Kiosk, QuietHandler, error_body, read_body
from .page import operator_page

ROUTES = "routes: GET /, GET /api/status, POST /api/sync (Authorization: Bearer <operator_token>)"


def token_matches(header: Optional[str], token: str) -> bool:
    """Constant-time comparison of ``Authorization: Bearer <token>``."""
    if not header or not token:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def make_operator_handler(kiosk: Kiosk, token: str):
    class Handler(QuietHandler):
        def _authorized(self) -> bool:
            if token_matches(self.headers.get("Authorization"), token):
                return True
            self.send_json(401, error_body("unauthorized", "send Authorization: Bearer <operator_token from the "
                                                           "kiosk's config file>"),
                           {"WWW-Authenticate": 'Bearer realm="coldstart-kiosk-operator"'})
            return False

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self.send(200, operator_page(), "text/html; charset=utf-8")
            elif path.startswith("/static/") and self.send_asset(path[len("/static/"):]):
                return
            elif path == "/api/status":
                if self._authorized():
                    self.send_json(*kiosk.status())
            else:
                self.send_json(404, error_body("not_found", ROUTES))

        def do_POST(self):
            path = self.path.split("?", 1)[0]
            _, refused = read_body(self)  # nothing is read from it, but the connection stays usable
            if refused:
                return self.send_json(*refused)
            if path == "/api/sync":
                if self._authorized():
                    kiosk.sync_once()
                    self.send_json(*kiosk.status())
                return
            self.send_json(404, error_body("not_found", ROUTES))

    return Handler


def serve_operator(kiosk: Kiosk, token: str, port: int = 8091, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Bind the operator listener (port 0: any free port); the caller runs ``serve_forever()``."""
    if not token:
        raise ValueError("the operator listener needs a token")
    server = ThreadingHTTPServer((host, port), make_operator_handler(kiosk, token))
    server.daemon_threads = True
    return server
