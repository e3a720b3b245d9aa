"""The student step of a release: distill + export when the index needs a new student, else nothing.

A release always carries a student distilled from the teacher that made its index. The daily index
refresh keeps the teacher, so the current release's student still fits and `publish` carries it
forward; only when the teacher changed (or nothing is published yet) must a new one be trained,
which takes a GPU and most of an hour at production size. This job decides, from the new index's
manifest and the current release's model manifest (same teacher = same weights sha256 and dim):

  same teacher      prints ``decision=carry-forward`` and writes nothing (an old --out is removed, so
                    `publish --model-if-present` cannot pick up a stale model);
  other / none      runs `distill` (into --work-dir) and `export` (into --out), gates included.

Then `publish --index … --model-if-present --out` makes the release. infra/batch.yaml runs
build-index → student → publish as the three containers of its finish job.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import fields
from pathlib import Path
from typing import List

from infra.progress import summary


def add_arguments(p: argparse.ArgumentParser) -> None:
    from infra.flags import add_device, add_max_seq_len, add_model_shape
    from infra.jobs.export import add_gate_arguments

    p.add_argument("--release", required=True, help="s3://BUCKET/PREFIX (or a directory) holding current.json")
    p.add_argument("--index", required=True, help="the new index directory (build-index --out)")
    p.add_argument("--embeddings", required=True, help="the embeddings the index was built from (embed --out)")
    p.add_argument("--input", required=True, help="the active users JSONL that embed read (path or s3:// URI)")
    p.add_argument("--teacher", required=True, help="the teacher (name or directory) that made the embeddings")
    p.add_argument("--heldout", required=True, help="held-out texts for export's gates (path or s3:// URI)")
    p.add_argument("--out", required=True, help="model directory export writes (removed when carrying forward)")
    p.add_argument("--work-dir", default=None, help="the student's training directory (default: <out>.student)")
    p.add_argument("--force", action="store_true", help="train a new student even if the current one fits")
    g = p.add_argument_group("distill")
    g.add_argument("--init", default="scratch", help="scratch | teacher | PaddleNLP name | model directory")
    add_model_shape(g, hidden=312, layers=4, heads=12, intermediate=1248)
    add_max_seq_len(g, 128)
    g.add_argument("--epochs", type=int, default=10, help="passes over the training texts")
    g.add_argument("--augment", type=int, default=1, help="augmented views per user text (0: none)")
    g.add_argument("--batch-size", type=int, default=64, help="texts per optimiser step")
    g.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (one-cycle schedule)")
    add_device(g)
    g = p.add_argument_group("export")
    g.add_argument("--lite", action=argparse.BooleanOptionalAction, default=True,
                   help="also convert to Paddle Lite .nb (needs the Python 3.9 toolchain); --no-lite: ONNX only")
    add_gate_arguments(g)

def decide(release_uri: str, index_dir: str) -> "tuple":
    """(carry_forward, why): whether the current release's student fits this index."""
    from coldstart.release import IndexManifest
    from coldstart.storage import open_store
    from infra.model_manifest import current_student

    index = IndexManifest.load(index_dir, verify=True)
    teacher = index.teacher
    version, model = current_student(open_store(release_uri))
    if version is None:
        return False, "nothing is published yet"
    if model is None:
        return False, f"the current release {version} carries no student"
    if not model.teacher.same_space(teacher):
        return False, (f"the current release {version}'s student comes from teacher {model.teacher.id} "
                       f"({model.teacher.weights_sha256[:12]}…), the index from {teacher.id} "
                       f"({teacher.weights_sha256[:12]}…)")
    if (index.projection and index.projection.sha256) != (model.projection and model.projection.sha256):
        # the student fits the teacher but encodes into another reduced space (a new build-index
        # --width fit): it must be exported again with this index's projection folded in
        return False, (f"the current release {version}'s student was reduced by another projection than the "
                       "index's (build-index --width)")
    return True, f"the current release {version}'s student comes from the index's teacher {teacher.id}"


def run(args: argparse.Namespace) -> int:
    from coldstart.release import remove_directory

    started = time.time()
    carry, why = decide(args.release, args.index)
    if carry and not args.force:
        remove_directory(args.out)
        print(f"student: {why}: nothing to train; publish carries it forward", flush=True)
        summary("student", decision="carry-forward", seconds=f"{time.time() - started:.1f}")
        return 0
    print(f"student: {'--force' if carry else why}: distill + export", flush=True)
    work = args.work_dir or f"{args.out.rstrip('/')}.student"
    _job(["distill", "--embeddings", args.embeddings, "--input", args.input, "--teacher", args.teacher,
          "--out", work, "--init", args.init, "--hidden-size", str(args.hidden_size), "--layers", str(args.layers),
          "--heads", str(args.heads), "--intermediate-size", str(args.intermediate_size),
          "--max-seq-len", str(args.max_seq_len), "--epochs", str(args.epochs), "--augment", str(args.augment),
          "--batch-size", str(args.batch_size), "--lr", str(args.lr), "--device", args.device])
    from infra.gates import GateThresholds

    gates: List[str] = []
    for f in fields(GateThresholds):
        gates += ["--min-" + f.name.replace("_", "-"), str(getattr(args, f"gate_{f.name}"))]
    _job(["export", "--student", work, "--index", args.index, "--teacher", args.teacher, "--heldout", args.heldout,
          "--out", args.out, "--lite" if args.lite else "--no-lite", *gates])
    summary("student", decision="new", out=str(Path(args.out)), seconds=f"{time.time() - started:.1f}")
    return 0


def _job(argv: List[str]) -> None:
    from coldstart.errors import ColdstartError
    from infra.cli import build_parser

    args = build_parser().parse_args(argv)
    code = args.run(args)
    if code:
        raise ColdstartError(f"step {argv[0]} failed with exit code {code}")
