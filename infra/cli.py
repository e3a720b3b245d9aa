"""``python -m infra <job>``: one sub-command per batch job, each with its own --help."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

from coldstart.errors import ColdstartError

# job name -> module under infra.jobs; imported lazily so --help stays fast and paddle-free.
JOBS = {
    "embed": ("embed", "embed active users with the teacher into float32 shards"),
    "build-index": ("build_index", "build the Annoy index, measure recall@10, write manifest.json"),
    "distill": ("distill", "train the small student into the teacher's space (checkpointed, resumable)"),
    "export": ("export", "student → ONNX FP32/INT8 + Paddle Lite .nb, released only when the gates hold"),
    "publish": ("publish", "upload a release to S3, verify it, then switch current.json"),
    "pipeline": ("pipeline", "run embed → build-index → publish from one config, skipping fresh steps"),
    "train-demo-teacher": ("train_demo_teacher", "train the small DEMO teacher (not pretrained ERNIE) on data/"),
    "demo": ("demo", "offline demo: local S3 + pipeline on the demo data + the function's profiles"),
    "serve": ("serve", "keep the demo API up on 127.0.0.1 (local S3 + awslambdaric)"),
    "train-fusion": ("train_fusion", "train the avatar fusion gate on rendered avatars → model_manifest.json \"fusion\""),
    "keywords": ("keywords", "keyword baseline: per-tag TF-IDF character n-grams → keywords.json"),
    "simulate-events": ("simulate_events", "simulate A/B exposure and outcome events (JSONL) with a planted lift"),
    "new-key": ("new_key", "write a new random pseudonym key file (user ids are replaced by keyed pseudonyms)"),
    "plan": ("plan", "size a rebuild from the user count: embed shards, GPU-hours, serving index, Lambda, cost"),
    "ab-report": ("ab_report", "A/B report: CTR, retention, dwell with confidence intervals, lift, p-values, SRM check, chart"),
    "calibrate": ("calibrate", "fit the confidence calibrator on a calibration split → index/calibration.json"),
    "evaluate": ("evaluate", "top-1/top-3, per-tag P/R, ECE, abstention: release vs keyword baseline vs seed method"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra",
        description="coldstart batch jobs: teacher embeddings → verified Annoy index → versioned S3 release.",
    )
    sub = parser.add_subparsers(dest="job", metavar="JOB")
    for name, (module, summary) in JOBS.items():
        job = importlib.import_module(f"infra.jobs.{module}")
        formatter = getattr(job, "FORMATTER", argparse.ArgumentDefaultsHelpFormatter)
        p = sub.add_parser(name, help=summary, description=job.__doc__, formatter_class=formatter)
        job.add_arguments(p)
        p.set_defaults(run=job.run)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "job", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except ColdstartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
