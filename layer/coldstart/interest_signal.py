"""Does the text state an interest at all? A character n-gram detector for "no signal".

Why
    The neighbours' vote reads a text through the encoder, and the encoder places a text that only
    *mentions* a category ("我哥是开出租车的", "去医院做了体检") next to users who *like* it: on the
    demo release, 17% of the no-interest half of the second dev set (data/eval/interests/dev2: 340
    texts, 80 of them mentioning a category word) got an answer, none of those with a single
    "no interest" user among its 10 neighbours. Whether a text states a liking, a habit or a
    following ("喜欢", "每周", "入坑", "…迷") or only reports ("换了", "被", "要去办") is carried by
    short function words that a small encoder trained for topics does not keep apart. A linear
    model over the text's character n-grams does: it is the issue's "no signal" reader, next to the
    calibrator's "how sure is the vote".

Model
    Features: the distinct character 1-3-grams inside the masked text's word segments
    (``coldstart.keyword_baseline.word_segments``: placeholders such as [PHONE] never form one;
    lower case), weighted 1 + ln(count) x idf and L2-normalised over the n-grams the model knows
    (scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` on the same analyzer). Logistic
    regression (``C``, classes balanced) on labelled texts: 1 = states at least one interest, 0 =
    states none (``tags: []``). ``log_odds(text)`` is its decision value; a text below
    ``threshold`` has no interest signal. Negation stays in the text: "不爱运动也不玩游戏" is
    evidence *against* an interest, which is what the detector should learn.

    Fitted by ``python -m infra calibrate --signal-data`` (``fit_interest_signal``, scikit-learn,
    batch side only) and stored inside the release's ``index/calibration.json``, so the Lambda and
    the kiosk read and apply it through the one serving core (``coldstart.voting.vote``); serving is
    this module alone (standard library, a few microseconds for a bio).

Privacy
    Only n-grams of at most 3 characters found in at least ``min_df`` (default 5) different masked
    training texts are kept: no personal identifier survives masking and that count, the same
    rule as the keyword table's n-grams.

Threshold
    Chosen by ``calibrate`` together with the confidence threshold: at most
    ``--max-signal-abstention`` of the in-interest calibration texts fall below it; the confidence
    threshold then spends what is left of the whole in-interest abstention budget.

Known weakness (measured, session 9)
    It is a veto, and n-grams learnt from one population's phrasing do not carry over to every
    writer: on a natural set by a fourth writer (data/eval/interests/dev3), trained on the users alone
    with a 2% share, it stopped 57 of the 600 in-interest texts (counted per abstention reason by a
    throwaway script over the served votes), some of them answers the vote was 0.97-0.99 sure of
    ("茅台一直拿着没卖", "轮毂排气都换过，改装党"); trained also on data/written.jsonl with a 1% share,
    dev3's in-interest abstention in all fell from 14.0% to 11.7% (make demo). Tried instead as a calibrator feature (no veto): dev3 in-interest
    abstention 10.2% instead of 14.0%, but dev2's no-interest abstention fell from 94.1% to 91.8% and
    the held-out ECE rose to 0.1003, over the publish gate (0.10), so the veto stayed (README, "Quality").
    Session 10: trained also on its own 2,984 written texts (data/signal.jsonl, four more writers), its
    ROC AUC (in- vs no-interest, a throwaway script) rose on every natural set (dev 0.9957 -> 0.9976, dev2
    0.9911 -> 0.9938, dev3 0.9695 -> 0.9755 with three of the four batches); with it the neighbours' own
    verdict stopped being a second veto (``Calibrator.neighbours_veto``), which lowered in-interest and raised
    no-interest abstention on dev, dev2 and dev3 alike (README, "Quality").

Python 3.9, standard library only.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from .keyword_baseline import word_segments  # the keyword table's cut: placeholders are not words

FORMAT_VERSION = 1
KIND = "char-ngram-logistic"
NGRAM_RANGE = (1, 3)


def char_ngrams(text: str, ngram_range: Tuple[int, int] = NGRAM_RANGE) -> Counter:
    """Counts of the character n-grams inside the text's word segments (never across two)."""
    low, high = ngram_range
    counts: Counter = Counter()
    for segment in word_segments(text):
        size = len(segment)
        for n in range(low, min(high, size) + 1):
            for i in range(size - n + 1):
                counts[segment[i:i + n]] += 1
    return counts


class InterestSignal:
    """A fitted detector; writes and reads its own part of ``calibration.json`` (``to_dict``/``from_dict``)."""

    def __init__(self, vocabulary: Mapping[str, Sequence[float]], intercept: float, threshold: float,
                 ngram_range: Sequence[int] = NGRAM_RANGE, info: Optional[Dict[str, Any]] = None):
        if len(ngram_range) != 2 or not 1 <= int(ngram_range[0]) <= int(ngram_range[1]) <= 8:
            raise ValueError("interest signal: ngram_range must be [low, high] with 1 <= low <= high <= 8")
        table: Dict[str, Tuple[float, float]] = {
            gram: (float(pair[0]), float(pair[1])) for gram, pair in vocabulary.items()}
        if not all(isinstance(g, str) and g for g in table) or \
                not all(math.isfinite(i) and i > 0 and math.isfinite(w) for i, w in table.values()):
            raise ValueError("interest signal: every n-gram needs a finite idf > 0 and a finite weight")
        if not (math.isfinite(float(intercept)) and math.isfinite(float(threshold))):
            raise ValueError("interest signal: intercept and threshold must be finite")
        self.vocabulary = table
        self.intercept = float(intercept)
        self.threshold = float(threshold)
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.info: Dict[str, Any] = dict(info or {})

    def log_odds(self, text: str) -> float:
        """The model's log-odds that the (masked) text states an interest."""
        vocab = self.vocabulary
        dot = 0.0
        norm = 0.0
        for gram, count in char_ngrams(text, self.ngram_range).items():
            entry = vocab.get(gram)
            if entry is None:
                continue
            value = (1.0 + math.log(count)) * entry[0]
            dot += value * entry[1]
            norm += value * value
        return self.intercept + (dot / math.sqrt(norm) if norm > 0.0 else 0.0)

    def says_none(self, log_odds: Optional[float]) -> bool:
        """True when a reading (``log_odds``; None: not read) falls under the threshold: no interest stated.
        The one rule: the vote applies it, and calibrate counts the texts it stops."""
        return log_odds is not None and log_odds < self.threshold

    def to_dict(self) -> Dict[str, Any]:
        # parallel lists, not a mapping of pairs: the Lambda parses ~30k entries on its first request, and
        # flat float lists parse and check in about half the time
        grams = sorted(self.vocabulary)
        return {"format": FORMAT_VERSION, "kind": KIND, "ngram_range": list(self.ngram_range),
                "intercept": self.intercept, "threshold": self.threshold, "info": self.info,
                "ngrams": grams, "idf": [round(self.vocabulary[g][0], 6) for g in grams],
                "weights": [round(self.vocabulary[g][1], 6) for g in grams]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "InterestSignal":
        if not isinstance(data, Mapping) or data.get("format") != FORMAT_VERSION or data.get("kind") != KIND:
            raise ValueError(f"not an interest signal of format {FORMAT_VERSION} ({KIND})")
        try:
            grams, idf, weights = data["ngrams"], data["idf"], data["weights"]
            if not (len(grams) == len(idf) == len(weights)) or len(set(grams)) != len(grams):
                raise ValueError("interest signal: ngrams, idf and weights differ in length or repeat an n-gram")
            return cls(dict(zip(grams, zip(idf, weights))), data["intercept"], data["threshold"], data["ngram_range"],
                       data.get("info"))
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"interest signal is malformed: {exc!r}") from None


# -- fitting (batch side: scikit-learn) ---------------------------------------------------------
def fit_interest_signal(texts: Sequence[str], states_interest: Sequence[bool], min_df: int = 5, c: float = 3.0,
                        ngram_range: Tuple[int, int] = NGRAM_RANGE,
                        info: Optional[Dict[str, Any]] = None) -> InterestSignal:
    """Fit on masked texts labelled True (states an interest) / False (none); threshold 0 until chosen."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = [int(bool(v)) for v in states_interest]
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    if len(set(labels)) < 2:
        raise ValueError("interest signal: the texts need both kinds (with and without an interest)")
    vectorizer = TfidfVectorizer(analyzer=lambda t: list(char_ngrams(t, ngram_range).elements()),
                                 min_df=min_df, sublinear_tf=True)
    matrix = vectorizer.fit_transform(list(texts))
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(matrix, labels)
    weights = model.coef_[0]
    vocabulary = {g: (float(vectorizer.idf_[j]), float(weights[j])) for g, j in vectorizer.vocabulary_.items()}
    meta = {"texts": len(labels), "with_interest": sum(labels), "min_df": min_df, "c": c, **(info or {})}
    fitted = InterestSignal(vocabulary, float(model.intercept_[0]), 0.0, ngram_range, meta)
    return InterestSignal.from_dict(fitted.to_dict())  # exactly what the file will hold (rounded), for the threshold
