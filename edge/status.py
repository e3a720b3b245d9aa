"""``python -m edge status``: what the operator page shows, in a terminal.

Reads the operator token and port from the kiosk's config file (edge/config.py) and asks the
running kiosk (``GET /api/status`` on 127.0.0.1). When no kiosk answers, it reads what the data
directory says on its own (the cached release in ``releases/state.json``, the outbox counts) and
says that the live figures (last sync, errors) are unknown.

Exit code: 0 running and healthy; 1 running with a problem (no release, a sync or upload error,
disk full); 2 not running; 3 the token was refused.
"""
from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .config import DEFAULT_OPERATOR_PORT, config_path, read_config
from .outbox import OUTBOX_FILE
from .releases import STATE_FILE


def fetch_status(port: int, token: str, timeout: float = 10.0) -> Tuple[int, Dict[str, Any]]:
    """(HTTP status, body) from the running kiosk's operator listener; ConnectionError when none answers."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")
    except (urllib.error.URLError, OSError) as exc:
        raise ConnectionError(str(exc)) from None


def offline_status(data: Path) -> Dict[str, Any]:
    """What the data directory says without the kiosk: cached releases and outbox counts."""
    out: Dict[str, Any] = {"data": str(data)}
    try:
        out["releases"] = json.loads((data / "releases" / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        out["releases"] = None
    db = data / OUTBOX_FILE
    if db.is_file():
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                total, pending = conn.execute(
                    "SELECT COUNT(*), COALESCE(SUM(uploaded_at IS NULL), 0) FROM records").fetchone()
            finally:
                conn.close()
            out["outbox"] = {"total": int(total), "pending": int(pending), "uploaded": int(total) - int(pending)}
        except sqlite3.Error as exc:
            out["outbox"] = {"error": f"{exc.__class__.__name__}: {exc}"}
    return out


def _when(ts: Optional[float]) -> str:
    if not ts:
        return "never"
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(ts))} ({time.time() - ts:.0f} s ago)"


def problems(body: Dict[str, Any]) -> List[str]:
    kiosk = body.get("kiosk") or {}
    sync, outbox = kiosk.get("sync") or {}, kiosk.get("outbox") or {}
    found = []
    if not body.get("ready"):
        found.append("no release is being served")
    for label, value in (("sync error", sync.get("last_error")), ("upload error", outbox.get("last_upload_error")),
                         ("outbox error", outbox.get("last_error")), ("disk full", kiosk.get("disk_full"))):
        if value:
            found.append(f"{label}: {value}")
    return found


def format_running(body: Dict[str, Any], port: int) -> str:
    kiosk = body.get("kiosk") or {}
    sync, outbox = kiosk.get("sync") or {}, kiosk.get("outbox") or {}
    ready = "yes" if body.get("ready") else f"NO ({(body.get('error') or {}).get('message', '?')})"
    model = f", model {body['model_version']}" if body.get("model_version") else ""
    teacher = body.get("teacher")
    lines = [
        f"kiosk {kiosk.get('id', '?')}: running (operator page http://127.0.0.1:{port}/)",
        f"  ready        {ready}",
        f"  release      {sync.get('current') or 'none'} (previous: {sync.get('previous') or 'none'}), "
        f"backend {sync.get('backend', '?')}{model}",
    ]
    if teacher:
        lines.append(f"  teacher      {teacher}{' (DEMO model)' if body.get('demo_model') else ''}")
    lines += [
        f"  source       {kiosk.get('release_uri', '?')}",
        f"  last sync    {_when(sync.get('last_sync'))}; error: {sync.get('last_error') or 'none'}",
        f"  outbox       {outbox.get('pending', '?')} pending, {outbox.get('uploaded', '?')} uploaded; "
        f"last upload {_when(outbox.get('last_upload'))}; error: {outbox.get('last_upload_error') or 'none'}",
        f"  disk         {kiosk.get('disk_full') or 'ok'}",
        f"  avatar OCR   {'available' if kiosk.get('ocr') else 'not available on this runtime (the page hides the upload)'}",
    ]
    found = problems(body)
    lines.append("  status       " + ("ok" if not found else "PROBLEM: " + "; ".join(found)))
    return "\n".join(lines)


def format_offline(found: Dict[str, Any], port: int) -> str:
    rel = found.get("releases") or {}
    outbox = found.get("outbox") or {}
    counts = (f"{outbox['pending']} pending, {outbox['uploaded']} uploaded" if "pending" in outbox
              else outbox.get("error", "no outbox yet"))
    return "\n".join([
        f"kiosk: not running (nothing answers on 127.0.0.1:{port}); what {found['data']} says:",
        f"  release      {rel.get('current') or 'none cached'} (previous: {rel.get('previous') or 'none'})",
        f"  outbox       {counts}",
        "  last sync and errors are known only to a running kiosk",
    ])


def run(args) -> int:
    data = Path(args.data).expanduser()
    config = read_config(config_path(data, args.config))
    port = args.operator_port or config.operator_port or DEFAULT_OPERATOR_PORT
    if not config.operator_token:
        found = offline_status(data)
        print(json.dumps(found, indent=2) if args.json else format_offline(found, port))
        return 2
    try:
        status, body = fetch_status(port, config.operator_token)
    except ConnectionError:
        found = offline_status(data)
        print(json.dumps({"running": False, **found}, indent=2) if args.json else format_offline(found, port))
        return 2
    if status == 401:
        print(f"the kiosk on 127.0.0.1:{port} refused the token in {config.path}")
        return 3
    print(json.dumps(body, indent=2, ensure_ascii=False) if args.json else format_running(body, port))
    return 0 if not problems(body) else 1
