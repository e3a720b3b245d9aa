"""coldstart.release: one owner for names, typed manifests, and the two write helpers every writer uses.

The fuzz suite (tests/fuzz) feeds the readers arbitrary JSON; here: round trips, the write helpers'
guarantees (old file or whole new file, never a temporary left behind) and that the other modules
use the layout's names instead of spelling their own.
"""
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from coldstart.errors import ManifestError
from coldstart.release import (CurrentPointer, GateResult, ModelManifest, ReleaseManifest, ServingFiles, StudentInfo,
                               TeacherInfo, atomic_write, atomic_write_json, describe_files, layout, remove_directory,
                               staged_directory)
from coldstart.storage import LocalStore

TEACHER = TeacherInfo(id="t", weights_sha256="a" * 64, dim=8)


def model_manifest(tmp_path):
    (tmp_path / "student.int8.onnx").write_bytes(b"onnx")
    (tmp_path / "vocab.txt").write_text("[PAD]\n", encoding="utf-8")
    return ModelManifest(teacher=TEACHER, student=StudentInfo(shape={"hidden_size": 8}, out_dim=8, max_seq_len=16),
                         serving=ServingFiles(onnx="student.int8.onnx"),
                         files=describe_files(tmp_path, ["student.int8.onnx", "vocab.txt"]),
                         gates={"int8_cosine": GateResult("int8_cosine", 0.999, 0.99, True)})


def test_the_model_manifest_is_written_and_read_by_one_class(tmp_path):
    manifest = model_manifest(tmp_path)
    manifest.save(tmp_path)
    again = ModelManifest.load(tmp_path, verify=True)
    assert again == manifest and again.serving_file("onnx") == "student.int8.onnx"
    assert json.loads((tmp_path / layout.MODEL_MANIFEST).read_text())["kind"] == "model"
    (tmp_path / "vocab.txt").write_text("[UNK]\n", encoding="utf-8")  # same size, other bytes
    with pytest.raises(Exception, match="vocab.txt: sha256"):
        ModelManifest.load(tmp_path, verify=True)


@pytest.mark.parametrize("damage", [
    lambda d: d.pop("serving"),
    lambda d: d["serving"].update(onnx="not-listed.onnx"),
    lambda d: d["student"].update(out_dim=0),
    lambda d: d["files"].update({"../escape": {"sha256": "a" * 64, "size": 1}}),
    lambda d: d["gates"]["int8_cosine"].update(passed="yes"),
    lambda d: d.update(schema_version=2),
    lambda d: d.update(kind="index"),
], ids=["no-serving", "serves-an-unlisted-file", "out-dim-0", "unsafe-path", "passed-not-bool", "schema-2",
        "wrong-kind"])
def test_a_malformed_model_manifest_raises_manifest_error_only(tmp_path, damage):
    data = model_manifest(tmp_path).to_dict()
    damage(data)
    with pytest.raises(ManifestError):
        ModelManifest.from_dict(data)


def test_the_current_pointer_round_trips_and_names_its_previous_release():
    pointer = CurrentPointer(version="v2", release_sha256="b" * 64, published_at="t", previous="v1",
                             previous_release_sha256="c" * 64)
    assert CurrentPointer.from_bytes(pointer.to_bytes()) == pointer
    old_style = CurrentPointer(version="v1", release_sha256="b" * 64, published_at="t")  # before previous_release_sha256
    assert "previous_release_sha256" not in json.loads(old_style.to_bytes())
    assert CurrentPointer.from_bytes(old_style.to_bytes()) == old_style
    with pytest.raises(ManifestError):
        CurrentPointer.from_bytes(b'{"version": "../x", "release_sha256": "b", "published_at": "t"}')


def test_a_release_manifest_lists_its_components_files():
    release = ReleaseManifest(version="v1", teacher=TEACHER, components={}, files={
        "index/index.ann": describe_entry(), "model/model_manifest.json": describe_entry(),
        "model/vocab.txt": describe_entry(), "canaries.json": describe_entry()})
    assert release.has_model and set(release.component_files("model")) == {"model_manifest.json", "vocab.txt"}
    assert ReleaseManifest.from_bytes(release.to_bytes()) == release


def describe_entry():
    from coldstart.release import FileEntry

    return FileEntry(sha256="d" * 64, size=1)


# ------------------------------------------------------------------------------ the write helpers

def test_atomic_write_leaves_the_old_file_whole_when_the_writer_fails(tmp_path):
    path = tmp_path / "sub" / "state.json"
    atomic_write_json(path, {"v": 1})
    assert json.loads(path.read_text()) == {"v": 1} and oct(path.stat().st_mode & 0o777) == "0o644"

    def half_then_fail(fh):
        fh.write(b'{"v": 2, "trunc')
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, half_then_fail)
    assert json.loads(path.read_text()) == {"v": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json"]  # no temporary left


def test_staged_directory_swaps_whole_or_not_at_all(tmp_path):
    out = tmp_path / "index"
    with staged_directory(out) as staging:
        (staging / "a").write_text("1")
    assert (out / "a").read_text() == "1" and oct(out.stat().st_mode & 0o777) == "0o755"
    with pytest.raises(RuntimeError):
        with staged_directory(out) as staging:
            (staging / "a").write_text("2")
            (staging / "b").write_text("2")
            raise RuntimeError("the recall gate failed")
    assert sorted(p.name for p in out.iterdir()) == ["a"] and (out / "a").read_text() == "1"
    with staged_directory(out) as staging:
        (staging / "b").write_text("3")
    assert sorted(p.name for p in out.iterdir()) == ["b"]  # replaced, not merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]  # no staging or old copy left
    remove_directory(out)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_the_local_store_writes_through_atomic_write_and_lists_no_temporaries(tmp_path):
    store = LocalStore(tmp_path / "store")
    store.put_bytes("releases/v1/release.json", b"{}")
    (tmp_path / "store" / "releases" / "v1" / ".index.ann.x1y2.part").write_bytes(b"in flight")
    assert store.list("releases/") == ["releases/v1/release.json"]
    store.download("releases/v1/release.json", tmp_path / "copy.json")
    assert (tmp_path / "copy.json").read_bytes() == b"{}"


# ------------------------------------------------------------------------------ one owner

def test_other_modules_take_their_names_from_the_layout():
    from coldstart import calibration, items, keyword_baseline, vector_index

    assert vector_index.INDEX_FILE is layout.INDEX_FILE
    assert items.ITEMS_NPZ is layout.ITEMS_NPZ and items.ITEMS_FILE is layout.ITEMS_JSON
    assert keyword_baseline.KEYWORDS_FILE is layout.KEYWORDS
    assert calibration.CALIBRATION_FILE is layout.CALIBRATION
    assert {layout.KEYWORDS, layout.CALIBRATION} <= set(layout.OPTIONAL_INDEX_FILES)


def test_no_writer_outside_the_format_package_renames_files_by_hand():
    """The ~8 hand-written tmp+rename copies are gone: writers call atomic_write / staged_directory."""
    root = os.path.join(os.path.dirname(__file__), "..")
    offenders = []
    for folder in ("layer/coldstart", "infra", "edge", "bench"):
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in files:
                if not name.endswith(".py") or "release" + os.sep + "files.py" in os.path.join(dirpath, name):
                    continue
                text = open(os.path.join(dirpath, name), encoding="utf-8").read()
                for needle in ("mkstemp(", "os.replace(", ".replace(ckpt", "tmp.replace(", ".rename(out)"):
                    if needle in text:
                        offenders.append(f"{os.path.relpath(os.path.join(dirpath, name), root)}: {needle}")
    assert offenders == []


# -- canary votes: expected only where a vote means something -------------------------------------
class _FixedEncoder:
    """Answers every text with one vector (a runtime whose output drifted to ``vector``)."""

    def __init__(self, vector):
        self.vector = np.asarray(vector, dtype=np.float32)

    def encode_ids(self, *_):
        return self.vector[None, :]


class _Tokenizer:
    def encode(self, text):
        return SimpleNamespace(input_ids=None, attention_mask=None, token_type_ids=None)


def _two_clusters():
    """20 users near e0 who like 体育, 20 near e0 + 0.6 e1 who like 美食 (cosine 0.86 between the centres)."""
    from annoy import AnnoyIndex

    from coldstart.items import ItemTable

    rng = np.random.default_rng(3)
    a, b = np.eye(8)[0], np.eye(8)[0] + 0.6 * np.eye(8)[1]
    vectors = [c + 0.02 * rng.normal(size=8) for c in [a] * 20 + [b] * 20]
    index = AnnoyIndex(8, "angular")
    for i, v in enumerate(vectors):
        index.add_item(i, (v / np.linalg.norm(v)).tolist())
    index.build(5)
    items = ItemTable.from_rows([f"h{i}" for i in range(40)], [["体育"]] * 20 + [["美食"]] * 20)
    return index, items, a / np.linalg.norm(a), b / np.linalg.norm(b)


def test_a_served_vector_that_votes_another_tag_fails_the_smoke_test_when_votes_are_checked():
    from coldstart.errors import SmokeTestError
    from coldstart.release import Canaries

    index, items, a, b = _two_clusters()
    recorded = Canaries.record(["我喜欢打篮球"], a[None, :])
    drifted = _FixedEncoder(b)  # cosine 0.86 to the recorded vector: passes a 0.85 floor, votes 美食
    checked = recorded.expect(index, items, search_k=-1)
    assert checked.canaries[0].top_tag == "体育"
    checked.min_cosine = {"onnx": 0.85}
    with pytest.raises(SmokeTestError, match="votes '美食'"):
        checked.check(drifted, _Tokenizer(), index, items, "onnx", 8)
    unchecked = recorded.expect(index, items, search_k=-1, check_votes=False)
    assert unchecked.canaries[0].top_tag is None and unchecked.canaries[0].neighbors
    unchecked.min_cosine = {"onnx": 0.85}
    unchecked.check(drifted, _Tokenizer(), index, items, "onnx", 8)  # vector and neighbours only
    checked.check(_FixedEncoder(a), _Tokenizer(), index, items, "onnx", 8)  # the recorded vector passes


def test_votes_are_checked_only_for_a_model_whose_neighbours_are_stable():
    from coldstart.release import Canaries

    def manifest(overlap):
        return SimpleNamespace(gates={} if overlap is None else {"int8_overlap": SimpleNamespace(value=overlap)})

    assert Canaries.votes_are_stable(manifest(0.97)) and Canaries.votes_are_stable(manifest(0.9))
    assert not Canaries.votes_are_stable(manifest(0.3)) and not Canaries.votes_are_stable(manifest(None))
