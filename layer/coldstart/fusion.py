"""Fusion of what the user typed with the text read from their avatar (``coldstart.ocr``).

Modes (``COLDSTART_FUSION``; empty = ``DEFAULT_FUSION``):

  concat    one string, ``typed。image text``, one encode. Lets the encoder's attention weigh the two.
  weighted  typed and image text encoded separately; v = w·v_typed + (1-w)·v_image, renormalised
            (``COLDSTART_FUSION_TYPED_WEIGHT`` = w). Two encodes.
  gated     like weighted, but w is chosen per request by a logistic gate over a few features of the
            two vectors (``gate_features``), trained by ``python -m infra train-fusion`` on rendered
            avatars and stored in the release's ``model/model_manifest.json`` under ``"fusion"``.
            A release without a gate falls back to ``DEFAULT_FUSION`` (logged once per release).

Why a gate over scalar features and not over the raw vectors: the gate is trained on a few hundred
rendered avatars; a gate reading 2 × 192 (or 2 × 312) vector components would have more weights than
training examples. Six features (lengths, the two vectors' agreement, each one's neighbourhood
confidence) carry what decides which source to trust, and keep the gate to seven numbers.

When one side has no usable words (empty, or only PII placeholders) every mode uses the other side alone.

Default, measured by ``bench/ocr.py`` on 120 held-out rows rendered as avatars (typed = first 6
characters): see bench/README.md, "ocr.py". The top-tag accuracies there decide ``DEFAULT_FUSION``.
"""
from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from .pii import PLACEHOLDERS

log = logging.getLogger("coldstart.fusion")

FUSION_MODES = ("concat", "weighted", "gated")
DEFAULT_FUSION = "concat"          # measured, bench/ocr.py (see the module doc)
# Weighted mode's w: the best of the 0..1 grid on `infra train-fusion`'s 400 training avatars (active users,
# leave-one-out, 6 typed characters): 0.2 → 0.973, 0.5 → 0.880, 1.0 (typed only) → 0.552. Tuned for short
# typed text: with long typed text and a one-word avatar it under-weights what was typed (the gate adapts).
DEFAULT_TYPED_WEIGHT = 0.2
MAX_IMAGE_CHARS = 300              # OCR text used for fusion is capped at this
GATE_KIND = "logistic-gate-v1"
GATE_FEATURES = ("typed_chars_log", "image_chars_log", "cosine", "typed_confidence", "image_confidence",
                 "same_top_tag")

Embed = Callable[[str], np.ndarray]     # masked, normalised text → unit vector
Vote = Callable[[np.ndarray], Any]      # vector → coldstart.voting.Profile (k neighbours voted)

_PLACEHOLDER_WORDS = frozenset(PLACEHOLDERS.values())


def has_words(text: str) -> bool:
    """False when nothing but masking placeholders and punctuation is left (nothing to encode)."""
    rest = text or ""
    for p in _PLACEHOLDER_WORDS:
        rest = rest.replace(p, "")
    return any(ch.isalnum() for ch in rest)


def concat_text(typed: str, image_text: str, max_image_chars: int = MAX_IMAGE_CHARS) -> str:
    """The image text appended to the typed text: what concat encodes, and what is stored as masked text."""
    image_text = (image_text or "")[:max_image_chars].strip()
    typed = (typed or "").strip()
    if not image_text:
        return typed
    return f"{typed}。{image_text}" if typed else image_text


def mix(v_typed: np.ndarray, v_image: np.ndarray, typed_weight: float) -> np.ndarray:
    """w·v_typed + (1-w)·v_image, renormalised (the index is angular: only the direction counts)."""
    v = typed_weight * np.asarray(v_typed, dtype=np.float32) + (1.0 - typed_weight) * np.asarray(v_image, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    if not norm > 1e-6:  # opposite vectors cancel: trust the image, the longer of the two inputs
        return np.asarray(v_image, dtype=np.float32)
    return (v / norm).astype(np.float32)


@dataclass(frozen=True)
class Fused:
    vector: np.ndarray
    mode: str                              # the mode that produced it (gated may have fallen back)
    image_weight: Optional[float]          # the image vector's share; None for concat (no explicit weight)
    text_vector: Optional[np.ndarray] = None  # the typed text's own vector, when computed on the way


class ConcatFusion:
    name = "concat"

    def fuse(self, typed: str, image_text: str, embed: Embed, vote: Vote) -> Fused:
        return Fused(embed(concat_text(typed, image_text)), self.name, None)


class WeightedFusion:
    name = "weighted"

    def __init__(self, typed_weight: float = DEFAULT_TYPED_WEIGHT):
        if not 0.0 <= typed_weight <= 1.0:
            raise ValueError("the typed text's fusion weight must be in [0, 1]")
        self.typed_weight = float(typed_weight)

    def weight(self, typed: str, image_text: str, v_typed, v_image, vote: Vote) -> float:
        return self.typed_weight

    def fuse(self, typed: str, image_text: str, embed: Embed, vote: Vote) -> Fused:
        v_image = embed(image_text[:MAX_IMAGE_CHARS])
        if not has_words(typed):
            return Fused(v_image, self.name, 1.0)
        v_typed = embed(typed)
        w = self.weight(typed, image_text, v_typed, v_image, vote)
        return Fused(mix(v_typed, v_image, w), self.name, round(1.0 - w, 4), v_typed)


def gate_features(typed: str, image_text: str, v_typed: np.ndarray, v_image: np.ndarray,
                  typed_profile: Any, image_profile: Any) -> np.ndarray:
    """The gate's inputs, in ``GATE_FEATURES`` order. Training (infra) and serving both call this."""
    cosine = float(np.dot(np.asarray(v_typed, dtype=np.float64), np.asarray(v_image, dtype=np.float64)))
    same = typed_profile.top_tag is not None and typed_profile.top_tag == image_profile.top_tag
    return np.array([math.log1p(len(typed)), math.log1p(len(image_text[:MAX_IMAGE_CHARS])), cosine,
                     float(typed_profile.confidence), float(image_profile.confidence), float(same)],
                    dtype=np.float64)


@dataclass(frozen=True)
class LogisticGate:
    """typed weight w = sigmoid(weights · (x - mean) / scale + bias), x = ``gate_features(...)``."""

    mean: Tuple[float, ...]
    scale: Tuple[float, ...]
    weights: Tuple[float, ...]
    bias: float
    features: Tuple[str, ...] = GATE_FEATURES

    def typed_weight(self, x: Sequence[float]) -> float:
        z = self.bias + sum(w * (v - m) / s for w, v, m, s in zip(self.weights, x, self.mean, self.scale))
        z = max(-30.0, min(30.0, z))
        return 1.0 / (1.0 + math.exp(-z))

    def to_dict(self) -> Dict[str, Any]:
        return {"kind": GATE_KIND, "features": list(self.features), "mean": [round(v, 6) for v in self.mean],
                "scale": [round(v, 6) for v in self.scale], "weights": [round(v, 6) for v in self.weights],
                "bias": round(self.bias, 6)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "LogisticGate":
        """Raises ValueError for a gate this code cannot run (other kind, other features, bad numbers)."""
        if not isinstance(data, Mapping) or data.get("kind") != GATE_KIND:
            raise ValueError(f"fusion gate kind is not {GATE_KIND}")
        if tuple(data.get("features") or ()) != GATE_FEATURES:
            raise ValueError("fusion gate features differ from this code's gate_features")
        n = len(GATE_FEATURES)
        try:
            mean, scale, weights = (tuple(float(v) for v in data[key]) for key in ("mean", "scale", "weights"))
            bias = float(data["bias"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("fusion gate numbers are missing or not numbers") from None
        values = mean + scale + weights + (bias,)
        if not (len(mean) == len(scale) == len(weights) == n) or not all(math.isfinite(v) for v in values) \
                or any(s <= 0 for s in scale):
            raise ValueError("fusion gate has the wrong number of values, a non-finite value or a scale <= 0")
        return cls(mean, scale, weights, bias)


class GatedFusion(WeightedFusion):
    name = "gated"

    def __init__(self, gate: LogisticGate):
        super().__init__(0.5)
        self.gate = gate

    def weight(self, typed: str, image_text: str, v_typed, v_image, vote: Vote) -> float:
        x = gate_features(typed, image_text, v_typed, v_image, vote(v_typed), vote(v_image))
        return self.gate.typed_weight(x)


class FusionSelector:
    """The fusion to use for a release: the configured mode, with the release's gate for ``gated``."""

    def __init__(self, mode: str = "", typed_weight: float = DEFAULT_TYPED_WEIGHT):
        mode = (mode or DEFAULT_FUSION).strip().lower()
        if mode not in FUSION_MODES:
            raise ValueError(f"COLDSTART_FUSION must be one of {', '.join(FUSION_MODES)}")
        self.mode = mode
        self.typed_weight = typed_weight
        self._fallback = self._plain(DEFAULT_FUSION if DEFAULT_FUSION != "gated" else "weighted")
        self._configured = None if mode == "gated" else self._plain(mode)
        self._per_release: Tuple[Optional[str], Any] = (None, None)
        self._lock = threading.Lock()

    def _plain(self, mode: str):
        return ConcatFusion() if mode == "concat" else WeightedFusion(self.typed_weight)

    def for_release(self, version: str, model_manifest: Any):
        """The fusion for a release; ``model_manifest`` is its ModelManifest (``fusion``: the trained gate)."""
        if self._configured is not None:
            return self._configured
        with self._lock:
            if self._per_release[0] != version:
                self._per_release = (version, self._gated(version, model_manifest))
            return self._per_release[1]

    def _gated(self, version: str, model_manifest: Any):
        entry = getattr(model_manifest, "fusion", None)
        if entry is None:
            log.info("release %s carries no fusion gate; gated fusion falls back to %s",
                     version, self._fallback.name)
            return self._fallback
        try:
            return GatedFusion(LogisticGate.from_dict(entry.get("gate") if isinstance(entry, Mapping) else None))
        except ValueError as exc:
            log.warning("release %s: fusion gate unusable (%s); gated fusion falls back to %s",
                        version, exc, self._fallback.name)
            return self._fallback
