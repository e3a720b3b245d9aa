"""Synthetic embedding sets for index and publish tests, and a tiny model component in the
synthetic index's space (so a synthetic release is a whole release: publish refuses half ones)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np

TAGS = ["体育", "科技", "娱乐", "教育", "旅游", "美食"]


def clustered(n: int, dim: int = 32, clusters: int = 6, spread: float = 0.35, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    labels = np.arange(n) % clusters
    x = centres[labels] + spread * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic_user_key(i: int) -> str:
    """A stand-in keyed pseudonym for synthetic user i (the shape coldstart.pseudonyms makes)."""
    return f"k00000000.{i:032x}"


def write_embeddings(out: Path, vectors: np.ndarray, chunk_size: int = 256, teacher_id: str = "synthetic",
                     weights_sha256: Optional[str] = None) -> Path:
    from coldstart.release import TeacherInfo
    from coldstart.storage import LocalStore
    from infra.embeddings import EMBED_MANIFEST, EmbedSpec, chunk_key, encode_chunk

    store = LocalStore(out)
    teacher = TeacherInfo(id=teacher_id, weights_sha256=weights_sha256 or "0" * 64, dim=vectors.shape[1], demo=True)
    spec = EmbedSpec(teacher=teacher, input_sha256="1" * 64, count=len(vectors), chunk_size=chunk_size,
                     max_seq_len=32, preprocess="test", pseudonym_key_id="00000000")
    store.put_bytes(EMBED_MANIFEST, json.dumps(spec.to_dict()).encode())
    for c in range(spec.n_chunks):
        rows = range(c * chunk_size, min(len(vectors), (c + 1) * chunk_size))
        store.put_bytes(chunk_key(c), encode_chunk(vectors[list(rows)], [synthetic_user_key(i) for i in rows],
                                                   [(TAGS[i % len(TAGS)],) for i in rows],
                                                   [f"text {i}" for i in rows]))
    return Path(out)


def write_model(out: Path, index_dir: Path, seed: int = 0, vocab: Optional[Path] = None) -> Path:
    """A model component for ``index_dir`` (same teacher, same dim) without paddle: an ONNX graph
    that averages a random table's rows for the input ids and normalises (the four inputs of the
    real student), a character vocabulary (or a copy of ``vocab``), canaries recorded with it, and
    a ModelManifest."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from coldstart.encoder import OnnxEncoder
    from coldstart.release import (ONNX_INT8, VOCAB, Canaries, IndexManifest, ModelManifest, ServingFiles,
                                   StudentInfo, describe_files)
    from coldstart.release.canaries import default_texts
    from coldstart.tokenizer import WordPieceTokenizer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    index = IndexManifest.load(index_dir, verify=False)
    texts = default_texts()
    if vocab is None:
        chars = sorted({c for t in texts for c in t.lower() if not c.isspace()})
        (out / VOCAB).write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]) + "\n",
                                 encoding="utf-8")
    else:
        (out / VOCAB).write_bytes(Path(vocab).read_bytes())
    size = len((out / VOCAB).read_text(encoding="utf-8").splitlines())
    table = np.random.default_rng(seed).normal(size=(size, index.dim)).astype(np.float32)
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
              for n in ("input_ids", "token_type_ids", "position_ids")]
    inputs.append(helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", 1, 1, "seq"]))
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["rows"]),
         helper.make_node("ReduceMean", ["rows"], ["mean"], axes=[1], keepdims=0),
         helper.make_node("LpNormalization", ["mean"], ["vector"], axis=1, p=2)],
        "synthetic-student", inputs,
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, ["batch", index.dim])],
        [numpy_helper.from_array(table, "table")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(out / ONNX_INT8))
    tokenizer, encoder = WordPieceTokenizer(str(out / VOCAB), max_seq_len=32), OnnxEncoder(str(out / ONNX_INT8))
    vectors = []
    for text in texts:
        enc = tokenizer.encode(text)
        vectors.append(encoder.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)[0])
    Canaries.record(texts, np.array(vectors)).save(out)
    from coldstart.release import CANARIES

    ModelManifest(teacher=index.teacher, student=StudentInfo(shape={"kind": "synthetic"}, out_dim=index.dim,
                                                             max_seq_len=32),
                  serving=ServingFiles(onnx=ONNX_INT8), files=describe_files(out, [ONNX_INT8, VOCAB, CANARIES])
                  ).save(out)
    return out
