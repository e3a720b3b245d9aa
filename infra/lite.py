"""Paddle Lite from the batch side: convert (opt) and run .nb models in the Python 3.9 toolchain.

Paddle Lite wheels stop at Python 3.10, so these steps run in `.toolchain/py39` (built by
`make edge-setup`) as a subprocess; arrays travel through .npz files.

Quantized .nb (``quant`` "int8" / "int16": weight-only, ``opt --quant_model --quant_type``):
Paddle Lite 2.13rc0's opt quantizes the weights of ``matmul_v2``, but its runtime
(``LightPredictor::DequantizeWeight``) turns INT8/INT16 weights back into float only for conv2d,
depthwise_conv2d, fc, mul and lookup_table; a ``matmul_v2`` kernel then reads the INT8 bytes as
float32, and the output is NaN/inf. One ``paddle.nn.Linear`` reproduces it (edge/README.md,
"INT8 on Paddle Lite"; ``tests/test_lite_int8.py``). Paddle 2.6 writes every Linear as matmul_v2
and every Embedding as lookup_table_v2 (which opt leaves in FP32), so before a quantized
conversion ``legacy_weight_ops`` rewrites the program: matmul_v2 with a 2-D weight and no
transpose → ``mul`` (same GEMM), lookup_table_v2 → unsqueeze2 + ``lookup_table`` (the 3924 x 192
embedding table is then quantized too). Demo student: 6.9 MB FP32 → 1.8 MB INT8, no NaN.
The weights are de-quantized at load time: the .nb is 4x smaller, the arithmetic stays FP32.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Dict

import numpy as np

from coldstart.errors import ColdstartError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PY39 = ROOT / ".toolchain" / "py39" / "bin" / "python"


def toolchain_python() -> Path:
    path = Path(os.environ.get("COLDSTART_PY39", DEFAULT_PY39))
    if not path.exists():
        raise ColdstartError(
            f"the Paddle Lite toolchain (Python 3.9 + paddlelite) is not installed at {path}: "
            "run `make edge-setup` (or set COLDSTART_PY39 to its python)")
    return path


def _env39() -> Dict[str, str]:
    """The caller's environment minus the 3.11 interpreter's PYTHON* settings, plus layer/."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env.update(PYTHONPATH=str(ROOT / "layer"), PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
    return env


def _run39(code: str, *args: str, timeout: int = 600) -> str:
    env = _env39()
    done = subprocess.run([str(toolchain_python()), "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise ColdstartError(f"Paddle Lite step failed (exit {done.returncode}):\n{tail}")
    return done.stdout


_CONVERT = r"""
import sys
from paddlelite.lite import Opt
model, params, out, target, quant = sys.argv[1:6]
opt = Opt()
opt.set_model_file(model)
opt.set_param_file(params)
opt.set_valid_places(target)
opt.set_model_type("naive_buffer")
opt.set_optimize_out(out)
if quant != "fp32":
    opt.set_quant_model(True)
    opt.set_quant_type(quant)
opt.run()
"""

_RUN = r"""
import json, sys
import numpy as np
from coldstart.lite_encoder import LiteEncoder
model, batches_file, out_file = sys.argv[1:4]
encoder = LiteEncoder(model)
data = np.load(batches_file)
n = int(data["n"])
vectors = [encoder.encode_ids(data["ids%d" % i], data["mask%d" % i]) for i in range(n)]
np.save(out_file, np.concatenate(vectors))
"""


QUANT_TYPES = {"int8": "QUANT_INT8", "int16": "QUANT_INT16"}


def legacy_weight_ops(pdmodel: Path, pdiparams: Path, out_dir: Path) -> tuple:
    """Rewrite a saved Paddle inference program so Lite's weight quantization round-trips (see the
    module docstring): matmul_v2(X, W 2-D, no transpose) → mul; lookup_table_v2 → unsqueeze2 +
    lookup_table. Returns the new (pdmodel, pdiparams) and the counts of rewritten ops."""
    import paddle

    was_dynamic = paddle.in_dynamic_mode()
    paddle.enable_static()
    try:
        with paddle.static.scope_guard(paddle.static.Scope()):
            exe = paddle.static.Executor(paddle.CPUPlace())
            prefix = str(pdmodel)[: -len(".pdmodel")]
            program, feeds, fetches = paddle.static.load_inference_model(prefix, exe)
            block = program.global_block()
            counts = {"mul": 0, "lookup_table": 0}
            i = 0
            while i < len(block.ops):
                op = block.ops[i]
                if op.type == "matmul_v2" and _is_plain_weight_matmul(block, op):
                    x, w, out = block.var(op.input("X")[0]), block.var(op.input("Y")[0]), block.var(op.output("Out")[0])
                    block._remove_op(i)
                    block._insert_op(i, type="mul", inputs={"X": [x], "Y": [w]}, outputs={"Out": [out]},
                                     attrs={"x_num_col_dims": len(x.shape) - 1, "y_num_col_dims": 1})
                    counts["mul"] += 1
                elif op.type == "lookup_table_v2":
                    ids, w, out = block.var(op.input("Ids")[0]), block.var(op.input("W")[0]), block.var(op.output("Out")[0])
                    padding_idx = op.attr("padding_idx")
                    block._remove_op(i)
                    ids3 = block.create_var(name=f"{ids.name}.lite_ids{i}", dtype=ids.dtype, shape=list(ids.shape) + [1])
                    xshape = block.create_var(name=f"{ids.name}.lite_xshape{i}", dtype=ids.dtype)
                    block._insert_op(i, type="unsqueeze2", inputs={"X": [ids]}, outputs={"Out": [ids3], "XShape": [xshape]},
                                     attrs={"axes": [-1]})
                    block._insert_op(i + 1, type="lookup_table", inputs={"Ids": [ids3], "W": [w]}, outputs={"Out": [out]},
                                     attrs={"padding_idx": padding_idx, "is_sparse": False, "is_distributed": False,
                                            "remote_prefetch": False})
                    counts["lookup_table"] += 1
                    i += 1
                i += 1
            out_dir.mkdir(parents=True, exist_ok=True)
            paddle.static.save_inference_model(str(out_dir / "student"), [block.var(n) for n in feeds], fetches, exe,
                                               program=program)
    finally:
        if was_dynamic:
            paddle.disable_static()
    return out_dir / "student.pdmodel", out_dir / "student.pdiparams", counts


def _is_plain_weight_matmul(block, op) -> bool:
    weight = block.var(op.input("Y")[0])
    return bool(weight.persistable and len(weight.shape) == 2 and not op.attr("trans_x") and not op.attr("trans_y"))


def convert(pdmodel: Path, pdiparams: Path, out_stem: Path, target: str, quant: str = "fp32") -> Path:
    """Write ``out_stem.nb`` for target 'x86' or 'arm' (quant 'fp32', or 'int8' / 'int16' weights)."""
    if quant == "fp32":
        _run39(_CONVERT, str(pdmodel), str(pdiparams), str(out_stem), target, quant)
    elif quant in QUANT_TYPES:
        with tempfile.TemporaryDirectory(prefix="coldstart-lite-legacy-") as tmp:
            model, params, _ = legacy_weight_ops(Path(pdmodel), Path(pdiparams), Path(tmp))
            _run39(_CONVERT, str(model), str(params), str(out_stem), target, QUANT_TYPES[quant])
    else:
        raise ValueError(f"unknown Lite quantization {quant!r}: use fp32, int8 or int16")
    nb = out_stem.with_name(out_stem.name + ".nb")
    if not nb.is_file():
        raise ColdstartError(f"Paddle Lite opt wrote no {nb.name}")
    return nb


def encode(nb: Path, batches) -> np.ndarray:
    """Run ``nb`` on [(input_ids, attention_mask)] batches (one at a time: batch 1 like a kiosk)."""
    with tempfile.TemporaryDirectory(prefix="coldstart-lite-") as tmp:
        arrays: Dict[str, np.ndarray] = {"n": np.asarray(len(batches))}
        for i, (ids, mask) in enumerate(batches):
            arrays[f"ids{i}"], arrays[f"mask{i}"] = ids, mask
        np.savez(Path(tmp) / "in.npz", **arrays)
        _run39(_RUN, str(nb), str(Path(tmp) / "in.npz"), str(Path(tmp) / "out.npy"))
        return np.load(Path(tmp) / "out.npy")


def versions() -> Dict[str, str]:
    out = _run39("import json, sys, numpy; from importlib.metadata import version; "
                 "print(json.dumps({'python': sys.version.split()[0], 'paddlelite': version('paddlelite'), "
                 "'numpy': numpy.__version__}))")
    return json.loads(out.strip().splitlines()[-1])
