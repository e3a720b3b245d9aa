"""``python -m edge <command>``: the kiosk runtime (see edge/README.md).

Runs on the kiosk's Python 3.9 with Paddle Lite (``.toolchain/py39/bin/python``) and on 3.11
with ONNX Runtime; all profiling logic is the shared ``coldstart`` package.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import List, Optional

DEFAULT_DATA = "~/.coldstart-kiosk"


def _layer_on_path() -> None:
    layer = Path(__file__).resolve().parents[1] / "layer"
    if layer.is_dir() and str(layer) not in sys.path:
        sys.path.insert(0, str(layer))


def _common(p: argparse.ArgumentParser, release_required: bool = True) -> None:
    p.add_argument("--release", required=release_required,
                   help="where releases are published: a local directory or s3://bucket/prefix (holds current.json)")
    p.add_argument("--data", default=DEFAULT_DATA, help=f"the kiosk's own data directory (default {DEFAULT_DATA})")
    p.add_argument("--backend", choices=["lite", "onnx", "auto"], default=os.environ.get("COLDSTART_EDGE_BACKEND", "auto"),
                   help="encoder runtime: Paddle Lite .nb, ONNX Runtime, or auto (lite when paddlelite imports)")
    p.add_argument("--target", choices=["x86", "arm"], default=None, help="Paddle Lite target (default: this CPU)")
    p.add_argument("--threads", type=int, default=1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m edge", description="coldstart kiosk runtime (offline first)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("kiosk", help="serve the local web page and JSON API on 127.0.0.1")
    _common(p)
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--outbox", default=None,
                   help="upload destination of the outbox: s3://bucket/prefix or a directory (default: --release)")
    p.add_argument("--sync-every", type=float, default=300.0, help="seconds between release sync + outbox upload (0: off)")
    p.add_argument("--kiosk-id", default=None, help="default: made once and kept in DATA/kiosk_id")
    p.add_argument("--keep-uploaded-days", type=float, default=7.0,
                   help="delete outbox rows this long after they reached S3 (default: 7; 0: right after upload)")

    p = sub.add_parser("sync", help="fetch a newer release (verified) and upload the outbox, once")
    _common(p)
    p.add_argument("--outbox", default=None, help="upload destination (default: --release)")
    p.add_argument("--kiosk-id", default=None)
    p.add_argument("--no-upload", action="store_true", help="only sync the release")
    p.add_argument("--keep-uploaded-days", type=float, default=7.0,
                   help="delete outbox rows this long after they reached S3 (default: 7)")

    p = sub.add_parser("rollback", help="serve the previous cached release again (until the next sync finds a newer one)")
    _common(p)

    p = sub.add_parser("bench", help="latency of the kiosk path (median, p99) with this device's CPU info")
    _common(p)
    p.add_argument("--texts", default=None, help="JSONL with a \"text\" per line (default: data/samples.jsonl)")
    p.add_argument("--repeat", type=int, default=200)
    return parser


def _kiosk(args, sync_every: float = 0.0, port_outbox: Optional[str] = None):
    from .kiosk import Kiosk, KioskConfig

    return Kiosk(KioskConfig(release=args.release, data=Path(args.data).expanduser(), outbox_uri=port_outbox,
                             backend=args.backend, target=args.target, sync_every=sync_every,
                             threads=args.threads, kiosk_id=getattr(args, "kiosk_id", None),
                             keep_uploaded_days=getattr(args, "keep_uploaded_days", 7.0)))


def cmd_kiosk(args) -> int:
    from .kiosk import serve

    kiosk = _kiosk(args, args.sync_every, args.outbox)
    server = serve(kiosk, args.port)
    status, health = kiosk.health()
    print(f"kiosk on http://127.0.0.1:{server.server_address[1]}/  backend={kiosk.backend.name}  "
          f"release={health.get('release') or 'none'}  data={kiosk.data}", flush=True)
    if status != 200:
        print(f"  not ready yet: {health['error']['message']}", flush=True)
    kiosk.start_scheduler()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        kiosk.close()
    return 0


def cmd_sync(args) -> int:
    kiosk = _kiosk(args, 0.0, args.outbox)  # start() already tried the release URI once
    try:
        out = {"release": kiosk.manager.status()}
        if not args.no_upload:
            out["outbox"] = kiosk.upload()
        print(json.dumps(out, ensure_ascii=False, indent=2))
        failed = kiosk.manager.last_error or (out.get("outbox") or {}).get("error")
        return 1 if failed else 0
    finally:
        kiosk.close()


def cmd_rollback(args) -> int:
    from coldstart.lite_encoder import make_backend

    from .releases import make_manager

    manager = make_manager(args.release, Path(args.data).expanduser(), make_backend(args.backend, args.target),
                           args.threads)
    manager.open_cached()
    try:
        version = manager.rollback()
    except Exception as exc:
        print(f"rollback failed: {exc}", file=sys.stderr)
        return 1
    print(f"now serving {version} (previous: {manager.previous_version})")
    return 0


def cmd_bench(args) -> int:
    from .bench import run

    return run(args)


def main(argv: Optional[List[str]] = None) -> int:
    _layer_on_path()
    logging.basicConfig(level=os.environ.get("COLDSTART_LOG_LEVEL", "WARNING"))
    args = build_parser().parse_args(argv)
    return {"kiosk": cmd_kiosk, "sync": cmd_sync, "rollback": cmd_rollback, "bench": cmd_bench}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
