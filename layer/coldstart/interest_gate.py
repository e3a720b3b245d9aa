"""One learnt "does this text state an interest?" decision, instead of two hard vetoes.

Why
    Until session 10 a calibrated vote fell back with ``reason`` ``no_signal`` on either of two rules:
    the neighbours' own verdict (users who stated no interest hold at least the top tag's share,
    ``coldstart.voting.neighbours_say_none``) or the text's character n-gram detector
    (``coldstart.interest_signal``) under its threshold. Each rule alone is blind to what the other
    sees: on the fourth writer's natural dev set (data/eval/interests/dev3) the neighbours' verdict
    stopped 45 of its 600 in-interest texts, many with a right guess the calibrator was fairly sure of
    ("学车中，科目二挂了一次" 汽车 0.65, "小时候拆收音机，长大了拆手机" 科技 0.65), and the detector
    stopped 14 more, some at 0.97-0.99 ("茅台一直拿着没卖"). The gate weighs the same evidence
    together: a logistic model over the detector's log-odds, the neighbours' no-interest and top
    shares, the nearest similarity, the text's keyword mass and the calibrated confidence.

Measured (session 10, a throwaway script over the served votes of the demo release, not in the
repository, so indicative; the gate fitted on data/calibration.jsonl + the dev set, its threshold at 1% of
data/calibration.jsonl's in-interest texts, the confidence threshold then re-chosen for 3% in all as
the demo does), in-interest / no-interest abstention, two vetoes -> gate:
    dev2 3.7% / 96.5% -> 3.7% / 96.8%;  dev3 11.7% / 95.0% -> 10.3% / 95.5%;
    held-out split 2.6% / 94.4% -> 2.3% / 94.4%;  dev (fitted on) 4.0% / 98.9% -> 3.6% / 100%.
The figures ``make demo`` prints are in README, "Quality".

Model
    ``GATE_FEATURES``, standardised, L2-penalised logistic regression (the calibrator's own fitting,
    ``coldstart.calibration.fit_logistic``), label 1 = the text states an interest. ``log_odds(row)`` is
    its decision value; a text below ``threshold`` states none. Fitted by ``python -m infra calibrate``
    whenever it fits a detector (``--signal-data``; ``--no-gate``: the two vetoes of before) and stored
    in ``index/calibration.json`` next to the detector; applied by ``coldstart.voting.vote`` on the
    Lambda and the kiosk alike. A vote whose neighbours and text name no tag at all still says
    ``no_signal`` without asking the gate: there is nothing to answer with.

Python 3.9, standard library only (a dozen multiplications per request).
"""
from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional, Sequence

FORMAT_VERSION = 1
KIND = "logistic"

#: what the gate reads, by name: the detector's reading, the neighbours' vote (unfused: the neighbours' own
#: verdict), the text's keyword mass (calibration feature) and the calibrated confidence of the served answer
GATE_FEATURES = ("interest_log_odds", "no_interest_share", "top_vote_share", "top_similarity", "keyword_mass",
                 "confidence")


def gate_row(vote_features: Mapping[str, float], top_vote_share: float, confidence: float,
             interest_log_odds: Optional[float]) -> Dict[str, float]:
    """The gate's input: ``vote_features`` is the calibrator's feature row (coldstart.calibration.feature_row);
    a text the detector did not read (None) counts as its mean (no information)."""
    return {"interest_log_odds": float("nan") if interest_log_odds is None else float(interest_log_odds),
            "no_interest_share": float(vote_features["no_interest_share"]),
            "top_vote_share": float(top_vote_share),
            "top_similarity": float(vote_features["top_similarity"]),
            "keyword_mass": float(vote_features["keyword_mass"]),
            "confidence": float(confidence)}


class InterestGate:
    """A fitted gate; writes and reads its own part of ``calibration.json`` (``to_dict``/``from_dict``)."""

    def __init__(self, features: Sequence[str], mean: Sequence[float], scale: Sequence[float],
                 weights: Sequence[float], bias: float, threshold: float, info: Optional[Dict[str, Any]] = None):
        if not (len(features) == len(mean) == len(scale) == len(weights)) or not features:
            raise ValueError("interest gate: features, mean, scale and weights differ in length or are empty")
        unknown = [f for f in features if f not in GATE_FEATURES]
        if unknown:
            raise ValueError(f"interest gate: unknown feature(s) {', '.join(unknown)}; "
                             f"this coldstart knows {', '.join(GATE_FEATURES)}")
        if any(not math.isfinite(float(v)) for v in list(mean) + list(weights) + [bias, threshold]) or \
                any(not (float(s) > 0 and math.isfinite(float(s))) for s in scale):
            raise ValueError("interest gate: parameters must be finite and scales > 0")
        self.features = tuple(features)
        self.mean = tuple(float(v) for v in mean)
        self.scale = tuple(float(v) for v in scale)
        self.weights = tuple(float(v) for v in weights)
        self.bias = float(bias)
        self.threshold = float(threshold)
        self.info: Dict[str, Any] = dict(info or {})

    def log_odds(self, row: Mapping[str, float]) -> float:
        """The gate's log-odds that the text states an interest (missing or NaN features count as their mean)."""
        from .calibration import linear_score

        return linear_score(row, self.features, self.mean, self.scale, self.weights, self.bias)

    def says_none(self, row: Mapping[str, float]) -> bool:
        """The one rule: the vote applies it, and calibrate counts the texts it stops."""
        return self.log_odds(row) < self.threshold

    def to_dict(self) -> Dict[str, Any]:
        return {"format": FORMAT_VERSION, "kind": KIND, "features": list(self.features), "mean": list(self.mean),
                "scale": list(self.scale), "weights": list(self.weights), "bias": self.bias,
                "threshold": self.threshold, "info": self.info}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "InterestGate":
        if not isinstance(data, Mapping) or data.get("format") != FORMAT_VERSION or data.get("kind") != KIND:
            raise ValueError(f"not an interest gate of format {FORMAT_VERSION} ({KIND})")
        try:
            return cls(data["features"], data["mean"], data["scale"], data["weights"], data["bias"],
                       data["threshold"], data.get("info"))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"interest gate is malformed: {exc!r}") from None


# -- fitting (batch side; numpy) ----------------------------------------------------------------
def fit_interest_gate(rows: Sequence[Mapping[str, float]], states_interest: Sequence[bool], l2: float = 1.0,
                      info: Optional[Dict[str, Any]] = None) -> InterestGate:
    """Fit on gate rows (``gate_row``) labelled True (states an interest) / False; threshold 0 until chosen.
    Raises ValueError when the rows hold only one kind."""
    from .calibration import fit_logistic

    labels = [int(bool(v)) for v in states_interest]
    if len(rows) != len(labels):
        raise ValueError("rows and labels differ in length")
    if len(set(labels)) < 2:
        raise ValueError("interest gate: the texts need both kinds (with and without an interest)")
    if any(r["interest_log_odds"] != r["interest_log_odds"] for r in rows):
        raise ValueError("interest gate: every row needs the detector's reading")
    mean, scale, weights, bias = fit_logistic(rows, labels, GATE_FEATURES, l2)
    meta = {"rows": len(labels), "with_interest": sum(labels), "l2": l2, **(info or {})}
    return InterestGate(GATE_FEATURES, mean, scale, weights, bias, 0.0, meta)
