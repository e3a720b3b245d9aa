"""Profile a file of texts through the kiosk path and write what came out: the cross-CPU check.

    python -m edge.profile_texts --release DIR --texts data/heldout.jsonl --out out.json [--limit N]

Runs the same ``Kiosk`` a visitor talks to (ONNX Runtime backend by default: the one runtime that
exists for both x86_64 and aarch64; the outbox is not written), uncached, and writes
``{"machine", "python", "release", "backend", "seconds", "texts": [{"top_tag", "tags", "neighbors", "vector"}]}``.
``bench/arm64.py`` and ``tests/test_arm64.py`` run it on x86_64 and on arm64 under qemu-user and
compare the two files.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional


def read_texts(path: Path, limit: Optional[int] = None) -> List[str]:
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts[:limit] if limit else texts


def main(argv: Optional[List[str]] = None) -> int:
    layer = Path(__file__).resolve().parents[1] / "layer"
    if str(layer) not in sys.path:
        sys.path.insert(0, str(layer))
    from .kiosk import Kiosk, KioskConfig

    ap = argparse.ArgumentParser(prog="python -m edge.profile_texts", description=__doc__.split("\n\n")[0])
    ap.add_argument("--release", required=True, help="a release URI (a folder with current.json, or s3://...)")
    ap.add_argument("--texts", required=True, help="JSONL with a \"text\" per line")
    ap.add_argument("--out", required=True, help="where to write the JSON result")
    ap.add_argument("--limit", type=int, default=None, help="only the first N texts")
    ap.add_argument("--backend", choices=["onnx", "lite", "auto"], default="onnx")
    args = ap.parse_args(argv)

    texts = read_texts(Path(args.texts), args.limit)
    with tempfile.TemporaryDirectory(prefix="kiosk-profile-") as data:
        kiosk = Kiosk(KioskConfig(release=args.release, data=Path(data), backend=args.backend, sync_every=0,
                                  kiosk_id="profile-texts"))
        try:
            if kiosk.manager.current is None:
                print(f"no release could be loaded: {kiosk.manager.last_error}", file=sys.stderr)
                return 1
            started = time.perf_counter()
            rows = []
            for text in texts:
                body, vector = kiosk.profile_uncached(text)
                rows.append({"top_tag": body.get("top_tag"), "tags": body.get("tags"),
                             "neighbors": [n["handle"] for n in body.get("neighbors", [])],
                             "vector": None if vector is None else [float(x) for x in vector]})
            seconds = time.perf_counter() - started
            out = {"machine": platform.machine(), "python": platform.python_version(),
                   "release": kiosk.manager.current.version, "backend": kiosk.backend.name,
                   "seconds": round(seconds, 3), "texts": rows}
        finally:
            kiosk.close()
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    print(f"{out['machine']}: {len(rows)} texts in {seconds:.1f} s ({out['backend']}, release {out['release']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
