"""Benchmark: the kiosk path on Paddle Lite (FP32 and INT8 .nb) next to ONNX Runtime INT8, same texts, one run.

The kiosk path is what ``python -m edge kiosk`` does per request, uncached: mask + normalise →
tokenize → encode → Annoy → vote (``coldstart.service.ProfileService.profile_text``). Only the encoder differs
between the rows; everything runs in ONE Python 3.9 toolchain process (it has both paddlelite and
onnxruntime), the variants interleaved text by text so they share the machine's load.

  lite-fp32   the release's student.x86.fp32.nb            (coldstart.lite_encoder.LiteEncoder)
  lite-int8   the release's student.x86.int8.nb (INT8 weights; infra/lite.py says why the export
              rewrites matmul_v2 first, without which Lite 2.13rc0 gave NaN); made here from the
              student with the same conversion when the release has none (then timed and flagged)
  onnx-int8   the release's student.int8.onnx, 1 intra-op thread (coldstart.encoder.OnnxEncoder)

Each row also gives the file size, the mean cosine of its vectors to ONNX FP32 on the same texts
(INVALID when NaN or below the export's INT8 gate, 0.99) and cpu/wall (process CPU time / wall
time: cores really used; the x86 Lite build has no thread setting, so OMP/MKL are pinned to 1
thread through the environment).

    .venv/bin/python bench/edge.py                 # the demo release (make demo) + data/heldout.jsonl texts
    .venv/bin/python bench/edge.py --iters 3 --texts data/samples.jsonl

Artefacts are cached in build/bench/edge/ (--rebuild redoes them).
"""
from __future__ import annotations

import zlib  # noqa: F401  (before paddle: see infra/__init__.py)

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layer")]

from edge.bench import cpu_info  # noqa: E402

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
import numpy as np
from coldstart.encoder import OnnxEncoder
from coldstart.lite_encoder import LiteEncoder
from coldstart.service import ProfileService
from coldstart.preprocess import prepare_text
from coldstart.release_loader import OnnxBackend, ReleaseLoader
from coldstart.settings import ServingSettings
from coldstart.storage import open_store

release_dir, cache, int8_nb, texts_file, iters = sys.argv[1:6]
iters = int(iters)
texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
loader = ReleaseLoader(open_store(release_dir), cache, threads=1, backend=OnnxBackend())
release = loader.load(loader.current_version())
model = release.root / "model"
src = Path(release_dir) / "releases" / release.version / "model"
variants = {"lite-fp32": LiteEncoder(str(src / "student.x86.fp32.nb")),
            "lite-int8": LiteEncoder(int8_nb),
            "onnx-int8": OnnxEncoder(str(model / release.model_manifest.serving.onnx), threads=1)}
reference = OnnxEncoder(str(src / "student.fp32.onnx"), threads=1)

class Manager:
    current = release
    last_error = None
    def maybe_refresh(self):
        pass

service = ProfileService(ServingSettings(cache_size=0), manager=Manager())
texts = [prepare_text(t)[0] for t in texts]
cos = {name: [] for name in variants}
for t in texts:
    enc = release.tokenizer.encode(t)
    want = reference.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)[0]
    for name, encoder in variants.items():
        got = encoder.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)[0]
        cos[name].append(float(np.dot(got, want) / (np.linalg.norm(got) * np.linalg.norm(want) + 1e-12)))
times = {name: [] for name in variants}
cpu = {name: 0.0 for name in variants}
for name, encoder in variants.items():  # warm-up
    release.encoder = encoder
    for t in texts[:5]:
        service.profile_text(t, use_cache=False)
for _ in range(iters):
    for t in texts:
        for name, encoder in variants.items():
            release.encoder = encoder
            c0, w0 = time.process_time(), time.perf_counter()
            service.profile_text(t, use_cache=False)
            times[name].append((time.perf_counter() - w0) * 1000.0)
            cpu[name] += time.process_time() - c0
from importlib.metadata import version
print(json.dumps({"times": times, "cpu": cpu, "cos": cos, "release": release.version,
                  "python": sys.version.split()[0], "paddlelite": version("paddlelite"),
                  "onnxruntime": version("onnxruntime")}))
"""


def pct(values, q):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q / 100.0 * len(ordered) + 0.5)) - 1))]


def ensure_release(index: Path, model: Path, out: Path, rebuild: bool) -> Path:
    release = out / "release"
    if rebuild or not (release / "current.json").is_file():
        shutil.rmtree(release, ignore_errors=True)
        from infra.cli import main

        if main(["publish", "--to", str(release), "--index", str(index), "--model", str(model), "--version", "bench"]) != 0:
            raise SystemExit("publish of the benchmark release failed")
    return release


def ensure_int8_nb(model: Path, student: Path, out: Path, rebuild: bool) -> Path:
    found = model / "student.x86.int8.nb"
    if found.is_file():
        return found
    nb = out / "student.x86.int8.nb"
    if nb.is_file() and not rebuild:
        return nb
    from infra import lite
    from infra.jobs.export import _save_static
    from infra.student import load_student

    net, _, _ = load_student(student)
    static = out / "static"
    shutil.rmtree(static, ignore_errors=True)
    static.mkdir(parents=True)
    pdmodel, pdiparams = _save_static(net, static)
    return lite.convert(pdmodel, pdiparams, out / "student.x86.int8", "x86", "int8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", default=str(ROOT / "build/demo/pipeline/index"))
    ap.add_argument("--model", default=str(ROOT / "build/demo/pipeline/model"))
    ap.add_argument("--student", default=str(ROOT / "models/demo-student"),
                    help="the student the model was exported from (for the INT8 .nb when the release has none)")
    ap.add_argument("--texts", default=str(ROOT / "data/heldout.jsonl"))
    ap.add_argument("--max-texts", type=int, default=100)
    ap.add_argument("--iters", type=int, default=3, help="passes over the texts")
    ap.add_argument("--out", default=str(ROOT / "build/bench/edge"))
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()

    model = Path(args.model)
    if not (model / "model_manifest.json").is_file():
        print(f"no model at {model}: run `make demo` first (or pass --index/--model)")
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    release = ensure_release(Path(args.index), model, out, args.rebuild)
    int8_nb = ensure_int8_nb(model, Path(args.student), out, args.rebuild)
    texts = [json.loads(line)["text"] for line in Path(args.texts).read_text(encoding="utf-8").splitlines()
             if line.strip()][:args.max_texts]
    (out / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")

    from infra.lite import _env39, toolchain_python

    env = {**_env39(), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layer"), str(ROOT)])
    done = subprocess.run([str(toolchain_python()), "-c", CHILD, str(release), str(out / "cache"), str(int8_nb),
                           str(out / "texts.json"), str(args.iters)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-3000:])
        return 1
    res = json.loads([line for line in done.stdout.splitlines() if line.strip()][-1])
    info = cpu_info()
    print("device: " + ", ".join(f"{k}={v}" for k, v in info.items()) + f", load avg {os.getloadavg()[0]:.2f}")
    print(f"kiosk path (mask → tokenize → encode → Annoy → vote), uncached, batch 1, 1 thread; release "
          f"{res['release']}; {len(texts)} texts × {args.iters} passes; Python {res['python']}, "
          f"paddlelite {res['paddlelite']}, onnxruntime {res['onnxruntime']}")
    sizes = {"lite-fp32": model / "student.x86.fp32.nb", "lite-int8": int8_nb, "onnx-int8": model / "student.int8.onnx"}
    print(f"{'encoder':<10} {'MB':>6} {'median ms':>10} {'p99 ms':>9} {'cpu/wall':>9} {'cos vs ONNX FP32':>17}")
    for name, times in res["times"].items():
        med = pct(times, 50)
        mean_cos = sum(res["cos"][name]) / len(res["cos"][name])
        valid = mean_cos == mean_cos and mean_cos >= 0.99
        print(f"{name:<10} {sizes[name].stat().st_size / 1e6:>6.2f} {med:>10.2f} {pct(times, 99):>9.2f} "
              f"{res['cpu'][name] / (sum(times) / 1000.0):>9.2f} {mean_cos:>17.4f}{'' if valid else '  INVALID'}")
        print(f"edge-bench encoder={name} median_ms={med:.3f} p99_ms={pct(times, 99):.3f} cos={mean_cos:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
