"""`infra publish` against a real S3-compatible server: verify-then-switch, rollback, faults, and
the rule that a release is never half a release (a model is given, carried forward, or refused)."""
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from coldstart.release import read_current, read_release
from coldstart.storage import open_store
from infra.cli import main
from tests.synthetic import clustered, write_embeddings, write_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_index(tmp_path, name="idx", n=1500, dim=32, seed=0, n_trees=None, weights_sha256=None):
    """At the teacher's width (--width 0): these tests are about publishing, and a daily refresh at a
    reduced width carries its student forward only with the same projection (tests/test_projection.py)."""
    emb = write_embeddings(tmp_path / f"{name}-emb", clustered(n, dim=dim, seed=seed), weights_sha256=weights_sha256)
    argv = ["build-index", "--embeddings", str(emb), "--out", str(tmp_path / name), "--queries", "100", "--width", "0"]
    argv += ["--n-trees", str(n_trees), "--search-k", "100", "--min-recall", "0"] if n_trees else []
    assert main(argv) == 0
    return tmp_path / name


def publish(to, index, version, *extra, model=None):
    """``model``: a model directory; default: one made for ``index`` (tests.synthetic.write_model);
    False: none (the index-only publish: carried forward or refused)."""
    if model is None:
        model = write_model(index.parent / f"{index.name}-model", index)
    models = ["--model", str(model)] if model else []
    return main(["publish", "--to", to, "--index", str(index), "--version", version, *models, *extra])


def current_version(uri):
    pointer = read_current(open_store(uri))
    return pointer.version if pointer else None


@pytest.fixture
def index_dir(tmp_path):
    return make_index(tmp_path)


def test_publish_uploads_verifies_and_switches_current(s3_bucket, s3_env, index_dir):
    server, bucket = s3_bucket
    uri = f"s3://{bucket}/coldstart"
    assert current_version(uri) is None
    assert publish(uri, index_dir, "v1") == 0
    assert current_version(uri) == "v1"
    keys = sorted(o["Key"] for o in server.client().list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["coldstart/current.json", "coldstart/releases/v1/canaries.json",
                    "coldstart/releases/v1/index/index.ann", "coldstart/releases/v1/index/items.npz",
                    "coldstart/releases/v1/index/manifest.json",
                    "coldstart/releases/v1/model/canaries.json", "coldstart/releases/v1/model/model_manifest.json",
                    "coldstart/releases/v1/model/student.int8.onnx", "coldstart/releases/v1/model/vocab.txt",
                    "coldstart/releases/v1/release.json"]
    release = read_release(open_store(uri), "v1")
    assert release.teacher.id == "synthetic" and release.components["index"]["count"] == 1500
    body = server.client().get_object(Bucket=bucket, Key="coldstart/releases/v1/index/index.ann")["Body"].read()
    assert len(body) == release.files["index/index.ann"].size


def test_second_publish_keeps_the_first_for_rollback(s3_bucket, s3_env, index_dir, tmp_path, capsys):
    _, bucket = s3_bucket
    uri = f"s3://{bucket}/cs"
    publish(uri, index_dir, "v1")
    publish(uri, make_index(tmp_path, "idx2", seed=9), "v2")
    pointer = read_current(open_store(uri))
    assert (pointer.version, pointer.previous) == ("v2", "v1")
    assert main(["publish", "--to", uri, "--rollback", "v1"]) == 0
    assert current_version(uri) == "v1"
    capsys.readouterr()
    main(["publish", "--to", uri, "--list"])
    assert capsys.readouterr().out.split("\n")[:2] == ["* v1", "  v2"]


def test_publishing_an_existing_version_is_refused(s3_bucket, s3_env, index_dir, capsys):
    uri = f"s3://{s3_bucket[1]}/cs"
    publish(uri, index_dir, "v1")
    assert publish(uri, index_dir, "v1") == 1
    assert "release v1 already exists" in capsys.readouterr().err


def test_rollback_to_a_missing_or_corrupted_release_leaves_current_alone(s3_bucket, s3_env, index_dir, tmp_path, capsys):
    server, bucket = s3_bucket
    uri = f"s3://{bucket}/cs"
    publish(uri, index_dir, "v1")
    publish(uri, make_index(tmp_path, "idx2", seed=9), "v2")
    assert main(["publish", "--to", uri, "--rollback", "v9"]) == 1
    assert "no complete release v9" in capsys.readouterr().err
    key = "cs/releases/v1/index/items.npz"
    body = server.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    server.client().put_object(Bucket=bucket, Key=key, Body=body[:-1] + b" ")  # same size, other bytes
    assert main(["publish", "--to", uri, "--rollback", "v1"]) == 1
    assert "index/items.npz: sha256" in capsys.readouterr().err
    assert current_version(uri) == "v2"


def test_publish_killed_mid_upload_leaves_current_on_the_previous_release(s3_bucket, s3_env, tmp_path):
    server, bucket = s3_bucket
    uri = f"s3://{bucket}/cs"
    publish(uri, make_index(tmp_path, "small", dim=192), "v1")
    big = make_index(tmp_path, "big", n=40000, dim=192, n_trees=8)  # ~40 MB: uploads take a while
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "layer")]))
    proc = subprocess.Popen([sys.executable, "-m", "infra", "publish", "--to", uri, "--index", str(big),
                             "--version", "v2"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "uploaded index/index.ann" in line:  # tqdm may precede it on the line
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    store = open_store(uri)
    assert current_version(uri) == "v1"
    assert store.exists("releases/v2/index/index.ann")          # the upload had started…
    assert not store.exists("releases/v2/release.json")          # …but never completed
    # A rerun of the same publish completes and only then switches (v1's student carried forward again).
    assert publish(uri, big, "v2", model=False) == 0
    assert current_version(uri) == "v2"


def test_publish_refuses_an_index_whose_files_were_altered(s3_bucket, s3_env, index_dir, capsys):
    uri = f"s3://{s3_bucket[1]}/cs"
    model = write_model(index_dir.parent / "model", index_dir)
    with open(index_dir / "items.npz", "ab") as fh:
        fh.write(b" ")
    assert publish(uri, index_dir, "v1", model=model) == 1
    assert "items.npz: size" in capsys.readouterr().err
    assert current_version(uri) is None


def test_access_denied_is_reported_and_nothing_switches(s3_bucket, s3_env, index_dir, monkeypatch, capsys):
    server, bucket = s3_bucket
    uri = f"s3://{bucket}/cs"
    publish(uri, index_dir, "v1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.reader_access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.reader_secret_key)
    assert publish(uri, index_dir, "v2") == 1
    assert "access denied" in capsys.readouterr().err
    assert current_version(uri) == "v1"


def test_unreachable_s3_fails_after_bounded_retries(index_dir, monkeypatch, capsys):
    from local.procs import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("COLDSTART_S3_MAX_ATTEMPTS", "2")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    assert publish("s3://nowhere/cs", index_dir, "v1", model=False) == 1
    assert "cannot reach http://127.0.0.1:" in capsys.readouterr().err


def test_publish_to_a_local_directory_works_the_same(index_dir, tmp_path):
    out = tmp_path / "releases-root"
    assert publish(str(out), index_dir, "v1") == 0
    assert json.loads((out / "current.json").read_text())["version"] == "v1"
    assert (out / "releases" / "v1" / "index" / "index.ann").is_file()


# ---------------------------------------------------------------- never half a release

def load_current(uri, tmp_path):
    """What a serving instance does at a cold start: load current.json's release (smoke test included)."""
    from coldstart.release_loader import ReleaseLoader, ReleaseManager

    manager = ReleaseManager(ReleaseLoader(open_store(uri), str(tmp_path / "serving-cache")), 0, background=False)
    manager.start()
    return manager


def test_an_index_alone_with_nothing_published_is_refused_and_says_what_to_do(index_dir, tmp_path, capsys):
    out = str(tmp_path / "store")
    assert publish(out, index_dir, "v1", model=False) == 1
    err = capsys.readouterr().err
    assert "publish refused: this index comes without a student model" in err and "publish with --model" in err
    assert current_version(out) is None


def test_the_daily_index_refresh_carries_the_current_student_forward(index_dir, tmp_path, capsys):
    out = str(tmp_path / "store")
    model = write_model(tmp_path / "model", index_dir)
    assert publish(out, index_dir, "v1", model=model) == 0
    refreshed = make_index(tmp_path, "idx-day2", seed=5)  # new users, same teacher
    capsys.readouterr()
    assert publish(out, refreshed, "v2", model=False) == 0
    captured = capsys.readouterr()
    assert "model=carried-forward:v1" in captured.out and "carrying the student of release v1 forward" in captured.err
    store = open_store(out)
    v1, v2 = read_release(store, "v1"), read_release(store, "v2")
    assert {n: e for n, e in v2.files.items() if n.startswith("model/")} == \
        {n: e for n, e in v1.files.items() if n.startswith("model/")}          # the same student, byte for byte
    assert v2.files["index/index.ann"] != v1.files["index/index.ann"]         # with the new index
    assert v2.files["canaries.json"] != v1.files["canaries.json"]             # and its own expectations
    assert v2.components["model"]["origin"] == "carried-forward:v1"
    manager = load_current(out, tmp_path)
    assert manager.current.version == "v2" and manager.last_error is None    # it loads and passes its canaries


def test_an_index_of_another_teacher_is_refused_rather_than_paired_with_the_old_student(index_dir, tmp_path, capsys):
    out = str(tmp_path / "store")
    assert publish(out, index_dir, "v1") == 0
    other = make_index(tmp_path, "idx-new-teacher", seed=3, weights_sha256="e" * 64)
    assert publish(out, other, "v2", model=False) == 1
    err = capsys.readouterr().err
    assert "a student cannot be carried into another teacher's space" in err and "eeeeeeeeeeee" in err
    assert current_version(out) == "v1"
    assert load_current(out, tmp_path).current.version == "v1"


def test_model_if_present_takes_a_fresh_export_else_carries_forward(index_dir, tmp_path, capsys):
    out = str(tmp_path / "store")
    empty = tmp_path / "work-model"  # the batch student step left nothing: the teacher did not change
    assert publish(out, index_dir, "v1", "--model-if-present", str(empty), model=False) == 1
    assert "nothing is published yet" in capsys.readouterr().err
    write_model(empty, index_dir)
    assert publish(out, index_dir, "v1", "--model-if-present", str(empty), model=False) == 0
    assert "model=new" in capsys.readouterr().out
    shutil.rmtree(empty)
    assert publish(out, make_index(tmp_path, "idx2", seed=4), "v2", "--model-if-present", str(empty), model=False) == 0
    assert "model=carried-forward:v1" in capsys.readouterr().out
    assert load_current(out, tmp_path).current.version == "v2"


def test_publish_refuses_a_student_and_index_of_different_teachers(tiny_pipeline, index_dir, tmp_path, capsys):
    """index_dir holds synthetic vectors; the tiny model was distilled from tiny-test-teacher."""
    out = tmp_path / "store"
    assert main(["publish", "--to", str(out), "--index", str(index_dir), "--model", str(tiny_pipeline / "model"),
                 "--version", "v1"]) == 1
    assert "must match" in capsys.readouterr().err
    assert not (out / "current.json").exists()


def test_release_carries_index_and_model_with_one_teacher(tiny_pipeline, tmp_path):
    out = tmp_path / "store"
    assert main(["publish", "--to", str(out), "--index", str(tiny_pipeline / "idx"), "--model",
                 str(tiny_pipeline / "model"), "--version", "v1"]) == 0
    release = read_release(open_store(str(out)), "v1")
    assert "model/student.int8.onnx" in release.files and "index/index.ann" in release.files
    assert release.teacher.id == "tiny-test-teacher"
    assert release.components["model"]["gates"]["int8_cosine"]["passed"] is True
