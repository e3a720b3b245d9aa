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
    # 1 - cosine to the teacher, per batch. Started from the teacher, the student begins at dropout
    # noise and training lowers it: on the 16k demo population 6 epochs took it to ~0.67x, on the 20k one
    # (longer bios, truncated at 32 tokens here) to ~0.95x (0.0331 -> 0.0314). It stays near the teacher.
    assert card["final_loss"] < card["first_loss"] and card["final_loss"] < 0.05


def test_rerun_with_same_settings_is_up_to_date(
        trained, small_users, tiny_teacher, capsys):
    argv = ["distill", "--embeddings", str(trained / "emb"), "--input", str(small_users), "--teacher",
            str(tiny_teacher), "--out", str(trained / "student"), "--epochs", "6", "--init", "teacher",
            "--augment", "0", *TINY_STUDENT]
    capsys.readouterr()
    assert main(argv) == 0
    assert "status=up-to-date" in capsys.readouterr().out


def test_targets_hash_follows_texts_and_vectors_not_the_pseudonym_key():
    # The demo's pseudonym key is made per machine; the student's up-to-date check must not depend on it
    # (it once hashed the embeddings' manifest, which names the key, so every clean clone rewrote the card).
    from infra.jobs.distill import _targets_sha256

    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    texts = ["喜欢篮球", "爱看电影", "周末做饭"]
    base = _targets_sha256(vectors, texts)
    assert _targets_sha256(vectors.copy(), list(texts)) == base
    changed = vectors.copy()
    changed[1, 2] += 1e-3
    assert _targets_sha256(changed, texts) != base
    assert _targets_sha256(vectors, ["喜欢篮球", "爱看电影", "周末做菜"]) != base
    assert _targets_sha256(vectors, ["喜欢篮", "球爱看电影", "周末做饭"]) != base  # text boundaries count


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
    lite_int8 = {"lite_int8_cosine", "lite_int8_overlap"}
    assert set(m["gates"]) | set(m["optional_gates"]) in (
        {"int8_cosine", "int8_overlap", "student_recall", "top_tag_agreement", "lite_fp32_cosine"} | lite_int8 | extra
        for extra in (set(), {"lite_int16_cosine", "lite_int16_overlap"}))  # INT16 is tried only when INT8 missed
    assert all(g["passed"] for g in m["gates"].values())
    # a quantized .nb ships only when it holds both its gates; the manifest's serving entry says which
    shipped = next((q for q in ("int8", "int16") if {f"lite_{q}_cosine", f"lite_{q}_overlap"} <= set(m["gates"])),
                   "fp32")
    assert ("student.x86.int8.nb" in m["files"]) == (shipped == "int8")
    assert m["serving"]["lite"] == {"x86": f"student.x86.{shipped}.nb", "arm": f"student.arm.{shipped}.nb"}
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
                 "--heldout", str(DATA / "heldout.jsonl"), "--out", str(tmp_path / "model"), "--no-lite"])
    assert code == 1
    err = capsys.readouterr().err
    assert "export refused: gate(s) missed" in err and "student_recall" in err
    assert not (tmp_path / "model").exists()


def test_exported_onnx_keeps_one_embedding_table_not_a_masked_copy(exported, trained):
    """paddle2onnx writes the padded word embedding as Mul(table, mask) with a second FP32 array of
    the table's size; export folds it. Both ONNX files hold no more numbers than the student has
    parameters, the tokens are looked up straight from one table, and the outputs still match
    the Paddle student (test_paddle_onnx_and_lite_agree_on_the_same_inputs)."""
    import onnx
    from onnx import numpy_helper

    from infra.student import load_student

    student, tokenizer, _ = load_student(trained / "student")
    n_params = sum(int(np.prod(p.shape)) for p in student.parameters())
    vocab = len(tokenizer.vocab)
    for name in ("student.fp32.onnx", "student.int8.onnx"):
        graph = onnx.load(str(exported / name)).graph
        inits = {t.name: t for t in graph.initializer}
        assert not [n.name for n in graph.node if n.op_type == "Mul" and all(i in inits for i in n.input)], name
        numbers = sum(int(np.prod(t.dims)) for t in graph.initializer)
        assert numbers <= 1.01 * n_params, (name, numbers, n_params)  # the mask copy alone adds vocab x hidden
        tables = [t for t in graph.initializer if list(t.dims[:1]) == [vocab]]
        assert len(tables) == 1, (name, [t.name for t in tables])
    fp32 = onnx.load(str(exported / "student.fp32.onnx")).graph
    table = next(t for t in fp32.initializer if list(t.dims[:1]) == [vocab])
    assert any(n.op_type == "Gather" and n.input[0] == table.name for n in fp32.node)
    assert not numpy_helper.to_array(table)[tokenizer.pad_token_id].any()  # the padding row, zeroed as the mask did


def test_fold_constant_muls_replaces_a_masked_table_by_its_product():
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import onnxruntime as ort

    from infra.jobs.export import fold_constant_muls

    table = np.arange(12, dtype=np.float32).reshape(4, 3) + 1.0
    mask = np.ones_like(table)
    mask[0] = 0.0  # padding row
    graph = helper.make_graph(
        [helper.make_node("Mul", ["table", "mask"], ["masked"]), helper.make_node("Gather", ["masked", "ids"], ["out"])],
        "g", [helper.make_tensor_value_info("ids", TensorProto.INT64, [None])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(mask, "mask")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    ids = np.array([0, 2, 3], dtype=np.int64)
    before = ort.InferenceSession(model.SerializeToString()).run(None, {"ids": ids})[0]
    folded = fold_constant_muls(model)
    onnx.checker.check_model(folded)
    assert [n.op_type for n in folded.graph.node] == ["Gather"]
    assert [t.name for t in folded.graph.initializer] == ["masked"]
    after = ort.InferenceSession(folded.SerializeToString()).run(None, {"ids": ids})[0]
    np.testing.assert_array_equal(after, before)
    assert not after[0].any()
