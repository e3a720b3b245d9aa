"""The serving index's stratified sample (infra/sampling.py): every tag in proportion, activity kept,
the same users for the same seed whatever the chunk order."""
from collections import Counter

import numpy as np
import pytest

from infra.sampling import StratifiedSampler, largest_remainder, priorities, stratum_of

# tag sets with very different sizes: a rare tag (12 users of 60,000), users without tags,
# activity that depends on the tags (so a sample that ignored it would shift the distribution)
TAG_SETS = [(("体育",), 0.30, 4.0), (("美食",), 0.22, 2.0), (("体育", "美食"), 0.10, 8.0), (("科技",), 0.18, 12.0),
            ((), 0.08, 1.0), (("旅游", "摄影"), 0.1198, 3.0), (("非遗",), 0.0002, 20.0)]
POPULATION = 60_000


def population(seed=0):
    rng = np.random.default_rng(seed)
    shares = np.array([s for _, s, _ in TAG_SETS])
    which = rng.choice(len(TAG_SETS), POPULATION, p=shares / shares.sum())
    tags = [list(TAG_SETS[i][0]) for i in which]
    activity = rng.gamma(2.0, np.array([m for _, _, m in TAG_SETS])[which] / 2.0)
    keys = [f"k00000000.{i:032x}" for i in range(POPULATION)]
    vectors = np.arange(POPULATION, dtype=np.float32)[:, None]  # the row number rides along as the "vector"
    return vectors, keys, tags, activity


def draw(size, seed=0, chunk=2048, order=None, data=None):
    vectors, keys, tags, activity = data or population()
    sampler = StratifiedSampler(size, POPULATION, seed=seed)
    starts = list(range(0, POPULATION, chunk))
    for start in (order(starts) if order else starts):
        sl = slice(start, start + chunk)
        sampler.offer(vectors[sl], keys[sl], tags[sl], activity[sl])
    return sampler.finish()


@pytest.fixture(scope="module")
def data():
    return population()


@pytest.fixture(scope="module")
def sample(data):
    return draw(3000, seed=1, data=data)


def test_every_tag_is_represented_in_proportion(data, sample):
    _, _, tags, _ = data
    assert len(sample.user_keys) == 3000 and len(set(sample.user_keys)) == 3000
    in_population = Counter(t for row in tags for t in row)
    in_sample = Counter(t for row in sample.tags for t in row)
    assert set(in_sample) == set(in_population)  # the rare tag too (12 users of 60,000 -> 0.6 seat)
    for tag, count in in_population.items():
        expected = 3000 * count / POPULATION
        # seats go to tag sets by largest remainder: at most one seat off per tag set holding the tag,
        # plus the one seat given to a tag rounding would drop
        assert abs(in_sample[tag] - expected) <= 2 + 1, (tag, in_sample[tag], expected)
    no_tags = sum(1 for row in tags if not row)
    assert abs(sum(1 for row in sample.tags if not row) - 3000 * no_tags / POPULATION) <= 1
    assert sample.report.tags_missing == 0 and sample.report.max_tag_share_error < 0.001
    assert sample.report.shortfall_seats == 0


def test_activity_distribution_is_kept_within_each_stratum(data, sample):
    _, _, tags, activity = data
    for tag_set, _, _ in TAG_SETS[:5]:
        pop = np.array([a for a, t in zip(activity, tags) if tuple(t) == tag_set])
        got = np.array([a for a, t in zip(sample.activity, sample.tags) if tuple(t) == tag_set])
        for q in (0.25, 0.5, 0.75):
            # the candidates are a random ~1.5x subset of the stratum: a quartile of 900 seats moves by
            # ~3.5% between seeds (sd over 200 seeds), so 15% is > 4 sd
            assert np.quantile(got, q) == pytest.approx(np.quantile(pop, q), rel=0.15), (tag_set, q)
    # ...and the systematic pick keeps the candidates' distribution much closer than a random draw would
    assert np.allclose(sample.report.activity_quartiles_sample, sample.report.activity_quartiles_population,
                       rtol=0.02)
    overall = np.quantile(activity, [0.25, 0.5, 0.75])
    assert np.allclose(sample.report.activity_quartiles_sample, overall, rtol=0.06)


def test_the_same_seed_gives_the_same_users_whatever_the_chunk_order(data, sample):
    again = draw(3000, seed=1, data=data)
    assert again.user_keys == sample.user_keys
    shuffled = draw(3000, seed=1, chunk=1000, order=lambda s: list(np.random.default_rng(5).permutation(s)), data=data)
    assert shuffled.user_keys == sample.user_keys  # a set and an order (priority) independent of the chunking
    assert np.array_equal(shuffled.vectors, sample.vectors)
    other = draw(3000, seed=2, data=data)
    assert len(set(other.user_keys) & set(sample.user_keys)) < 0.2 * 3000  # a different seed, other users


def test_rows_stay_together(data, sample):
    vectors, keys, tags, activity = data
    rows = sample.vectors[:, 0].astype(int)
    assert [keys[r] for r in rows] == sample.user_keys
    assert [tags[r] for r in rows] == sample.tags
    assert np.allclose(activity[rows], sample.activity)


def test_a_sample_as_large_as_the_population_is_everyone(data):
    vectors, keys, tags, activity = data
    sampler = StratifiedSampler(POPULATION * 2, POPULATION, seed=0)
    sampler.offer(vectors, keys, tags, activity)
    everyone = sampler.finish()
    assert sorted(everyone.user_keys) == sorted(keys)


def test_missing_seats_move_to_strata_with_candidates_to_spare(data):
    vectors, keys, tags, activity = data
    # keep far too few candidates (0.3x the seats, 2 per stratum): the shortfall is reported and the
    # sample is as large as the candidates allow
    sampler = StratifiedSampler(3000, POPULATION, seed=0, oversample=0.3, floor=2)
    sampler.offer(vectors, keys, tags, activity)
    short = sampler.finish()
    assert short.report.shortfall_seats > 0
    assert len(short.user_keys) == short.report.candidates < 3000


def test_the_whole_population_must_be_offered(data):
    vectors, keys, tags, activity = data
    sampler = StratifiedSampler(100, POPULATION)
    sampler.offer(vectors[:10], keys[:10], tags[:10], activity[:10])
    with pytest.raises(ValueError, match="offered 10 users"):
        sampler.finish()


def test_largest_remainder_and_priorities():
    assert largest_remainder({"a": 5, "b": 3, "c": 2}, 5) == {"a": 3, "b": 1, "c": 1}
    assert sum(largest_remainder({str(i): i + 1 for i in range(50)}, 777).values()) == 777
    assert stratum_of(["b", "a", "a"]) == stratum_of(("a", "b")) and stratum_of([]) == ""
    keys = [f"user-{i}" for i in range(50_000)]
    p = priorities(keys, seed=3)
    assert np.array_equal(p, priorities(keys, seed=3)) and not np.array_equal(p, priorities(keys, seed=4))
    assert 0.0 <= p.min() and p.max() < 1.0
    counts, _ = np.histogram(p, bins=10, range=(0, 1))
    assert counts.min() > 4_500 and counts.max() < 5_500  # uniform
