"""Evaluate a release on a labelled set, side by side with the keyword baseline and the seed's method.

Input: JSONL files (or directories of them) with ``{"text", "tags"}`` per line; ``tags: []``
marks a text with no interest (greetings, gibberish, neutral statements…). The release: a local
release directory (a ``publish --to DIR`` target holding current.json, or one release's folder
holding release.json, index/ and model/) or ``--index DIR --model DIR`` as the pipeline has them.
Every text goes through the serving path itself (``coldstart.service.ProfileService``: masking, the INT8
student, Annoy, the vote, the release's calibrator and abstention), cache off.

Methods, one table:
  semantic  the release as served
  keyword   the release's keyword baseline (index/keywords.json, TF-IDF n-grams; see
            coldstart.keyword_baseline); abstains when no keyword matches
  seed      the seed article's method: the same query vector, exact cosine against every
            indexed user, unweighted majority of the top 5 (ties: the more common tag),
            confidence = votes / 5; never abstains on a text with letters or digits

Figures (in-interest rows: tags non-empty; no-interest rows: tags []):
  top1 / top3   share of in-interest rows whose answered top tag (top 3 tags) includes one of the
                row's tags; an abstention (fallback) is a miss. ``top1_single``: single-tag rows only.
  ece           expected calibration error of ``confidence`` as P(top tag right), 10 equal-width
                bins, over every row where the method produced a ranking (a no-interest row's top
                tag is always wrong); ``ece_in``: in-interest rows only. The reliability diagram
                plots the same bins.
  abstain_in / abstain_no   share of in-interest / no-interest rows answered with a fallback.
  per_tag       precision (top tag = T and T is one of the row's tags / top tag = T) and recall
                (rows carrying T whose top tag is T / rows carrying T).
  confusion     rows: the first (main) tag, or "(none)"; columns: the answered top tag or "(abstain)".
  semantic only: ``top1_vote`` (the vote's guess, abstentions included) and the fallback reasons.

Writes ``evaluation.json``, ``evaluation.md``, ``reliability.png`` and ``confusion.png`` into --out.
The JSON carries the release's fingerprint (sha256 of the index and model manifests, the keyword
table and the calibrator), so ``publish`` can tell that the figures are of the release it ships.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from infra.progress import bar, summary

EVALUATION_FILE = "evaluation.json"
REPORT_FORMAT = 2  # bump when the figures change: the pipeline then re-measures
NO_TAG = "(none)"
ABSTAIN = "(abstain)"
METHODS = ("semantic", "keyword", "seed")
SEED_K = 5
BINS = 10


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", action="append", required=True,
                   help="labelled JSONL file or a directory of them ({\"text\", \"tags\"}; tags [] = no interest); repeatable")
    p.add_argument("--release", help="local release: a publish --to directory (current.json) or one release's folder")
    p.add_argument("--index", help="index directory (with --model), instead of --release")
    p.add_argument("--model", help="model directory from export (with --index)")
    p.add_argument("--out", required=True, help="directory for evaluation.json, evaluation.md, reliability.png, confusion.png")
    p.add_argument("--name", help="what the set is called in the report (default: the first --data path)")
    p.add_argument("--k", type=int, default=10, help="neighbours voted (as served)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNGs")


# -- labelled data ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Labelled:
    text: str
    tags: Tuple[str, ...]
    source: str = ""

    @property
    def in_interest(self) -> bool:
        return bool(self.tags)


def _expand(paths: Sequence[str]) -> List[Path]:
    out: List[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob("*.jsonl"))
            if not found:
                raise FileNotFoundError(f"{path}: no *.jsonl files in this directory")
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return out


def read_labelled(paths: Sequence[str]) -> List[Labelled]:
    """Rows of every file, in order; a bad line stops with ``file:line: what is wrong``."""
    from coldstart.errors import InputError

    rows: List[Labelled] = []
    for path in _expand(paths):
        with open(path, "r", encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"invalid JSON ({exc.msg})", str(path), n) from None
                if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
                    raise InputError("expected an object with a non-empty string \"text\"", str(path), n)
                tags = obj.get("tags")
                if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
                    raise InputError("\"tags\" must be a list of tag names ([] for no interest)", str(path), n)
                rows.append(Labelled(obj["text"], tuple(tags), f"{path.name}:{n}"))
    if not rows:
        raise InputError("no labelled rows", ", ".join(paths))
    return rows


def rows_sha256(rows: Sequence[Labelled]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for r in rows:
        digest.update(json.dumps([r.text, list(r.tags)], ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


# -- the release, opened through the serving loader -------------------------------------------
def release_fingerprint(root: Path) -> Dict[str, Optional[str]]:
    """sha256 of what decides a profile: index and model manifests, keyword table, calibrator."""
    from coldstart.hashing import sha256_file
    from coldstart.release import CALIBRATION, INDEX_DIR, INDEX_MANIFEST, KEYWORDS, MODEL_DIR, MODEL_MANIFEST

    def sha(path: Path) -> Optional[str]:
        return sha256_file(path) if path.is_file() else None

    return {"index_manifest": sha(root / INDEX_DIR / INDEX_MANIFEST),
            "model_manifest": sha(root / MODEL_DIR / MODEL_MANIFEST),
            "keywords": sha(root / INDEX_DIR / KEYWORDS),
            "calibration": sha(root / INDEX_DIR / CALIBRATION)}


def fingerprint_of(index: str, model: str) -> Dict[str, Optional[str]]:
    with _local_root(index, model) as root:
        return release_fingerprint(root)


@contextlib.contextmanager
def _local_root(index: str, model: str, without_calibration: bool = False) -> Iterator[Path]:
    """A release-shaped folder (index/, model/ as symlinks) over the pipeline's directories; with
    ``without_calibration`` the index's files one by one, calibration.json left out."""
    from coldstart.calibration import CALIBRATION_FILE

    with tempfile.TemporaryDirectory(prefix="coldstart-eval-") as tmp:
        root = Path(tmp)
        if without_calibration:
            (root / "index").mkdir()
            for path in Path(index).resolve().iterdir():
                if path.name != CALIBRATION_FILE:
                    (root / "index" / path.name).symlink_to(path)
        else:
            (root / "index").symlink_to(Path(index).resolve(), target_is_directory=True)
        (root / "model").symlink_to(Path(model).resolve(), target_is_directory=True)
        yield root


class _StaticManager:
    """A ReleaseManager that serves one opened release and never refreshes."""

    def __init__(self, release):
        self.current = release
        self.last_error = None

    def maybe_refresh(self) -> None:
        pass


def _release_json(root: Path) -> bytes:
    from coldstart.release import INDEX_DIR, MODEL_DIR, IndexManifest, ModelManifest, ReleaseManifest

    index_manifest = IndexManifest.load(root / INDEX_DIR, verify=False)
    model_manifest = ModelManifest.load(root / MODEL_DIR, verify=False)
    files = {f"{INDEX_DIR}/{n}": e for n, e in index_manifest.files.items()}
    files.update({f"{MODEL_DIR}/{n}": e for n, e in model_manifest.files.items()})
    return ReleaseManifest(version="local", teacher=index_manifest.teacher, files=files, components={}).to_bytes()


@contextlib.contextmanager
def open_service(release: Optional[str] = None, index: Optional[str] = None, model: Optional[str] = None,
                 k: int = 10, without_calibration: bool = False) -> Iterator[Any]:
    """The serving ``ProfileService`` (cache off) over a local release, or over index + model
    directories. Yields (service, release root). ``without_calibration``: ignore the index's
    calibration.json (the calibrate job refits it and must not read it: it may be of an older format)."""
    from coldstart.errors import InputError
    from coldstart.release_loader import ReleaseLoader
    from coldstart.service import ProfileService
    from coldstart.settings import ServingSettings
    from coldstart.storage import open_store

    settings = ServingSettings(cache_size=0, k=k, refresh_seconds=0)
    if release and (index or model) or not release and not (index and model):
        raise InputError("give --release DIR, or --index DIR and --model DIR")
    with tempfile.TemporaryDirectory(prefix="coldstart-eval-cache-") as cache:
        if release:
            path = Path(release)
            if (path / "current.json").is_file():
                loader = ReleaseLoader(open_store(str(path)), cache)
                loaded = loader.load(loader.current_version())
            elif (path / "release.json").is_file():
                loaded = ReleaseLoader(None, cache).open(path.name, path)
            else:
                raise InputError(f"{path}: neither a published directory (current.json) nor a release (release.json)")
            yield _collecting(ProfileService(settings, manager=_StaticManager(loaded))), loaded.root
            return
        with _local_root(index, model, without_calibration) as root:
            (root / "release.json").write_bytes(_release_json(root))
            loaded = ReleaseLoader(None, cache).open("local", root)
            yield _collecting(ProfileService(settings, manager=_StaticManager(loaded))), root


def _collecting(service):
    service.collect_features = True  # the calibrator's features on every vote, calibrated release or not
    return service


# -- predictions ------------------------------------------------------------------------------
@dataclass
class Prediction:
    answered: bool                     # False: a fallback (population tags, not about the user)
    ranking: Tuple[str, ...] = ()      # the answered tags, best first (empty when abstaining)
    guess: Tuple[str, ...] = ()        # the method's ranking even when it abstained
    confidence: Optional[float] = None  # None: no ranking was produced (nothing to calibrate)
    reason: str = ""
    features: Optional[Dict[str, float]] = None
    neighbours: Tuple[str, ...] = ()   # the neighbours' vote alone, before fusion with the text's keywords


def semantic_prediction(profile) -> Prediction:
    guess = tuple(t.tag for t in profile.guess) if profile.guess else ()
    return Prediction(answered=not profile.fallback,
                      ranking=tuple(t.tag for t in profile.tags) if not profile.fallback else (),
                      guess=guess, confidence=float(profile.confidence) if guess else None,
                      reason=profile.reason, features=profile.features,
                      neighbours=tuple(t.tag for t in (profile.vote_shares or profile.guess or ())))


def keyword_prediction(profile) -> Prediction:
    ranking = tuple(t.tag for t in profile.tags) if not profile.fallback else ()
    return Prediction(answered=not profile.fallback, ranking=ranking, guess=ranking,
                      confidence=float(profile.confidence) if ranking else None, reason=profile.reason)


class SeedMethod:
    """Majority vote of the top-5 exact cosine neighbours (the seed article's method)."""

    def __init__(self, release, k: int = SEED_K):
        import numpy as np

        n = release.index.get_n_items()
        vectors = np.array([release.index.get_item_vector(i) for i in range(n)], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = vectors / np.maximum(norms, 1e-12)
        self.items = release.items
        self.k = k
        self.order = {t: i for i, t in enumerate(release.items.tag_names)}

    def predict(self, vector) -> Prediction:
        import numpy as np

        if vector is None:
            return Prediction(answered=False, reason="empty_text")
        v = np.asarray(vector, dtype=np.float32)
        v = v / max(float(np.linalg.norm(v)), 1e-12)
        sims = self.vectors @ v
        top = np.argsort(-sims, kind="stable")[: self.k]
        votes = Counter(t for i in top for t in self.items.tags_of(int(i)))
        if not votes:
            return Prediction(answered=False, reason="no_votes")
        ranking = tuple(sorted(votes, key=lambda t: (-votes[t], self.order.get(t, 1 << 30))))
        return Prediction(answered=True, ranking=ranking, guess=ranking,
                          confidence=votes[ranking[0]] / float(self.k), reason="vote")


def predict_all(service, rows: Sequence[Labelled], methods: Sequence[str] = METHODS,
                desc: str = "evaluate") -> Dict[str, List[Prediction]]:
    from coldstart.fusion import has_words
    from coldstart.keyword_baseline import keyword_or_fallback
    from coldstart.preprocess import mask_input

    release = service.current_release()
    out: Dict[str, List[Prediction]] = {m: [] for m in methods}
    keywords = service.keyword_table(release) if "keyword" in methods else None
    seed = SeedMethod(release) if "seed" in methods else None
    with bar(len(rows), desc, unit="text") as progress:
        for row in rows:
            masked = mask_input(row.text, None, service.settings.max_text_chars).composed
            result = service.profile_text(masked, use_cache=False, release=release)
            if "semantic" in methods:
                out["semantic"].append(semantic_prediction(result.profile))
            if keywords is not None or "keyword" in methods:
                kw = keyword_or_fallback(keywords, masked, release.items)
                out["keyword"].append(keyword_prediction(kw))
            if seed is not None:
                vector = result.vector
                if vector is None and has_words(masked):
                    vector = service.embedder.embed(release, masked, use_cache=False)[0]
                out["seed"].append(seed.predict(vector))
            progress.update(1)
    return out


# -- figures ------------------------------------------------------------------------------------
def _ece(confidences, correct, bins: int) -> float:
    import numpy as np

    c = np.asarray(confidences, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    which = np.minimum((c * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() / len(c) * abs(y[mask].mean() - c[mask].mean())
    return float(total)


def ece_floor(confidences: Sequence[float], bins: int = BINS, draws: int = 200, seed: int = 0) -> Optional[float]:
    """The ECE a *perfectly calibrated* confidence would measure on this many rows (outcomes drawn
    with exactly the stated probabilities, mean of ``draws``): the sampling noise under any ECE.
    On ~330 rows it is ~0.05, so an ECE gate needs a few hundred rows more than that to mean much."""
    import numpy as np

    if not len(confidences):
        return None
    rng = np.random.default_rng(seed)
    c = np.asarray(confidences, dtype=np.float64)
    return round(float(np.mean([_ece(c, rng.random(len(c)) < c, bins) for _ in range(draws)])), 4)


def reliability(confidences: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> Dict[str, Any]:
    """ECE over equal-width bins, and the bins themselves (for the diagram)."""
    table = []
    total = len(confidences)
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if (lo <= c < hi) or (b == bins - 1 and c == 1.0)]
        if not idx:
            continue
        conf = sum(confidences[i] for i in idx) / len(idx)
        acc = sum(1 for i in idx if correct[i]) / len(idx)
        ece += len(idx) / total * abs(acc - conf)
        table.append({"lo": lo, "hi": hi, "n": len(idx), "confidence": round(conf, 4), "accuracy": round(acc, 4)})
    return {"ece": round(ece, 4) if total else None, "n": total, "bins": table,
            "ece_floor": ece_floor(confidences, bins)}


def _rate(num: int, den: int) -> Optional[float]:
    return round(num / den, 4) if den else None


def score(rows: Sequence[Labelled], preds: Sequence[Prediction], tags: Sequence[str]) -> Dict[str, Any]:
    ins = [i for i, r in enumerate(rows) if r.in_interest]
    nos = [i for i, r in enumerate(rows) if not r.in_interest]
    single = [i for i in ins if len(rows[i].tags) == 1]

    def top_hit(i: int, n: int) -> bool:
        return bool(set(preds[i].ranking[:n]) & set(rows[i].tags))

    rated = [i for i, p in enumerate(preds) if p.confidence is not None]
    right = [bool(preds[i].guess) and preds[i].guess[0] in rows[i].tags for i in rated]
    rel_all = reliability([preds[i].confidence for i in rated], right)
    rated_in = [k for k, i in enumerate(rated) if rows[i].in_interest]
    rel_in = reliability([preds[rated[k]].confidence for k in rated_in], [right[k] for k in rated_in])
    per_tag = {}
    for t in tags:
        predicted = [i for i in ins if preds[i].ranking[:1] == (t,)]
        carrying = [i for i in ins if t in rows[i].tags]
        hits = sum(1 for i in predicted if t in rows[i].tags)
        per_tag[t] = {"precision": _rate(hits, len(predicted)), "recall": _rate(hits, len(carrying)),
                      "support": len(carrying), "predicted": len(predicted)}
    labels_rows = list(tags) + [NO_TAG]
    labels_cols = list(tags) + [ABSTAIN]
    confusion = [[0] * len(labels_cols) for _ in labels_rows]
    for i, r in enumerate(rows):
        gold = r.tags[0] if r.tags else NO_TAG
        col = preds[i].ranking[0] if preds[i].ranking else ABSTAIN
        if gold in labels_rows and col in labels_cols:
            confusion[labels_rows.index(gold)][labels_cols.index(col)] += 1
    out = {
        "n_in_interest": len(ins), "n_no_interest": len(nos),
        "top1": _rate(sum(top_hit(i, 1) for i in ins), len(ins)),
        "top3": _rate(sum(top_hit(i, 3) for i in ins), len(ins)),
        "top1_single": _rate(sum(top_hit(i, 1) for i in single), len(single)),
        "ece": rel_all["ece"], "ece_in": rel_in["ece"], "ece_rows": rel_all["n"], "ece_floor": rel_all["ece_floor"],
        "abstain_in": _rate(sum(not preds[i].answered for i in ins), len(ins)),
        "abstain_no": _rate(sum(not preds[i].answered for i in nos), len(nos)),
        "reliability": rel_all["bins"], "per_tag": per_tag,
        "confusion": {"rows": labels_rows, "columns": labels_cols, "counts": confusion},
        "reasons": dict(Counter(p.reason for p in preds)),
    }
    out["top1_vote"] = _rate(sum(bool(preds[i].guess) and preds[i].guess[0] in rows[i].tags for i in ins), len(ins))
    if any(p.neighbours for p in preds):
        out["top1_neighbours"] = _rate(sum(bool(preds[i].neighbours) and preds[i].neighbours[0] in rows[i].tags
                                           for i in ins), len(ins))
    return out


HEADLINE = ("top1", "top3", "top1_single", "ece", "ece_in", "ece_floor", "abstain_in", "abstain_no")


def headline(report: Dict[str, Any]) -> Dict[str, Any]:
    """The few numbers the manifest, the gate and the demo carry, per method."""
    return {"name": report["name"], "n_in_interest": report["n_in_interest"], "n_no_interest": report["n_no_interest"],
            **{m: {k: report["methods"][m].get(k) for k in HEADLINE} for m in report["methods"]}}


def _fmt(v: Any) -> str:
    return "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def markdown(report: Dict[str, Any]) -> str:
    methods = list(report["methods"])
    lines = [f"# Evaluation: {report['name']}", "",
             f"{report['n_in_interest']} in-interest and {report['n_no_interest']} no-interest texts from "
             f"{', '.join(report['data'])}; release fingerprint: index {(report['fingerprint']['index_manifest'] or '-')[:12]}, "
             f"model {(report['fingerprint']['model_manifest'] or '-')[:12]}, calibrator "
             f"{(report['fingerprint']['calibration'] or 'none')[:12]}.", "",
             f"Command: `{report['command']}`", "",
             "| figure | " + " | ".join(methods) + " |", "|---|" + "---:|" * len(methods)]
    for key in HEADLINE + ("top1_vote", "top1_neighbours"):
        lines.append(f"| {key} | " + " | ".join(_fmt(report["methods"][m].get(key)) for m in methods) + " |")
    lines += ["", "top1/top3: answered top tag(s) include one of the row's tags, abstentions count as misses; "
              "ece: 10 bins over rows with a ranking (no-interest rows are always wrong); ece_floor: what a perfectly "
              "calibrated confidence would measure on these rows (sampling noise); abstain_in/abstain_no: "
              "fallback rate on in-/no-interest rows; top1_vote: the served ranking's guess, abstentions included; "
              "top1_neighbours: the neighbours' vote alone (before fusion with the text's keywords), abstentions "
              "included.", "",
              "## Per tag (precision / recall)", "", "| tag | support | " + " | ".join(methods) + " |",
              "|---|---:|" + "---:|" * len(methods)]
    for tag in report["tags"]:
        cells = [f"{_fmt(report['methods'][m]['per_tag'][tag]['precision'])} / "
                 f"{_fmt(report['methods'][m]['per_tag'][tag]['recall'])}" for m in methods]
        lines.append(f"| {tag} | {report['methods'][methods[0]]['per_tag'][tag]['support']} | " + " | ".join(cells) + " |")
    sem = report["methods"].get("semantic")
    if sem:
        lines += ["", "Semantic fallback reasons: " + ", ".join(f"{k} {v}" for k, v in sorted(sem["reasons"].items()))]
    return "\n".join(lines) + "\n"


def plots(report: Dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import logging

    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # font weight fallbacks are noise

    chinese = [f.name for f in font_manager.fontManager.ttflist
               if any(k in f.name for k in ("WenQuanYi", "Noto Sans CJK", "Noto Sans SC", "Droid Sans Fallback"))]
    if chinese:
        plt.rcParams["font.family"] = chinese[0]
    methods = list(report["methods"])
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    for m in methods:
        bins = report["methods"][m]["reliability"]
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o",
                label=f"{m} (ECE {_fmt(report['methods'][m]['ece'])})")
    ax.set_xlabel("confidence (mean per bin)")
    ax.set_ylabel("share of top tags that are right")
    ax.set_title(f"Reliability: {report['name']}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "reliability.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(methods), figsize=(6.2 * len(methods), 6))
    for ax, m in zip(list(axes) if len(methods) > 1 else [axes], methods):
        conf = report["methods"][m]["confusion"]
        counts = conf["counts"]
        ax.imshow([[c / max(sum(row), 1) for c in row] for row in counts], cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(conf["columns"])))
        ax.set_xticklabels(conf["columns"] if chinese else [str(i) for i in range(len(conf["columns"]))],
                           rotation=90, fontsize=8)
        ax.set_yticks(range(len(conf["rows"])))
        ax.set_yticklabels(conf["rows"] if chinese else [str(i) for i in range(len(conf["rows"]))], fontsize=8)
        for r, row in enumerate(counts):
            for c, v in enumerate(row):
                if v:
                    ax.text(c, r, str(v), ha="center", va="center", fontsize=6)
        ax.set_title(f"{m}: top1 {_fmt(report['methods'][m]['top1'])}")
        ax.set_xlabel("answered top tag")
        ax.set_ylabel("main tag")
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=100)
    plt.close(fig)


def evaluate(rows: Sequence[Labelled], service, root: Path, name: str, data: Sequence[str],
             command: str = "") -> Dict[str, Any]:
    release = service.current_release()
    preds = predict_all(service, rows, desc=f"evaluate {name}")
    tags = list(release.items.tag_names)
    for r in rows:  # tags of the set the population lacks still get a row
        tags.extend(t for t in r.tags if t not in tags)
    report = {"format": REPORT_FORMAT, "name": name, "data": list(data), "data_sha256": rows_sha256(rows),
              "n_in_interest": sum(r.in_interest for r in rows), "n_no_interest": sum(not r.in_interest for r in rows),
              "tags": tags, "fingerprint": release_fingerprint(root), "command": command,
              "release": release.version, "methods": {m: score(rows, preds[m], tags) for m in METHODS}}
    return report


def write_report(report: Dict[str, Any], out: Path, with_plots: bool = True) -> None:
    from coldstart.release import atomic_write_json as write_json_atomic

    out.mkdir(parents=True, exist_ok=True)
    if with_plots:
        plots(report, out)
    (out / "evaluation.md").write_text(markdown(report), encoding="utf-8")
    write_json_atomic(out / EVALUATION_FILE, report)  # last: its presence means the folder is complete


def run(args: argparse.Namespace) -> int:
    import sys

    started = time.time()
    rows = read_labelled(args.data)
    name = args.name or Path(args.data[0]).name
    command = "python -m infra evaluate " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 and sys.argv[1] == "evaluate" else \
        "python -m infra evaluate " + " ".join(
            [f"--data {d}" for d in args.data] + ([f"--release {args.release}"] if args.release else
                                                 [f"--index {args.index}", f"--model {args.model}"]) + [f"--out {args.out}"])
    with open_service(args.release, args.index, args.model, k=args.k) as (service, root):
        report = evaluate(rows, service, root, name, args.data, command)
    write_report(report, Path(args.out), not args.no_plots)
    print(markdown(report).split("\n## Per tag")[0].rstrip(), flush=True)
    summary("evaluate", set=name, rows=len(rows), semantic_top1=_fmt(report["methods"]["semantic"]["top1"]),
            keyword_top1=_fmt(report["methods"]["keyword"]["top1"]), ece=_fmt(report["methods"]["semantic"]["ece"]),
            out=args.out, seconds=f"{time.time() - started:.1f}")
    return 0
