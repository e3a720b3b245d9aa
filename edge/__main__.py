"""``python -m edge <command>``: the kiosk runtime (see edge/README.md).

Runs on the kiosk's Python 3.9 with Paddle Lite (``.toolchain/py39/bin/python``) and on 3.11
with ONNX Runtime; all profiling logic is the shared ``coldstart`` package.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
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
    p.add_argument("--data", default=None, help=f"the kiosk's own data directory (default {DEFAULT_DATA})")
    p.add_argument("--backend", choices=["lite", "onnx", "auto"], default=os.environ.get("COLDSTART_EDGE_BACKEND", "auto"),
                   help="encoder runtime: Paddle Lite .nb, ONNX Runtime, or auto (lite when paddlelite imports)")
    p.add_argument("--target", choices=["x86", "arm"], default=None, help="Paddle Lite target (default: this CPU)")
    p.add_argument("--threads", type=int, default=1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m edge", description="coldstart kiosk runtime (offline first)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("kiosk", help="serve the visitor page on 127.0.0.1 (and the operator page, token required)")
    _common(p, release_required=False)
    p.add_argument("--demo", action="store_true",
                   help="the demo release from `make demo` (a folder copy in build/demo/kiosk-release, made from "
                        "its local S3 data when missing); data in build/demo/kiosk-data; no S3 credentials needed")
    p.add_argument("--config", default=None, help="the kiosk's config file (default DATA/kiosk.json; holds the "
                                                  "operator token, made on first start)")
    p.add_argument("--port", type=int, default=None, help="visitor page port (default 8090, or kiosk.json's port)")
    p.add_argument("--operator-port", type=int, default=None,
                   help="operator page port on 127.0.0.1 (default 8091, or kiosk.json's operator_port; 0: any free)")
    p.add_argument("--idle-seconds", type=float, default=None,
                   help="the visitor page clears itself after this long without input (default 60, or kiosk.json's)")
    p.add_argument("--outbox", default=None,
                   help="upload destination of the outbox: s3://bucket/prefix or a directory (default: --release)")
    p.add_argument("--sync-every", type=float, default=300.0, help="seconds between release sync + outbox upload (0: off)")
    p.add_argument("--kiosk-id", default=None, help="default: made once and kept in DATA/kiosk_id")
    p.add_argument("--keep-uploaded-days", type=float, default=7.0,
                   help="delete outbox rows this long after they reached S3 (default: 7; 0: right after upload)")

    p = sub.add_parser("status", help="release version, last sync, outbox backlog and errors (asks the running kiosk)")
    p.add_argument("--data", default=None, help=f"the kiosk's data directory (default {DEFAULT_DATA})")
    p.add_argument("--demo", action="store_true", help="the `make kiosk` demo kiosk (data in build/demo/kiosk-data)")
    p.add_argument("--config", default=None, help="the kiosk's config file (default DATA/kiosk.json)")
    p.add_argument("--operator-port", type=int, default=None, help="default: kiosk.json's operator_port, else 8091")
    p.add_argument("--json", action="store_true", help="print the status document as JSON")

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

    sub.add_parser("demo-release", help="copy the `make demo` release out of its local S3 data into "
                                        "build/demo/kiosk-release (Python 3.11 venv; `make kiosk` runs it)")
    return parser


def _data(args) -> Path:
    if args.data:
        return Path(args.data).expanduser()
    if getattr(args, "demo", False):
        from .demo import DEMO_DATA
        return DEMO_DATA
    return Path(DEFAULT_DATA).expanduser()


def _kiosk(args, sync_every: float = 0.0, port_outbox: Optional[str] = None, idle_seconds: Optional[float] = None):
    from .kiosk import Kiosk, KioskConfig

    extra = {} if idle_seconds is None else {"idle_seconds": idle_seconds}
    return Kiosk(KioskConfig(release=args.release, data=_data(args), outbox_uri=port_outbox,
                             backend=args.backend, target=args.target, sync_every=sync_every,
                             threads=args.threads, kiosk_id=getattr(args, "kiosk_id", None),
                             keep_uploaded_days=getattr(args, "keep_uploaded_days", 7.0), **extra))


def _demo_release() -> str:
    """The folder copy of the demo release; made now when missing and this Python can run the local S3."""
    from .demo import DEMO_RELEASE, DemoReleaseMissing, copied_version, mirror_demo_release

    if copied_version(DEMO_RELEASE):
        return str(DEMO_RELEASE)
    try:  # needs local.s3 and the venv's weed binary: the 3.11 venv, not the kiosk's 3.9
        mirror_demo_release()
    except DemoReleaseMissing:
        raise
    except Exception as exc:
        raise DemoReleaseMissing(f"no demo release in {DEMO_RELEASE}, and this Python cannot make it "
                                 f"({exc.__class__.__name__}): run `make kiosk` (or `.venv/bin/python -m edge "
                                 "demo-release`) after `make demo`") from None
    return str(DEMO_RELEASE)


def cmd_kiosk(args) -> int:
    from .config import (DEFAULT_IDLE_SECONDS, DEFAULT_OPERATOR_PORT, DEFAULT_PORT, ConfigError, config_path,
                         ensure_operator_token, read_config)
    from .demo import DemoReleaseMissing
    from .kiosk import serve
    from .operator_view import serve_operator

    if args.demo and not args.release:
        try:
            args.release = _demo_release()
        except DemoReleaseMissing as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if not args.release:
        print("error: --release is required (or --demo after `make demo`)", file=sys.stderr)
        return 2
    data = _data(args)
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    cfg_file = config_path(data, args.config)
    try:
        token = ensure_operator_token(cfg_file)
        config = read_config(cfg_file)
    except (ConfigError, OSError) as exc:
        print(f"error: kiosk config: {exc}", file=sys.stderr)
        return 2
    port = args.port if args.port is not None else (config.port or DEFAULT_PORT)
    operator_port = args.operator_port if args.operator_port is not None else (
        config.operator_port if config.operator_port is not None else DEFAULT_OPERATOR_PORT)
    idle = args.idle_seconds or config.idle_seconds or DEFAULT_IDLE_SECONDS

    kiosk = _kiosk(args, args.sync_every, args.outbox, idle)
    server = serve(kiosk, port)
    try:
        operator = serve_operator(kiosk, token, operator_port)
    except OSError as exc:  # the visitors' page must not depend on the operator port being free
        operator = None
        operator_note = f"operator page NOT started (127.0.0.1:{operator_port}: {exc.strerror or exc})"
    else:
        threading.Thread(target=operator.serve_forever, name="kiosk-operator", daemon=True).start()
        operator_note = f"operator page http://127.0.0.1:{operator.server_address[1]}/ (token in {cfg_file})"
    status, body = kiosk.status()
    print(f"kiosk on http://127.0.0.1:{server.server_address[1]}/  backend={kiosk.backend.name}  "
          f"release={body.get('release') or 'none'}  data={kiosk.data}", flush=True)
    print(f"  {operator_note}; `python -m edge status --data {data}`", flush=True)
    if status != 200:
        print(f"  not ready yet: {body['error']['message']}", flush=True)
    kiosk.start_scheduler()
    # SIGTERM (systemd, kill) stops it like Ctrl-C: the outbox is closed cleanly either way
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if operator is not None:
            operator.shutdown()
            operator.server_close()
        kiosk.close()
    return 0


def cmd_status(args) -> int:
    from .config import ConfigError
    from .status import run

    args.data = str(_data(args))
    try:
        return run(args)
    except ConfigError as exc:
        print(f"error: kiosk config: {exc}", file=sys.stderr)
        return 2


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
    from .kiosk import KioskConfig, rollback_cached

    try:
        version, previous = rollback_cached(KioskConfig(release=args.release, data=_data(args), backend=args.backend,
                                                        target=args.target, threads=args.threads))
    except Exception as exc:
        print(f"rollback failed: {exc}", file=sys.stderr)
        return 1
    print(f"now serving {version} (previous: {previous})")
    return 0


def cmd_bench(args) -> int:
    from .bench import run

    args.data = str(_data(args))
    return run(args)


def cmd_demo_release(args) -> int:
    from .demo import DEMO_RELEASE, DemoReleaseMissing, mirror_demo_release

    try:
        version = mirror_demo_release()
    except DemoReleaseMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"demo release {version} in {DEMO_RELEASE} (a folder release: no S3 credentials needed)")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    _layer_on_path()
    logging.basicConfig(level=os.environ.get("COLDSTART_LOG_LEVEL", "WARNING"))
    args = build_parser().parse_args(argv)
    return {"kiosk": cmd_kiosk, "status": cmd_status, "sync": cmd_sync, "rollback": cmd_rollback,
            "bench": cmd_bench, "demo-release": cmd_demo_release}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
