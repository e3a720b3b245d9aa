"""Export the student and release it only when it agrees with the teacher.

student → Paddle static model (legacy .pdmodel, four explicit inputs) →
  ONNX FP32 (paddle2onnx) and ONNX INT8 (onnxruntime quantize_dynamic, QInt8; per-tensor and
  per-channel are both tried, the better one that holds the gates is kept) →
  Paddle Lite .nb for x86 and arm (FP32, and INT8 weights where they hold the gates, else INT16
  where those do; infra/lite.py says why a quantized conversion rewrites matmul_v2 first),
plus vocab.txt, canaries.json (fixed canary texts and the served INT8 model's vectors for them:
every loader checks a release against them before it serves, coldstart.release.canaries) and
model_manifest.json (coldstart.release.ModelManifest: versions, teacher, shape, sha256 of every
file, gates).
An index built at a reduced width (build-index --width) has its projection folded into the
student's last layer first (infra/projection.py), so every model outputs the index's vectors, and
the gates and the canaries are in that space; both manifests carry the same ProjectionInfo.

Gates, on the held-out texts (thresholds configurable): INT8 vs FP32 cosine and neighbour
overlap; student vs teacher recall@10 and top-tag agreement; Lite FP32 vs ONNX FP32 cosine; the
quantized Lite .nb (optional: shipped only when it passes) vs ONNX FP32 cosine and overlap. A model
that misses any gate is not written (the previous export in --out stays).
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import fields
from pathlib import Path

from infra.progress import Steps, summary

# Bumped when the Lite conversion changes what an export writes (2: quantized .nb via legacy_weight_ops),
# so a model exported before is not taken as fresh by the pipeline.
LITE_EXPORT_VERSION = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--student", required=True, help="student directory from `distill`")
    p.add_argument("--index", required=True, help="index directory from `build-index` (the teacher's space)")
    p.add_argument("--teacher", required=True, help="the teacher (name or dir) for the held-out targets")
    p.add_argument("--heldout", required=True,
                   help="held-out JSONL with a text field, path or s3:// URI (not used in training)")
    p.add_argument("--out", required=True, help="model directory to (re)write")
    p.add_argument("--lite", action=argparse.BooleanOptionalAction, default=True,
                   help="also convert to Paddle Lite .nb (needs the kiosk toolchain: make edge-setup); --no-lite: ONNX only "
                        "(default: on)")
    p.add_argument("--lite-targets", default="x86,arm", help="Paddle Lite targets, comma-separated")
    p.add_argument("--canary-texts", default=None,
                   help="file of canary texts, one per line (default: coldstart.release.canaries.DEFAULT_TEXTS, "
                        "fixed non-personal sentences; never user data: every release carries them)")
    add_gate_arguments(p)


def add_gate_arguments(p) -> None:
    """--min-<gate> for each export gate (export and the student job)."""
    from infra.gates import GateThresholds

    for f in fields(GateThresholds):
        p.add_argument("--min-" + f.name.replace("_", "-"), dest=f"gate_{f.name}", type=float, default=f.default,
                       metavar="X", help=f"release gate: {GATE_HELP.get(f.name, f.name.replace('_', ' '))} "
                                         f"on the held-out texts must reach X")


GATE_HELP = {
    "int8_cosine": "mean cosine of INT8 vs FP32 student vectors",
    "int8_overlap": "top-10 neighbour overlap of INT8 vs FP32",
    "student_recall": "recall@10 of the INT8 student's neighbours against the teacher's",
    "top_tag_agreement": "share of texts where student and teacher vote the same top tag",
    "lite_fp32_cosine": "mean cosine of Paddle Lite FP32 vs ONNX FP32 vectors",
    "lite_int8_cosine": "mean cosine of Paddle Lite quantized (INT8, else INT16) vs ONNX FP32 (optional variant)",
    "lite_int8_overlap": "top-10 neighbour overlap of Paddle Lite quantized vs ONNX FP32 (optional variant)",
}


def run(args: argparse.Namespace) -> int:
    from coldstart.errors import ColdstartError
    from coldstart.release import IndexManifest, staged_directory
    from infra.gates import GateThresholds

    started = time.time()
    thresholds = GateThresholds(**{f.name: getattr(args, f"gate_{f.name}") for f in fields(GateThresholds)})
    index_manifest = IndexManifest.load(args.index, verify=True)
    out = Path(args.out)
    steps = Steps(["paddle static model", "ONNX FP32", "teacher targets", "ONNX INT8",
                   *(["Paddle Lite fp32", "Paddle Lite quantized"] if args.lite else []), "gates"], "export")
    try:
        with staged_directory(out) as staging:  # a model that misses a gate never replaces the previous export
            manifest = _export(args, thresholds, index_manifest, staging, steps)
            failed = manifest.failed_gates
            if failed:
                names = ", ".join(f"{g.name} {g.value:.4f} < {g.threshold}" for g in failed)
                raise ColdstartError(f"export refused: gate(s) missed: {names}; nothing released")
    finally:
        steps.close()
    summary("export", out=str(out), int8=manifest.int8.variant, canaries=len(_canary_texts(args)),
            gates="all-passed", seconds=f"{time.time() - started:.1f}")
    return 0


def _canary_texts(args) -> list:
    from coldstart.preprocess import prepare_text
    from coldstart.release.canaries import default_texts

    if not args.canary_texts:
        return default_texts()
    lines = Path(args.canary_texts).read_text(encoding="utf-8").splitlines()
    return [prepare_text(line)[0] for line in lines if line.strip()]


def _export(args, thresholds, index_manifest, out: Path, steps: Steps) -> dict:
    import numpy as np

    from coldstart.encoder import OnnxEncoder
    from coldstart.items import load_index_items
    from coldstart.preprocess import prepare_text
    from coldstart.release import (CANARIES, INDEX_FILE, ONNX_FP32, ONNX_INT8, VOCAB, Canaries, GateResult, Int8Info,
                                   ModelManifest, ServingFiles, StudentInfo, describe_files, teacher_info)
    from coldstart.vector_index import load_annoy
    from infra import gates as G
    from infra.inputs import read_input_lines
    from infra.student import load_student
    from infra.teacher import load_teacher, pick_device

    pick_device("cpu")
    student, tokenizer, card = load_student(Path(args.student))
    projection = _fold_index_projection(student, args.index, index_manifest)
    teacher = teacher_info(card["teacher"], "student card")
    if not teacher.same_space(index_manifest.teacher):
        from coldstart.errors import ColdstartError

        raise ColdstartError(f"student was distilled from {teacher.id}, the index holds {index_manifest.teacher.id}")
    max_len = int(card["max_seq_len"])
    held = [json.loads(line) for line in read_input_lines(args.heldout)[0] if line.strip()]
    texts = [prepare_text(h["text"], max_chars=max_len * 4)[0] for h in held]

    def batch_one(text):  # batch 1, as served
        enc = tokenizer([text], max_length=max_len, truncation=True, return_attention_mask=True)
        return np.asarray(enc["input_ids"], dtype=np.int64), np.asarray(enc["attention_mask"], dtype=np.int64)

    batches = [batch_one(t) for t in texts]
    canary_texts = _canary_texts(args)

    steps.step("paddle static model")
    # An intermediate for paddle2onnx and Lite's opt; not part of the release (no runtime loads it).
    static_dir = Path(tempfile.mkdtemp(prefix="coldstart-static-"))
    pdmodel, pdiparams = _save_static(student, static_dir)
    steps.step("ONNX FP32 (paddle2onnx)")
    fp32 = out / ONNX_FP32
    _to_onnx(pdmodel, pdiparams, fp32)
    fp32_vecs = OnnxEncoder(str(fp32)).encode_batches([{"input_ids": i, "attention_mask": m} for i, m in batches])

    steps.step("teacher targets on the held-out texts")
    teacher_model = load_teacher(args.teacher, max_seq_len=max_len, device="cpu")
    teacher_vecs = teacher_model.encode(texts)
    if projection is not None:  # the gates compare in the index's (reduced) space
        teacher_vecs = projection.apply(teacher_vecs)
    index = load_annoy(Path(args.index) / INDEX_FILE, index_manifest.dim)
    items = load_index_items(args.index)
    k, search_k = 10, index_manifest.search_k
    teacher_nn = G.neighbours(index, teacher_vecs, k, search_k)
    fp32_nn = G.neighbours(index, fp32_vecs, k, search_k)
    teacher_tags = G.top_tags(teacher_nn, teacher_vecs, index, items)

    steps.step("ONNX INT8 (quantize_dynamic QInt8, per-tensor and per-channel)")
    candidates = []
    for per_channel in (False, True):
        path = out / f"student.int8{'.pc' if per_channel else ''}.onnx"
        _quantize(fp32, path, per_channel)
        vecs = OnnxEncoder(str(path)).encode_batches([{"input_ids": i, "attention_mask": m} for i, m in batches])
        nn = G.neighbours(index, vecs, k, search_k)
        candidates.append((G.mean_cosine(vecs, fp32_vecs), G.overlap(nn, fp32_nn, k), per_channel, path, vecs, nn))
    candidates.sort(key=lambda c: (c[0] >= thresholds.int8_cosine and c[1] >= thresholds.int8_overlap, c[0]),
                    reverse=True)
    int8_cos, int8_overlap, per_channel, int8_path, int8_vecs, int8_nn = candidates[0]
    for c in candidates[1:]:
        c[3].unlink()
    int8_path.rename(out / ONNX_INT8)
    int8_tags = G.top_tags(int8_nn, int8_vecs, index, items)
    # the served model's own answers to the canary texts: every loader must reproduce them
    canary_vecs = OnnxEncoder(str(out / ONNX_INT8)).encode_batches(
        [{"input_ids": i, "attention_mask": m} for i, m in map(batch_one, canary_texts)])
    Canaries.record(canary_texts, canary_vecs).expect(index, items, index_manifest.search_k).save(out)

    gates = [
        G.Gate("int8_cosine", int8_cos, thresholds.int8_cosine),
        G.Gate("int8_overlap", int8_overlap, thresholds.int8_overlap),
        G.Gate("student_recall", G.overlap(int8_nn, teacher_nn, k), thresholds.student_recall),
        G.Gate("top_tag_agreement", G.agreement(int8_tags, teacher_tags), thresholds.top_tag_agreement),
    ]
    optional_gates = []
    figures = {"fp32_student_recall": round(G.overlap(fp32_nn, teacher_nn, k), 4),
               "fp32_top_tag_agreement": round(G.agreement(G.top_tags(fp32_nn, fp32_vecs, index, items), teacher_tags), 4),
               "student_teacher_cosine": round(G.mean_cosine(int8_vecs, teacher_vecs), 4),
               "heldout_texts": len(texts)}
    lite_files, lite_versions, lite_serving = [], {}, {}
    if args.lite:
        from infra import lite

        lite_versions = lite.versions()
        targets = [t.strip() for t in args.lite_targets.split(",") if t.strip()]
        steps.step(f"Paddle Lite fp32 for {', '.join(targets)}")
        nbs = _lite_variant(lite, pdmodel, pdiparams, out, targets, "fp32")
        measured = lite.encode(nbs["x86"], batches) if "x86" in nbs else None
        # required: the kiosk must agree with the cloud (the arm .nb cannot run here; same opt settings as x86)
        gates.append(G.Gate("lite_fp32_cosine", G.mean_cosine(measured, fp32_vecs) if measured is not None
                            else float("nan"), thresholds.lite_fp32_cosine))
        lite_files += [nb.name for nb in nbs.values()]
        lite_serving.update({t: nb.name for t, nb in nbs.items()})
        # Quantized weights: the same bar as ONNX INT8 (cosine and neighbour overlap against FP32).
        # INT8 first; INT16 only when INT8 misses; neither ships unless it holds both gates.
        steps.step(f"Paddle Lite quantized weights for {', '.join(targets)}")
        for quant in ("int8", "int16"):
            steps.note(f"export: Paddle Lite {quant} weights for {', '.join(targets)}")
            nbs = _lite_variant(lite, pdmodel, pdiparams, out, targets, quant)
            measured = lite.encode(nbs["x86"], batches) if "x86" in nbs else None
            quant_gates = _lite_quant_gates(G, quant, measured, fp32_vecs, fp32_nn, index, k, search_k, thresholds)
            if all(g.passed for g in quant_gates):
                gates.extend(quant_gates)
                lite_files += [nb.name for nb in nbs.values()]
                lite_serving.update({t: nb.name for t, nb in nbs.items()})  # the quantized .nb is what kiosks run
                break
            names = ", ".join(f"{g.name} {g.value:.4f} < {g.threshold}" for g in quant_gates if not g.passed)
            steps.note(f"export: Paddle Lite {quant} .nb dropped ({names})")
            optional_gates.extend(quant_gates)
            for nb in nbs.values():
                nb.unlink()
    steps.step("gates")
    steps.note("export: gates on %d held-out texts\n%s" % (len(texts), G.format_table(gates + optional_gates)))

    shutil.copyfile(Path(args.student) / "ernie" / VOCAB, out / VOCAB)
    shutil.rmtree(static_dir, ignore_errors=True)
    names = [ONNX_FP32, ONNX_INT8, VOCAB, CANARIES, *lite_files]
    gate = lambda g, **kw: GateResult(name=g.name, value=None if g.value != g.value else round(g.value, 4),  # noqa: E731
                                      threshold=g.threshold, passed=g.passed, **kw)
    manifest = ModelManifest(
        teacher=teacher,
        student=StudentInfo(shape=card["shape"], out_dim=projection.width if projection else int(card["out_dim"]),
                            max_seq_len=max_len, init=card["settings"]["init"], train_texts=int(card["train_texts"])),
        serving=ServingFiles(onnx=ONNX_INT8, lite=lite_serving),
        files=describe_files(out, names),
        gates={g.name: gate(g) for g in gates},
        optional_gates={g.name: gate(g, shipped=False) for g in optional_gates},
        inputs=["input_ids", "token_type_ids", "position_ids", "attention_mask"],
        int8=Int8Info(variant="per-channel" if per_channel else "per-tensor", weight_type="QInt8"),
        figures=figures, versions={**_versions(), **{f"lite_{k}": v for k, v in lite_versions.items()}},
        inputs_sha256=_inputs_sha(args.student, args.index, args.heldout),
        projection=index_manifest.projection if projection is not None else None,
    )
    manifest.save(out)
    return manifest


def _fold_index_projection(student, index_dir, index_manifest):
    """An index built at a reduced width (build-index --width): fold its projection into the
    student, so every exported model outputs the index's vectors. Returns it, or None."""
    from infra.projection import fold_into_student, index_projection

    projection = index_projection(index_dir, index_manifest)
    if projection is not None:
        fold_into_student(student, projection)
        print(f"export: projection {projection.source_dim} -> {projection.width} folded into the student "
              f"(kept energy {projection.kept_energy:.4f})", flush=True)
    return projection


def _lite_variant(lite, pdmodel: Path, pdiparams: Path, out: Path, targets, quant: str) -> dict:
    return {t: lite.convert(pdmodel, pdiparams, out / f"student.{t}.{quant}", t, quant) for t in targets}


def _lite_quant_gates(G, quant: str, measured, fp32_vecs, fp32_nn, index, k: int, search_k: int, thresholds) -> list:
    """Cosine to ONNX FP32 and top-k neighbour overlap with FP32's neighbours (NaN when nothing ran)."""
    import numpy as np

    if measured is None or not np.all(np.isfinite(measured)):
        cosine = overlap = float("nan")  # a NaN vector must fail, not crash Annoy or read as a match
    else:
        cosine = G.mean_cosine(measured, fp32_vecs)
        overlap = G.overlap(G.neighbours(index, measured, k, search_k), fp32_nn, k)
    return [G.Gate(f"lite_{quant}_cosine", cosine, thresholds.lite_int8_cosine),
            G.Gate(f"lite_{quant}_overlap", overlap, thresholds.lite_int8_overlap)]


def _inputs_sha(student: str, index: str, heldout: str) -> dict:
    from coldstart.hashing import sha256_file
    from coldstart.release import INDEX_MANIFEST
    from infra.inputs import read_input_lines
    from infra.student import STUDENT_CARD

    return {"student_card": sha256_file(Path(student) / STUDENT_CARD),
            "index_manifest": sha256_file(Path(index) / INDEX_MANIFEST), "heldout": read_input_lines(heldout)[2],
            "lite_export": LITE_EXPORT_VERSION}


def export_is_fresh(student: str, index: str, heldout: str, model: str) -> bool:
    """True when ``model`` was exported from exactly these inputs, carries canaries, and its files verify."""
    from coldstart.errors import ColdstartError
    from coldstart.release import CANARIES, ModelManifest

    try:
        manifest = ModelManifest.load(model, verify=True)
        return CANARIES in manifest.files and manifest.inputs_sha256 == _inputs_sha(student, index, heldout)
    except (ColdstartError, FileNotFoundError):
        return False


def _save_static(student, folder: Path):
    import paddle
    from paddle.static import InputSpec

    spec = [InputSpec([None, None], "int64", "input_ids"), InputSpec([None, None], "int64", "token_type_ids"),
            InputSpec([None, None], "int64", "position_ids"), InputSpec([None, 1, 1, None], "float32", "attention_mask")]
    # full_graph: the AST translator honours input_spec (the default SOT mode ignores it)
    static = paddle.jit.to_static(student, input_spec=spec, full_graph=True)
    paddle.jit.save(static, str(folder / "student"))
    return folder / "student.pdmodel", folder / "student.pdiparams"


def _to_onnx(pdmodel: Path, pdiparams: Path, out: Path) -> None:
    import onnx
    import paddle2onnx

    paddle2onnx.export(str(pdmodel), str(pdiparams), save_file=str(out), opset_version=14,
                       enable_onnx_checker=True, verbose=False)
    model = fold_constant_muls(constants_to_initializers(onnx.load(str(out))))
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def fold_constant_muls(model):
    """paddle2onnx writes an Embedding with padding_idx as Gather(Mul(table, mask)): a second FP32
    array the size of the table (the mask, zero on the padding row), multiplied on every run. Fold
    each Mul of two initializers into one initializer: the product is exact (x * 1 = x, x * 0 = 0),
    the file loses one table (nano: 105 -> 55 MB) and ONNX Runtime's session loads that much less."""
    from onnx import numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    keep, folded = [], []
    for node in graph.node:
        if node.op_type == "Mul" and len(node.input) == 2 and all(i in inits for i in node.input):
            a, b = (numpy_helper.to_array(inits[i]) for i in node.input)
            if a.dtype == b.dtype:
                folded.append(numpy_helper.from_array(a * b, node.output[0]))
                continue
        keep.append(node)
    if not folded:
        return model
    used = _names_used(keep) | {o.name for o in graph.output}
    remaining = [t for t in graph.initializer if t.name in used] + folded
    gone = set(inits) - {t.name for t in remaining}
    del graph.node[:]
    graph.node.extend(keep)
    del graph.initializer[:]
    graph.initializer.extend(remaining)
    inputs = [i for i in graph.input if i.name not in gone]  # IR < 4 lists initializers as inputs too
    del graph.input[:]
    graph.input.extend(inputs)
    return model


def _names_used(nodes) -> set:
    """Every tensor name the nodes read, including inside subgraphs (If/Loop bodies)."""
    from onnx import AttributeProto

    used = set()
    for node in nodes:
        used.update(node.input)
        for attr in node.attribute:
            graphs = [attr.g] if attr.type == AttributeProto.GRAPH else list(attr.graphs)
            for g in graphs:
                used |= _names_used(g.node)
    return used


def constants_to_initializers(model):
    """paddle2onnx emits weights as Constant nodes; quantize_dynamic only quantizes MatMul/Gemm
    whose weight is an initializer, so without this the "INT8" model is the FP32 one."""
    from onnx import helper

    graph = model.graph
    keep = []
    for node in graph.node:
        value = next((a for a in node.attribute if a.name == "value"), None)
        if node.op_type == "Constant" and value is not None and value.t.dims:
            tensor = helper.get_attribute_value(value)
            tensor.name = node.output[0]
            graph.initializer.append(tensor)
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    return model


def _quantize(fp32: Path, out: Path, per_channel: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    prepared = out.with_name(out.stem + ".prep.onnx")
    onnx.save(constants_to_initializers(onnx.load(str(fp32))), str(prepared))
    try:
        quantize_dynamic(str(prepared), str(out), weight_type=QuantType.QInt8, per_channel=per_channel)
    finally:
        prepared.unlink()


def _versions() -> dict:
    import onnxruntime
    import paddle
    import paddle2onnx
    import paddlenlp

    return {"paddle": paddle.__version__, "paddlenlp": paddlenlp.__version__,
            "paddle2onnx": paddle2onnx.__version__, "onnxruntime": onnxruntime.__version__}
