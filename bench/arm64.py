"""The kiosk's profiling path on arm64 next to x86_64, same release, same texts, one run.

arm64 = aarch64 CPython 3.9 (Debian 11 .debs) + arm64 wheels from PyPI + Annoy cross-compiled for
aarch64, run by Debian's qemu-user-static (``make arm64-setup``, edge/arm64.sh); x86_64 = the kiosk
toolchain's CPython 3.9 (``make edge-setup``). Both run ``python -m edge.profile_texts`` (the
``Kiosk`` visitors talk to, ONNX Runtime backend, uncached) and this script compares the outputs:
top-tag agreement and the cosine of each text's vector. Timings under emulation say nothing about
a real ARM board; they are printed only so the run's cost is known.

Paddle Lite's arm .nb is not run: PyPI has no paddlelite wheel for linux aarch64 (``pip download
--platform manylinux2014_aarch64 ... paddlelite`` finds no version), and Debian does not package it.

    .venv/bin/python bench/arm64.py                      # the demo release (make demo) and all of data/heldout.jsonl
    .venv/bin/python bench/arm64.py --limit 50 --release build/demo/kiosk-release
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARM_PY = ROOT / ".toolchain" / "arm64" / "bin" / "python"
X86_PY = ROOT / ".toolchain" / "py39" / "bin" / "python"


def run(python: Path, release: str, texts: str, limit, out: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    cmd = [str(python), "-m", "edge.profile_texts", "--release", release, "--texts", texts, "--out", str(out)]
    if limit:
        cmd += ["--limit", str(limit)]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{python} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["wall"] = time.perf_counter() - started
    return result


def main() -> int:
    import numpy as np

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--release", default=str(ROOT / "build/demo/kiosk-release"),
                    help="a folder release (default: the demo's, made by `make kiosk` / `python -m edge demo-release`)")
    ap.add_argument("--texts", default=str(ROOT / "data/heldout.jsonl"))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--reuse", action="store_true",
                    help="compare the outputs the last run kept in build/bench/arm64/ instead of running again")
    args = ap.parse_args()
    for python, how in ((ARM_PY, "make arm64-setup"), (X86_PY, "make edge-setup")):
        if not python.exists():
            print(f"{python.relative_to(ROOT)} is missing: run `{how}` first")
            return 1
    if not (Path(args.release) / "current.json").is_file():
        print(f"no release at {args.release}: run `make demo` and `.venv/bin/python -m edge demo-release` first")
        return 1
    out = ROOT / "build" / "bench" / "arm64"  # both outputs are kept for a look at any disagreement
    out.mkdir(parents=True, exist_ok=True)
    if args.reuse:
        x86, arm = (dict(json.loads((out / f"{m}.json").read_text(encoding="utf-8")), wall=float("nan"))
                    for m in ("x86_64", "aarch64"))
    else:
        x86 = run(X86_PY, args.release, args.texts, args.limit, out / "x86_64.json")
        arm = run(ARM_PY, args.release, args.texts, args.limit, out / "aarch64.json")
    a = np.asarray([r["vector"] for r in arm["texts"]], dtype=np.float64)
    b = np.asarray([r["vector"] for r in x86["texts"]], dtype=np.float64)
    cosine = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    same_top = sum(x["top_tag"] == y["top_tag"] for x, y in zip(arm["texts"], x86["texts"]))
    same_tags = sum([t["tag"] for t in x["tags"]] == [t["tag"] for t in y["tags"]]
                    for x, y in zip(arm["texts"], x86["texts"]))
    n = len(arm["texts"])
    stamp = (ROOT / ".toolchain/arm64/.stamp").read_text().splitlines()[1]
    print(f"release {arm['release']}, {n} texts from {Path(args.texts).name}, backend {arm['backend']}, uncached")
    print(f"arm64 toolchain: {stamp}")
    print(f"{'machine':<9} {'python':<7} {'profile s':>9} {'ms/text':>8} {'wall s':>7}")
    for r in (x86, arm):
        print(f"{r['machine']:<9} {r['python']:<7} {r['seconds']:>9.1f} {1000 * r['seconds'] / n:>8.1f} {r['wall']:>7.1f}")
    print(f"same top tag: {same_top}/{n}; same tag list (order included): {same_tags}/{n}")
    # A different top tag is a real difference unless both machines have the same tags tied at the
    # top score (users carry several tags: all 10 neighbours may share two of them, 1.00 / 1.00), and
    # only their order differs.
    real = 0
    for i, (x, y) in enumerate(zip(arm["texts"], x86["texts"])):
        if x["top_tag"] != y["top_tag"]:
            tied = tied_top(x["tags"]) == tied_top(y["tags"]) and len(tied_top(x["tags"])) > 1
            real += not tied
            print(f"  text {i}: arm64 {top3(x['tags'])} vs x86_64 {top3(y['tags'])}"
                  f"{'  (same tags tied at the top, other order)' if tied else '  DIFFERENT'}")
    print(f"cosine arm64 vs x86_64: min {cosine.min():.6f}, mean {cosine.mean():.6f}, "
          f"max |difference| {np.abs(a - b).max():.2e}")
    (same_set, same_order), exact_overlap = annoy_checks(Path(args.release), arm, x86)
    print(f"Annoy cross-built for arm64 vs x86_64's Annoy, same (arm64) vectors: same 10 neighbours for "
          f"{same_set}/{n} texts, in the same order for {same_order}/{n}")
    if exact_overlap:
        print("  where the top tags differ, exact search (numpy, all items) on the two vectors shares "
              + ", ".join(f"text {i}: {o}/10 neighbours" for i, o in exact_overlap))
    ok = real == 0 and cosine.min() >= 0.999
    print(f"arm64-bench texts={n} same_top={same_top} different_top_not_a_tie={real} min_cos={cosine.min():.6f} "
          f"{'PASS' if ok else 'FAIL'} (needs every top tag equal up to exact ties, cosine >= 0.999)")
    return 0 if ok else 1


def annoy_checks(release: Path, arm: dict, x86: dict):
    """((texts whose arm64 neighbours are x86_64 Annoy's neighbours of the arm64 vector, ... in the same order),
    [(text, exact top-10 overlap of the two vectors) where the top tags differ]): separates the
    cross-built Annoy from the encoder's arm64-vs-x86 rounding."""
    import numpy as np
    from annoy import AnnoyIndex

    version = json.loads((release / "current.json").read_text())["version"]
    index_dir = release / "releases" / version / "index"
    manifest = json.loads((index_dir / "manifest.json").read_text())
    user_ids = json.loads((index_dir / "items.json").read_text())["user_ids"]
    index = AnnoyIndex(int(manifest["dim"]), "angular")
    index.load(str(index_dir / "index.ann"))
    same_set = same_order = 0
    for row in arm["texts"]:
        ids = index.get_nns_by_vector(row["vector"], len(row["neighbors"]), search_k=int(manifest["search_k"]))
        same_set += {user_ids[i] for i in ids} == set(row["neighbors"])
        same_order += [user_ids[i] for i in ids] == row["neighbors"]
    items = np.asarray([index.get_item_vector(i) for i in range(index.get_n_items())])
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    overlap = []
    for i, (x, y) in enumerate(zip(arm["texts"], x86["texts"])):
        if x["top_tag"] != y["top_tag"]:
            tops = [set(np.argsort(-(items @ np.asarray(r["vector"])))[:10]) for r in (x, y)]
            overlap.append((i, len(tops[0] & tops[1])))
    return (same_set, same_order), overlap


def tied_top(tags, tolerance: float = 0.005):
    """The tags whose score is within ``tolerance`` of the top score (vote scores are shares of 10)."""
    return frozenset(t["tag"] for t in tags if tags and t["score"] >= tags[0]["score"] - tolerance)


def top3(tags):
    return ", ".join(f"{t['tag']} {t['score']:.4f}" for t in tags[:3])


if __name__ == "__main__":
    sys.exit(main())
