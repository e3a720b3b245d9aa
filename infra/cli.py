"""``python -m infra <job>``: one sub-command per batch job, each with its own --help.

A user mistake ends a job with ONE line on stderr that names the problem and the fix, and exit
code 1 (2 for a bad command line); nothing is left running (the local S3 and Lambda stand-ins stop
with their ``with`` blocks). Tracebacks are kept for bugs, not for mistakes: a wrong config key
used to print a ValueError traceback, bad YAML 30 lines, an unreachable model hub 107.
"""
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
    "keywords": ("keywords", "keyword baseline: per-tag TF-IDF character n-grams → keywords.json"),
    "calibrate": ("calibrate", "fit the confidence calibrator on a calibration split → index/calibration.json"),
    "evaluate": ("evaluate", "top-1/top-3, per-tag P/R, ECE, abstention: release vs keyword baseline vs seed method"),
    "distill": ("distill", "train the small student into the teacher's space (checkpointed, resumable)"),
    "export": ("export", "student → ONNX FP32/INT8 + Paddle Lite .nb, released only when the gates hold"),
    "student": ("student", "distill + export a new student when the index's teacher changed, else carry forward"),
    "train-fusion": ("train_fusion", "train the avatar fusion gate on rendered avatars → model_manifest.json \"fusion\""),
    "publish": ("publish", "upload a release to S3, verify it, then switch current.json"),
    "pipeline": ("pipeline", "run every step from one config (embed → build-index → keywords → distill → export → "
                             "calibrate → evaluate → publish), skipping fresh ones"),
    "new-key": ("new_key", "write a new random pseudonym key file (user ids are replaced by keyed pseudonyms)"),
    "train-demo-teacher": ("train_demo_teacher", "train the small DEMO teacher (not pretrained ERNIE) on data/"),
    "demo": ("demo", "offline demo: local S3 + pipeline on the demo data + the function's profiles"),
    "serve": ("serve", "keep the demo API up on 127.0.0.1 (local S3 + awslambdaric)"),
    "local-s3": ("local_s3", "start/stop the local S3 server in the background and print the env to export"),
    "simulate-events": ("simulate_events", "simulate A/B exposure and outcome events (JSONL) with a planted lift"),
    "plan": ("plan", "size a rebuild from the user count: embed shards, GPU-hours, serving index, Lambda, cost"),
    "ab-report": ("ab_report", "A/B report: lift with 95%% CI per metric, p-values, SRM check, chart"),
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written (so examples, like serve's curl line, stay pasteable); a flag's
    default is added to its help once, and only when it says something: not for required or
    positional arguments, not for None/False, not when the help already names its default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "%(default)" in text or "default" in text.lower():
            return text
        if action.required or not action.option_strings or action.default in (None, False, argparse.SUPPRESS):
            return text
        if isinstance(action.default, list) and not action.default:
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """A bad command line is one line too: ``python -m infra embed: error: … (see --help)``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def version() -> str:
    try:
        from importlib.metadata import version as package_version

        return f"coldstart {package_version('coldstart')}"
    except Exception:  # not installed (e.g. the batch image copies layer/ as source)
        return "coldstart (version unknown: layer/ is not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m infra", formatter_class=HelpFormatter,
        description="coldstart batch jobs: teacher embeddings → verified Annoy index → versioned S3 release.",
        epilog="Each job has its own --help. Jobs are listed in infra/README.md.",
    )
    parser.add_argument("--version", action="version", version=version())
    sub = parser.add_subparsers(dest="job", metavar="JOB", parser_class=Parser)
    for name, (module, summary) in JOBS.items():
        job = importlib.import_module(f"infra.jobs.{module}")
        p = sub.add_parser(name, help=summary, description=job.__doc__, formatter_class=HelpFormatter)
        job.add_arguments(p)
        p.set_defaults(run=job.run)
    return parser


def _job_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if not getattr(args, "job", None):
        parser.print_help()
        return 2
    if extra:  # named by the job's parser, so the hint points at the job's --help
        _job_parser(parser, args.job).error(f"unrecognized arguments: {' '.join(extra)}")
    from coldstart.storage import batch_defaults

    try:
        with batch_defaults():  # S3 timeouts for bulk transfers, not the Lambda's (coldstart.storage.base)
            return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a mistake gets one line, anything else its traceback
        message = user_mistake(exc)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr, flush=True)
        return 1


def user_mistake(exc: BaseException) -> Optional[str]:
    """One line for an error the user can fix, or None for a bug (which keeps its traceback)."""
    if isinstance(exc, ColdstartError):
        return _first_line(str(exc)) + _storage_hint(exc)
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    for module, names in (("local.procs", ("PortInUse",)), ("local.s3", ("LocalS3Error",)),
                          ("local.lambda_api", ("LocalLambdaError",))):
        loaded = sys.modules.get(module)  # only when that module was used at all
        if loaded is not None and isinstance(exc, tuple(getattr(loaded, n) for n in names)):
            return _first_line(str(exc))
    return None


def _first_line(text: str) -> str:
    """Multi-line messages (a child's log tail) are for log files; the terminal gets the first line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[0].rstrip(":") if lines else "failed") + (" (more in the log named above)" if len(lines) > 1 else "")


def _storage_hint(exc: BaseException) -> str:
    from coldstart.errors import StorageError

    text = str(exc)
    if not isinstance(exc, StorageError):
        return ""
    if "NoCredentialsError" in text or "cannot reach" in text:
        return ("; for the local demo S3 run `eval \"$(.venv/bin/python -m infra local-s3)\"` first "
                "(README, \"Running the pipeline yourself\"), else configure AWS credentials")
    return ""
