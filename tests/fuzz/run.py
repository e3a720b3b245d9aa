"""Run the coverage-guided (atheris) fuzz targets for a time budget and report the figures.

    python -m tests.fuzz.run --seconds 600                  # 10 minutes in total, split over the targets
    python -m tests.fuzz.run --seconds 120 --targets pii,handler --jobs 2
    make fuzz FUZZ_SECONDS=600                               # the same, plus a long hypothesis run

Each target runs in its own process (tests/fuzz/atheris_main.py) with libFuzzer's
``-max_total_time`` (its share of --seconds), ``-timeout`` (per-input hang bound) and
``-rss_limit_mb``. Seeds come from events/, data/, generated images and the real manifests of
a tiny release (built once into build/fuzz-release, or --release DIR). The corpus grows in
``--corpus`` (default build/fuzz-corpus/<target>) so later runs continue where earlier ones
stopped. Crash and timeout inputs are copied to ``<corpus>/../fuzz-findings/<target>/``; turn
each into a named test in tests/fuzz/test_regressions.py.

Prints one line per target (inputs run, inputs/s, new coverage units, crashes) and, with
--json, a JSON summary. Exit status 1 if any target crashed or hung.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("handler", "pii", "tokenizer", "manifest", "image")
HANG_SECONDS = {"handler": 20, "pii": 5, "tokenizer": 5, "manifest": 5, "image": 10}


@dataclass
class TargetRun:
    target: str
    seconds: float
    runs: int = 0
    new_units: int = 0
    exec_per_sec: int = 0
    crashes: List[str] = field(default_factory=list)   # artifact paths (crash-*, timeout-*, oom-*)
    returncode: Optional[int] = None
    wall_seconds: float = 0.0
    error_excerpt: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.crashes and self.runs > 0


def _stat(log: str, name: str) -> int:
    m = re.search(rf"stat::{name}:\s+(\d+)", log)
    return int(m.group(1)) if m else 0


def run_target(target: str, seconds: float, corpus: Path, artifacts: Path, release: Optional[Path],
               cache: Path, seed: Optional[int] = None, python: str = sys.executable,
               extra_args: Sequence[str] = ()) -> TargetRun:
    from tests.fuzz.seeds import write_corpus

    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"fuzz-seeds-{target}-") as seeds:
        write_corpus(target, Path(seeds), release)
        args = [python, "-m", "tests.fuzz.atheris_main", target, f"-max_total_time={max(1, int(seconds))}",
                f"-timeout={HANG_SECONDS[target]}", "-rss_limit_mb=3072", "-max_len=8192", "-print_final_stats=1",
                f"-artifact_prefix={artifacts}{os.sep}", *extra_args]
        if seed is not None:
            args.append(f"-seed={seed}")
        args += [str(corpus), seeds]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "layer")]),
                   COLDSTART_FUZZ_CACHE=str(cache), PYTHONHASHSEED="0")
        if release is not None:
            env["COLDSTART_FUZZ_RELEASE"] = str(release)
        before = set(artifacts.iterdir())
        started = time.monotonic()
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, errors="replace",
                              timeout=seconds + 300)
    log = done.stdout + done.stderr
    result = TargetRun(target, seconds, runs=_stat(log, "number_of_executed_units"),
                       new_units=_stat(log, "new_units_added"), exec_per_sec=_stat(log, "average_exec_per_sec"),
                       returncode=done.returncode, wall_seconds=round(time.monotonic() - started, 1))
    m = re.search(r"Done (\d+) runs", log)
    if m and not result.runs:
        result.runs = int(m.group(1))
    result.crashes = sorted(str(p) for p in set(artifacts.iterdir()) - before)
    if not result.ok:
        start = log.find("=== Uncaught Python exception")
        result.error_excerpt = (log[start:start + 3000] if start >= 0 else log[-3000:])
    return result


def run_all(seconds: float, targets: Sequence[str] = TARGETS, jobs: int = 1, corpus_root: Optional[Path] = None,
            release: Optional[Path] = None, seed: Optional[int] = None) -> List[TargetRun]:
    """Split ``seconds`` over ``targets`` (each gets seconds * jobs / len(targets)), ``jobs`` at a time."""
    if "handler" in targets and release is None:
        from tests.fuzz.release_builder import build_release

        release = build_release()
    per_target = max(1.0, seconds * jobs / len(targets))
    scratch = Path(tempfile.mkdtemp(prefix="coldstart-fuzz-"))
    temporary_corpus = corpus_root is None
    corpus_root = corpus_root or scratch / "corpus"
    findings = corpus_root.parent / "fuzz-findings"
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_target, t, per_target, corpus_root / t, findings / t, release,
                                   scratch / f"cache-{t}", seed) for t in targets]
            return [f.result() for f in futures]
    finally:
        if temporary_corpus:
            for t in targets:  # keep findings next to the scratch corpus only if there are any
                if (findings / t).is_dir() and not any((findings / t).iterdir()):
                    shutil.rmtree(findings / t)
        shutil.rmtree(scratch / "corpus", ignore_errors=True)
        for cache in scratch.glob("cache-*"):
            shutil.rmtree(cache, ignore_errors=True)


def report(results: Sequence[TargetRun]) -> str:
    lines = [f"{'target':<10} {'seconds':>7} {'inputs':>9} {'inputs/s':>9} {'new units':>9} {'crashes':>7}"]
    for r in results:
        lines.append(f"{r.target:<10} {r.seconds:>7.0f} {r.runs:>9} {r.exec_per_sec:>9} {r.new_units:>9} "
                     f"{len(r.crashes):>7}")
    lines.append(f"{'total':<10} {sum(r.seconds for r in results):>7.0f} {sum(r.runs for r in results):>9} "
                 f"{'':>9} {'':>9} {sum(len(r.crashes) for r in results):>7}")
    for r in results:
        if not r.ok:
            lines.append(f"\n--- {r.target}: exit {r.returncode}, findings {r.crashes}\n{r.error_excerpt}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("COLDSTART_FUZZ_SECONDS", 600)),
                        help="total wall-clock budget, split over the targets (default 600, env COLDSTART_FUZZ_SECONDS)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated subset of " + ",".join(TARGETS))
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at the same time (one core each)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "build" / "fuzz-corpus",
                        help="corpus root, one folder per target, kept between runs")
    parser.add_argument("--release", type=Path, default=None,
                        help="a directory store with current.json (default: build a tiny one in build/fuzz-release)")
    parser.add_argument("--seed", type=int, default=None, help="libFuzzer -seed (default random)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = sorted(set(targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {unknown}; choose from {', '.join(TARGETS)}")
    results = run_all(args.seconds, targets, args.jobs, args.corpus, args.release, args.seed)
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([dict(asdict(r), ok=r.ok) for r in results], indent=2) + "\n",
                             encoding="utf-8")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
