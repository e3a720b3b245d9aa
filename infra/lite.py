"""Paddle Lite from the batch side: convert (opt) and run .nb models in the Python 3.9 toolchain.

Paddle Lite wheels stop at Python 3.10, so these steps run in `.toolchain/py39` (built by
`make edge-setup`) as a subprocess; arrays travel through .npz files.
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
if quant == "int8":
    opt.set_quant_model(True)
    opt.set_quant_type("QUANT_INT8")
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


def convert(pdmodel: Path, pdiparams: Path, out_stem: Path, target: str, quant: str = "fp32") -> Path:
    """Write ``out_stem.nb`` for target 'x86' or 'arm' (quant 'fp32' or 'int8' weights)."""
    _run39(_CONVERT, str(pdmodel), str(pdiparams), str(out_stem), target, quant)
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
