"""``python -m edge bench``: latency of the kiosk path (mask → tokenize → encode → Annoy → vote),
uncached, on this device, with its CPU info. Nothing is written to the outbox."""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Dict, List

DEFAULT_TEXTS = Path(__file__).resolve().parents[1] / "data" / "samples.jsonl"


def cpu_info() -> Dict[str, str]:
    info = {"machine": platform.machine(), "python": platform.python_version(), "cores": str(os.cpu_count())}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("model name", "Hardware", "CPU implementer", "CPU part") and key not in info:
                info[key] = value.strip()
            if key == "flags" and "flags" not in info:
                flags = set(value.split())
                info["flags"] = " ".join(f for f in ("avx2", "avx512f", "avx512_vnni", "fma", "neon", "asimd")
                                         if f in flags)
    except OSError:
        pass
    return info


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def run(args) -> int:
    from .kiosk import Kiosk, KioskConfig

    path = Path(args.texts) if args.texts else DEFAULT_TEXTS
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    kiosk = Kiosk(KioskConfig(release=args.release, data=Path(args.data).expanduser(), backend=args.backend,
                              target=args.target, sync_every=0, threads=args.threads))
    try:
        if kiosk.manager.current is None:
            print(f"no release could be loaded: {kiosk.manager.last_error}")
            return 1
        for t in texts[:5]:
            kiosk.profile_uncached(t)  # warm-up
        times = []
        for i in range(args.repeat):
            started = time.perf_counter()
            kiosk.profile_uncached(texts[i % len(texts)])
            times.append((time.perf_counter() - started) * 1000.0)
        cpu = cpu_info()
        print("device: " + ", ".join(f"{k}={v}" for k, v in cpu.items()))
        print(f"release {kiosk.manager.current.version}, backend {kiosk.backend.name}, threads {args.threads}, "
              f"{len(texts)} texts x {args.repeat} runs (uncached)")
        print(f"kiosk path latency: median {statistics.median(times):.2f} ms, p99 {percentile(times, 99):.2f} ms, "
              f"min {min(times):.2f} ms")
        return 0
    finally:
        kiosk.close()
