"""Train the avatar fusion gate (``coldstart.fusion``, mode ``gated``) and store it in the model's
``model_manifest.json`` under ``"fusion"``, so it ships inside the release with no loader change.

Data: active users from --input (the demo's data/users.jsonl), each split into a short *typed* part
(the first --typed-chars characters) and an avatar carrying the rest, rendered by ``infra.avatars``
and read back by the serving OCR (``coldstart.ocr.AvatarReader``). Every vote leaves the user out
of their own neighbourhood: the index holds these very users, and a user finding themselves would
teach the gate to over-trust whichever side repeats their text.

Target: for each avatar the typed weight w in a grid (0, 0.1, ..., 1) that works best for the mix
w·v_typed + (1-w)·v_image (1 if the top tag is one of the user's tags, plus the best true tag's score
as a tie-break); the gate is a logistic regression on ``coldstart.fusion.gate_features`` fitted to that
(fractional) target, each avatar weighted by how much w mattered for it (a row every w gets right or
wrong teaches nothing). Seven numbers in all.

The job is skipped when the manifest already holds a gate trained on the same model, index, input
and settings (--force retrains).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from infra.progress import bar, summary


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="model directory from export (its model_manifest.json is updated)")
    p.add_argument("--index", required=True, help="index directory from build-index (the same release)")
    p.add_argument("--input", default="data/users.jsonl", help="active users JSONL (user_id, text, tags)")
    p.add_argument("--n", type=int, default=400, help="avatars rendered and read (about 50-100 ms of OCR each)")
    p.add_argument("--typed-chars", type=int, default=6, help="characters the user 'typed'; the avatar carries the rest")
    p.add_argument("--k", type=int, default=10, help="neighbours voted (the service's default k)")
    p.add_argument("--l2", type=float, default=0.01, help="L2 penalty on the gate's weights")
    p.add_argument("--seed", type=int, default=11, help="random seed of the avatar rendering and the split")
    p.add_argument("--force", action="store_true", help="retrain even if the stored gate is up to date")
    from infra.keys import add_key_argument

    add_key_argument(p)


def unavailable_reason() -> Optional[str]:
    """Why avatars cannot be rendered and read on this machine, or None (the pipeline skips the job then)."""
    import importlib.util

    from infra.avatars import FONT

    if not Path(FONT).is_file():
        return f"{FONT} is missing (make fonts-setup installs Debian fonts-wqy-zenhei)"
    if importlib.util.find_spec("rapidocr_onnxruntime") is None:
        return "rapidocr-onnxruntime is not installed"
    return None


GRID = tuple(round(i / 10, 1) for i in range(11))


@dataclass
class Example:
    key: str
    tags: Sequence[str]
    typed: str                         # masked, normalised typed text
    image_text: str                    # masked OCR text ("" when nothing was read)
    v_typed: Optional[np.ndarray]      # None when the side has no words
    v_image: Optional[np.ndarray]


class ReleaseScorer:
    """Encode and vote against one release, optionally leaving a user out of their own neighbourhood."""

    def __init__(self, service, k: int, keys):
        from coldstart.voting import ProfileSettings

        self.service = service
        self.release = service.current_release()
        self.k = k
        self.keys = keys
        self.serving = ProfileSettings(k=k, min_confidence=service.settings.min_confidence)  # as served
        self.raw = ProfileSettings(k=k, min_confidence=0.0)   # no fallback: the target sees the real vote
        self._item_of = {h: i for i, h in enumerate(self.release.items.handles)}

    def embed(self, text: str) -> Optional[np.ndarray]:
        from coldstart.fusion import has_words

        if not has_words(text):
            return None
        return self.service.embedder.embed(self.release, text, use_cache=False)[0]

    def vote(self, vector: np.ndarray, leave_out: Optional[str] = None, raw: bool = False):
        """``leave_out``: a user id whose own item must not vote (leave-one-out evaluation)."""
        from coldstart.voting import vote

        own = self._item_of.get(self.keys.handle(leave_out)) if leave_out is not None else None
        ids, dist = self.release.index.get_nns_by_vector(vector, self.k + (own is not None),
                                                         search_k=self.release.search_k, include_distances=True)
        pairs = [(i, d) for i, d in zip(ids, dist) if i != own][: self.k]
        return vote([i for i, _ in pairs], [1.0 - d * d / 2.0 for _, d in pairs], self.release.items,
                    self.raw if raw else self.serving)


def open_service(index: str, model: str, work: Path):
    """The serving ProfileService over index + model, published to a scratch directory (the serving
    loader, unchanged)."""
    from coldstart.service import ProfileService
    from coldstart.release_loader import ReleaseLoader, ReleaseManager
    from coldstart.settings import ServingSettings
    from coldstart.storage import open_store
    from infra.cli import main as cli

    with contextlib.redirect_stdout(io.StringIO()):  # the scratch publish's report is noise here
        code = cli(["publish", "--to", str(work / "store"), "--index", index, "--model", model, "--version", "fusion"])
    if code != 0:
        raise RuntimeError("publishing the scratch release failed")
    settings = ServingSettings(release_uri=str(work / "store"), cache_dir=str(work / "cache"), refresh_seconds=0,
                               cache_size=0)
    manager = ReleaseManager(ReleaseLoader(open_store(settings.release_uri), settings.cache_dir), 0, background=False)
    manager.start()
    return ProfileService(settings, manager=manager)


def read_examples(cases, scorer: ReleaseScorer, reader=None, desc: str = "avatars") -> List[Example]:
    """OCR each rendered avatar and encode both sides."""
    from coldstart.ocr import AvatarReader
    from coldstart.preprocess import prepare_text

    reader = reader or AvatarReader()
    out = []
    progress = bar(len(cases), desc, unit="img")
    for case in cases:
        typed = prepare_text(case.typed)[0]
        image_text = reader.read(case.image).text
        out.append(Example(case.key, case.tags, typed, image_text, scorer.embed(typed), scorer.embed(image_text)))
        progress.update(1)
    progress.close()
    return out


def _utility(profile, tags) -> float:
    """1 for a right top tag, plus the best true tag's score (a tie-break between equally right mixes)."""
    scores = {t.tag: t.score for t in profile.tags}
    return float(profile.top_tag in tags) + max((scores.get(t, 0.0) for t in tags), default=0.0)


def fit_gate(x: np.ndarray, target: np.ndarray, weight: np.ndarray, l2: float, steps: int = 3000):
    """Weighted logistic regression with a fractional target, by gradient descent on standardised x."""
    from coldstart.fusion import LogisticGate

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    w = np.zeros(x.shape[1])
    b = 0.0
    sw = weight / max(weight.sum(), 1e-12)
    lr = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        g = (p - target) * sw
        w -= lr * (z.T @ g + l2 * w)
        b -= lr * g.sum()
    return LogisticGate(tuple(float(v) for v in mean), tuple(float(v) for v in scale),
                        tuple(float(v) for v in w), float(b))


def gate_training_set(examples: List[Example], scorer: ReleaseScorer):
    """Features, target weight and sample weight per example with both sides; and accuracy per fixed weight."""
    from coldstart.fusion import gate_features, mix

    xs, targets, weights = [], [], []
    right = {w: 0 for w in GRID}
    both = [e for e in examples if e.v_typed is not None and e.v_image is not None]
    progress = bar(len(both), "grid", unit="avatar")
    for e in both:
        utilities = []
        for w in GRID:
            profile = scorer.vote(mix(e.v_typed, e.v_image, w), e.key, raw=True)
            utilities.append(_utility(profile, e.tags))
            right[w] += scorer.vote(mix(e.v_typed, e.v_image, w), e.key).top_tag in e.tags
        best = max(utilities)
        xs.append(gate_features(e.typed, e.image_text, e.v_typed, e.v_image,
                                scorer.vote(e.v_typed, e.key), scorer.vote(e.v_image, e.key)))
        targets.append(float(np.mean([w for w, u in zip(GRID, utilities) if u >= best - 1e-9])))
        weights.append(best - min(utilities))
        progress.update(1)
    progress.close()
    return np.array(xs), np.array(targets), np.array(weights), {w: right[w] / max(len(both), 1) for w in GRID}


def top_tags(examples: List[Example], scorer: ReleaseScorer, gate, leave_out: bool = True) -> Dict[str, float]:
    """Top-tag accuracy of typed only / image only / gated (with the gate given) over examples."""
    from coldstart.fusion import gate_features, mix

    hits = {"text_only": 0, "image_only": 0, "gated": 0}
    for e in examples:
        key = e.key if leave_out else None
        typed = scorer.vote(e.v_typed, key) if e.v_typed is not None else None
        image = scorer.vote(e.v_image, key) if e.v_image is not None else None
        hits["text_only"] += bool(typed and typed.top_tag in e.tags)
        hits["image_only"] += bool(image and image.top_tag in e.tags)
        if typed and image:
            w = gate.typed_weight(gate_features(e.typed, e.image_text, e.v_typed, e.v_image, typed, image))
            gated = scorer.vote(mix(e.v_typed, e.v_image, w), key)
        else:
            gated = typed or image
        hits["gated"] += bool(gated and gated.top_tag in e.tags)
    return {k: round(v / max(len(examples), 1), 4) for k, v in hits.items()}


def _inputs_sha(args, model_manifest) -> str:
    from coldstart.hashing import sha256_bytes, sha256_file
    from coldstart.release import INDEX_MANIFEST

    without_gate = {k: v for k, v in model_manifest.to_dict().items() if k != "fusion"}
    parts = {"model": sha256_bytes(json.dumps(without_gate, sort_keys=True).encode("utf-8")),
             "index": sha256_file(Path(args.index) / INDEX_MANIFEST), "input": sha256_file(args.input),
             "settings": [args.n, args.typed_chars, args.k, args.l2, args.seed]}
    return sha256_bytes(json.dumps(parts, sort_keys=True).encode("utf-8"))


def run(args: argparse.Namespace) -> int:
    from coldstart.errors import InputError
    from coldstart.release import MODEL_MANIFEST, ModelManifest
    from infra.avatars import make_cases
    from infra.keys import load_keys

    if args.n < 20 or not 1 <= args.typed_chars <= 50 or args.k < 1:
        raise InputError("need --n >= 20, 1 <= --typed-chars <= 50 and --k >= 1")
    started = time.time()
    manifest_path = Path(args.model) / MODEL_MANIFEST
    manifest = ModelManifest.load(args.model, verify=False)
    inputs_sha = _inputs_sha(args, manifest)
    if not args.force and (manifest.fusion or {}).get("inputs_sha256") == inputs_sha:
        print(f"train-fusion: up to date ({manifest_path})", flush=True)
        return 0
    rows = [json.loads(line) for line in Path(args.input).read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(args.seed).shuffle(rows)
    cases = make_cases(rows, args.typed_chars, args.n, args.seed)
    with tempfile.TemporaryDirectory(prefix="train-fusion-") as tmp:
        scorer = ReleaseScorer(open_service(args.index, args.model, Path(tmp)), args.k, load_keys(args))
        examples = read_examples(cases, scorer)
        x, target, weight, fixed = gate_training_set(examples, scorer)
        if len(x) < 10 or weight.sum() <= 0:
            raise InputError(f"only {len(x)} avatars had text on both sides and a weight that mattered; "
                             "raise --n or check the OCR")
        gate = fit_gate(x, target, weight, args.l2)
        accuracy = top_tags(examples, scorer, gate)
    best_w = max(fixed, key=lambda w: (fixed[w], -abs(w - 0.5)))
    accuracy.update({"weighted_best": round(fixed[best_w], 4), "weighted_best_typed_weight": best_w})
    manifest.fusion = {"gate": gate.to_dict(), "inputs_sha256": inputs_sha,
                          "trained": {"avatars": len(examples), "with_both_sides": int(len(x)),
                                      "typed_chars": args.typed_chars, "k": args.k, "seed": args.seed,
                                      "input": Path(args.input).name, "leave_one_out": True,
                                      "weighted_accuracy_by_typed_weight": {str(w): round(a, 4) for w, a in fixed.items()},
                                      "accuracy": accuracy}}
    manifest.save(args.model)
    print("weighted (train, leave-one-out) " + " ".join(f"w={w}:{a:.3f}" for w, a in fixed.items()), flush=True)
    summary("train-fusion", avatars=len(examples), both_sides=len(x), text_only=accuracy["text_only"],
            image_only=accuracy["image_only"], weighted_best=f"{accuracy['weighted_best']}@w={best_w}",
            gated=accuracy["gated"], seconds=f"{time.time() - started:.1f}", out=str(manifest_path))
    return 0
