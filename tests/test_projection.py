"""The serving width: a projection learned at build-index, folded into the exported student.

The exported models (ONNX FP32 and INT8, Paddle Lite) must output exactly what the Paddle student
followed by the index's projection outputs, and a release whose index and student were reduced
differently must be refused."""
import json

import numpy as np
import pytest

from coldstart.errors import ManifestError
from coldstart.projection import PROJECTION_FILE, Projection, check_projection_pair
from infra.cli import main
from infra.projection import fit_projection
from tests.conftest import DATA, LENIENT_GATES

TEXTS = ["我喜欢看科幻电影和打篮球", "最近在准备考研，想多学点编程知识", "NBA和ＣＢＡ都看😀", "周末去爬山，拍风景照"]


def test_fit_projection_keeps_the_dominant_directions():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(48, 48)))[0]
    scales = np.r_[np.full(6, 10.0), np.full(42, 0.1)]  # 6 strong directions, 42 weak ones
    x = (rng.normal(size=(4000, 48)) * scales) @ basis.T
    p = fit_projection(x.astype(np.float32), 6)
    assert p.width == 6 and p.source_dim == 48 and p.kept_energy > 0.99
    assert np.allclose(p.components @ p.components.T, np.eye(6), atol=1e-5)  # orthonormal rows
    strong = basis[:, :6]
    assert np.allclose(np.linalg.svd(p.components @ strong)[1], 1.0, atol=1e-3)  # spans the strong subspace
    reduced = p.apply(x[:5])
    assert reduced.shape == (5, 6) and np.allclose(np.linalg.norm(reduced, axis=1), 1.0, atol=1e-6)
    again = fit_projection(x.astype(np.float32), 6)
    assert np.array_equal(again.components, p.components)  # deterministic signs
    back = Projection.from_bytes(p.to_bytes())
    assert np.array_equal(back.components, p.components) and back.kept_energy == p.kept_energy
    with pytest.raises(ValueError):
        fit_projection(x.astype(np.float32), 48)


def test_folding_into_the_student_equals_projecting_its_output(tiny_pipeline):
    import paddle

    from coldstart.encoder import INPUT_NAMES, model_inputs
    from infra.projection import fold_into_student
    from infra.student import load_student

    student, tokenizer, _ = load_student(tiny_pipeline / "student")
    feeds = [model_inputs(*_ids(tokenizer, t)) for t in TEXTS]
    with paddle.no_grad():
        before = np.concatenate([student(*[paddle.to_tensor(f[k]) for k in INPUT_NAMES]).numpy() for f in feeds])
        rng = np.random.default_rng(1)
        projection = fit_projection(rng.normal(size=(500, 32)).astype(np.float32), 16)
        fold_into_student(student, projection)
        after = np.concatenate([student(*[paddle.to_tensor(f[k]) for k in INPUT_NAMES]).numpy() for f in feeds])
    assert after.shape == (len(TEXTS), 16)
    np.testing.assert_allclose(after, projection.apply(before), atol=1e-5)


@pytest.fixture(scope="module")
def reduced(tiny_pipeline, tiny_teacher, tmp_path_factory):
    """build-index --width 16 over the tiny teacher's 32-d embeddings, then export (ONNX + Lite x86)."""
    root = tmp_path_factory.mktemp("reduced")
    assert main(["build-index", "--embeddings", str(tiny_pipeline / "emb"), "--out", str(root / "idx"),
                 "--min-recall", "0.9", "--queries", "100", "--width", "16"]) == 0
    assert main(["export", "--student", str(tiny_pipeline / "student"), "--index", str(root / "idx"),
                 "--teacher", str(tiny_teacher), "--heldout", str(DATA / "heldout.jsonl"),
                 "--out", str(root / "model"), "--lite-targets", "x86", *LENIENT_GATES]) == 0
    return root


def test_exported_models_agree_with_the_paddle_reference_in_the_reduced_space(reduced, tiny_pipeline):
    import paddle

    from coldstart.encoder import INPUT_NAMES, OnnxEncoder, model_inputs
    from infra import lite
    from infra.student import load_student

    projection = Projection.load(reduced / "idx" / PROJECTION_FILE)
    student, tokenizer, _ = load_student(tiny_pipeline / "student")  # unfolded: the teacher-space student
    batches = [_ids(tokenizer, t) for t in TEXTS]
    with paddle.no_grad():
        full = np.concatenate([student(*[paddle.to_tensor(model_inputs(i, m)[k]) for k in INPUT_NAMES]).numpy()
                               for i, m in batches])
    want = projection.apply(full)  # the Paddle reference, in the index's 16-d space
    model = reduced / "model"
    as_batches = [{"input_ids": i, "attention_mask": m} for i, m in batches]
    fp32 = OnnxEncoder(str(model / "student.fp32.onnx")).encode_batches(as_batches)
    int8 = OnnxEncoder(str(model / "student.int8.onnx")).encode_batches(as_batches)
    lite_fp32 = lite.encode(model / "student.x86.fp32.nb", batches)
    assert fp32.shape == int8.shape == lite_fp32.shape == (len(TEXTS), 16)
    np.testing.assert_allclose(fp32, want, atol=1e-5)
    np.testing.assert_allclose(lite_fp32, want, atol=1e-5)
    assert np.min(np.sum(int8 * want, axis=1)) > 0.98  # INT8 weights: close, not equal
    manifest = json.loads((model / "model_manifest.json").read_text())
    if "student.x86.int8.nb" in manifest["files"]:  # shipped only when it held its gate
        lite_int8 = lite.encode(model / "student.x86.int8.nb", batches)
        assert np.min(np.sum(lite_int8 * want, axis=1)) > 0.98


def test_both_manifests_name_the_same_projection(reduced):
    from coldstart.release import Canaries, IndexManifest, ModelManifest

    index = IndexManifest.load(reduced / "idx")
    model = ModelManifest.load(reduced / "model")
    assert index.dim == 16 and model.student.out_dim == 16
    assert model.projection == index.projection and index.projection.width == 16
    assert index.projection.source_dim == 32
    assert model.gates["lite_fp32_cosine"].value >= 0.999
    # the files hold the typed record, read back equal
    raw = json.loads((reduced / "model" / "model_manifest.json").read_text())
    assert raw["projection"] == json.loads((reduced / "idx" / "manifest.json").read_text())["projection"]
    # the canaries export records are the folded student's outputs: in the reduced space
    assert {len(c.vector) for c in Canaries.load(reduced / "model").canaries} == {16}


def test_a_manifest_whose_projection_disagrees_with_its_dim_is_malformed(reduced):
    from coldstart.release import IndexManifest, ModelManifest

    index = json.loads((reduced / "idx" / "manifest.json").read_text())
    model = json.loads((reduced / "model" / "model_manifest.json").read_text())
    for data, cls in ((index, IndexManifest), (model, ModelManifest)):
        with pytest.raises(ManifestError, match="projection"):
            cls.from_dict(dict(data, projection=dict(data["projection"], width=8)))
        with pytest.raises(ManifestError, match="projection"):
            cls.from_dict(dict(data, projection={"sha256": "a" * 64}))
        assert cls.from_dict({k: v for k, v in data.items() if k != "projection"}).projection is None


def test_a_release_with_an_index_and_a_student_reduced_differently_is_refused():
    from coldstart.release import ProjectionInfo

    a = ProjectionInfo(sha256="a" * 64, width=16, source_dim=32, kept_energy=0.9)
    b = ProjectionInfo(sha256="b" * 64, width=16, source_dim=32, kept_energy=0.9)
    check_projection_pair("v1", a, ProjectionInfo(**vars(a)))
    check_projection_pair("v1", None, None)
    for index, model in ((a, b), (a, None), (None, b)):
        with pytest.raises(ManifestError, match="mismatched pair"):
            check_projection_pair("v1", index, model)


def _other_projection_model(reduced, tmp_path):
    """The reduced student with its manifest naming another projection of the same width: the dims
    match, only the recorded projection tells them apart."""
    import shutil

    model = tmp_path / "model"
    shutil.copytree(reduced / "model", model)
    manifest = json.loads((model / "model_manifest.json").read_text())
    manifest["projection"] = dict(manifest["projection"], sha256="f" * 64)
    (model / "model_manifest.json").write_text(json.dumps(manifest))
    return model


def test_publish_refuses_a_student_of_another_projection(reduced, tmp_path):
    releases = tmp_path / "releases"
    model = _other_projection_model(reduced, tmp_path)
    assert main(["publish", "--to", str(releases), "--index", str(reduced / "idx"), "--model", str(model),
                 "--version", "v1"]) == 1
    assert not (releases / "current.json").exists()
    # the same index with its own student: published
    assert main(["publish", "--to", str(releases), "--index", str(reduced / "idx"), "--model",
                 str(reduced / "model"), "--version", "v1"]) == 0


def test_the_daily_refresh_does_not_carry_a_student_into_another_projection(reduced, tiny_pipeline, tmp_path, capsys):
    """A refresh whose build-index fitted another projection: publish will not carry the current
    student forward, and the student step says a new export is needed."""
    from infra.jobs.student import decide

    releases = tmp_path / "releases"
    assert main(["publish", "--to", str(releases), "--index", str(reduced / "idx"), "--model",
                 str(reduced / "model"), "--version", "v1"]) == 0
    assert decide(str(releases), str(reduced / "idx"))[0] is True
    day2 = tmp_path / "idx-day2"
    assert main(["build-index", "--embeddings", str(tiny_pipeline / "emb"), "--out", str(day2),
                 "--min-recall", "0.9", "--queries", "100", "--width", "16", "--sample", "150"]) == 0
    carry, why = decide(str(releases), str(day2))
    assert carry is False and "another projection" in why
    capsys.readouterr()
    assert main(["publish", "--to", str(releases), "--index", str(day2), "--version", "v2"]) == 1
    assert "another projection" in capsys.readouterr().err
    assert json.loads((releases / "current.json").read_text())["version"] == "v1"
    # the same refresh reusing the current student's projection (as the pipeline does): carried forward
    assert main(["build-index", "--embeddings", str(tiny_pipeline / "emb"), "--out", str(day2),
                 "--min-recall", "0.9", "--queries", "100", "--width", "16", "--sample", "150",
                 "--projection", str(reduced / "idx" / PROJECTION_FILE)]) == 0
    assert decide(str(releases), str(day2))[0] is True
    assert main(["publish", "--to", str(releases), "--index", str(day2), "--version", "v2"]) == 0
    assert json.loads((releases / "current.json").read_text())["version"] == "v2"
    # the batch stack has no previous index on disk: --projection-from fetches the current student's
    # projection, which publish put beside the releases (outside them: no loader downloads it)
    sha = json.loads((reduced / "idx" / "manifest.json").read_text())["projection"]["sha256"]
    assert (releases / "projections" / f"{sha}.npz").read_bytes() == (reduced / "idx" / PROJECTION_FILE).read_bytes()
    assert not any("projection" in name for name in json.loads(
        (releases / "releases" / "v2" / "release.json").read_text())["files"])
    day3 = tmp_path / "idx-day3"
    capsys.readouterr()
    assert main(["build-index", "--embeddings", str(tiny_pipeline / "emb"), "--out", str(day3),
                 "--min-recall", "0.9", "--queries", "100", "--width", "16", "--sample", "140",
                 "--projection-from", str(releases)]) == 0
    assert "reusing release v2's" in capsys.readouterr().out
    assert decide(str(releases), str(day3))[0] is True
    # another width: nothing to reuse, a projection is fitted
    assert main(["build-index", "--embeddings", str(tiny_pipeline / "emb"), "--out", str(day3),
                 "--min-recall", "0.9", "--queries", "100", "--width", "12", "--projection-from", str(releases)]) == 0
    assert "not reused (release v2's student is not reduced to --width 12)" in capsys.readouterr().out


def test_the_loader_refuses_a_student_of_another_projection(reduced, tmp_path, monkeypatch):
    """A release made without publish's check (an older publisher): the loader refuses it itself."""
    import infra.model_manifest
    from coldstart.release import ModelManifest
    from coldstart.release_loader import ReleaseLoader
    from coldstart.storage import LocalStore

    def unchecked(model_dir, index):
        manifest = ModelManifest.load(model_dir, verify=True)
        return manifest, manifest.paths(model_dir)

    monkeypatch.setattr(infra.model_manifest, "check_model_component", unchecked)
    model = _other_projection_model(reduced, tmp_path)
    releases = tmp_path / "releases"
    assert main(["publish", "--to", str(releases), "--index", str(reduced / "idx"), "--model", str(model),
                 "--version", "v1"]) == 0
    from coldstart.errors import SmokeTestError

    loader = ReleaseLoader(LocalStore(releases), str(tmp_path / "cache"))
    with pytest.raises(SmokeTestError, match="mismatched pair"):  # opening is refused before any canary runs
        loader.load("v1")


def test_the_reduced_release_serves_profiles(reduced, tmp_path):
    from coldstart.voting import vote
    from coldstart.release_loader import ReleaseLoader
    from coldstart.storage import LocalStore

    releases = tmp_path / "releases"
    assert main(["publish", "--to", str(releases), "--index", str(reduced / "idx"), "--model",
                 str(reduced / "model"), "--version", "v1"]) == 0
    release = ReleaseLoader(LocalStore(releases), str(tmp_path / "cache")).load("v1")
    assert release.index_manifest.dim == 16 and release.encoder.dim == 16
    enc = release.tokenizer.encode(TEXTS[0])
    vector = release.encoder.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)[0]
    ids, dist = release.index.get_nns_by_vector(vector, 10, search_k=release.search_k, include_distances=True)
    profile = vote(ids, [1.0 - d * d / 2.0 for d in dist], release.items)
    assert len(ids) == 10 and profile.top_tag is not None


def _ids(tokenizer, text):
    enc = tokenizer([text], max_length=32, truncation=True, return_attention_mask=True)
    return np.asarray(enc["input_ids"]), np.asarray(enc["attention_mask"])
