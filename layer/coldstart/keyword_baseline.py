"""The keyword baseline (the approach the seed article compares against): a TF-IDF table of
character n-grams per tag, and a profiler that scores a new text by the n-grams it contains.

Build (``python -m infra keywords``): each tag is one "document", the masked, normalised texts
of the active users carrying it, concatenated. For every character n-gram (default 2-3 chars,
only letters/digits, placeholders and punctuation never form one):
    tf(g, tag)  = count of g in the tag's texts / number of n-grams in them
    idf(g)      = ln(T / df(g)), T tags, df(g) = tags whose texts contain g
    weight      = tf * idf, then divided by the tag's largest weight (top n-gram = 1.0)
An n-gram found under every tag has idf 0 and is never a keyword. The ``top_n`` heaviest per
tag are kept in ``keywords.json``, shipped inside the release as ``index/keywords.json``
(``publish`` uploads it when the index directory holds one).

Profile: the text's distinct n-grams are looked up; per tag the weights of the matched
keywords are summed; score(tag) = sum(tag) / sum over tags (in [0, 1], summing to 1);
confidence = the top tag's score (how unambiguous the keywords are). No match, or a release
without ``keywords.json``, gives the population fallback (``reason`` "no_keywords" /
"no_keyword_table"). Same ``Profile`` shape as the semantic vote, neighbours empty, and, like
it, no text in the profile: ``why`` only counts matched keywords.

Python 3.9, standard library only.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from .items import ItemTable
from .pii import PLACEHOLDERS
from .preprocess import PREPROCESS_VERSION
from .voting import DEFAULT_SETTINGS, Profile, ProfileSettings, TagScore, fallback_profile
from .release.layout import INDEX_DIR, KEYWORDS as KEYWORDS_FILE  # the name lives in the release layout

REASON_KEYWORDS = "keywords"
REASON_NO_KEYWORDS = "no_keywords"
REASON_NO_TABLE = "no_keyword_table"
FORMAT_VERSION = 1

_PLACEHOLDERS = tuple(sorted(set(PLACEHOLDERS.values()), key=len, reverse=True))


def word_segments(text: str) -> List[str]:
    """Runs of letters/digits, with masking placeholders cut out (they are not words)."""
    for p in _PLACEHOLDERS:
        text = text.replace(p, " ")
    out: List[str] = []
    run: List[str] = []
    for ch in text:
        if ch.isalnum():
            run.append(ch.lower())
        elif run:
            out.append("".join(run))
            run = []
    if run:
        out.append("".join(run))
    return out


# A clause that negates or dismisses an interest ("不爱运动", "对游戏没什么兴趣", "出门旅游嫌累", "奶茶甜品全戒了"):
# its words are evidence *against* the tag, so the text evidence the vote is fused with leaves it out. The
# neighbours' vote needs no such list (it counts labels, see coldstart.voting); the lexical reader does.
_NEGATION_RE = re.compile("不爱|不喜欢|不太喜欢|不太爱|不怎么|没兴趣|没什么兴趣|没啥兴趣|不感兴趣|提不起兴趣|兴趣不大|不追|不玩|不碰"
                          "|无感|讨厌|嫌|不太会|不会|不懂|无所谓|不是.{0,4}(?:党|迷|粉)|戒了|不再"
                          "|从不|从来不|从没|不看|不听|不关心|不关注|不讲究|不在乎|一概不")
# where a clause ends: punctuation, and the turn words after which the liked thing comes ("不爱运动，就喜欢追剧")
_CLAUSE_RE = re.compile("[，,。；;！!？?\n~～、]|但是|但|不过|而是|反而|更喜欢|更爱|只喜欢|就喜欢|倒是")


def without_negated_clauses(text: str) -> str:
    """``text`` without its clauses that negate an interest (joined by "，": n-grams never cross a cut)."""
    if _NEGATION_RE.search(text) is None:
        return text
    return "，".join(c for c in _CLAUSE_RE.split(text) if _NEGATION_RE.search(c) is None)


def char_ngrams(text: str, ngram: Tuple[int, int] = (2, 3)) -> List[str]:
    grams: List[str] = []
    lo, hi = ngram
    for seg in word_segments(text):
        for n in range(lo, hi + 1):
            grams.extend(seg[i:i + n] for i in range(len(seg) - n + 1))
    return grams


def build_keywords(texts: Sequence[str], tags: Sequence[Sequence[str]], ngram: Tuple[int, int] = (2, 3),
                   top_n: int = 1000, min_count: int = 2) -> Dict:
    """The keyword table from already masked/normalised texts and their users' tags."""
    per_tag: Dict[str, Counter] = {}
    for text, row in zip(texts, tags):
        grams = char_ngrams(text, ngram)
        for t in set(row):
            per_tag.setdefault(t, Counter()).update(grams)
    n_tags = len(per_tag)
    df: Counter = Counter()
    for counts in per_tag.values():
        df.update(counts.keys())
    table: Dict[str, List[List]] = {}
    for tag in sorted(per_tag):
        counts = per_tag[tag]
        total = float(sum(counts.values())) or 1.0
        scored = [(c / total * math.log(n_tags / df[g]), g) for g, c in counts.items()
                  if c >= min_count and df[g] < n_tags]
        scored.sort(key=lambda x: (-x[0], x[1]))
        top = scored[:top_n]
        if not top:
            continue
        peak = top[0][0]
        table[tag] = [[g, round(w / peak, 4)] for w, g in top]
    return {"format": FORMAT_VERSION, "ngram": list(ngram), "preprocess": PREPROCESS_VERSION,
            "users": len(texts), "tags": table}


class KeywordProfiler:
    def __init__(self, table: Dict):
        if table.get("format") != FORMAT_VERSION:
            raise ValueError(f"keywords table format {table.get('format')!r} is not {FORMAT_VERSION}")
        self.ngram = (int(table["ngram"][0]), int(table["ngram"][1]))
        self.index: Dict[str, List[Tuple[str, float]]] = {}
        for tag, entries in table["tags"].items():
            for g, w in entries:
                self.index.setdefault(g, []).append((tag, float(w)))

    @classmethod
    def load(cls, path: Union[str, Path]) -> "KeywordProfiler":
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def for_release_dir(cls, root: Union[str, Path]) -> Optional["KeywordProfiler"]:
        """The release's ``index/keywords.json``, or None when the release ships none."""
        path = Path(root) / INDEX_DIR / KEYWORDS_FILE
        return cls.load(path) if path.is_file() else None

    def score(self, text: str) -> Tuple[Dict[str, float], Dict[str, int]]:
        """Summed keyword weights and matched keyword counts per tag (distinct n-grams)."""
        sums: Dict[str, float] = {}
        hits: Dict[str, int] = {}
        grams: Set[str] = set(char_ngrams(text, self.ngram))
        for g in grams:
            for tag, w in self.index.get(g, ()):
                sums[tag] = sums.get(tag, 0.0) + w
                hits[tag] = hits.get(tag, 0) + 1
        return sums, hits

    def profile(self, text: str, items: ItemTable, settings: ProfileSettings = DEFAULT_SETTINGS) -> Profile:
        sums, hits = self.score(text)
        total = sum(sums.values())
        if total <= 0.0:
            return fallback_profile(items, REASON_NO_KEYWORDS, settings)
        order = {t: i for i, t in enumerate(items.tag_names)}  # ties: population frequency
        ranked = sorted(sums.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
        tags = tuple(TagScore(t, s / total) for t, s in ranked)
        top = tags[0].tag
        return Profile(tags=tags, top_tag=top, confidence=min(max(tags[0].score, 0.0), 1.0), fallback=False,
                       neighbors=(), reason=REASON_KEYWORDS, why=f"文字中有{hits[top]}个与{top}相关的关键词")


def keyword_or_fallback(profiler: Optional[KeywordProfiler], text: str, items: ItemTable,
                        settings: ProfileSettings = DEFAULT_SETTINGS) -> Profile:
    if profiler is None:
        return fallback_profile(items, REASON_NO_TABLE, settings)
    return profiler.profile(text, items, settings)


def iter_tags(table: Dict) -> Iterable[str]:
    return table.get("tags", {}).keys()
