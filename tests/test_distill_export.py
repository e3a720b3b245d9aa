"""`infra distill` and `infra export`: resume, parity Paddle ↔ ONNX ↔ Lite, gates, manifest."""
import json
import shutil

import numpy as np
import pytest

from coldstart.hashing import sha256_file
from infra.cli import main

from tests.conftest import LENIENT_GATES as LENIENT
from tests.conftest import TINY_STUDENT


@pytest.fixture(scope="module")
def trained(tiny_pipeline):
    return tiny_pipeline


def test_distilled_student_card_and_loss(trained):
    card = json.loads((trained / "student" / "student.json").read_text())
    assert card["out_dim"] == 32 and card["teacher"]["id"] == "tiny-test-teacher"
    assert card["shape"] == {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                             "intermediate_size": 64}
    assert card["final_loss"] < 0.6 * card["first_loss"]  # 1 - cosine to the teacher, per batch


def test_rerun_with_same_settings_is_up_to_date(
        trained, small_users, tiny_teacher, capsys):
    argv = ["distill", "--embeddings", str(trained / "emb"), "--input", str(small_users), "--teacher",
            str(tiny_teacher), "--out", str(trained / "student"), "--epochs", "6", "--init", "teacher",
            "--augment", "0", *TINY_STUDENT]
    capsys.readouterr()
    assert main(argv) == 0
    assert "status=up-to-date" in capsys.readouterr().out


def test_killed_training_resumes_from_the_last_checkpoint(trained, small_users, tiny_teacher, tmp_path, capsys):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    out = tmp_path / "student"
    argv = ["distill", "--embeddings", str(trained / "emb"), "--input", str(small_users), "--teacher",
            str(tiny_teacher), "--out", str(out), "--init", "scratch", "--augment", "0", "--epochs", "40",
            *TINY_STUDENT]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "layer")]))
    proc = subprocess.Popen([sys.executable, "-m", "infra", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / "checkpoints" / "state.json"
    deadline = time.time() + 120
    while not state.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = json.loads(state.read_text())["epoch"]
    assert 1 <= done < 40 and not (out / "student.json").exists()
    capsys.readouterr()
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert f"resuming after epoch {done}" in text and f"resumed_at={done}" in text
    assert json.loads(state.read_text())["epoch"] == 40


def test_vocabulary_mismatch_is_refused_before_training(trained, small_users, tmp_path, capsys):
    from tests.tiny_models import make_tiny_teacher

    other = make_tiny_teacher(tmp_path / "other", ["完全不同的词表"], seed=3, teacher_id="other", hidden_size=48)
    code = main(["distill", "--embeddings", str(trained / "emb"), "--input", str(small_users), "--teacher",
                 str(other), "--out", str(tmp_path / "s"), "--augment", "1", *TINY_STUDENT])
    assert code == 1
    assert "is not the one that made the embeddings" in capsys.readouterr().err


@pytest.fixture(scope="module")
def exported(trained, tiny_teacher):
    from tests.conftest import DATA

    out = trained / "model-lite"
    assert main(["export", "--student", str(trained / "student"), "--index", str(trained / "idx"),
                 "--teacher", str(tiny_teacher), "--heldout", str(DATA / "heldout.jsonl"),
                 "--out", str(out), *LENIENT]) == 0
    return out


def test_model_manifest_lists_files_gates_and_teacher(exported, trained):
    m = json.loads((exported / "model_manifest.json").read_text())
    assert m["kind"] == "model" and m["teacher"]["id"] == "tiny-test-teacher"
    assert m["student"]["max_seq_len"] == 32 and m["student"]["out_dim"] == 32
    for name, entry in m["files"].items():
        assert entry == {"sha256": sha256_file(exported / name), "size": (exported / name).stat().st_size}
    assert {"student.int8.onnx", "student.fp32.onnx", "vocab.txt", "student.x86.fp32.nb",
            "student.arm.fp32.nb"} <= set(m["files"])
    assert set(m["gates"]) | set(m["optional_gates"]) == {"int8_cosine", "int8_overlap", "student_recall",
                                                          "top_tag_agreement", "lite_fp32_cosine", "lite_int8_cosine"}
    assert all(g["passed"] for g in m["gates"].values())
    # INT8 .nb files ship only when they hold their gate; the manifest's serving entry says which
    int8_nb_shipped = "lite_int8_cosine" in m["gates"]
    assert ("student.x86.int8.nb" in m["files"]) == int8_nb_shipped
    assert m["serving"]["lite"]["x86"] == ("student.x86.int8.nb" if int8_nb_shipped else "student.x86.fp32.nb")
    assert m["gates"]["lite_fp32_cosine"]["value"] >= 0.999
    assert m["versions"]["paddle"].startswith("2.6") and m["versions"]["lite_python"].startswith("3.9")


def test_paddle_onnx_and_lite_agree_on_the_same_inputs(exported, trained):
    import paddle

    from coldstart.encoder import INPUT_NAMES, OnnxEncoder, model_inputs
    from infra import lite
    from infra.student import load_student

    student, tokenizer, _ = load_student(trained / "student")
    texts = ["我喜欢看科幻电影和打篮球", "最近在准备考研，想多学点编程知识", "NBA和ＣＢＡ都看😀"]
    batches = []
    for t in texts:
        enc = tokenizer([t], max_length=32, truncation=True, return_attention_mask=True)
        batches.append((np.asarray(enc["input_ids"]), np.asarray(enc["attention_mask"])))
    feeds = [model_inputs(i, m) for i, m in batches]
    with paddle.no_grad():
        want = np.concatenate([student(*[paddle.to_tensor(f[k]) for k in INPUT_NAMES]).numpy() for f in feeds])
    onnx = OnnxEncoder(str(exported / "student.fp32.onnx")).encode_batches(
        [{"input_ids": i, "attention_mask": m} for i, m in batches])
    np.testing.assert_allclose(onnx, want, atol=1e-5)
    lite_vecs = lite.encode(exported / "student.x86.fp32.nb", batches)
    np.testing.assert_allclose(lite_vecs, want, atol=1e-5)
    int8 = OnnxEncoder(str(exported / "student.int8.onnx")).encode_batches(
        [{"input_ids": i, "attention_mask": m} for i, m in batches])
    assert np.min(np.sum(int8 * want, axis=1)) > 0.98


def test_a_broken_student_is_refused_and_nothing_is_released(trained, tiny_teacher, tmp_path, capsys):
    import paddle

    from tests.conftest import DATA

    broken = tmp_path / "broken"
    shutil.copytree(trained / "student", broken)
    proj = paddle.load(str(broken / "proj.pdparams"))
    rng = np.random.default_rng(0)
    paddle.save({k: paddle.to_tensor(rng.normal(size=v.shape).astype("float32")) for k, v in proj.items()},
                str(broken / "proj.pdparams"))  # a projection that points anywhere
    code = main(["export", "--student", str(broken), "--index", str(trained / "idx"), "--teacher", str(tiny_teacher),
                 "--heldout", str(DATA / "heldout.jsonl"), "--out", str(tmp_path / "model"), "--lite", "no"])
    assert code == 1
    err = capsys.readouterr().err
    assert "export refused: gate(s) missed" in err and "student_recall" in err
    assert not (tmp_path / "model").exists()
