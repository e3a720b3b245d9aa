"""The vote: nearest active users' tags -> a new user's interest profile, with a confidence,
or an honest "no signal" when the text or the neighbourhood says nothing about interests.

Weights
    Neighbour i (cosine similarity s_i) votes with w_i = max(s_i, 0) ** ``sharpen`` if
    s_i >= ``min_similarity``, else 0. Negative cosines mean "unrelated", never "opposite
    interests", hence the clip; ``sharpen`` > 1 would let the closest neighbours dominate
    (default 1: plain similarity weighting, simple to explain).

Scores
    score(tag) = sum of w_i over neighbours carrying the tag / sum of all w_i, the
    similarity-weighted share of the voting neighbours that carry the tag, in [0, 1]. Users
    carry 0-3 tags, so scores do not sum to 1 (and sum to less than 1 when some voters stated
    no interest). Ranked by score, then by population frequency (the ItemTable's tag order), so
    ties are deterministic. Tags with score 0 are left out.

Fusion with the text's keywords
    A calibrated release may carry a ``keyword_weight`` w (coldstart.calibration, fitted with the
    calibrator): the served ranking is then (1 - w) * score(tag) + w * the tag's share of the text's
    own keyword evidence (negated clauses left out), still in [0, 1]; ``why`` says when the text's
    words agreed. Without it (w = 0, older releases) the ranking is the vote's alone.

Negation and "no interest"
    The vote counts the neighbours' *labels*, never words of the text: a user who wrote
    "不爱运动，就喜欢追剧" carries 娱乐 only, so a newcomer who writes the same lands among users
    whose 体育 was never counted. Active users who stated no interest (tags []) vote for
    "nothing": their weighted share is ``no_interest_share``. A text whose calibrator's interest-signal
    detector (``coldstart.interest_signal``: the text's own character n-grams) reads it as stating no
    interest falls back with ``reason`` ``no_signal`` ("我哥是开出租车的" among users who like cars), and so
    does one whose ranking names no tag at all. The neighbours' own verdict (no-interest share at least the
    top tag's) stops it too on uncalibrated releases and on calibrators that keep that veto
    (``Calibrator.neighbours_veto``; ``states_no_interest`` is the one rule); otherwise it only lowers the
    calibrated confidence.

Confidence
    With a calibrator (``coldstart.calibration``, the release's ``index/calibration.json``):
    the calibrated probability that ``top_tag`` is one of the user's interests, from the vote's
    features (top share, margin, no-interest share, nearest and mean similarity) and the text's
    (length, keyword evidence); it falls back (``low_confidence``) below the calibrator's
    threshold. Without one (older releases) the uncalibrated score of before:
    agreement x closeness = the top tag's score x mean of clip(s_i, 0, 1) over all k neighbours,
    falling back below ``min_confidence``.

Fallback (``fallback: true``, ``about_user: false``)
    The tags are then the population's most common ones (share of users carrying each,
    ItemTable.tag_counts): exploration suggestions, *not* a statement about this user, and ``why``
    says so. ``reason``: ``no_signal`` (no letters left after masking PII, e.g. digits, emoji,
    only a phone number; a neighbourhood of users without interests; or words stating none), ``low_confidence``,
    ``no_neighbors``. ``confidence`` on a fallback is the withheld vote's (why it was withheld),
    0 when no vote ran.

``min_confidence`` = 0.35 (uncalibrated releases only), measured with the demo teacher on the
480 held-out bios: 10 *random* users as neighbours give confidence 0.23 on average, 0.36 at the
95th percentile, so 0.35 sends ~95% of meaningless neighbourhoods to the fallback; it does not
filter real neighbourhoods (the wrong ones agree just as much), which is why calibration exists.

No text is ever part of a profile: tags, neighbour handles, similarities and a short explanation
(``why``) built from counts only.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from .calibration import NO_EVIDENCE, TextEvidence, feature_row, fuse_scores
from .items import ItemTable
from .pii import PLACEHOLDERS

__all__ = ["Neighbor", "Profile", "ProfileSettings", "TagScore", "fallback_profile", "has_signal_words",
           "neighbours_say_none", "states_no_interest", "vote"]

REASON_VOTE = "vote"
REASON_LOW_CONFIDENCE = "low_confidence"
REASON_NO_NEIGHBORS = "no_neighbors"
REASON_NO_SIGNAL = "no_signal"
REASON_EMPTY_TEXT = "empty_text"  # kept for callers that still name it; serving now says no_signal

_FALLBACK_WHY = {
    REASON_NO_NEIGHBORS: "没有找到相近的用户",
    REASON_LOW_CONFIDENCE: "相近用户的兴趣不够一致，无法可靠判断你的兴趣",
    REASON_NO_SIGNAL: "文字中没有可判断兴趣的内容",
    REASON_EMPTY_TEXT: "屏蔽个人信息后没有可用的文字",
}
_NOT_ABOUT_USER = "以下只是全体用户最常见的兴趣，不是根据你的文字推荐的"

_PLACEHOLDER_WORDS = tuple(sorted(set(PLACEHOLDERS.values()), key=len, reverse=True))


def has_signal_words(text: str) -> bool:
    """False when the masked text has no letters at all (CJK or any script): nothing but digits,
    punctuation, emoji, symbols or masking placeholders. Such a text cannot state an interest,
    whatever its neighbours; no word lists, so nothing language-specific to maintain."""
    rest = text or ""
    for p in _PLACEHOLDER_WORDS:
        rest = rest.replace(p, " ")
    return any(ch.isalpha() for ch in rest)


@dataclass(frozen=True)
class ProfileSettings:
    k: int = 10  # neighbours that vote (the first k given, by similarity)
    min_confidence: float = 0.35  # uncalibrated releases only; a calibrator brings its own threshold
    fallback_top_n: int = 5
    min_similarity: float = 0.0  # floor: neighbours below it do not vote (but count in closeness)
    sharpen: float = 1.0  # weight exponent
    calibrator: Optional[Any] = field(default=None, compare=False, repr=False)  # coldstart.calibration.Calibrator

    def __post_init__(self) -> None:
        if self.k < 1 or self.fallback_top_n < 1:
            raise ValueError("k and fallback_top_n must be >= 1")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError("min_confidence must be in [0, 1]")
        if self.sharpen <= 0:
            raise ValueError("sharpen must be > 0")

    @property
    def threshold(self) -> float:
        """Below this confidence the profile falls back (low_confidence)."""
        return self.calibrator.threshold if self.calibrator is not None else self.min_confidence


DEFAULT_SETTINGS = ProfileSettings()


class Neighbor(NamedTuple):
    """An active user found near the new one (NamedTuple: ~5x cheaper to build than a frozen dataclass).
    ``handle`` is the item's opaque pseudonym from the release (coldstart.pseudonyms), never a user id."""

    handle: str
    similarity: float


class TagScore(NamedTuple):
    tag: str
    score: float


@dataclass(frozen=True)
class Profile:
    tags: Tuple[TagScore, ...]
    top_tag: Optional[str]
    confidence: float
    fallback: bool
    neighbors: Tuple[Neighbor, ...] = ()
    reason: str = REASON_VOTE
    why: str = field(default="")
    # False: ``tags`` are the population's most common interests, not a statement about this user
    about_user: bool = True
    # For evaluation and calibration, never serialised: the vote's ranking even when it was
    # withheld (a fallback), and the calibrator's feature row (None when no vote ran).
    guess: Tuple[TagScore, ...] = field(default=(), compare=False, repr=False)
    features: Optional[Dict[str, float]] = field(default=None, compare=False, repr=False)
    # the neighbours' vote shares alone, before the fusion with the text's keywords (the calibrate job fits
    # the fusion weight on them; equal to ``guess`` when the release fuses nothing)
    vote_shares: Tuple[TagScore, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self, expose_neighbors: bool = False) -> Dict[str, Any]:
        """JSON-ready: plain Python floats rounded to 4 decimals, no numpy types. Neighbours (opaque
        handles and similarities) only when an operator turned them on (COLDSTART_EXPOSE_NEIGHBORS)."""
        out = {
            "tags": [{"tag": t.tag, "score": round(float(t.score), 4)} for t in self.tags],
            "top_tag": self.top_tag,
            "confidence": round(float(self.confidence), 4),
            "fallback": bool(self.fallback),
            "about_user": bool(self.about_user),
            "reason": self.reason,
            "why": self.why,
        }
        if expose_neighbors:
            out["neighbors"] = [{"handle": n.handle, "similarity": round(float(n.similarity), 4)}
                                for n in self.neighbors]
        return out


def fallback_profile(items: ItemTable, reason: str, settings: ProfileSettings = DEFAULT_SETTINGS,
                     neighbors: Sequence[Neighbor] = (), confidence: float = 0.0,
                     guess: Sequence[TagScore] = (), features: Optional[Dict[str, float]] = None,
                     vote_shares: Sequence[TagScore] = ()) -> Profile:
    """The population's ``fallback_top_n`` most common tags, score = share of users carrying each,
    flagged ``about_user=False``; ``guess``/``features``: the withheld vote, when there was one."""
    total = float(len(items)) or 1.0
    top = heapq.nsmallest(settings.fallback_top_n, range(len(items.tag_names)),
                          key=lambda i: (-items.tag_counts[i], i))
    tags = tuple(TagScore(items.tag_names[i], items.tag_counts[i] / total) for i in top)
    names = "、".join(t.tag for t in tags)
    lead = _FALLBACK_WHY.get(reason)
    why = f"{lead}；{_NOT_ABOUT_USER}：{names}" if lead else f"{_NOT_ABOUT_USER}：{names}"
    return Profile(tags=tags, top_tag=tags[0].tag if tags else None, confidence=float(confidence),
                   fallback=True, neighbors=tuple(neighbors), reason=reason, why=why, about_user=False,
                   guess=tuple(guess), features=features, vote_shares=tuple(vote_shares))


def _cosine(s: Any) -> float:
    """A similarity as a plain float in [-1, 1]; NaN counts as 0 (unrelated)."""
    s = float(s)
    if -1.0 <= s <= 1.0:
        return s
    return 0.0 if s != s else (1.0 if s > 1.0 else -1.0)


def neighbours_say_none(no_interest_share: float, top_vote_share: Optional[float]) -> bool:
    """The neighbours' own verdict: users who stated no interest hold at least the top tag's (unfused) share.
    One rule for the vote and for calibrate, which counts the texts it stops."""
    return no_interest_share > 0.0 and (top_vote_share is None or no_interest_share >= top_vote_share)


def states_no_interest(calibrator: Any, no_interest_share: float, top_vote_share: Optional[float],
                       interest_log_odds: Optional[float], named: bool = True) -> bool:
    """``no_signal`` before any confidence threshold; one rule for the vote and for calibrate, which counts the
    texts it stops. ``top_vote_share``: the neighbours' top share, unfused (None: no neighbour named a tag);
    ``named``: the served ranking names a tag at all. Stops the text when nothing names a tag; when the
    neighbours' own verdict says none (``neighbours_say_none``) unless the calibrator turned that veto off
    (``Calibrator.neighbours_veto``); and when the calibrator's detector reads the text as stating no interest."""
    if not named:
        return True  # neither the neighbours nor the text name a tag: nothing to answer with
    if (calibrator is None or calibrator.neighbours_veto) and neighbours_say_none(no_interest_share, top_vote_share):
        return True
    signal = calibrator.signal if calibrator is not None else None
    # the text's own words state no interest, whatever its neighbours like
    return signal is not None and signal.says_none(interest_log_odds)


def vote(neighbor_items: Sequence[int], similarities: Sequence[float], items: ItemTable,
         settings: ProfileSettings = DEFAULT_SETTINGS, evidence: Optional[TextEvidence] = None) -> Profile:
    """Similarity-weighted tag vote of the neighbours (item numbers in ``items``), see module doc.

    Neighbours are taken in order of similarity (stable), the first ``settings.k`` vote.
    ``evidence``: what the text itself shows (``coldstart.calibration.text_evidence``), for the
    calibrator; None counts as an empty text's.
    """
    if len(neighbor_items) != len(similarities):
        raise ValueError("neighbor_items and similarities differ in length")
    pairs = sorted(zip([_cosine(s) for s in similarities], [int(i) for i in neighbor_items]),
                   key=lambda p: -p[0])[: settings.k]
    if not pairs:
        return fallback_profile(items, REASON_NO_NEIGHBORS, settings)
    handles = items.handles
    item_tags = items.item_tags
    neighbors = tuple([Neighbor(handles[i], s) for s, i in pairs])

    floor = settings.min_similarity
    power = settings.sharpen
    acc: Dict[int, float] = {}
    count: Dict[int, int] = {}
    total = 0.0
    no_interest = 0.0
    voters = 0
    closeness = 0.0
    for s, item in pairs:
        if s <= 0.0:
            continue  # clipped to 0: adds nothing to closeness, never votes
        closeness += s
        if s < floor:
            continue
        w = s if power == 1.0 else s ** power
        total += w
        voters += 1
        row = item_tags[item]
        if len(row) == 0:
            no_interest += w  # a user who stated no interest votes for "nothing"
        for t in row:
            acc[t] = acc.get(t, 0.0) + w
            count[t] = count.get(t, 0) + 1
    closeness /= len(pairs)
    if total <= 0.0:
        return fallback_profile(items, REASON_LOW_CONFIDENCE, settings, neighbors, 0.0)

    names = items.tag_names
    ranked: List[Tuple[float, int]] = sorted([(-w / total, t) for t, w in acc.items()])
    shares = tuple([TagScore(names[t], -neg) for neg, t in ranked])
    no_share = no_interest / total
    evidence = evidence or NO_EVIDENCE
    calibrator = settings.calibrator
    weight = calibrator.keyword_weight if calibrator is not None else 0.0
    guess = shares if weight <= 0.0 else \
        tuple([TagScore(t, v) for t, v in fuse_scores(shares, evidence.keyword_scores, weight)])
    top_share = guess[0].score if guess else 0.0
    features = feature_row(top_share, guess[1].score if len(guess) > 1 else 0.0, no_share, pairs[0][0],
                           closeness, guess[0].tag if guess else None, evidence)
    if calibrator is not None:
        confidence = calibrator.confidence(features) if guess else 0.0
    else:
        confidence = min(max(top_share * closeness, 0.0), 1.0)  # agreement x closeness (uncalibrated)
    if states_no_interest(calibrator, no_share, shares[0].score if shares else None, evidence.interest_log_odds,
                          bool(guess)):
        return fallback_profile(items, REASON_NO_SIGNAL, settings, neighbors, confidence, guess, features, shares)
    if confidence < settings.threshold:
        return fallback_profile(items, REASON_LOW_CONFIDENCE, settings, neighbors, confidence, guess, features,
                                shares)
    top = guess[0].tag
    why = f"最相近的{voters}位用户中，{next((n for t, n in count.items() if names[t] == top), 0)}位喜欢{top}"
    if evidence.keyword_scores.get(top, 0.0) > 0.0 and weight > 0.0:
        why += f"；文字中也有与{top}相关的词"
    return Profile(tags=guess, top_tag=top, confidence=confidence, fallback=False, neighbors=neighbors,
                   reason=REASON_VOTE, why=why, guess=guess, features=features, vote_shares=shares)
