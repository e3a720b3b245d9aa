"""The vote: nearest active users' tags -> a new user's interest profile, with a confidence.

Weights
    Neighbour i (cosine similarity s_i) votes with w_i = max(s_i, 0) ** ``sharpen`` if
    s_i >= ``min_similarity``, else 0. Negative cosines mean "unrelated", never "opposite
    interests", hence the clip; ``sharpen`` > 1 would let the closest neighbours dominate
    (default 1: plain similarity weighting, simple to explain).

Scores
    score(tag) = sum of w_i over neighbours carrying the tag / sum of all w_i, the
    similarity-weighted share of the voting neighbours that carry the tag, in [0, 1]. Users
    carry 1-3 tags, so scores do not sum to 1. Ranked by score, then by population frequency
    (the ItemTable's tag order), so ties are deterministic. Tags with score 0 are left out.

Confidence
    confidence = agreement x closeness, in [0, 1]:
    agreement = the top tag's score (how much the neighbourhood agrees);
    closeness = mean of clip(s_i, 0, 1) over all k neighbours, voting or not (how close the
    neighbourhood is; neighbours under the floor count as far, not as absent).
    A product, so either a split neighbourhood or a far one is enough to distrust the vote.

Fallback
    When there are no neighbours, the masked text is empty, or confidence <
    ``min_confidence``, the profile is the population's most common tags (share of users
    carrying each, ItemTable.tag_counts), ``fallback=True``, with the reason.

``min_confidence`` = 0.35, measured with the demo teacher (models/demo-teacher) on the 480
held-out bios against the 3,600 demo users: 10 *random* users as neighbours (at their real
similarities, median cosine 0.64) give confidence 0.23 on average, 0.36 at the 95th
percentile, so 0.35 sends ~95% of meaningless neighbourhoods to the fallback; the real
top-10 neighbourhoods (median cosine 0.96, median agreement 1.0) all clear it, and their
top tag is right 74% of the time (population fallback: 16%). On the demo teacher the
threshold hardly filters real neighbourhoods (the wrong ones agree just as much), so it is
a guard against unrelated neighbours, not a precision knob. Cosine scales depend on the
teacher: re-measure both numbers when the teacher changes (raw ERNIE [CLS] cosines are
high for everything, which would inflate closeness).

No text is ever part of a profile: tags, neighbour handles, similarities and a short explanation
(``why``) built from counts only.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from .items import ItemTable

__all__ = ["Neighbor", "Profile", "ProfileSettings", "TagScore", "fallback_profile", "vote"]

REASON_VOTE = "vote"
REASON_LOW_CONFIDENCE = "low_confidence"
REASON_NO_NEIGHBORS = "no_neighbors"
REASON_EMPTY_TEXT = "empty_text"

_FALLBACK_WHY = {
    REASON_NO_NEIGHBORS: "没有找到相近的用户",
    REASON_LOW_CONFIDENCE: "相近用户的兴趣不够一致",
    REASON_EMPTY_TEXT: "屏蔽个人信息后没有可用的文字",
}


@dataclass(frozen=True)
class ProfileSettings:
    k: int = 10  # neighbours that vote (the first k given, by similarity)
    min_confidence: float = 0.35
    fallback_top_n: int = 5
    min_similarity: float = 0.0  # floor: neighbours below it do not vote (but count in closeness)
    sharpen: float = 1.0  # weight exponent

    def __post_init__(self) -> None:
        if self.k < 1 or self.fallback_top_n < 1:
            raise ValueError("k and fallback_top_n must be >= 1")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError("min_confidence must be in [0, 1]")
        if self.sharpen <= 0:
            raise ValueError("sharpen must be > 0")


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

    def to_dict(self, expose_neighbors: bool = False) -> Dict[str, Any]:
        """JSON-ready: plain Python floats rounded to 4 decimals, no numpy types. Neighbours (opaque
        handles and similarities) only when an operator turned them on (COLDSTART_EXPOSE_NEIGHBORS)."""
        out = {
            "tags": [{"tag": t.tag, "score": round(float(t.score), 4)} for t in self.tags],
            "top_tag": self.top_tag,
            "confidence": round(float(self.confidence), 4),
            "fallback": bool(self.fallback),
            "reason": self.reason,
            "why": self.why,
        }
        if expose_neighbors:
            out["neighbors"] = [{"handle": n.handle, "similarity": round(float(n.similarity), 4)}
                                for n in self.neighbors]
        return out


def fallback_profile(items: ItemTable, reason: str, settings: ProfileSettings = DEFAULT_SETTINGS,
                     neighbors: Sequence[Neighbor] = (), confidence: float = 0.0) -> Profile:
    """The population's ``fallback_top_n`` most common tags, score = share of users carrying each."""
    total = float(len(items)) or 1.0
    top = heapq.nsmallest(settings.fallback_top_n, range(len(items.tag_names)),
                          key=lambda i: (-items.tag_counts[i], i))
    tags = tuple(TagScore(items.tag_names[i], items.tag_counts[i] / total) for i in top)
    names = "、".join(t.tag for t in tags)
    lead = _FALLBACK_WHY.get(reason)
    why = (f"{lead}，按全体用户最常见的兴趣推荐：{names}" if lead
           else f"按全体用户最常见的兴趣推荐：{names}")
    return Profile(tags=tags, top_tag=tags[0].tag if tags else None, confidence=float(confidence),
                   fallback=True, neighbors=tuple(neighbors), reason=reason, why=why)


def _cosine(s: Any) -> float:
    """A similarity as a plain float in [-1, 1]; NaN counts as 0 (unrelated)."""
    s = float(s)
    if -1.0 <= s <= 1.0:
        return s
    return 0.0 if s != s else (1.0 if s > 1.0 else -1.0)


def vote(neighbor_items: Sequence[int], similarities: Sequence[float], items: ItemTable,
         settings: ProfileSettings = DEFAULT_SETTINGS) -> Profile:
    """Similarity-weighted tag vote of the neighbours (item numbers in ``items``), see module doc.

    Neighbours are taken in order of similarity (stable), the first ``settings.k`` vote.
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
        for t in item_tags[item]:
            acc[t] = acc.get(t, 0.0) + w
            count[t] = count.get(t, 0) + 1
    closeness /= len(pairs)
    if not acc:
        return fallback_profile(items, REASON_LOW_CONFIDENCE, settings, neighbors, 0.0)

    ranked: List[Tuple[float, int]] = sorted([(-w / total, t) for t, w in acc.items()])
    confidence = min(max(-ranked[0][0] * closeness, 0.0), 1.0)  # agreement x closeness
    if confidence < settings.min_confidence:
        return fallback_profile(items, REASON_LOW_CONFIDENCE, settings, neighbors, confidence)
    names = items.tag_names
    top = ranked[0][1]
    return Profile(tags=tuple([TagScore(names[t], -neg) for neg, t in ranked]), top_tag=names[top],
                   confidence=confidence, fallback=False, neighbors=neighbors, reason=REASON_VOTE,
                   why=f"最相近的{voters}位用户中，{count[top]}位喜欢{names[top]}")
