"""A release that verifies is still smoke-tested before it serves, and nothing in it can crash the process.

The releases here are forged the hard way: files replaced *and* every manifest re-hashed to match
(index manifest, model manifest, release.json, current.json), as a broken build or a hand-edited
release would look. Size + sha256 checks pass; what must stop them is the Annoy file check
(coldstart.vector_index.validate_annoy_file), the model loading, and the canaries
(coldstart.release.canaries). Cold starts run in a child process through function/app.py, so a
SIGSEGV or an abort would show as the child's death, not as a test error.
"""
import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

from coldstart.errors import VerificationError
from coldstart.hashing import sha256_bytes
from coldstart.release import (CURRENT_KEY, INDEX_FILE, CurrentPointer, IndexManifest, ModelManifest, ReleaseManifest,
                               describe_files, read_current)
from coldstart.release_loader import ReleaseLoader, ReleaseManager
from coldstart.storage import LocalStore
from coldstart.vector_index import annoy_node_size, build_annoy, open_annoy, validate_annoy_file
from infra.cli import main
from tests.conftest import ROOT
from tests.synthetic import clustered


@pytest.fixture
def store_root(tiny_pipeline, tmp_path):
    """A local release store with v1 (the tiny pipeline's index and model) published."""
    root = tmp_path / "store"
    assert main(["publish", "--to", str(root), "--index", str(tiny_pipeline / "idx"), "--model",
                 str(tiny_pipeline / "model"), "--version", "v1"]) == 0
    return root


def forge(root, base, version, replace):
    """Release ``version``: ``base`` with files replaced or added (release-relative name -> bytes; an added
    index file joins the manifests) and every manifest re-hashed to match; current.json then names it (previous:
    what it named before)."""
    src, dst = root / "releases" / base, root / "releases" / version
    shutil.copytree(src, dst)
    for name, data in replace.items():
        (dst / name).write_bytes(data)
    index = IndexManifest.load(dst / "index", verify=False)
    index.files = describe_files(dst / "index", set(index.files) | {n[len("index/"):] for n in replace
                                                                    if n.startswith("index/")})
    index.save(dst / "index")
    model = ModelManifest.load(dst / "model", verify=False)
    model.files = describe_files(dst / "model", model.files)
    model.save(dst / "model")
    release = ReleaseManifest.from_bytes((dst / "release.json").read_bytes())
    release.version, release.files = version, describe_files(dst, set(release.files) | set(replace))
    (dst / "release.json").write_bytes(release.to_bytes())
    before = read_current(LocalStore(root))
    pointer = CurrentPointer(version=version, release_sha256=sha256_bytes(release.to_bytes()), published_at="t",
                             previous=before.version, previous_release_sha256=before.release_sha256)
    (root / CURRENT_KEY).write_bytes(pointer.to_bytes())


def manager(root, cache, background=False):
    m = ReleaseManager(ReleaseLoader(LocalStore(root), str(cache)), refresh_seconds=1, background=background)
    m.clock = lambda: 0.0
    m.start()
    return m


def refresh(m):
    m.last_check = None  # due now
    m.maybe_refresh()


def other_annoy_file(pipeline, tmp_path):
    """A structurally valid Annoy file of the same shape (items, dim, trees), other vectors."""
    manifest = IndexManifest.load(pipeline / "idx", verify=False)
    vectors = clustered(manifest.count, dim=manifest.dim, seed=99)
    path = tmp_path / "other.ann"
    build_annoy(vectors, manifest.n_trees).save(str(path))
    return path.read_bytes()


def garbage_indexes(pipeline, tmp_path):
    real = (pipeline / "idx" / INDEX_FILE).read_bytes()
    rng = np.random.default_rng(0)
    return {
        "same-size-random": rng.integers(0, 256, len(real), dtype=np.uint8).tobytes(),
        "other-size-random": rng.integers(0, 256, len(real) // 3 + 17, dtype=np.uint8).tobytes(),
        "zeros": b"\0" * len(real),
        "valid-annoy-other-vectors": other_annoy_file(pipeline, tmp_path),
    }


GARBAGE_INDEX = ["same-size-random", "other-size-random", "zeros", "valid-annoy-other-vectors"]


# ------------------------------------------------------------------------------ refresh

@pytest.mark.parametrize("kind", GARBAGE_INDEX)
def test_a_forged_index_is_refused_on_refresh_and_the_old_release_keeps_serving(store_root, tiny_pipeline, tmp_path,
                                                                                 kind):
    m = manager(store_root, tmp_path / "cache")
    assert m.current.version == "v1"
    forge(store_root, "v1", "v2", {"index/index.ann": garbage_indexes(tiny_pipeline, tmp_path)[kind]})
    refresh(m)
    assert m.current.version == "v1"
    assert "release v2" in m.last_error
    expected = "recorded neighbours" if kind == "valid-annoy-other-vectors" else "index.ann"
    assert expected in m.last_error, m.last_error
    assert not (tmp_path / "cache" / "v2").exists()  # refused releases are not kept
    ids = m.current.index.get_nns_by_vector([0.1] * m.current.index_manifest.dim, 5)
    assert len(ids) == 5  # v1 still answers


@pytest.mark.parametrize("name, data", [("index/calibration.json", b"{not json"),
                                        ("index/calibration.json", json.dumps({"format": 1, "kind": "logistic"}).encode()),
                                        ("index/keywords.json", b"\x00\x01")],
                         ids=["calibration-not-json", "calibration-malformed", "keywords-garbage"])
def test_a_calibrator_or_keyword_table_that_does_not_parse_refuses_the_release(store_root, tmp_path, name, data):
    """They are read when the release opens, not by its first request: a file that does not parse refuses the
    release (the old one keeps serving) instead of failing every request after the swap."""
    m = manager(store_root, tmp_path / "cache")
    assert m.current.version == "v1" and m.current.extras_read
    forge(store_root, "v1", "v2", {name: data})
    refresh(m)
    assert m.current.version == "v1"
    assert "release v2" in m.last_error and "does not open" in m.last_error, m.last_error
    assert not (tmp_path / "cache" / "v2").exists()


def onnx_garbage(pipeline):
    real = (pipeline / "model" / "student.int8.onnx").read_bytes()
    return {
        "random-bytes": np.random.default_rng(1).integers(0, 256, len(real), dtype=np.uint8).tobytes(),
        "truncated": real[: len(real) // 2],
        "another-valid-model": None,  # filled in by the test: a model of the same shape, other weights
    }


@pytest.mark.parametrize("kind", ["random-bytes", "truncated", "another-valid-model"])
def test_a_forged_model_is_refused_on_refresh_even_from_the_background_thread(store_root, tiny_pipeline, tmp_path, kind):
    """Regression: a garbage ONNX model with matching hashes raised onnxruntime's InvalidProtobuf in
    the refresh thread, which died silently (no refresh_error)."""
    m = manager(store_root, tmp_path / "cache", background=True)
    data = onnx_garbage(tiny_pipeline)[kind]
    if data is None:
        from tests.synthetic import write_model

        other = write_model(tmp_path / "other-model", tiny_pipeline / "idx", seed=5,
                            vocab=tiny_pipeline / "model" / "vocab.txt")
        data = (other / "student.int8.onnx").read_bytes()
    forge(store_root, "v1", "v2", {"model/student.int8.onnx": data})
    before = set(threading.enumerate())
    refresh(m)  # due: runs on a thread, as in production
    for thread in set(threading.enumerate()) - before:
        thread.join(60)
    assert m.current.version == "v1"
    assert m.last_error and "release v2" in m.last_error, m.last_error
    if kind == "another-valid-model":
        assert "failed its smoke test" in m.last_error and "cosine" in m.last_error
    else:
        assert "does not open" in m.last_error  # InvalidProtobuf / Fail from onnxruntime, any type


def test_a_refused_release_is_not_downloaded_again_until_current_json_changes(store_root, tiny_pipeline, tmp_path):
    m = manager(store_root, tmp_path / "cache")
    forge(store_root, "v1", "v2", {"index/index.ann": garbage_indexes(tiny_pipeline, tmp_path)["zeros"]})
    fetched = []
    original = m.loader.fetch
    m.loader.fetch = lambda version, *a, **k: fetched.append(version) or original(version, *a, **k)
    refresh(m)
    first_error = m.last_error
    refresh(m)
    refresh(m)
    assert fetched == ["v2"] and m.last_error == first_error and m.current.version == "v1"
    assert main(["publish", "--to", str(store_root), "--index", str(tiny_pipeline / "idx"), "--model",
                 str(tiny_pipeline / "model"), "--version", "v3"]) == 0
    refresh(m)
    assert fetched == ["v2", "v3"] and m.current.version == "v3" and m.last_error is None


# ------------------------------------------------------------------------------ cold start (child process)

LAMBDA_CHILD = r"""
import json, sys
sys.path[:0] = [sys.argv[1] + "/function", sys.argv[1] + "/layer"]
import app
class Ctx:
    function_name = "coldstart"; memory_limit_in_mb = 1769; aws_request_id = "safety"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart"
out = {}
for name in ("health_rest", "profile_rest"):
    event = json.load(open(sys.argv[1] + "/events/" + name + ".json"))
    r = app.handler(event, Ctx())
    out[name] = [r["statusCode"], json.loads(r["body"])]
manager = app.SERVICE.manager
out["serving"] = manager.current.version if manager.current else None
out["error"] = manager.last_error
print("RESULT " + json.dumps(out, ensure_ascii=False))
"""


def cold_start(root, cache):
    env = {**os.environ, "COLDSTART_RELEASE_URI": str(root), "COLDSTART_CACHE_DIR": str(cache),
           "POWERTOOLS_METRICS_NAMESPACE": "SafetyTest", "TQDM_DISABLE": "1"}
    done = subprocess.run([sys.executable, "-c", LAMBDA_CHILD, str(ROOT)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, f"the cold start died (rc {done.returncode}):\n{done.stderr[-3000:]}"
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    return json.loads(line[len("RESULT "):])


@pytest.mark.parametrize("broken", ["index:same-size-random", "index:valid-annoy-other-vectors", "model:random-bytes"])
def test_a_cold_start_on_a_broken_current_release_serves_current_json_previous(store_root, tiny_pipeline, tmp_path,
                                                                               broken):
    component, kind = broken.split(":")
    if component == "index":
        forge(store_root, "v1", "v2", {"index/index.ann": garbage_indexes(tiny_pipeline, tmp_path)[kind]})
    else:
        forge(store_root, "v1", "v2", {"model/student.int8.onnx": onnx_garbage(tiny_pipeline)[kind]})
    out = cold_start(store_root, tmp_path / "lambda-cache")
    assert out["serving"] == "v1"
    assert "release v2 was refused" in out["error"] and "serving the previous release v1" in out["error"]
    status, body = out["health_rest"]
    assert status == 200 and body["release"] == "v1"
    status, body = out["profile_rest"]
    assert status == 200 and body["index_version"].startswith("v1/")


def test_a_cold_start_with_current_and_previous_broken_answers_503_naming_both(store_root, tiny_pipeline, tmp_path):
    garbage = garbage_indexes(tiny_pipeline, tmp_path)["same-size-random"]
    forge(store_root, "v1", "v2", {"index/index.ann": garbage})
    forge(store_root, "v2", "v3", {"model/student.int8.onnx": onnx_garbage(tiny_pipeline)["truncated"]})
    out = cold_start(store_root, tmp_path / "lambda-cache")
    assert out["serving"] is None
    for name in ("health_rest", "profile_rest"):
        status, body = out[name]
        assert status == 503 and body["error"]["code"] == "not_ready"
    assert "release v3" in out["error"] and "the previous release v2 failed too" in out["error"]


# ------------------------------------------------------------------------------ the local cache

@pytest.mark.parametrize("name", ["index/index.ann", "index/items.npz", "model/student.int8.onnx"])
def test_a_cached_file_changed_on_disk_is_downloaded_again_not_served(store_root, tmp_path, name):
    """Regression: a cached release file overwritten on disk was reused unchecked (/health 200, then
    std::length_error in /profile)."""
    cache = tmp_path / "cache"
    assert manager(store_root, cache).current.version == "v1"
    cached = cache / "v1" / name
    published = (store_root / "releases" / "v1" / name).read_bytes()
    cached.write_bytes(bytes(b ^ 0x5A for b in published))  # same size, other bytes
    again = manager(store_root, cache)  # e.g. a re-initialised instance on the same /tmp
    assert again.current.version == "v1" and again.last_error is None
    assert cached.read_bytes() == published


def test_the_kiosk_does_not_open_a_tampered_cached_release(store_root, tmp_path):
    from coldstart.release_loader import OnnxBackend
    from edge.releases import make_manager

    data = tmp_path / "kiosk"
    kiosk = make_manager(str(store_root), data, OnnxBackend())
    kiosk.start()
    assert kiosk.current.version == "v1"
    cached = data / "releases" / "v1" / "index" / "index.ann"
    cached.write_bytes(b"\0" * cached.stat().st_size)

    offline = make_manager(str(tmp_path / "no-such-store"), data, OnnxBackend())  # restarted, no network
    assert offline.open_cached() is False
    assert offline.current is None and "index/index.ann: sha256" in offline.last_error


# ------------------------------------------------------------------------------ the Annoy file check

@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    path = tmp_path_factory.mktemp("annoy") / "index.ann"
    build_annoy(clustered(500, dim=16, seed=3), n_trees=4).save(str(path))
    return path


def test_a_well_formed_index_passes_the_check_and_opens(small_index):
    validate_annoy_file(small_index, dim=16, count=500, n_trees=4)
    index = open_annoy(small_index, dim=16, count=500, n_trees=4)
    assert index.get_n_items() == 500 and len(index.get_nns_by_item(0, 10)) == 10


def _nodes(path, dim):
    return np.frombuffer(path.read_bytes(), dtype="<i4").reshape(-1, annoy_node_size(dim) // 4).copy()


@pytest.mark.parametrize("damage, message", [
    ("wrong-dim", "whole number of"),
    ("wrong-count", "impossible number of descendants"),
    ("more-trees-than-built", "root nodes at the end"),
    ("truncated-before-the-roots", "root nodes at the end"),
    ("one-extra-byte", "whole number of"),
    ("child-points-forward", "points outside the nodes built before it"),
    ("bucket-lists-a-missing-item", "lists an item outside"),
    ("item-is-not-a-leaf", "is not a leaf"),
    ("impossible-descendants", "impossible number of descendants"),
    ("empty", "nodes;"),
])
def test_a_damaged_index_file_is_refused_before_annoy_sees_it(small_index, tmp_path, damage, message):
    dim, count, trees = 16, 500, 4
    nodes = _nodes(small_index, dim)
    tree = np.flatnonzero(np.arange(len(nodes)) >= count)
    split = [i for i in tree if nodes[i, 0] > dim + 1][0]
    bucket = [i for i in tree if 1 < nodes[i, 0] <= dim + 1][0]
    data = nodes.tobytes()
    if damage == "wrong-dim":
        dim = 17
    elif damage == "wrong-count":
        count = 499
    elif damage == "more-trees-than-built":
        trees = 9
    elif damage == "truncated-before-the-roots":
        data = data[: -(trees + 1) * annoy_node_size(dim)]
    elif damage == "one-extra-byte":
        data += b"\0"
    elif damage == "child-points-forward":
        nodes[split, 1] = split + 1
        data = nodes.tobytes()
    elif damage == "bucket-lists-a-missing-item":
        nodes[bucket, 1] = count + 3
        data = nodes.tobytes()
    elif damage == "item-is-not-a-leaf":
        nodes[7, 0] = 5
        data = nodes.tobytes()
    elif damage == "impossible-descendants":
        nodes[split, 0] = -4
        data = nodes.tobytes()
    elif damage == "empty":
        data = b""
    path = tmp_path / "damaged.ann"
    path.write_bytes(data)
    with pytest.raises(VerificationError, match=message):
        open_annoy(path, dim=dim, count=count, n_trees=trees)


def test_random_files_of_every_plausible_size_never_reach_annoy(tmp_path):
    """Whatever the bytes, the check refuses them (random data cannot look like 500 leaves)."""
    rng = np.random.default_rng(7)
    node = annoy_node_size(16)
    for n_nodes in (500 + 4, 520, 900, 2000):
        path = tmp_path / f"random-{n_nodes}.ann"
        path.write_bytes(rng.integers(0, 256, n_nodes * node, dtype=np.uint8).tobytes())
        with pytest.raises(VerificationError):
            open_annoy(path, dim=16, count=500, n_trees=4)


@pytest.mark.parametrize("block_bytes", [1, 4096, 64 << 20])
def test_the_check_gives_the_same_answer_whatever_its_block_size(small_index, tmp_path, block_bytes):
    """Blocks of one node, a few nodes, the whole file: the root count spans block boundaries."""
    validate_annoy_file(small_index, dim=16, count=500, n_trees=4, block_bytes=block_bytes)
    nodes = _nodes(small_index, 16)
    nodes[-2, 0] = 499  # a root copy that no longer counts every item: one root left at the end
    path = tmp_path / "fewer-roots.ann"
    path.write_bytes(nodes.tobytes())
    with pytest.raises(VerificationError, match="root nodes at the end"):
        validate_annoy_file(path, dim=16, count=500, n_trees=4, block_bytes=block_bytes)
