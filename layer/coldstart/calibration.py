"""Calibrated confidence: the probability that a profile's ``top_tag`` is one of the user's interests.

Why
    The vote's own number (agreement x closeness) is not a probability: on the demo release
    (issue 14) 211 of 278 held-out answers carried >= 0.95 and were right 76% of the time, and
    "asdfghjkl" got 科技 at 0.97. A small logistic model over what the vote and the text show
    turns those signals into P(top tag right), fitted by the pipeline (``python -m infra
    calibrate``) on a calibration split, shipped in the release as ``index/calibration.json``
    and applied by the one serving core (``coldstart.voting.vote``) on the Lambda and on the
    kiosk alike.

Features (``FEATURES``; every one is computed the same way at fit time and at serving time)
    top_share          the top tag's similarity-weighted vote share, in [0, 1]
    margin             top share minus the second tag's share (0 when only one tag got votes)
    no_interest_share  weighted share of voting neighbours who stated no interest (tags [])
    top_similarity     cosine of the nearest neighbour
    mean_similarity    mean clipped cosine over the k neighbours ("closeness")
    log_chars          log(1 + letters and digits in the masked text): "你好" vs a real bio
    keyword_mass       log(1 + summed weights of the release's TF-IDF keywords found in the text):
                       greetings and filler match almost none (dev set: 73% of no-interest texts
                       match nothing, 18% of in-interest texts)
    keyword_agreement  the keyword weight of the vote's top tag / all matched keyword weight
                       (0 without keywords): two independent readers agreeing

Model
    Logistic regression on standardised features with a small L2 penalty, fitted by Newton's
    method (IRLS) in numpy: a dozen parameters, so a few hundred rows fit it without
    overfitting, and Platt scaling is the special case of one feature. The calibration rows are
    in-interest texts (label 1 when the vote's top tag is one of the text's tags) and, when the
    split has them, no-interest texts (label 0: any tag is wrong for them), so the probability
    falls where the texts say nothing.

Fusion with the text's own keywords (``keyword_weight``)
    The neighbours' vote reads the text through the encoder only; on natural phrasing the demo
    student misses entity names and wording its population never showed ("原神冒险等级60", "Steam库存
    五百多个") that the release's keyword table (``coldstart.keyword_baseline``) does know. The served
    ranking is therefore a convex mix of the two readers, per tag::

        score(tag) = (1 - w) * vote_share(tag) + w * keyword_share(tag)

    keyword_share = the tag's summed TF-IDF keyword weight / all matched weight, over the text with
    its negated clauses left out ("不爱运动，就喜欢追剧": 运动 is no evidence for 体育); 0 for every tag
    when no keyword matches (the vote alone, scaled by 1 - w). Both shares are in [0, 1], so scores
    are. ``w`` is fitted with the calibrator (``choose_keyword_weight``: the best top-1 on the
    in-interest calibration rows over a grid) and stored in ``calibration.json``; 0 (older files)
    is the vote alone. Measured on the demo release (the calibrate job's rows, dev = the independent
    dev set): see README, "Profile quality".

"No signal" before the threshold (``coldstart.voting.states_no_interest``)
    With a detector (``signal``, coldstart.interest_signal) a text it reads as stating no interest falls
    back (``no_signal``); ``neighbours_veto`` says whether the neighbours' own verdict (users who stated no
    interest hold at least the top tag's share) does too. Since session 10 ``calibrate`` turns it off when
    it fits a detector: trained on enough written text, the detector judges the text better than its
    neighbourhood does, and the neighbours' no-interest share still lowers the confidence (a feature).

Abstention threshold
    ``threshold``: a profile whose calibrated confidence is below it falls back (``reason``
    ``low_confidence``). Chosen at fit time on the calibration rows (``choose_threshold``): the
    highest threshold that makes at most ``max_in_interest_abstention`` (default 5%) of the
    in-interest rows abstain, which also abstains on as many no-interest rows as that allows.

Python 3.9, numpy only; serving scores one row with plain floats (a few microseconds).
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from .release.layout import CALIBRATION as CALIBRATION_FILE, INDEX_DIR  # the names live in the release layout

FORMAT_VERSION = 1

#: the grid ``choose_keyword_weight`` searches
KEYWORD_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)

FEATURES = ("top_share", "margin", "no_interest_share", "top_similarity", "mean_similarity",
            "log_chars", "keyword_mass", "keyword_agreement")


class TextEvidence(NamedTuple):
    """What the masked text itself shows, next to its neighbours: computed once per request."""

    chars: int                          # letters and digits (placeholders excluded)
    keyword_scores: Mapping[str, float]  # per tag, summed TF-IDF keyword weights found in the text
    interest_log_odds: Optional[float] = None  # coldstart.interest_signal's reading; None: no detector


NO_EVIDENCE = TextEvidence(0, {})


def count_word_chars(text: str) -> int:
    from .keyword_baseline import word_segments  # the same cut as the keywords: placeholders are not words

    return sum(len(s) for s in word_segments(text))


def text_evidence(text: str, keywords: Any = None, signal: Any = None) -> TextEvidence:
    """``keywords``: the release's ``KeywordProfiler`` (index/keywords.json), or None; ``signal``: the
    calibrator's ``InterestSignal``, or None."""
    from .keyword_baseline import without_negated_clauses

    scores = keywords.score(without_negated_clauses(text))[0] if keywords is not None else {}
    return TextEvidence(count_word_chars(text), scores, signal.log_odds(text) if signal is not None else None)


def feature_row(top_share: float, second_share: float, no_interest_share: float, top_similarity: float,
                mean_similarity: float, top_tag: Optional[str], evidence: TextEvidence) -> Dict[str, float]:
    """The calibrator's input, by name (see the module doc)."""
    kw = evidence.keyword_scores
    kw_total = float(sum(kw.values())) if kw else 0.0
    return {
        "top_share": float(top_share),
        "margin": float(top_share - second_share),
        "no_interest_share": float(no_interest_share),
        "top_similarity": float(top_similarity),
        "mean_similarity": float(mean_similarity),
        "log_chars": math.log1p(max(evidence.chars, 0)),
        "keyword_mass": math.log1p(kw_total),
        "keyword_agreement": (float(kw.get(top_tag, 0.0)) / kw_total) if kw_total > 0 and top_tag else 0.0,
    }


def fuse_scores(vote_shares: Sequence[Tuple[str, float]], keyword_scores: Mapping[str, float],
                keyword_weight: float) -> List[Tuple[str, float]]:
    """The served ranking (see the module doc): (tag, score) best first; ties keep the vote's order, then
    the keyword table's. ``vote_shares`` is the vote's ranking, best first."""
    if keyword_weight <= 0.0:
        return [(t, float(v)) for t, v in vote_shares]
    total = float(sum(keyword_scores.values())) if keyword_scores else 0.0
    mixed: Dict[str, float] = {t: (1.0 - keyword_weight) * float(v) for t, v in vote_shares}
    if total > 0.0:
        for t, v in keyword_scores.items():
            mixed[t] = mixed.get(t, 0.0) + keyword_weight * float(v) / total
    order = {t: i for i, (t, _) in enumerate(vote_shares)}
    return sorted(mixed.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))


def choose_keyword_weight(vote_shares: Sequence[Sequence[Tuple[str, float]]],
                          keyword_scores: Sequence[Mapping[str, float]], tags: Sequence[Sequence[str]],
                          grid: Sequence[float] = KEYWORD_WEIGHTS) -> Tuple[float, Dict[float, float]]:
    """The weight of the grid whose fused top tag is right most often on the in-interest rows (``tags``
    non-empty); ties go to the smaller weight. Returns (weight, top-1 per weight)."""
    rows = [(v, k, t) for v, k, t in zip(vote_shares, keyword_scores, tags) if t and (v or k)]
    if not rows:
        return 0.0, {}
    accuracy: Dict[float, float] = {}
    for w in grid:
        right = 0
        for v, k, t in rows:
            ranking = fuse_scores(v, k, w)
            right += bool(ranking) and ranking[0][0] in t
        accuracy[float(w)] = right / len(rows)
    best = max(accuracy.values())
    return min(w for w, a in accuracy.items() if a == best), accuracy


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class Calibrator:
    """A fitted logistic calibrator; writes and reads its own file (``calibration.json``)."""

    def __init__(self, features: Sequence[str], mean: Sequence[float], scale: Sequence[float],
                 weights: Sequence[float], bias: float, threshold: float,
                 info: Optional[Dict[str, Any]] = None, keyword_weight: float = 0.0, signal: Any = None,
                 neighbours_veto: bool = True):
        if not (len(features) == len(mean) == len(scale) == len(weights)):
            raise ValueError("calibrator: features, mean, scale and weights differ in length")
        unknown = [f for f in features if f not in FEATURES]
        if unknown:
            raise ValueError(f"calibrator: unknown feature(s) {', '.join(unknown)}; this coldstart knows {', '.join(FEATURES)}")
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError("calibrator: threshold must be in [0, 1]")
        if not 0.0 <= float(keyword_weight) < 1.0:
            raise ValueError("calibrator: keyword_weight must be in [0, 1)")
        if any(not math.isfinite(float(v)) for v in list(mean) + list(weights) + [bias]) or \
                any(not (float(s) > 0 and math.isfinite(float(s))) for s in scale):
            raise ValueError("calibrator: parameters must be finite and scales > 0")
        self.features = tuple(features)
        self.mean = tuple(float(v) for v in mean)
        self.scale = tuple(float(v) for v in scale)
        self.weights = tuple(float(v) for v in weights)
        self.bias = float(bias)
        self.threshold = float(threshold)
        self.keyword_weight = float(keyword_weight)  # the vote's fusion with the text's keywords (module doc)
        self.signal = signal  # coldstart.interest_signal.InterestSignal: the "no signal" detector, or None
        # True: the neighbours' own "no interest" verdict stops a vote (coldstart.voting.states_no_interest); files
        # without the key (before session 10) keep it
        self.neighbours_veto = bool(neighbours_veto)
        self.info: Dict[str, Any] = dict(info or {})

    # -- serving ---------------------------------------------------------------------------
    def confidence(self, row: Mapping[str, float]) -> float:
        """P(top tag right) for one feature row; in [0, 1]. Missing features count as their mean."""
        z = self.bias
        for name, m, s, w in zip(self.features, self.mean, self.scale, self.weights):
            value = row.get(name, m)
            if value != value:  # NaN: no information, as the mean
                value = m
            z += w * (value - m) / s
        return _sigmoid(z)

    def confidences(self, rows: Sequence[Mapping[str, float]]) -> List[float]:
        return [self.confidence(r) for r in rows]

    # -- files (sentence-transformers style: this class writes and reads them) ---------------
    def to_dict(self) -> Dict[str, Any]:
        out = {"format": FORMAT_VERSION, "kind": "logistic", "features": list(self.features),
               "mean": list(self.mean), "scale": list(self.scale), "weights": list(self.weights),
               "bias": self.bias, "threshold": self.threshold, "keyword_weight": self.keyword_weight,
               "neighbours_veto": self.neighbours_veto, "info": self.info}
        if self.signal is not None:
            out["interest_signal"] = self.signal.to_dict()
        return out

    def save(self, path: Union[str, Path]) -> Path:
        """Write ``calibration.json`` (``path`` is the file or its directory) atomically."""
        path = Path(path)
        if path.is_dir():
            path = path / CALIBRATION_FILE
        from .release.files import atomic_write_json

        atomic_write_json(path, self.to_dict(), indent=1)
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Calibrator":
        if not isinstance(data, Mapping) or data.get("format") != FORMAT_VERSION or data.get("kind") != "logistic":
            raise ValueError(f"not a calibration file of format {FORMAT_VERSION} (logistic)")
        from .interest_signal import InterestSignal

        try:
            signal = InterestSignal.from_dict(data["interest_signal"]) if data.get("interest_signal") is not None else None
            veto = data.get("neighbours_veto", True)
            if not isinstance(veto, bool):
                raise TypeError("neighbours_veto must be true or false")
            return cls(data["features"], data["mean"], data["scale"], data["weights"], data["bias"],
                       data["threshold"], data.get("info"), float(data.get("keyword_weight", 0.0)), signal, veto)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"calibration file is malformed: {exc!r}") from None

    @classmethod
    def load(cls, path: Union[str, Path]) -> "Calibrator":
        path = Path(path)
        if path.is_dir():
            path = path / CALIBRATION_FILE
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    @classmethod
    def for_release_dir(cls, root: Union[str, Path]) -> Optional["Calibrator"]:
        """The release's ``index/calibration.json``, or None when it ships none (uncalibrated)."""
        path = Path(root) / INDEX_DIR / CALIBRATION_FILE
        return cls.load(path) if path.is_file() else None

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode("utf-8")).hexdigest()


# -- fitting (batch side; numpy) -------------------------------------------------------------
def fit_logistic(rows: Sequence[Mapping[str, float]], labels: Sequence[int],
                 features: Sequence[str] = FEATURES, l2: float = 1.0, iterations: int = 50):
    """(mean, scale, weights, bias) of an L2-penalised logistic regression, by Newton's method.

    ``l2`` penalises the weights of the standardised features (not the bias): 1.0 on a few
    hundred rows keeps collinear features (top_share and margin) from trading huge weights."""
    import numpy as np

    x = np.array([[float(r.get(f, 0.0)) for f in features] for r in rows], dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if len(x) == 0:
        raise ValueError("no calibration rows")
    if len(set(y.tolist())) < 2:
        raise ValueError("calibration rows are all right or all wrong: nothing to calibrate against")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0  # a constant feature (e.g. no_interest_share on a population without such users)
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], float(l2))
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -35, 35)))
        grad = z.T @ (p - y) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return mean.tolist(), scale.tolist(), w[:-1].tolist(), float(w[-1])


def choose_threshold(confidences: Sequence[float], in_interest: Sequence[bool],
                     max_in_interest_abstention: float = 0.05, abstaining_anyway: int = 0) -> float:
    """The highest threshold under which at most ``max_in_interest_abstention`` of the in-interest
    rows fall (a row abstains when its confidence is strictly below the threshold). ``abstaining_anyway``:
    in-interest texts not among the rows that abstain whatever the threshold (no vote ran, nothing to rank);
    they count in the share and are spent first."""
    ins = sorted(c for c, i in zip(confidences, in_interest) if i)
    if not ins:
        return 0.0
    allowed = int(math.floor(max_in_interest_abstention * (len(ins) + abstaining_anyway) + 1e-9)) - abstaining_anyway
    if allowed <= 0:
        return float(ins[0])  # nobody more may abstain
    # abstaining on the `allowed` least confident in-interest rows: threshold = the next one's confidence
    return float(ins[min(allowed, len(ins) - 1)]) if allowed < len(ins) else 1.0


def out_of_fold_confidences(rows: Sequence[Mapping[str, float]], labels: Sequence[int],
                            features: Sequence[str] = FEATURES, l2: float = 1.0, folds: int = 5,
                            seed: int = 0) -> List[float]:
    """Each row's confidence from a calibrator fitted on the other folds (rows dealt to ``folds`` folds
    in a seeded shuffle). The threshold is chosen on these: in-sample confidences are optimistic. (On the
    demo's dev set the out-of-fold threshold barely differs, 0.539 vs 0.538, and both abstained on 12% of the
    held-out split's in-interest texts: dev is text the encoder reads well. What helps there is choosing on
    other text, ``calibrate --threshold-data``; README "Quality".)"""
    import random

    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    out = [0.0] * len(rows)
    for k in range(folds):
        held = set(order[k::folds])
        train = [i for i in range(len(rows)) if i not in held]
        mean, scale, weights, bias = fit_logistic([rows[i] for i in train], [labels[i] for i in train], features, l2)
        model = Calibrator(features, mean, scale, weights, bias, 0.0)
        for i in held:
            out[i] = model.confidence(rows[i])
    return out


def fit_calibrator(rows: Sequence[Mapping[str, float]], labels: Sequence[int], in_interest: Sequence[bool],
                   features: Sequence[str] = FEATURES, l2: float = 1.0,
                   max_in_interest_abstention: float = 0.05, threshold: Optional[float] = None,
                   info: Optional[Dict[str, Any]] = None, keyword_weight: float = 0.0) -> Calibrator:
    mean, scale, weights, bias = fit_logistic(rows, labels, features, l2)
    model = Calibrator(features, mean, scale, weights, bias, 0.0, info, keyword_weight)
    if threshold is None:
        try:
            scored = out_of_fold_confidences(rows, labels, features, l2)
        except ValueError:  # a fold with one label only (tiny data): the in-sample confidences
            scored = model.confidences(rows)
        threshold = choose_threshold(scored, in_interest, max_in_interest_abstention)
    model.threshold = float(threshold)
    return model
