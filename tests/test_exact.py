"""Exact neighbours for the recall gate (infra/exact.py): blockwise numpy and Paddle give the same
answer as one exact search, excluding each query's own item."""
import numpy as np
import pytest

from coldstart.vector_index import build_tuned, exact_top_k as one_shot
from infra import exact
from tests.synthetic import clustered


@pytest.mark.parametrize("device", ["cpu", "paddle"])
def test_blockwise_exact_search_matches_one_exact_search(device):
    vectors = clustered(3000, dim=24, clusters=12)
    qids = np.arange(0, 3000, 37)
    want = one_shot(vectors, vectors[qids], 10, exclude=qids)
    if device == "paddle":  # the GPU code path, run on paddle's CPU here (no GPU on this machine)
        import paddle

        paddle.set_device("cpu")
        got = exact.exact_top_k(vectors, vectors[qids], 10, exclude=qids, device="gpu", block_rows=700)
    else:
        got = exact.exact_top_k(vectors, vectors[qids], 10, exclude=qids, block_rows=700)
    assert got.shape == want.shape
    assert not np.any(got == qids[:, None])  # a query never finds itself
    scores_got = np.take_along_axis(vectors[qids] @ vectors.T, got, axis=1)
    scores_want = np.take_along_axis(vectors[qids] @ vectors.T, want, axis=1)
    np.testing.assert_allclose(scores_got, scores_want, atol=1e-5)  # same neighbours (ties may swap)


def test_build_tuned_uses_the_given_exact_search_once():
    vectors = clustered(1500, dim=16)
    calls = []

    def counting(v, q, k, exclude):
        calls.append(len(q))
        return exact.exact_top_k(v, q, k, exclude)

    tuned = build_tuned(vectors, min_recall=0.999, k=10, n_queries=100, exact=counting, max_trees=20)
    assert calls == [100] and len(tuned.tried) > 1  # several settings measured against one exact search


def test_asking_for_a_gpu_that_is_not_there_is_an_error():
    if exact.gpu_available():
        pytest.skip("this machine has a GPU")
    assert exact.resolve_device("auto") == "cpu"
    with pytest.raises(RuntimeError, match="no CUDA device"):
        exact.resolve_device("gpu")
