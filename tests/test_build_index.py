"""`infra build-index`: manifest contents, the recall gate, and whole-directory replacement."""
import json

import numpy as np
import pytest

from coldstart.errors import RecallGateError
from coldstart.hashing import sha256_file
from coldstart.items import ItemTable, RaggedTags, load_index_items
from coldstart.manifest import read_index_manifest
from coldstart.vector_index import build_tuned, exact_top_k, load_annoy
from infra.cli import main
from coldstart.pseudonyms import handle_of
from tests.synthetic import clustered, synthetic_user_key, write_embeddings


def build(emb, out, *extra):
    return main(["build-index", "--embeddings", str(emb), "--out", str(out), "--queries", "200", *extra])


@pytest.fixture
def embeddings(tmp_path):
    return write_embeddings(tmp_path / "emb", clustered(2000))


def test_manifest_describes_every_file_and_the_measured_recall(embeddings, tmp_path):
    assert build(embeddings, tmp_path / "idx") == 0
    raw = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert raw["schema_version"] == 1 and raw["kind"] == "index" and raw["metric"] == "angular"
    assert raw["teacher"] == {"id": "synthetic", "weights_sha256": "0" * 64, "dim": 32, "demo": True}
    assert raw["dim"] == 32 and raw["count"] == 2000
    assert set(raw["files"]) == {"index.ann", "items.npz"}
    for name, entry in raw["files"].items():
        path = tmp_path / "idx" / name
        assert entry == {"sha256": sha256_file(path), "size": path.stat().st_size}
    recall = raw["recall"]
    assert recall["k"] == 10 and recall["n_queries"] == 200 and recall["threshold"] == 0.95
    assert 0.95 <= recall["recall"] <= 1.0 and recall["search_k"] == raw["search_k"]
    assert raw["n_trees"] >= 1 and raw["created_at"].endswith("Z")
    assert read_index_manifest(tmp_path / "idx").count == 2000  # verifies hashes too


def test_index_answers_like_exact_search_and_sidecar_maps_items(embeddings, tmp_path):
    build(embeddings, tmp_path / "idx")
    manifest = read_index_manifest(tmp_path / "idx")
    index = load_annoy(tmp_path / "idx" / "index.ann", manifest.dim)
    vectors = clustered(2000)
    ids = index.get_nns_by_vector(vectors[7], 10, search_k=manifest.search_k)
    exact = exact_top_k(vectors, vectors[7:8], 10)[0]
    assert len(set(ids) & set(exact.tolist())) >= 8
    assert not (tmp_path / "idx" / "items.json").exists()  # the table that carried raw ids is gone
    items = load_index_items(tmp_path / "idx")
    assert isinstance(items.item_tags, RaggedTags)
    assert items.handles[7] == handle_of(synthetic_user_key(7)) and items.tags_of(7) == ["科技"]  # TAGS[7 % 6]
    assert len(set(items.handles)) == len(items) and all(len(h) == 16 for h in items.handles)


def test_items_npz_round_trips_ragged_tags(tmp_path):
    rows = [("u0", ["体育", "美食"]), ("用户1", []), ("u2", ["体育"]), ("u3", ["旅游", "体育", "美食"])]
    table = ItemTable.from_rows([u for u, _ in rows], [t for _, t in rows])
    table.save(tmp_path / "items.npz")
    back = ItemTable.load(tmp_path / "items.npz")
    assert back.handles == ["u0", "用户1", "u2", "u3"] and back.tag_names == ["体育", "美食", "旅游"]
    assert back.tag_counts == [3, 2, 1]
    assert [back.tags_of(i) for i in range(4)] == [["体育", "美食"], [], ["体育"], ["旅游", "体育", "美食"]]
    assert back.item_tags[-1] == [2, 0, 1] and back.item_tags[1:3] == [[], [0]]
    with pytest.raises(IndexError):
        back.item_tags[4]


def test_items_tables_with_raw_user_ids_are_refused(tmp_path):
    """items.json and items.npz format 1 named users by id: a loader refuses them (rebuild the index)."""
    import json

    (tmp_path / "items.json").write_text(json.dumps({"user_ids": ["13812345678"], "tag_names": ["体育"],
                                                     "item_tags": [[0]], "tag_counts": [1]}), encoding="utf-8")
    with pytest.raises(ValueError, match="raw user ids"):
        ItemTable.load(tmp_path / "items.json")
    with open(tmp_path / "items.npz", "wb") as fh:
        np.savez(fh, format=np.array([1]), user_ids=np.frombuffer(b"13812345678", dtype=np.uint8),
                 tag_names=np.array('["体育"]'), tag_counts=np.array([1]), tag_offsets=np.array([0, 1]),
                 tag_ids=np.array([0], dtype=np.uint16))
    with pytest.raises(ValueError, match="raw user ids"):
        load_index_items(tmp_path)


def test_items_npz_refuses_handles_it_cannot_store(tmp_path):
    with pytest.raises(ValueError, match="newline"):
        ItemTable.from_rows(["a\nb"], [["体育"]]).save(tmp_path / "items.npz")


def test_recall_gate_refuses_a_bad_index_and_keeps_the_old_one(embeddings, tmp_path, capsys):
    build(embeddings, tmp_path / "idx")
    before = sha256_file(tmp_path / "idx" / "manifest.json")
    rng = np.random.default_rng(1)
    isotropic = rng.normal(size=(3000, 64)).astype(np.float32)  # worst case for any ANN index
    bad = write_embeddings(tmp_path / "bad", isotropic / np.linalg.norm(isotropic, axis=1, keepdims=True))
    code = build(bad, tmp_path / "idx", "--n-trees", "2", "--search-k", "20", "--min-recall", "0.95")
    assert code == 1
    err = capsys.readouterr().err
    assert "below the gate 0.9500" in err
    assert sha256_file(tmp_path / "idx" / "manifest.json") == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".idx.")]  # no staging left behind


def test_tuning_raises_search_k_until_the_gate_holds():
    vectors = clustered(3000, dim=48, clusters=30, spread=0.6, seed=3)
    tuned = build_tuned(vectors, min_recall=0.97, n_queries=200, n_trees=10)
    assert tuned.measurement.recall >= 0.97
    assert [t[1] for t in tuned.tried] == sorted(t[1] for t in tuned.tried)  # search_k only grows
    assert tuned.tried[-1][2] >= 0.97 and all(r < 0.97 for _, _, r in tuned.tried[:-1])


def test_gate_error_says_what_was_tried():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 64)).astype(np.float32)
    with pytest.raises(RecallGateError, match=r"recall@10 0\.\d+ is below the gate 0\.9900"):
        build_tuned(x / np.linalg.norm(x, axis=1, keepdims=True), min_recall=0.99, n_trees=1, search_k=10)


def test_missing_embeddings_give_a_clear_error(tmp_path, capsys):
    assert build(tmp_path / "nothing", tmp_path / "idx") == 1
    assert "run `python -m infra embed` first" in capsys.readouterr().err


def test_regression_ties_between_duplicate_vectors_are_not_misses():
    """Bug: a random tiny teacher gave many identical vectors; Annoy and numpy broke the ties
    differently and an exhaustive search measured recall 0.78. Equal similarity is a hit."""
    from coldstart.vector_index import build_annoy, measure_recall

    base = clustered(40, dim=16, seed=2)
    vectors = np.repeat(base, 8, axis=0)  # every vector 8 times
    index = build_annoy(vectors, n_trees=10)
    m = measure_recall(index, vectors, range(0, 320, 7), k=10, search_k=100000)
    assert m.recall == 1.0


def test_a_sample_at_a_reduced_width_is_indexed_with_its_projection(embeddings, tmp_path):
    """--sample / --width: the serving index holds a stratified sample, projected; projection.npz stays
    beside it (for export) and is not a release file."""
    from collections import Counter

    from coldstart.projection import PROJECTION_FILE, Projection
    from tests.synthetic import TAGS

    assert build(embeddings, tmp_path / "idx", "--sample", "600", "--width", "12") == 0
    manifest = read_index_manifest(tmp_path / "idx")
    assert manifest.count == 600 and manifest.dim == 12 and manifest.teacher.dim == 32
    assert set(manifest.files) == {"index.ann", "items.npz"}
    record = manifest.projection  # typed (coldstart.release.ProjectionInfo), not a raw dict in extra
    assert "projection" not in manifest.extra
    assert record.sha256 == sha256_file(tmp_path / "idx" / PROJECTION_FILE)
    assert record.width == 12 and record.source_dim == 32 and 0.5 < record.kept_energy <= 1.0
    assert manifest.extra["population"] == 2000 and manifest.extra["sample"]["size"] == 600
    projection = Projection.load(tmp_path / "idx" / PROJECTION_FILE)
    items = load_index_items(tmp_path / "idx")
    assert Counter(t for i in range(600) for t in items.tags_of(i)) == {t: 100 for t in TAGS}  # 6 tags, 1/6 each
    # item i is the projection of the sampled user's teacher vector
    vectors = clustered(2000)
    by_handle = {handle_of(synthetic_user_key(i)): i for i in range(2000)}
    index = load_annoy(tmp_path / "idx" / "index.ann", 12)
    for item in (0, 299, 599):
        want = projection.apply(vectors[by_handle[items.handles[item]]])
        assert np.allclose(index.get_item_vector(item), want, atol=1e-6)
    # same seed, same users; another seed, other users
    assert build(embeddings, tmp_path / "again", "--sample", "600", "--width", "12") == 0
    assert load_index_items(tmp_path / "again").handles == items.handles
    assert build(embeddings, tmp_path / "other", "--sample", "600", "--width", "12", "--sample-seed", "9") == 0
    assert load_index_items(tmp_path / "other").handles != items.handles


def test_the_recall_gate_runs_on_the_cpu_with_a_bounded_number_of_queries(embeddings, tmp_path, capsys):
    from infra import exact

    assert exact.recall_queries(10_000_000, 768, 500, "cpu") == exact.MIN_QUERIES  # too big for more on 2 cores
    assert exact.recall_queries(100_000, 128, 500, "cpu") == 500
    assert exact.recall_queries(100_000, 128, 500, "gpu") == exact.GPU_QUERIES
    assert build(embeddings, tmp_path / "idx") == 0
    assert "recall gate: exact neighbours on the CPU, 200 queries" in capsys.readouterr().out
    assert read_index_manifest(tmp_path / "idx").extra["recall_device"] == "cpu"


def test_the_pipeline_reuses_the_previous_projection_only_for_the_same_teacher_and_width(embeddings, tmp_path):
    """A rerun of the pipeline passes the previous index's projection.npz to build-index, so the
    student folded with it can be carried forward; another width, a tampered file or no previous
    index: a new projection is fitted."""
    from coldstart.release import IndexManifest
    from infra.jobs.pipeline import _reusable_projection

    index = tmp_path / "idx"
    assert _reusable_projection(str(embeddings), str(index), 12) == []  # first run: nothing to reuse
    assert build(embeddings, index, "--sample", "600", "--width", "12") == 0
    argv = _reusable_projection(str(embeddings), str(index), 12)
    assert argv == ["--projection", str(index / "projection.npz")]
    assert _reusable_projection(str(embeddings), str(index), 16) == []
    first = IndexManifest.load(index).projection
    assert build(embeddings, index, "--sample", "500", "--width", "12", "--sample-seed", "3", *argv) == 0
    assert IndexManifest.load(index).projection == first  # another sample, the same projection
    (index / "projection.npz").write_bytes(b"not the file the manifest names")
    assert _reusable_projection(str(embeddings), str(index), 12) == []
