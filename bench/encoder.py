"""Benchmark: the distilled INT8 student next to the FP32 teacher, batch-1 latency, in one run.

Why: serving a distilled INT8 ERNIE student (ONNX Runtime; Paddle Lite on kiosks) is meant to be
>= 10x faster than serving the teacher the seed approach's way, an FP32 ernie-3.0-medium
paddle.inference predictor. This measures that on this machine.

Same token ids everywhere: 8 fixed random sequences (seed 0, within every model's vocab), exactly
32 and 64 tokens, all real (no padding), batch 1, cycled through the timed loop.
  teacher-medium  ernie-3.0-medium-zh's config (6 layers, 768, 12 heads, 3072, vocab 40000) ->
                  normalised [CLS]; 4 explicit inputs like the student; paddle.jit.save, then
                  paddle.inference (MKLDNN when compiled in); dygraph too, for reference.
  student-nano    the production shape ernie-3.0-nano (4 layers, 312, 12 heads, 1248, vocab 40000,
                  out 768) from infra.student.new_student, exported with infra/jobs/export.py's own
                  functions: ONNX FP32, ONNX INT8 (QInt8 per-tensor), Lite x86 .nb FP32 / INT8 weights.
  student-demo    the demo release's ONNX and x86 .nb files (--demo-model), if `make demo` ran.
Teacher and nano have random weights (none can be downloaded here; latency does not depend on them).
ONNX runs via coldstart.encoder.OnnxEncoder; Lite via coldstart.lite_encoder.LiteEncoder in the
Python 3.9 toolchain, which has no thread setting (1-thread table only). Outputs are compared with
the model's reference (ONNX FP32; dygraph for the teacher): INVALID = NaN or mean cosine < 0.9,
still timed. cpu/wall = process CPU time / wall time of the timed loop (cores really used).
Exports are cached in build/bench/<shape>/ (--rebuild redoes them).
"""
from __future__ import annotations

import zlib  # noqa: F401  (before paddle: see infra/__init__.py)

import argparse
import inspect
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layer")]
from coldstart.encoder import INPUT_NAMES, OnnxEncoder, model_inputs  # noqa: E402
from infra import lite  # noqa: E402
from infra.student import StudentShape  # noqa: E402

VOCAB, OUT_DIM, N_SEQ, TOKENS, THREADS, TARGET = 40000, 768, 8, (32, 64), (1, 2), 10.0
MEDIUM = StudentShape(hidden_size=768, num_hidden_layers=6, num_attention_heads=12, intermediate_size=3072)
_LITE = r"""  # run by the 3.9 toolchain after the source of timeit() below
import json, sys
from coldstart.lite_encoder import LiteEncoder
spec = json.loads(sys.argv[1]); data = np.load(spec["ids"]); out = {}
for name, nb in spec["models"].items():
    enc = LiteEncoder(nb)
    for key in data.files:
        seqs = data[key]; mask = np.ones((1, seqs.shape[1]), dtype=np.int64)
        run = lambda s: enc.encode_ids(s[None, :], mask)
        ms, cpu = timeit(run, seqs, spec["warmup"], spec["iters"])
        out[name + "/" + key] = {"ms": ms.tolist(), "cpu": cpu, "vecs": [run(s)[0].tolist() for s in seqs]}
print(json.dumps(out))
"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timeit(fn, seqs, warmup, iters):
    """(latencies in ms, cpu/wall) of fn(seq) over `iters` calls after `warmup` untimed calls."""
    for i in range(warmup):
        fn(seqs[i % len(seqs)])
    ms, c0, w0 = np.empty(iters), time.process_time(), time.perf_counter()
    for i in range(iters):
        t0 = time.perf_counter()
        fn(seqs[i % len(seqs)])
        ms[i] = (time.perf_counter() - t0) * 1000
    return ms, (time.process_time() - c0) / (time.perf_counter() - w0)


@np.errstate(invalid="ignore")
def mean_cosine(a, b) -> float:
    a, b = np.asarray(a, np.float64).reshape(len(a), -1), np.asarray(b, np.float64).reshape(len(b), -1)
    return float(np.mean(np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))


def teacher_layer():
    """ernie-3.0-medium-zh's exact config with seeded random weights; normalised [CLS] out."""
    import paddle
    from paddlenlp.transformers import ErnieConfig, ErnieModel
    from paddlenlp.transformers.ernie.configuration import ERNIE_PRETRAINED_INIT_CONFIGURATION as CONFIGS

    class TeacherCLS(paddle.nn.Layer):
        def __init__(self, ernie):
            super().__init__()
            self.ernie = ernie

        def forward(self, input_ids, token_type_ids, position_ids, attention_mask):
            cls = self.ernie(input_ids, token_type_ids=token_type_ids, position_ids=position_ids,
                             attention_mask=attention_mask, task_type_ids=token_type_ids * 0)[0][:, 0]
            return cls / paddle.sqrt(paddle.sum(cls * cls, axis=-1, keepdim=True) + 1e-12)

    paddle.seed(0)  # the same weights on every build: the dygraph reference is rebuilt, not loaded
    layer = TeacherCLS(ErnieModel(ErnieConfig(**CONFIGS["ernie-3.0-medium-zh"])))
    layer.eval()  # (returns None in Paddle 2.6)
    return layer


def export(kind: str, root: Path, rebuild: bool) -> dict:
    """Paddle static model (+ ONNX FP32/INT8 and x86 .nb for the student), cached by shape."""
    shape = MEDIUM if kind == "teacher" else StudentShape()
    out = root / (f"{kind}-L{shape.num_hidden_layers}-H{shape.hidden_size}-A{shape.num_attention_heads}"
                  f"-I{shape.intermediate_size}-V{VOCAB}")
    files = {"pdmodel": out / "static/student.pdmodel", "pdiparams": out / "static/student.pdiparams"}
    if kind == "student":
        files.update({"onnx-fp32": out / "student.fp32.onnx", "onnx-int8": out / "student.int8.onnx",
                      "lite-x86-fp32": out / "student.x86.fp32.nb", "lite-x86-int8": out / "student.x86.int8.nb"})
    if not rebuild and all(p.is_file() for p in files.values()):
        print(f"export: {kind} cached in {out}", flush=True)
        return files
    import paddle
    from infra.jobs.export import _quantize, _save_static, _to_onnx
    from infra.student import new_student

    t0 = time.perf_counter()
    (out / "static").mkdir(parents=True, exist_ok=True)
    paddle.seed(0)
    layer = teacher_layer() if kind == "teacher" else new_student(VOCAB, 0, shape, OUT_DIM)
    layer.eval()
    _save_static(layer, out / "static")
    if kind == "student":
        _to_onnx(files["pdmodel"], files["pdiparams"], files["onnx-fp32"])
        _quantize(files["onnx-fp32"], files["onnx-int8"], per_channel=False)
        for quant in ("fp32", "int8"):
            lite.convert(files["pdmodel"], files["pdiparams"], out / f"student.x86.{quant}", "x86", quant)
    print(f"export: {kind} {asdict(shape)} -> {out} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return files


def paddle_inference(pdmodel: Path, pdiparams: Path, threads: int):
    from paddle import inference
    from paddle.base import core

    config = inference.Config(str(pdmodel), str(pdiparams))
    config.disable_gpu()
    config.disable_glog_info()
    if core.is_compiled_with_mkldnn():
        config.enable_mkldnn()
    config.set_cpu_math_library_num_threads(threads)
    predictor = inference.create_predictor(config)
    inputs = {n: predictor.get_input_handle(n) for n in predictor.get_input_names()}
    output = predictor.get_output_handle(predictor.get_output_names()[0])

    def run(ids, mask):
        for name, value in model_inputs(ids, mask).items():
            inputs[name].copy_from_cpu(value)
        predictor.run()
        return output.copy_to_cpu()
    return run


def paddle_dygraph(layer, threads: int):
    import paddle
    from paddle.base import core

    core.set_num_threads(threads)  # as infra.teacher.pick_device does

    def run(ids, mask):
        with paddle.no_grad():
            feeds = model_inputs(ids, mask)
            return layer(*[paddle.to_tensor(feeds[n]) for n in INPUT_NAMES]).numpy()
    return run


class Bench:
    """Times cells on the same token ids; keeps outputs for the reference check."""

    def __init__(self, seqs):
        self.seqs, self.res, self.vecs = seqs, {}, {}  # res[(model, backend, tokens, threads)] = (ms, cpu/wall)

    def cell(self, model, backend, threads, run, warmup, iters):
        for t, seqs in self.seqs.items():
            mask = np.ones((1, t), dtype=np.int64)
            self.vecs[(model, backend, t)] = np.concatenate([run(s[None, :], mask) for s in seqs])
            self.res[(model, backend, t, threads)] = timeit(lambda s: run(s[None, :], mask), seqs, warmup, iters)
            self.progress(model, backend, t, threads)

    def progress(self, model, backend, t, threads):
        print(f"  {model} {backend} {t} tok threads={threads}: "
              f"p50 {np.median(self.res[(model, backend, t, threads)][0]):.2f} ms (load {load()})", flush=True)

    def check(self, model, backend, t) -> str:
        ref = "paddle-dygraph-fp32" if model.startswith("teacher") else "onnx-fp32"
        if backend == ref or (model, ref, t) not in self.vecs:
            return "reference" if backend == ref else "-"
        cos = mean_cosine(self.vecs[(model, backend, t)], self.vecs[(model, ref, t)])
        return (f"cos {cos:.4f}" + ("" if cos >= 0.9 else " INVALID")) if np.isfinite(cos) else "NaN INVALID"

    def report(self) -> list:
        cells = sorted({(m, b) for m, b, _, _ in self.res}, key=lambda mb: (not mb[0].startswith("teacher"), mb))
        lines = []
        for threads in THREADS:
            print(f"\n== {threads} thread{'s' * (threads > 1)}: batch 1, latency ms")
            print(f"   {'model':<15} {'backend':<22} {'32 tok p50':>10} {'p99':>7} {'64 tok p50':>10} {'p99':>7}"
                  f" {'cpu/wall':>8}  output vs reference (32 / 64 tok)")
            for m, b in [c for c in cells if (*c, TOKENS[0], threads) in self.res]:
                cols = ""
                for t in TOKENS:
                    (ms, cpu), valid = self.res[(m, b, t, threads)], "INVALID" not in self.check(m, b, t)
                    cols += f" {np.median(ms):>10.2f} {np.percentile(ms, 99):>7.2f}"
                    lines.append(f"encoder-bench model={m} backend={b} tokens={t} threads={threads} "
                                 f"p50_ms={np.median(ms):.3f} p99_ms={np.percentile(ms, 99):.3f} iters={len(ms)} "
                                 f"valid={'yes' if valid else 'no'}")
                print(f"   {m:<15} {b:<22}{cols} {cpu:>8.2f}  {self.check(m, b, 32)} / {self.check(m, b, 64)}")
        print("   cos: mean cosine of the 8 outputs vs the model's reference (export gates: INT8 >= 0.99, Lite FP32 "
              ">= 0.999); INVALID = NaN or < 0.9; cpu/wall at 64 tokens; Lite has no thread setting (1 thread)")
        return lines


def demo_files(demo: Path):
    """({backend: file} of the demo release, its vocab size), or (None, None) when it is absent."""
    if not (demo / "student.int8.onnx").is_file():
        print(f"demo model not found at {demo}/student.int8.onnx: run `make demo` first (skipped)")
        return None, None
    names = {"onnx-fp32": "student.fp32.onnx", "onnx-int8": "student.int8.onnx",
             "lite-x86-fp32": "student.x86.fp32.nb", "lite-x86-int8": "student.x86.int8.nb"}
    files = {b: demo / n for b, n in names.items() if (demo / n).is_file()}
    vocab = sum(1 for _ in open(demo / "vocab.txt", encoding="utf-8"))
    manifest = json.loads((demo / "model_manifest.json").read_text(encoding="utf-8"))
    dropped = manifest.get("optional_gates", {}).get("lite_int8_cosine", {})
    print(f"demo student {demo}: shape {manifest['student']['shape']}, vocab {vocab}, files {sorted(files)}"
          + ("" if "lite-x86-int8" in files else f" (no INT8 .nb: its export dropped it, lite_int8_cosine="
                                                 f"{dropped.get('value', '?')} (None = NaN); see student-nano)"))
    return files, vocab


def run_lite(bench: Bench, models: dict, cache: Path, warmup: int, iters: int) -> None:
    """Every .nb through LiteEncoder in one Python 3.9 process: same ids, same timeit()."""
    np.savez(cache / "ids.npz", **{f"t{t}": s for t, s in bench.seqs.items()})
    nbs = {f"{m}|{b}": str(f) for m, files in models.items() for b, f in files.items() if b.startswith("lite")}
    spec = json.dumps({"models": nbs, "ids": str(cache / "ids.npz"), "warmup": warmup, "iters": iters})
    code = "import time\nimport numpy as np\n" + inspect.getsource(timeit) + _LITE
    for key, r in json.loads(lite._run39(code, spec, timeout=3600).strip().splitlines()[-1]).items():
        (model, backend), t = key.split("/")[0].split("|"), int(key.split("/t")[-1])
        bench.res[(model, backend, t, 1)] = (np.asarray(r["ms"]), r["cpu"])
        bench.vecs[(model, backend, t)] = np.asarray(r["vecs"])
        bench.progress(model, backend, t, 1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--demo-model", default="build/demo/pipeline/model", help="demo release model directory")
    p.add_argument("--cache", default="build/bench", help="exported models are kept here between runs")
    p.add_argument("--rebuild", action="store_true", help="export again even if cached")
    p.add_argument("--iters", type=int, default=200, help="timed iterations per student cell")
    p.add_argument("--warmup", type=int, default=20, help="untimed iterations before each student cell")
    p.add_argument("--teacher-iters", type=int, default=60)
    p.add_argument("--teacher-warmup", type=int, default=10)
    p.add_argument("--no-dygraph", action="store_true", help="skip the dygraph teacher reference")
    p.add_argument("--quick", action="store_true", help="30/5 iterations (teacher 10/3): a smoke run")
    args = p.parse_args(argv)
    if args.quick:
        args.iters, args.warmup, args.teacher_iters, args.teacher_warmup = 30, 5, 10, 3
    started, load_at_start = time.perf_counter(), load()
    print(f"machine: {os.cpu_count()} cpus, load avg {load_at_start} (at start), python {sys.version.split()[0]}\n"
          f"iterations per cell: students {args.iters} timed after {args.warmup} warm-up; teacher {args.teacher_iters} "
          f"after {args.teacher_warmup} (it is slow); batch 1; time.perf_counter\n"
          "teacher and nano student: random weights (real weights cannot be downloaded here; "
          "latency does not depend on weight values)", flush=True)
    cache = Path(args.cache)
    models = {"teacher-medium": export("teacher", cache, args.rebuild),
              "student-nano": export("student", cache, args.rebuild)}
    demo, demo_vocab = demo_files(Path(args.demo_model))
    if demo:
        models["student-demo"] = demo
    ids = np.random.default_rng(0).integers(5, min(VOCAB, demo_vocab or VOCAB), (N_SEQ, max(TOKENS)))
    bench = Bench({t: ids[:, :t] for t in TOKENS})

    print("\ntiming ONNX Runtime (OnnxEncoder)", flush=True)
    for name in [m for m in models if m.startswith("student")]:
        for backend in ("onnx-fp32", "onnx-int8"):
            for threads in THREADS:
                encoder = OnnxEncoder(str(models[name][backend]), threads=threads)
                bench.cell(name, backend, threads, encoder.encode_ids, args.warmup, args.iters)
    print("timing Paddle Lite x86 (LiteEncoder in the Python 3.9 toolchain)", flush=True)
    run_lite(bench, models, cache, args.warmup, args.iters)
    print("timing the teacher in Paddle (FP32)", flush=True)
    teacher = models["teacher-medium"]
    for threads in THREADS:
        run = paddle_inference(teacher["pdmodel"], teacher["pdiparams"], threads)
        bench.cell("teacher-medium", "paddle-inference-fp32", threads, run, args.teacher_warmup, args.teacher_iters)
    if not args.no_dygraph:
        layer = teacher_layer()
        for threads in THREADS:
            bench.cell("teacher-medium", "paddle-dygraph-fp32", threads, paddle_dygraph(layer, threads),
                       args.teacher_warmup, args.teacher_iters)

    lines = bench.report()
    print(f"\nmachine load avg at start {load_at_start}, at end {load()}; wall {time.perf_counter() - started:.0f} s\n")
    print("\n".join(lines))
    base = np.median(bench.res[("teacher-medium", "paddle-inference-fp32", 32, 1)][0])
    for name in ("nano", "demo"):
        key = (f"student-{name}", "onnx-int8", 32, 1)
        if key in bench.res:
            ratio = base / np.median(bench.res[key][0])
            print(f"encoder-bench speedup_int8_{name}_vs_medium_teacher_32tok_1thread={ratio:.1f} "
                  f"target>={TARGET:.0f} {'met' if ratio >= TARGET else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
