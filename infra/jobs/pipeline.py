"""Run the batch jobs in order from one config:
[train-demo-teacher] → embed → build-index → [keywords] → [distill → export] → publish.

Config: a YAML file (--config) and/or flags; flags win. Steps whose outputs are already
up to date are skipped, so a rerun after a finished pipeline costs seconds, not minutes.
Keys (YAML) mirror the flags: input, teacher, demo_teacher, work_dir, publish_to, version,
min_recall, n_trees, search_k, serving_sample, serving_width, sample_seed (the serving index: a
stratified sample of the users at a reduced width, infra/serving_rows.py), batch_size, chunk_size,
max_seq_len, skip_bad, device, profiles
(the API's stored new-user profiles, embedded along with the input), keywords (build the keyword
baseline's table into the index for the `keyword` experiment variant), and for
the student (distill + export run when `heldout` is set): heldout, student_dir, student_init,
student_hidden_size, student_layers, student_heads, student_intermediate_size,
distill_epochs, distill_augment, distill_batch_size, distill_lr, lite, train_fusion.

Quality (with a student): `calibrate` fits the confidence calibrator into the index directory on
the calibration split (`calibration`: JSONL files/directories, plus `calibration_from_heldout`, a
seeded share of `heldout` set aside for it); `evaluate` measures the release on the rest of
`heldout` (the gate set) and on each of `eval_sets` ({name: path}); `publish` gets the gate
(`max_ece`, `min_top1_margin`) and records every set's figures in release.json. All three refit or
re-measure by themselves when the data, index, model or keywords change. `quality: false` skips them.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import List, Optional

from infra.progress import summary

FORMATTER = argparse.RawDescriptionHelpFormatter  # flags default to None so YAML values show through


@dataclass
class PipelineConfig:
    input: str = "data/users.jsonl"
    teacher: str = "ernie-3.0-medium-zh"
    demo_teacher: bool = False        # `teacher` is the project's demo model: (re)train it from `input` if stale
    work_dir: str = "build/pipeline"
    publish_to: Optional[str] = None  # s3://bucket/prefix; None skips publishing
    version: Optional[str] = None
    min_recall: float = 0.95
    n_trees: Optional[int] = None
    search_k: Optional[int] = None
    serving_sample: int = 100_000     # users in the serving index (0: all); infra/serving_rows.py DEFAULT_SAMPLE
    serving_width: int = 128          # its width (0: the teacher's); infra/serving_rows.py DEFAULT_WIDTH
    sample_seed: int = 0
    batch_size: int = 64
    chunk_size: int = 2048
    max_seq_len: int = 128
    skip_bad: bool = False
    device: str = "auto"
    profiles: Optional[str] = None    # stored new-user profiles (s3://bucket/PREFIX/profiles) to embed too
    pseudonym_key_file: Optional[str] = None  # keys for user pseudonyms (default: $COLDSTART_PSEUDONYM_KEY_FILE)
    keywords: bool = True             # the keyword baseline's table (index/keywords.json) for experiments
    heldout: Optional[str] = None     # held-out texts for the student's gates; None: no student
    student_dir: Optional[str] = None  # where distill writes the student (default work_dir/student)
    student_init: str = "scratch"
    student_hidden_size: int = 312    # the ernie-3.0-nano shape by default
    student_layers: int = 4
    student_heads: int = 12
    student_intermediate_size: int = 1248
    distill_epochs: int = 10
    distill_augment: int = 1
    distill_batch_size: int = 64
    distill_lr: float = 5e-4
    lite: bool = True                 # also convert the student to Paddle Lite .nb
    # Train the avatar fusion gate (COLDSTART_FUSION=gated). Off by default: OCR of a few hundred
    # rendered avatars costs minutes, and on the demo data the gate does not beat concat (bench/ocr.py).
    train_fusion: bool = False
    quality: bool = True              # calibrate + evaluate + the publish quality gate (needs heldout)
    calibration: Optional[str] = None  # calibration JSONL files/dirs (YAML list, or comma-separated)
    calibration_from_heldout: float = 0.3  # share of heldout set aside for calibration (seeded); 0: none
    calibration_seed: int = 14
    eval_sets: Optional[str] = None   # more sets to evaluate and record: YAML {name: path}, or "name=path,..."
    max_ece: float = 0.05             # quality gate on the held-out evaluation
    min_top1_margin: float = 0.0      # quality gate: semantic top-1 must beat the keyword baseline by more

    @classmethod
    def load(cls, path: Optional[str], overrides: dict) -> "PipelineConfig":
        data = {}
        if path:
            import yaml

            with open(path, "r", encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
            unknown = set(data) - {f.name for f in fields(cls)}
            if unknown:
                raise ValueError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**data)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="YAML file with the keys listed above")
    for f in fields(PipelineConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool",):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                           help=f"(default: {'on' if f.default else 'off'})")
        else:
            kind = {"float": float, "int": int, "Optional[int]": int}.get(str(f.type), str)
            p.add_argument(flag, type=kind, default=None, help=f"(default: {f.default})")


def run(args: argparse.Namespace) -> int:
    overrides = {f.name: getattr(args, f.name) for f in fields(PipelineConfig)}
    config = PipelineConfig.load(args.config, overrides)
    started = time.time()
    work = Path(config.work_dir)
    teacher = config.teacher
    if config.demo_teacher:
        _job(["train-demo-teacher", "--data", config.input, "--out", teacher])
    embeddings, index = str(work / "embeddings"), str(work / "index")
    embed_argv = ["embed", "--input", config.input, "--out", embeddings, "--teacher", teacher,
                  "--batch-size", str(config.batch_size), "--chunk-size", str(config.chunk_size),
                  "--max-seq-len", str(config.max_seq_len), "--device", config.device]
    embed_argv += ["--profiles", config.profiles] if config.profiles else []
    key_argv = ["--pseudonym-key-file", config.pseudonym_key_file] if config.pseudonym_key_file else []
    embed_argv += key_argv
    _job(embed_argv + (["--skip-bad"] if config.skip_bad else []))
    serving = ["--sample", str(config.serving_sample), "--width", str(config.serving_width),
               "--sample-seed", str(config.sample_seed)]
    if _index_is_fresh(embeddings, index, config.min_recall, serving):
        print(f"build-index: up to date ({index})", flush=True)
    else:
        argv = ["build-index", "--embeddings", embeddings, "--out", index, "--min-recall", str(config.min_recall),
                *serving]
        argv += ["--n-trees", str(config.n_trees)] if config.n_trees else []
        argv += ["--search-k", str(config.search_k)] if config.search_k else []
        _job(argv)
    if config.keywords:
        if _keywords_are_fresh(config.input, index):
            print(f"keywords: up to date ({index}/keywords.json)", flush=True)
        else:
            _job(["keywords", "--input", config.input, "--out", index]
                 + (["--skip-bad"] if config.skip_bad else []))
    model = None
    if config.heldout:
        student, model = config.student_dir or str(work / "student"), str(work / "model")
        _job(["distill", "--embeddings", embeddings, "--input", config.input, "--teacher", teacher,
              "--out", student, "--init", config.student_init,
              "--hidden-size", str(config.student_hidden_size), "--layers", str(config.student_layers),
              "--heads", str(config.student_heads), "--intermediate-size", str(config.student_intermediate_size),
              "--max-seq-len", str(config.max_seq_len), "--epochs", str(config.distill_epochs),
              "--augment", str(config.distill_augment), "--batch-size", str(config.distill_batch_size),
              "--lr", str(config.distill_lr), "--device", config.device])
        from infra.jobs.export import export_is_fresh

        if export_is_fresh(student, index, config.heldout, model):
            print(f"export: up to date ({model})", flush=True)
        else:
            _job(["export", "--student", student, "--index", index, "--teacher", teacher,
                  "--heldout", config.heldout, "--out", model, "--lite", "yes" if config.lite else "no"])
        if config.train_fusion:
            _train_fusion(config, model, index)
    evaluations: List[str] = []
    if model and config.quality:
        evaluations = _quality(config, work, index, model)
    published = None
    if config.publish_to:
        published = _published_version(config.publish_to, index, model, evaluations)
        if published:
            print(f"publish: up to date (current release {published} carries this index and model)", flush=True)
        else:
            _job(["publish", "--to", config.publish_to, "--index", index]
                 + (["--model", model] if model else [])
                 + (["--version", config.version] if config.version else [])
                 + (["--evaluation", evaluations[0], "--max-ece", str(config.max_ece),
                     "--min-top1-margin", str(config.min_top1_margin)] if evaluations else [])
                 + [a for path in evaluations[1:] for a in ("--report", path)])
            published = _published_version(config.publish_to, index, model, evaluations)
    _print_release(index, config.publish_to, published)
    if model:
        _print_model(model)
    for path in evaluations:
        _print_quality(path)
    summary("pipeline", seconds=f"{time.time() - started:.1f}", release=published or "-")
    return 0


def _train_fusion(config: PipelineConfig, model: str, index: str) -> None:
    from infra.jobs.train_fusion import unavailable_reason

    # the avatar fusion gate rides in model/model_manifest.json ("fusion"); the job skips itself while fresh
    no_fusion = unavailable_reason()
    if no_fusion:
        print(f"train-fusion: skipped ({no_fusion}); gated fusion falls back to the default", flush=True)
    else:
        key_argv = ["--pseudonym-key-file", config.pseudonym_key_file] if config.pseudonym_key_file else []
        _job(["train-fusion", "--model", model, "--index", index, "--input", config.input] + key_argv)


def _job(argv: List[str]) -> None:
    from coldstart.errors import ColdstartError
    from infra.cli import build_parser

    args = build_parser().parse_args(argv)
    code = args.run(args)
    if code:
        raise ColdstartError(f"step {argv[0]} failed with exit code {code}")


def _index_is_fresh(embeddings: str, index: str, min_recall: float, serving: List[str]) -> bool:
    from coldstart.errors import ColdstartError
    from coldstart.hashing import sha256_bytes
    from coldstart.manifest import read_index_manifest
    from coldstart.storage import open_store
    from infra.embeddings import EMBED_MANIFEST

    try:
        manifest = read_index_manifest(index, verify=True)
        embed_sha = sha256_bytes(open_store(embeddings).get_bytes(EMBED_MANIFEST))
    except ColdstartError:
        return False
    return (manifest.extra.get("embeddings_manifest_sha256") == embed_sha and manifest.recall.threshold == min_recall
            and manifest.extra.get("serving_argv") == serving)


def _keywords_are_fresh(input_uri: str, index: str) -> bool:
    from coldstart.keyword_baseline import KEYWORDS_FILE
    from infra.inputs import read_input_lines

    path = Path(index) / KEYWORDS_FILE
    if not path.is_file():
        return False
    try:
        built_from = json.loads(path.read_text(encoding="utf-8")).get("input_sha256")
    except ValueError:
        return False
    return built_from == read_input_lines(input_uri)[2]


def _published_version(publish_to: str, index: str, model: Optional[str] = None,
                       evaluations: List[str] = ()) -> Optional[str]:
    """The current release's version if it carries exactly this index (and model) and records the
    figures of exactly these evaluations, else None."""
    from coldstart.errors import ColdstartError
    from coldstart.hashing import sha256_file
    from coldstart.release import read_current, read_release
    from coldstart.storage import open_store

    store = open_store(publish_to)
    try:
        current = read_current(store)
        if current is None:
            return None
        release = read_release(store, current.version)
    except ColdstartError:
        return None
    files = release.files
    if evaluations and not _records_evaluations(release.components.get("quality", {}), evaluations):
        return None
    wanted = {"index/manifest.json": Path(index) / "manifest.json"}
    for extra in ("keywords.json", "calibration.json"):
        if (Path(index) / extra).is_file():
            wanted[f"index/{extra}"] = Path(index) / extra
    if model:
        wanted["model/model_manifest.json"] = Path(model) / "model_manifest.json"
    for name, local in wanted.items():
        entry = files.get(name)
        if not (entry and local.is_file() and entry.sha256 == sha256_file(local)):
            return None
    return current.version


def _print_release(index: str, publish_to: Optional[str], version: Optional[str]) -> None:
    from coldstart.manifest import read_index_manifest

    m = read_index_manifest(index, verify=False)
    teacher = f"{m.teacher.id}" + (" (DEMO model trained on synthetic data, not pretrained ERNIE)" if m.teacher.demo else "")
    lines = [
        "",
        "== coldstart release ==",
        f"version      {version or '(not published)'}" + (f"  at {publish_to}" if publish_to else ""),
        f"teacher      {teacher}",
        f"weights      sha256 {m.teacher.weights_sha256[:16]}…, dim {m.dim}",
        f"index        {m.count} users, Annoy angular, n_trees={m.n_trees}, search_k={m.search_k}",
        f"recall@10    {m.recall.recall:.4f} vs exact search on {m.recall.n_queries} held-out queries "
        f"(gate {m.recall.threshold}); {m.recall.annoy_ms_per_query:.3f} ms/query vs exact "
        f"{m.recall.exact_ms_per_query:.3f} ms",
        "files        " + ", ".join(f"{n} ({e.size:,} B)" for n, e in sorted(m.files.items())),
    ]
    print("\n".join(lines), flush=True)


def _print_model(model: str) -> None:
    from coldstart.manifest import read_json

    m = read_json(Path(model) / "model_manifest.json")
    shape = m["student"]["shape"]
    print(f"student      ERNIE {shape['num_hidden_layers']} layers x {shape['hidden_size']} → {m['student']['out_dim']}-d, "
          f"ONNX INT8 ({m['int8']['variant']}), Paddle Lite: {', '.join(sorted(m['serving']['lite']))}")
    for name, gate in m["gates"].items():
        print(f"gate         {name:<20} {gate['value']:.4f} (needs >= {gate['threshold']})  "
              f"{'pass' if gate['passed'] else 'FAIL'}")
    for name, gate in m.get("optional_gates", {}).items():
        value = "nan" if gate["value"] is None else f"{gate['value']:.4f}"
        print(f"optional     {name:<20} {value} (needs >= {gate['threshold']})  missed: that variant is not shipped")


def _paths(value) -> List[str]:
    """A YAML list or a comma-separated string of paths."""
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _eval_sets(value) -> List[tuple]:
    """[(name, [paths])] from a YAML mapping or "name=path,name=path"."""
    if not value:
        return []
    if isinstance(value, dict):
        return [(str(k), _paths(v)) for k, v in value.items()]
    out = []
    for part in _paths(value):
        name, _, path = part.partition("=")
        if not path:
            raise ValueError(f"eval_sets: {part!r} is not name=path")
        out.append((name.strip(), [path.strip()]))
    return out


def split_heldout(heldout: str, fraction: float, seed: int, out: Path) -> tuple:
    """(calibration part, evaluation part) of ``heldout``: a row goes to calibration when
    sha256("<seed>:<text>") falls in the first ``fraction`` of the range, so the split is fixed
    for a seed and a row keeps its side when others are added."""
    import hashlib

    out.mkdir(parents=True, exist_ok=True)
    cal, rest = [], []
    for line in Path(heldout).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        text = json.loads(line).get("text", "")
        h = int(hashlib.sha256(f"{seed}:{text}".encode("utf-8")).hexdigest()[:8], 16) / float(1 << 32)
        (cal if h < fraction else rest).append(line)
    paths = (out / "calibration-split.jsonl", out / "heldout-eval.jsonl")
    for path, lines in zip(paths, (cal, rest)):
        text = "\n".join(lines) + "\n"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return str(paths[0]), str(paths[1])


def _quality(config: PipelineConfig, work: Path, index: str, model: str) -> List[str]:
    """calibrate → evaluate (held-out rest first, then eval_sets); the evaluation.json paths."""
    quality = work / "quality"
    calibration = _paths(config.calibration)
    gate_set = config.heldout
    if config.calibration_from_heldout > 0:
        carved, gate_set = split_heldout(config.heldout, config.calibration_from_heldout, config.calibration_seed,
                                         quality / "split")
        calibration = [carved] + calibration
    if not calibration:
        raise ValueError("quality: no calibration data (set `calibration` or `calibration_from_heldout` > 0)")
    _job(["calibrate", "--index", index, "--model", model] + [a for p in calibration for a in ("--data", p)])
    out = []
    for name, paths in [("heldout", [gate_set])] + _eval_sets(config.eval_sets):
        folder = quality / name
        missing = [path for path in paths if not Path(path).exists()]
        if missing:
            print(f"evaluate: skipped {name}: {', '.join(missing)} does not exist", flush=True)
            continue
        if _evaluation_is_fresh(folder, paths, index, model):
            print(f"evaluate: up to date ({folder})", flush=True)
        else:
            _job(["evaluate", "--index", index, "--model", model, "--out", str(folder), "--name", name]
                 + [a for p in paths for a in ("--data", p)])
        out.append(str(folder / "evaluation.json"))
    return out


def _evaluation_is_fresh(folder: Path, paths: List[str], index: str, model: str) -> bool:
    from infra.jobs.evaluate import EVALUATION_FILE, REPORT_FORMAT, fingerprint_of, read_labelled, rows_sha256

    try:
        report = json.loads((folder / EVALUATION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (report.get("format") == REPORT_FORMAT and report.get("fingerprint") == fingerprint_of(index, model)
            and report.get("data_sha256") == rows_sha256(read_labelled(paths)))


def _print_quality(path: str) -> None:
    report = json.loads(Path(path).read_text(encoding="utf-8"))
    m = report["methods"]

    def f(v):
        return "–" if v is None else f"{v:.3f}"

    print(f"quality      {report['name']} ({report['n_in_interest']} in-interest, {report['n_no_interest']} no-interest): "
          + "; ".join(f"{name} top-1 {f(m[name]['top1'])} ECE {f(m[name]['ece'])} abstain in/no "
                      f"{f(m[name]['abstain_in'])}/{f(m[name]['abstain_no'])}" for name in ("semantic", "keyword", "seed")),
          flush=True)


def _records_evaluations(quality: dict, evaluations: List[str]) -> bool:
    """True when release.json's components.quality holds exactly these evaluations' figures."""
    from infra.jobs.evaluate import headline

    sets = {name: {k: v for k, v in figures.items() if k != "same_release"}
            for name, figures in quality.get("sets", {}).items()}
    wanted = {}
    for path in evaluations:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
        wanted[report["name"]] = json.loads(json.dumps(headline(report)))
    return sets == wanted
