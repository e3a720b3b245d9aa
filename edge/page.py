"""The kiosk's pages and their static files (edge/static/): the visitor page and the operator page.

No inline script or style anywhere, so the pages are served under a Content-Security-Policy that
allows only this origin's own files: text that reaches the page (tags, OCR lines) is inserted with
textContent and could not run even if it were markup.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Tuple

STATIC = Path(__file__).resolve().with_name("static")
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
ASSETS = ("kiosk.css", "kiosk.js", "operator.css", "operator.js")

SECURITY_HEADERS: Dict[str, str] = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                                "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_cache: Dict[str, bytes] = {}


def _read(name: str) -> bytes:
    if name not in _cache:
        _cache[name] = (STATIC / name).read_bytes()
    return _cache[name]


def asset(name: str) -> Optional[Tuple[bytes, str]]:
    """(bytes, content type) of a known static file; None for anything else (no path walking)."""
    if name not in ASSETS:
        return None
    return _read(name), _TYPES[Path(name).suffix]


def visitor_page(idle_seconds: float) -> bytes:
    shown = f"{idle_seconds:g}"
    return _read("index.html").replace(b"{{IDLE_SECONDS}}", shown.encode("ascii"))


def operator_page() -> bytes:
    return _read("operator.html")
