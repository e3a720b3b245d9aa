"""Run the batch jobs in order from one config:
[train-demo-teacher] → embed → build-index → [keywords] → [distill → export → [train-fusion] →
[calibrate → evaluate]] → publish.

Without ``heldout`` (no student step) publish carries the current release's student forward when
it comes from the same teacher, and refuses otherwise (a release always has a model: see publish).

Config: a YAML file (--config) and/or flags; flags win. Every key is a flag below (the key's
underscores are the flag's dashes) and is explained in infra/pipeline.example.yaml; an unknown
key is an error. Steps whose outputs are already up to date are skipped, so a rerun after a
finished pipeline costs seconds, not minutes. The serving index is a stratified sample of the users
(serving_sample) at a reduced width (serving_width; sample_seed): infra/serving_rows.py. Before any
step runs, the pseudonym key file and the publish target are checked, so a missing key or
unreachable S3 fails in seconds.

Quality (with a student): `calibrate` fits the confidence calibrator into the index directory on
the calibration split (`calibration`: JSONL files/directories, plus `calibration_from_heldout`, a
seeded share of `heldout` set aside for it); `evaluate` measures the release on the rest of
`heldout` (the gate set) and on each of `eval_sets` ({name: path}); `publish` gets the gate
(`max_ece`, `min_top1_margin`) and records every set's figures in release.json. All three refit or
re-measure by themselves when the data, index, model or keywords change. `quality: false` skips them.

  python -m infra pipeline --config infra/demo.yaml                       # needs the local S3:
      eval "$(python -m infra local-s3)"                                   # (README, "Running the pipeline yourself")
  python -m infra pipeline --config infra/demo.yaml --publish-to build/demo/releases   # a local folder, no S3
"""
from __future__ import annotations

import argparse
import difflib
import json
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import List, Optional

from coldstart.errors import ConfigError
from infra.progress import summary

# One line per key for --help (the YAML example explains each key at length).
HELP = {
    "input": "active users JSONL (user_id, text, tags): a path or s3:// URI",
    "teacher": "PaddleNLP model name (downloaded on first use) or a local model directory",
    "demo_teacher": "the teacher is the project's DEMO model: (re)train it from --input when stale",
    "work_dir": "local working directory (embeddings/, index/, student/, model/)",
    "publish_to": "release target: s3://BUCKET/PREFIX or a local folder; unset: build only",
    "version": "release version (default: the UTC time of the publish)",
    "min_recall": "recall@10 gate of the index against exact search",
    "n_trees": "fix Annoy's tree count (unset: tuned)",
    "search_k": "fix Annoy's search_k (unset: tuned)",
    "serving_sample": "users in the serving index, a stratified sample by tags and activity (0: every user)",
    "serving_width": "serving width: the index and the student are reduced to this many dims (0: the teacher's)",
    "sample_seed": "seed of the serving sample (same seed, same users)",
    "batch_size": "teacher batch size (texts per forward pass)",
    "chunk_size": "users per embeddings chunk (the unit of resume and sharding)",
    "max_seq_len": "tokens per text (longer texts are truncated)",
    "skip_bad": "skip malformed input lines (counted) instead of stopping",
    "device": "auto (GPU when Paddle sees one), cpu or gpu",
    "profiles": "the API's stored new-user profiles to embed too (s3://BUCKET/PREFIX/profiles); unset: none",
    "pseudonym_key_file": "pseudonym key file (unset: $COLDSTART_PSEUDONYM_KEY_FILE; create one with "
                          "`python -m infra new-key --out FILE`)",
    "keywords": "build the keyword baseline's table (index/keywords.json)",
    "heldout": "held-out texts for the student's gates; unset: no student (no distill/export)",
    "student_dir": "where distill writes the student (unset: WORK_DIR/student)",
    "student_init": "scratch | teacher | a PaddleNLP name | a model directory",
    "student_hidden_size": "student width",
    "student_layers": "student layers",
    "student_heads": "student attention heads",
    "student_intermediate_size": "student feed-forward width",
    "distill_epochs": "distillation epochs",
    "distill_augment": "augmented views per user text",
    "distill_batch_size": "distillation batch size",
    "distill_lr": "distillation learning rate",
    "lite": "also convert the student to Paddle Lite .nb (needs the kiosk toolchain: make edge-setup)",
    "train_fusion": "train the avatar fusion gate (minutes of OCR; needs a CJK font)",
    "quality": "calibrate + evaluate + the publish quality gate (needs --heldout)",
    "calibration": "calibration JSONL files/directories, comma-separated (YAML: a list); unset: none",
    "calibration_from_heldout": "share of --heldout set aside for calibration (seeded); 0: none",
    "calibration_seed": "seed of the held-out calibration split",
    "max_in_interest_abstention": "the calibrator's threshold abstains on at most this share of in-interest calibration texts",
    "threshold_data": "choose the threshold on these labelled JSONL files/directories instead (YAML list); unset: the calibration texts, out of fold",
    "signal_data": "labelled JSONL files/directories (tags [] = states no interest) to fit the no-signal detector on (YAML list); unset: no detector",
    "max_signal_abstention": "the no-signal detector stops at most this share of in-interest calibration texts (then the confidence threshold spends the rest of max_in_interest_abstention)",
    "neighbours_veto": "with a detector, keep the neighbours' own \"no interest\" verdict as a second veto (calibrate --neighbours-veto)",
    "eval_sets": "more sets to evaluate and record: name=path,… (YAML: {name: path}); unset: none",
    "max_ece": "quality gate: highest ECE on the held-out evaluation",
    "min_top1_margin": "quality gate: semantic top-1 must beat the keyword baseline's by more than this",
}
# Keys a YAML file may also give as a list or mapping (flags take the comma-separated form).
STRUCTURED = {"calibration": (list, str), "threshold_data": (list, str), "signal_data": (list, str),
              "eval_sets": (dict, str)}


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
    max_in_interest_abstention: float = 0.05  # the calibrator's threshold (calibrate --max-in-interest-abstention)
    threshold_data: Optional[str] = None  # texts the threshold is chosen on (calibrate --threshold-data)
    signal_data: Optional[str] = None  # texts the no-signal detector is fitted on (calibrate --signal-data)
    max_signal_abstention: float = 0.02  # its share of the in-interest abstention (calibrate --max-signal-abstention)
    neighbours_veto: bool = False     # with a detector, the neighbours' verdict also stops texts (calibrate --neighbours-veto)
    eval_sets: Optional[str] = None   # more sets to evaluate and record: YAML {name: path}, or "name=path,..."
    max_ece: float = 0.05             # quality gate on the held-out evaluation
    min_top1_margin: float = 0.0      # quality gate: semantic top-1 must beat the keyword baseline by more

    @classmethod
    def load(cls, path: Optional[str], overrides: dict) -> "PipelineConfig":
        """The file's keys, then the flags that were given. Raises ConfigError naming the file, the
        key and the fix for a missing or malformed file, an unknown key or a value of the wrong type."""
        data = _read_yaml(path) if path else {}
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            named = [_with_suggestion(k, known) for k in unknown]
            raise ConfigError(f"{path}: unknown key(s) {', '.join(named)}; "
                              "the keys are listed in infra/pipeline.example.yaml")
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**{k: _typed(known[k], v, path) for k, v in data.items()})


def _read_yaml(path: str) -> dict:
    import yaml

    try:
        with open(path, "r", encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path} is not valid YAML{where}: {problem}; write one `key: value` per line "
                          "(see infra/pipeline.example.yaml)") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected `key: value` lines, found a {type(data).__name__}")
    return data


def _with_suggestion(key, known) -> str:
    close = difflib.get_close_matches(str(key), list(known), n=1)
    return f"{key} (did you mean {close[0]}?)" if close else str(key)


def _typed(f, value, path: Optional[str]):
    """The value as the field's type (YAML reads `version: 20261127` as a number); else ConfigError."""
    kind = str(f.type).replace("Optional[", "").rstrip("]")
    if value is None and str(f.type).startswith("Optional"):
        return None
    if f.name in STRUCTURED:
        if not isinstance(value, STRUCTURED[f.name]):
            wanted = " or ".join({list: "a list", dict: "a mapping", str: "a string"}[t] for t in STRUCTURED[f.name])
            raise ConfigError(f"{f'{path}: ' if path else ''}{f.name} must be {wanted}, not {value!r}")
        return value
    ok = {"bool": isinstance(value, bool),
          "int": isinstance(value, int) and not isinstance(value, bool),
          "float": isinstance(value, (int, float)) and not isinstance(value, bool),
          "str": isinstance(value, (str, int, float)) and not isinstance(value, bool)}.get(kind, True)
    if not ok:
        wanted = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "a string"}[kind]
        where = f"{path}: " if path else ""
        raise ConfigError(f"{where}{f.name} must be {wanted}, not {value!r}")
    return {"float": float, "str": str}.get(kind, lambda v: v)(value)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="YAML file with any of the keys below (flags win over the file)")
    for f in fields(PipelineConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool",):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                           help=f"{HELP[f.name]} (default: {'on' if f.default else 'off'})")
        else:
            kind = {"float": float, "int": int, "Optional[int]": int}.get(str(f.type), str)
            # an unset default is explained by the help itself ("unset: …")
            plain = f.default is None or "default" in HELP[f.name]
            text = HELP[f.name] if plain else f"{HELP[f.name]} (default: {f.default})"
            p.add_argument(flag, type=kind, default=None, help=text)


def check_before_running(config: PipelineConfig) -> None:
    """What would fail minutes into the run, checked in seconds: the pseudonym key (embed needs it)
    and the publish target (S3 credentials, endpoint, bucket)."""
    from infra.keys import load_keys

    load_keys(argparse.Namespace(pseudonym_key_file=config.pseudonym_key_file))
    if config.publish_to and config.publish_to.startswith("s3://"):
        from coldstart.release import read_current
        from coldstart.storage import open_store

        read_current(open_store(config.publish_to))


def run(args: argparse.Namespace) -> int:
    overrides = {f.name: getattr(args, f.name) for f in fields(PipelineConfig)}
    config = PipelineConfig.load(args.config, overrides)
    check_before_running(config)
    started = time.time()
    work = Path(config.work_dir)
    teacher = config.teacher
    if config.demo_teacher:
        _job(["train-demo-teacher", "--data", config.input, "--out", teacher])
    embeddings, index = str(work / "embeddings"), str(work / "index")
    # the work directory is the pipeline's own: embeddings of another run (e.g. an older masker) are redone
    embed_argv = ["embed", "--replace-other-run", "--input", config.input, "--out", embeddings, "--teacher", teacher,
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
                *serving, *_reusable_projection(embeddings, index, config.serving_width)]
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
                  "--heldout", config.heldout, "--out", model, "--lite" if config.lite else "--no-lite"])
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
    from coldstart.release import IndexManifest
    from coldstart.storage import open_store
    from infra.embeddings import EMBED_MANIFEST

    try:
        manifest = IndexManifest.load(index, verify=True)
        embed_sha = sha256_bytes(open_store(embeddings).get_bytes(EMBED_MANIFEST))
    except ColdstartError:
        return False
    return (manifest.extra.get("embeddings_manifest_sha256") == embed_sha and manifest.recall.threshold == min_recall
            and manifest.extra.get("serving_argv") == serving)


def _reusable_projection(embeddings: str, index: str, width: int) -> List[str]:
    """``--projection`` of the previous index when it was reduced to the same width from the same
    teacher: the refresh keeps the projection folded into the current student, so that student is
    carried forward instead of exported again. A new teacher (or width) fits a new one."""
    from coldstart.errors import ColdstartError
    from coldstart.release import PROJECTION_FILE, IndexManifest
    from coldstart.storage import open_store
    from infra.embeddings import read_spec
    from infra.projection import index_projection

    try:
        previous = IndexManifest.load(index, verify=False)
        if previous.projection is None or previous.projection.width != width:
            return []
        if not previous.teacher.same_space(read_spec(open_store(embeddings)).teacher):
            return []
        index_projection(index, previous)  # the file is there and is the one the manifest names
    except (ColdstartError, OSError):  # no previous index (first run), or not a usable one
        return []
    return ["--projection", str(Path(index) / PROJECTION_FILE)]


def _keywords_are_fresh(input_uri: str, index: str) -> bool:
    from coldstart.release import KEYWORDS
    from infra.inputs import read_input_lines

    path = Path(index) / KEYWORDS
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
    from coldstart.release import (INDEX_MANIFEST, MODEL_MANIFEST, OPTIONAL_INDEX_FILES, index_name, model_name,
                                   read_current, read_release)
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
    wanted = {index_name(INDEX_MANIFEST): Path(index) / INDEX_MANIFEST}
    wanted.update({index_name(n): Path(index) / n for n in OPTIONAL_INDEX_FILES if (Path(index) / n).is_file()})
    if model:
        wanted[model_name(MODEL_MANIFEST)] = Path(model) / MODEL_MANIFEST
    for name, local in wanted.items():
        entry = files.get(name)
        if not (entry and local.is_file() and entry.sha256 == sha256_file(local)):
            return None
    return current.version


def _print_release(index: str, publish_to: Optional[str], version: Optional[str]) -> None:
    from coldstart.release import IndexManifest

    m = IndexManifest.load(index, verify=False)
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
    from coldstart.release import ModelManifest

    m = ModelManifest.load(model, verify=False)
    shape = m.student.shape
    print(f"student      ERNIE {shape.get('num_hidden_layers')} layers x {shape.get('hidden_size')} → "
          f"{m.student.out_dim}-d, ONNX INT8 ({m.int8.variant}), Paddle Lite: {', '.join(sorted(m.serving.lite)) or '-'}")
    for name, gate in m.gates.items():
        print(f"gate         {name:<20} {gate.value:.4f} (needs >= {gate.threshold})  "
              f"{'pass' if gate.passed else 'FAIL'}")
    for name, gate in m.optional_gates.items():
        value = "nan" if gate.value is None else f"{gate.value:.4f}"
        print(f"optional     {name:<20} {value} (needs >= {gate.threshold})  missed: that variant is not shipped")


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
            raise ConfigError(f"eval_sets: {part!r} is not name=path")
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
        raise ConfigError("quality: no calibration data (set `calibration` or `calibration_from_heldout` > 0)")
    _job(["calibrate", "--index", index, "--model", model,
          "--max-in-interest-abstention", str(config.max_in_interest_abstention)]
         + [a for p in calibration for a in ("--data", p)]
         + [a for p in _paths(config.threshold_data) for a in ("--threshold-data", p)]
         + [a for p in _paths(config.signal_data) for a in ("--signal-data", p)]
         + (["--max-signal-abstention", str(config.max_signal_abstention)] if config.signal_data else [])
         + (["--neighbours-veto"] if config.neighbours_veto else []))
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
