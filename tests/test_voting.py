"""The tag vote: exact scores, ranking, confidence, fallbacks, and the JSON shape."""
import json

import numpy as np
import pytest

from coldstart.items import ItemTable
from coldstart.voting import (
    REASON_EMPTY_TEXT,
    REASON_LOW_CONFIDENCE,
    REASON_NO_NEIGHBORS,
    Neighbor,
    Profile,
    ProfileSettings,
    TagScore,
    fallback_profile,
    vote,
)

# Population: 体育 on 4 users, 科技 on 3, 美食 on 2, 旅游 on 1 (tag order = frequency).
ROWS = [
    ("u1", ["体育", "科技"]),
    ("u2", ["体育"]),
    ("u3", ["科技", "美食"]),
    ("u4", ["体育", "美食"]),
    ("u5", ["体育", "科技", "旅游"]),
]


@pytest.fixture
def items():
    return ItemTable.from_rows([u for u, _ in ROWS], [t for _, t in ROWS])


def scores(profile):
    return {t.tag: t.score for t in profile.tags}


def test_population_table(items):
    assert items.tag_names == ["体育", "科技", "美食", "旅游"]
    assert items.tag_counts == [4, 3, 2, 1]


def test_exact_scores_three_neighbours(items):
    # u1 (0.9): 体育 科技; u3 (0.8): 科技 美食; u2 (0.1): 体育. Total weight 1.8.
    p = vote([0, 2, 1], [0.9, 0.8, 0.1], items, ProfileSettings(min_confidence=0.0))
    assert not p.fallback and p.reason == "vote"
    assert scores(p) == pytest.approx({"科技": 1.7 / 1.8, "体育": 1.0 / 1.8, "美食": 0.8 / 1.8})
    assert [t.tag for t in p.tags] == ["科技", "体育", "美食"]
    assert p.top_tag == "科技"
    closeness = (0.9 + 0.8 + 0.1) / 3
    assert p.confidence == pytest.approx(1.7 / 1.8 * closeness)
    assert p.why == "最相近的3位用户中，2位喜欢科技"
    assert [n.handle for n in p.neighbors] == ["u1", "u3", "u2"]
    assert [n.similarity for n in p.neighbors] == pytest.approx([0.9, 0.8, 0.1])


def test_neighbours_are_sorted_and_cut_to_k(items):
    p = vote([1, 0, 2, 3, 4], [0.2, 0.95, 0.5, 0.9, 0.3], items, ProfileSettings(k=2, min_confidence=0.0))
    assert [n.handle for n in p.neighbors] == ["u1", "u4"]  # 0.95, 0.9
    # u1: 体育 科技; u4: 体育 美食 -> 体育 everywhere.
    assert scores(p) == pytest.approx({"体育": 1.0, "科技": 0.95 / 1.85, "美食": 0.9 / 1.85})
    assert p.confidence == pytest.approx((0.95 + 0.9) / 2)


def test_ties_rank_by_population_frequency(items):
    # u3 alone: 科技 and 美食 both 1.0 -> 科技 (more common) first.
    p = vote([2], [0.9], items, ProfileSettings(min_confidence=0.0))
    assert [(t.tag, t.score) for t in p.tags] == [("科技", 1.0), ("美食", 1.0)]


def test_floor_and_negative_similarities(items):
    settings = ProfileSettings(min_confidence=0.0, min_similarity=0.3)
    p = vote([0, 2, 1], [0.9, 0.8, 0.1], items, settings)
    # u2 (0.1) is under the floor: it does not vote but counts in closeness.
    assert scores(p) == pytest.approx({"科技": 1.0, "体育": 0.9 / 1.7, "美食": 0.8 / 1.7})
    assert p.confidence == pytest.approx(1.0 * (0.9 + 0.8 + 0.1) / 3)
    assert p.why == "最相近的2位用户中，2位喜欢科技"
    q = vote([1, 2], [0.5, -0.4], items, ProfileSettings(min_confidence=0.0))
    assert scores(q) == {"体育": 1.0}  # a negative cosine never votes
    assert q.confidence == pytest.approx(0.25)


def test_sharpening(items):
    p = vote([0, 2], [0.9, 0.3], items, ProfileSettings(min_confidence=0.0, sharpen=2.0))
    assert scores(p)["体育"] == pytest.approx(0.81 / 0.9)


def test_confidence_bounds(items):
    rng = np.random.default_rng(0)
    for _ in range(200):
        k = int(rng.integers(1, 6))
        idx = rng.integers(0, len(items), size=k)
        sims = rng.uniform(-1.5, 1.5, size=k).astype(np.float32)
        p = vote(idx, sims, items, ProfileSettings(min_confidence=0.0))
        assert 0.0 <= p.confidence <= 1.0
        assert all(0.0 <= t.score <= 1.0 for t in p.tags)
        assert [t.score for t in p.tags] == sorted((t.score for t in p.tags), reverse=True)
    assert vote([1, 1], [1.0, 1.0], items).confidence == pytest.approx(1.0)
    odd = vote([0, 1, 2], [float("nan"), float("inf"), 1.5], items, ProfileSettings(min_confidence=0.0))
    assert 0.0 <= odd.confidence <= 1.0 and all(0.0 <= t.score <= 1.0 for t in odd.tags)
    assert odd.neighbors[-1] == Neighbor("u1", 0.0)  # NaN counts as unrelated


def test_fallback_without_neighbours(items):
    p = vote([], [], items)
    assert p.fallback and p.reason == REASON_NO_NEIGHBORS
    assert [t.tag for t in p.tags] == ["体育", "科技", "美食", "旅游"]
    assert [t.score for t in p.tags] == pytest.approx([0.8, 0.6, 0.4, 0.2])
    assert p.top_tag == "体育" and p.confidence == 0.0 and p.neighbors == ()
    assert p.why == "没有找到相近的用户；以下只是全体用户最常见的兴趣，不是根据你的文字推荐的：体育、科技、美食、旅游"
    assert p.about_user is False and p.guess == () and p.features is None


def test_fallback_on_low_confidence_keeps_neighbours(items):
    # Split and far: u3 (科技 美食) vs u2 (体育) at 0.4 each -> agreement 0.5, closeness 0.4.
    p = vote([2, 1], [0.4, 0.4], items, ProfileSettings(fallback_top_n=2))
    assert p.fallback and p.reason == REASON_LOW_CONFIDENCE
    assert [t.tag for t in p.tags] == ["体育", "科技"]
    assert p.confidence == pytest.approx(0.2)
    assert [n.handle for n in p.neighbors] == ["u3", "u2"]
    assert vote([1], [-0.2], items).reason == REASON_LOW_CONFIDENCE  # nobody votes


def test_fallback_for_empty_text(items):
    p = fallback_profile(items, REASON_EMPTY_TEXT, ProfileSettings(fallback_top_n=3))
    assert p.fallback and [t.tag for t in p.tags] == ["体育", "科技", "美食"]
    assert p.why.startswith("屏蔽个人信息后没有可用的文字")


def test_to_dict_shape_and_json(items):
    sims = np.array([0.912345678, 0.8, 0.1], dtype=np.float32)
    p = vote(np.array([0, 2, 1], dtype=np.int64), sims, items, ProfileSettings(min_confidence=0.0))
    assert set(p.to_dict()) == {"tags", "top_tag", "confidence", "fallback", "about_user", "reason", "why"}  # no neighbours by default
    d = p.to_dict(expose_neighbors=True)
    assert set(d) == {"tags", "top_tag", "confidence", "fallback", "about_user", "neighbors", "reason", "why"}
    assert d["about_user"] is True and fallback_profile(items, "x").to_dict()["about_user"] is False
    assert all(set(t) == {"tag", "score"} for t in d["tags"])
    assert all(set(n) == {"handle", "similarity"} for n in d["neighbors"])
    assert d["neighbors"][0] == {"handle": "u1", "similarity": 0.9123}

    def plain(o):
        if isinstance(o, dict):
            return all(isinstance(k, str) and plain(v) for k, v in o.items())
        if isinstance(o, list):
            return all(plain(v) for v in o)
        return o is None or type(o) in (str, bool, int, float)

    assert plain(d)
    for x in [d["confidence"]] + [t["score"] for t in d["tags"]] + [n["similarity"] for n in d["neighbors"]]:
        assert type(x) is float and round(x, 4) == x
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d
    assert type(fallback_profile(items, "x").to_dict()["confidence"]) is float


def test_profile_objects():
    p = Profile(tags=(TagScore("体育", 0.5),), top_tag="体育", confidence=0.5, fallback=False,
                neighbors=(Neighbor("u1", 0.5),), reason="vote", why="")
    assert p.to_dict()["tags"] == [{"tag": "体育", "score": 0.5}]
    with pytest.raises(ValueError):
        vote([0], [0.1, 0.2], ItemTable.from_rows(["u"], [["体育"]]))
    with pytest.raises(ValueError):
        ProfileSettings(k=0)
