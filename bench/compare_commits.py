"""Benchmark: bench/serving.py of two source trees (an old and a new commit), side by side in one run.

Why: issue 17 refactored the request path (one ProfileService, typed Outcome, Powertools resolvers)
and asks that warm-handler p50/p99 be no worse than before. Figures from two separate runs on this
shared 2-core machine differ by the load alone, so both trees are measured in ONE run, alternating
old, new, old, new (--rounds), and the table puts them next to each other with new/old ratios.

How: each tree runs ITS OWN bench/serving.py (cwd = that tree, PYTHONPATH = its layer/ and root,
its own --cache-root), because the release format changed between the commits (the old code reads
items.json, format 1; the new one refuses it and needs items.npz with keyed pseudonyms, and canaries). So each tree builds and publishes its own synthetic release from its own
demo release (`make demo` in that tree, build/demo/pipeline) with the same recipe (100,000 users,
recall@10 gate 0.95; by default --quick: 300 warm requests per run, 2 cold-start processes), serves it from a
local S3 server and prints its `serving-bench release=... metric=... value=...` lines, which this
script parses. Both trees get the same request texts (--texts). Nothing is imported from either
tree here.

Caveat: each tree's release comes from that tree's demo model and data, so when those changed between
the commits (hidden size, max_seq_len, the index's search_k) the stages cost differently for reasons
that are not the request path. Hence the stage rows (serving.py times the request path stage by stage,
cache off: preprocess = PII masking, tokenize, encode, annoy, vote) and "handler p50 - sum of stage
p50s": what the handler spends around the stages (event parsing, orchestration, response, logging,
metrics), the part a request-path refactor changes.

Not a test: nothing asserts on timings. Example:

    .venv/bin/python bench/compare_commits.py --old /work/wt/old-34998ed --new . --rounds 2
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^serving-bench release=(\S+) metric=(\S+) value=(\S+)$")
RELEASE_HEADER = re.compile(r"^== release (\S+):")
STAGE = re.compile(r"(\w+) ([\d.]+)/([\d.]+)")

STAGES = ("preprocess", "tokenize", "encode", "annoy", "vote")  # serving.py's stage names in both trees

# (label, how to get it from one run's metrics); None when a metric is missing. stage_* come from the
# "stages, cache off" line serving.py prints (p50 / p99 per stage), the rest from its grep lines.
ROWS = [
    ("handler p50, cache off (ms)", lambda m: m.get("handler_cache_off_p50_ms")),
    ("handler p99, cache off (ms)", lambda m: m.get("handler_cache_off_p99_ms")),
    ("handler p50, cache on (ms)", lambda m: m.get("handler_cache_on_p50_ms")),
    ("handler p99, cache on (ms)", lambda m: m.get("handler_cache_on_p99_ms")),
    ("cache hit rate, cache on", lambda m: m.get("cache_hit_rate")),
    ("service p50, cache off (ms)", lambda m: m.get("service_cache_off_p50_ms")),
    ("handler - service p50 (ms)", lambda m: _minus(m, "handler_cache_off_p50_ms", "service_cache_off_p50_ms")),
] + [(f"stage {name} p50 (ms)", lambda m, k=f"stage_{name}_p50_ms": m.get(k)) for name in STAGES] + [
    ("handler p50 - sum of stage p50s (ms)",
     lambda m: _minus(m, "handler_cache_off_p50_ms", *(f"stage_{n}_p50_ms" for n in STAGES))),
    ("cold start, in-process (ms)", lambda m: m.get("cold_total_ms")),
    ("  of which imports (ms)", lambda m: m.get("cold_imports_ms")),
    ("  of which open (ms)", lambda m: m.get("cold_open_ms")),
    ("cold start + python start (ms)", lambda m: _plus(m, "cold_total_ms", "cold_python_start_ms")),
    ("first request after init (ms)", lambda m: m.get("first_request_ms")),
]


def _minus(m: dict, first: str, *rest: str):
    if first not in m or any(k not in m for k in rest):
        return None
    return m[first] - sum(m[k] for k in rest)


def _plus(m: dict, *keys: str):
    return sum(m[k] for k in keys) if all(k in m for k in keys) else None


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def parse_metrics(stdout: str, release: str) -> dict:
    """The `serving-bench release=<release> metric=... value=...` lines of one serving.py run, plus
    the per-stage p50/p99 of that release's "stages, cache off" block (the line after its header)."""
    out, current, lines = {}, None, stdout.splitlines()
    for i, line in enumerate(lines):
        header = RELEASE_HEADER.match(line.strip())
        if header:
            current = header.group(1)
        if current == release and line.strip().startswith("stages, cache off") and i + 1 < len(lines):
            for name, p50, p99 in STAGE.findall(lines[i + 1]):
                out[f"stage_{name}_p50_ms"], out[f"stage_{name}_p99_ms"] = float(p50), float(p99)
        hit = LINE.match(line.strip())
        if hit and hit.group(1) == release:
            out[hit.group(2)] = float(hit.group(3))
    return out


def serving_command(tree: Path, args, cache_root: Path) -> list:
    cmd = ["nice", "-n", str(args.nice), str(tree / ".venv" / "bin" / "python"), "bench/serving.py",
           "--cache-root", str(cache_root)]
    return cmd + ["--texts", str(Path(args.texts).resolve())] + args.serving_args


def tree_env(tree: Path) -> dict:
    return dict(os.environ, PYTHONPATH=f"{tree / 'layer'}{os.pathsep}{tree}", TQDM_DISABLE="1")


def check_imports_own_code(label: str, tree: Path) -> None:
    """The shared venv has an editable install of one tree's coldstart; make sure PYTHONPATH wins."""
    found = subprocess.run([str(tree / ".venv" / "bin" / "python"), "-c", "import coldstart; print(coldstart.__file__)"],
                           cwd=tree, env=tree_env(tree), capture_output=True, text=True).stdout.strip()
    if not found.startswith(str(tree / "layer") + os.sep):
        raise SystemExit(f"--{label} {tree}: `import coldstart` finds {found or 'nothing'}, not this tree's layer/")


def run_tree(label: str, tree: Path, args, round_no: int, log_dir: Path) -> dict:
    """One serving.py run of one tree, in its own directory and import path; its metrics."""
    cache_root = Path(args.cache_root).resolve() / label
    cmd = serving_command(tree, args, cache_root)
    env = tree_env(tree)
    log_path = log_dir / f"{label}-round{round_no}.log"
    before = loadavg()
    print(f"[round {round_no}] {label}: {tree} (load avg {before}) ...", flush=True)
    t0 = time.time()
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
                              timeout=args.timeout)
        log.write(proc.stdout)
    wall = time.time() - t0
    metrics = parse_metrics(proc.stdout, args.release)
    after = loadavg()
    status = "ok" if proc.returncode == 0 and metrics else f"FAILED (exit {proc.returncode}, {len(metrics)} metrics)"
    print(f"[round {round_no}] {label}: {status} in {wall:.0f} s (load avg after {after}); log {log_path}", flush=True)
    return {"label": label, "round": round_no, "metrics": metrics, "ok": status == "ok", "wall_s": wall,
            "load_before": before, "load_after": after, "log": str(log_path)}


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _fmt(value, width=9, digits=2) -> str:
    return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def table(runs: list, rounds: int) -> str:
    """Per round old/new, the median over rounds, new/old of the medians and per round (paired)."""
    by = {(r["label"], r["round"]): r["metrics"] for r in runs if r["ok"]}
    head = f"{'':<36}" + "".join(f"{f'old r{i}':>9}" for i in range(1, rounds + 1)) \
        + "".join(f"{f'new r{i}':>9}" for i in range(1, rounds + 1)) + f"{'old med':>9}{'new med':>9}{'new/old':>9}" \
        + "   per round new/old"
    lines = [head]
    for label, get in ROWS:
        old = [get(by[("old", i)]) if ("old", i) in by else None for i in range(1, rounds + 1)]
        new = [get(by[("new", i)]) if ("new", i) in by else None for i in range(1, rounds + 1)]
        mo, mn = _median(old), _median(new)
        ratio = mn / mo if mo and mn is not None else None
        paired = [f"{n / o:.2f}" if o and n is not None else "-" for o, n in zip(old, new)]
        lines.append(f"{label:<36}" + "".join(_fmt(v) for v in old + new) + _fmt(mo) + _fmt(mn) + _fmt(ratio)
                     + "   " + " ".join(paired))
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--old", required=True, help="source tree of the old commit (e.g. a detached git worktree)")
    p.add_argument("--new", default=str(ROOT), help="source tree of the new commit (default: this tree)")
    p.add_argument("--rounds", type=int, default=2, help="old/new pairs, run alternately")
    p.add_argument("--release", default="100k", help="which serving.py release's figures to compare")
    p.add_argument("--texts", default=None,
                   help="one request-text file for both trees, so both serve the same requests "
                        "(default: the new tree's data/heldout.jsonl)")
    p.add_argument("--cache-root", default=str(ROOT / "build" / "bench" / "compare"),
                   help="per-tree synthetic-index caches go to <this>/old and <this>/new")
    p.add_argument("--log-dir", default=str(ROOT / "build" / "bench" / "compare" / "logs"),
                   help="each serving.py run's full output")
    p.add_argument("--nice", type=int, default=10, help="niceness of the serving.py runs (the machine is shared)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per serving.py run")
    p.add_argument("serving_args", nargs="*",
                   help="arguments for both serving.py runs, after `--` (default: --quick --skip-seed "
                        "--skip-production-shape --skip-demo)")
    args = p.parse_args(argv)
    if not args.serving_args:
        args.serving_args = ["--quick", "--skip-seed", "--skip-production-shape", "--skip-demo"]
    if args.texts is None:
        args.texts = str(Path(args.new) / "data" / "heldout.jsonl")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    trees = {"old": Path(args.old).resolve(), "new": Path(args.new).resolve()}
    for label, tree in trees.items():
        if not (tree / "bench" / "serving.py").is_file():
            raise SystemExit(f"--{label} {tree}: no bench/serving.py there")
        check_imports_own_code(label, tree)
    log_dir = Path(args.log_dir).resolve()
    log_dir.mkdir(parents=True, exist_ok=True)
    commits = {label: subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                                     text=True).stdout.strip() or "?" for label, tree in trees.items()}
    started = time.time()
    print(f"machine: {os.cpu_count()} cpus, load avg {loadavg()}; old {commits['old']} ({trees['old']}), "
          f"new {commits['new']} ({trees['new']}); serving.py {' '.join(args.serving_args)}; nice {args.nice}",
          flush=True)
    runs = []
    for round_no in range(1, args.rounds + 1):
        for label in ("old", "new"):  # alternate, so a load change hits both sides alike
            runs.append(run_tree(label, trees[label], args, round_no, log_dir))
    print(f"\nrelease {args.release}: old {commits['old']} vs new {commits['new']}, {args.rounds} round(s) "
          f"alternating old/new; wall {time.time() - started:.0f} s")
    print(table(runs, args.rounds))
    print("load avg (1/5/15 min) before -> after each run: " + "; ".join(
        f"{r['label']} r{r['round']} {r['load_before']} -> {r['load_after']}" for r in runs))
    failed = [r for r in runs if not r["ok"]]
    for r in failed:
        print(f"MISSING: {r['label']} round {r['round']} failed; see {r['log']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
