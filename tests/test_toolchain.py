"""The kiosk's Python 3.9 toolchain (.toolchain/py39, `make edge-setup`): it exists, has the pinned
packages, runs the `coldstart` layer like 3.11 does, and converts + runs a Paddle model with Paddle Lite.

Helpers for running code on 3.9 live in tests/py39.py.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.py39 import (
    PADDLE_LITE_OPT,
    PY39,
    REQUIREMENTS,
    ROOT,
    py39_env,
    require_toolchain,
    run_opt_cli,
    run_py39,
    run_py39_json,
)


@pytest.fixture(scope="module", autouse=True)
def toolchain():
    return require_toolchain()


def _pins():
    pins = {}
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    return pins


def test_python_is_39():
    out = subprocess.run([str(PY39), "--version"], capture_output=True, text=True, env=py39_env(), check=True)
    assert re.fullmatch(r"Python 3\.9\.\d+", (out.stdout or out.stderr).strip())
    info = run_py39_json("import json, sys; print(json.dumps([list(sys.version_info[:2]), sys.prefix]))")
    assert info[0] == [3, 9]
    assert info[1].startswith(str(ROOT / ".toolchain" / "py39")), "must not be a system Python"


def test_installed_versions_match_requirements():
    pins = _pins()
    assert {"annoy", "numpy", "onnxruntime", "tokenizers", "boto3", "paddlelite"} <= set(pins)
    got = run_py39_json("""
        import json, sys
        from importlib.metadata import version
        print(json.dumps({name: version(name) for name in json.loads(sys.stdin.read())}))
    """, input=json.dumps(sorted(pins)))
    assert got == pins
    assert pins["numpy"].startswith("1.")


def test_kiosk_packages_import():
    got = run_py39_json("""
        import json
        import annoy, numpy, onnxruntime, tokenizers, boto3
        from paddlelite.lite import Opt, MobileConfig, create_paddle_predictor
        print(json.dumps({"providers": onnxruntime.get_available_providers(), "opt": Opt().version()}))
    """)
    assert "CPUExecutionProvider" in got["providers"]
    assert got["opt"].startswith("v2.13")


KIOSK_MODULES = ["coldstart.pii", "coldstart.text", "coldstart.manifest", "coldstart.vector_index",
                 "coldstart.items", "coldstart.release", "coldstart.preprocess", "coldstart.storage",
                 "coldstart.storage.s3"]


def test_layer_imports_on_39():
    """layer/ must stay Python 3.9 compatible: the kiosk modules, and every other coldstart module
    (a `match` or an unquoted `X | Y` annotation evaluated at import fails here)."""
    got = run_py39_json("""
        import importlib, json, pkgutil, sys
        import coldstart
        names = sys.argv[1:] + [m.name for m in pkgutil.walk_packages(coldstart.__path__, "coldstart.")]
        failed, files = {}, {}
        for name in dict.fromkeys(names):
            try:
                files[name] = importlib.import_module(name).__file__
            except Exception as exc:
                failed[name] = "%s: %s" % (type(exc).__name__, exc)
        print(json.dumps({"failed": failed, "files": files}))
    """, *KIOSK_MODULES)
    assert got["failed"] == {}
    assert set(KIOSK_MODULES) <= set(got["files"])
    assert all(path.startswith(str(ROOT / "layer" / "coldstart")) for path in got["files"].values()), got


PII_SAMPLES = [
    "电话13812345678",
    "手机：138 1234 5678，邮箱abc@example.com",
    "微信号：wxid_abc123 QQ号12345678",
    "全角１３８１２３４５６７８和ａｂｃ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    "身份证11010519491231002X 银行卡6222021234567890128",
    "没有个人信息的普通句子",
]


def test_mask_pii_same_on_39_and_311():
    from coldstart.pii import mask_pii

    expected = [[r.text, dict(r.counts)] for r in map(mask_pii, PII_SAMPLES)]
    got = run_py39_json("""
        import json, sys
        from coldstart.pii import mask_pii
        print(json.dumps([[r.text, dict(r.counts)] for r in map(mask_pii, json.loads(sys.stdin.read()))]))
    """, input=json.dumps(PII_SAMPLES))
    assert got == expected
    assert got[0][0] == "电话[PHONE]"


ANNOY_QUERY_CODE = """
    import json, sys
    import numpy as np
    from coldstart.vector_index import build_annoy, load_annoy
    vectors = np.load(sys.argv[1])
    if sys.argv[2] == "build":
        index = build_annoy(vectors, n_trees=10, seed=42, n_jobs=1)
        index.save(sys.argv[3])
    else:
        index = load_annoy(sys.argv[3], vectors.shape[1])
    result = [index.get_nns_by_vector(vectors[q], 10, search_k=-1, include_distances=True)
              for q in range(0, len(vectors), 37)]
    print(json.dumps(result))
"""


def _annoy_on_311(*args):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(ANNOY_QUERY_CODE), *map(str, args)],
                         capture_output=True, text=True, env=py39_env(), check=True)
    return json.loads(out.stdout)


def _same_neighbours(a, b):
    assert len(a) == len(b)
    for (ids_a, dist_a), (ids_b, dist_b) in zip(a, b):
        assert ids_a == ids_b
        np.testing.assert_allclose(dist_a, dist_b, rtol=1e-5, atol=1e-6)


def test_annoy_same_neighbours_on_39_and_311(tmp_path):
    vectors = np.random.default_rng(3).standard_normal((400, 32)).astype(np.float32)
    np.save(tmp_path / "v.npy", vectors)
    on_311 = _annoy_on_311(tmp_path / "v.npy", "build", tmp_path / "i311.ann")
    on_39 = run_py39_json(ANNOY_QUERY_CODE, tmp_path / "v.npy", "build", tmp_path / "i39.ann")
    _same_neighbours(on_39, on_311)
    # the kiosk (3.9) loads index files the batch side (3.11) built, and the other way round
    _same_neighbours(run_py39_json(ANNOY_QUERY_CODE, tmp_path / "v.npy", "load", tmp_path / "i311.ann"), on_311)
    _same_neighbours(_annoy_on_311(tmp_path / "v.npy", "load", tmp_path / "i39.ann"), on_39)
    assert (tmp_path / "i39.ann").read_bytes() == (tmp_path / "i311.ann").read_bytes()


# --------------------------------------------------------------------------- Paddle -> Paddle Lite

PADDLE_EXPORT = """
import zlib  # noqa: F401  before paddle, see infra/__init__.py
import sys

import numpy as np
import paddle


class Tiny(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc1 = paddle.nn.Linear(8, 16)
        self.fc2 = paddle.nn.Linear(16, 4)

    def forward(self, x):
        return paddle.tanh(self.fc2(paddle.nn.functional.relu(self.fc1(x))))


out_dir = sys.argv[1]
paddle.seed(0)
model = Tiny()
model.eval()
spec = [paddle.static.InputSpec([None, 8], "float32", "x")]
paddle.jit.save(model, out_dir + "/tiny", input_spec=spec)
x = np.random.default_rng(0).standard_normal((5, 8)).astype("float32")
np.save(out_dir + "/x.npy", x)
np.save(out_dir + "/y.npy", model(paddle.to_tensor(x)).numpy())
"""

LITE_RUN = """
    import json, sys
    import numpy as np
    from paddlelite.lite import MobileConfig, create_paddle_predictor
    nb, x_path = sys.argv[1], sys.argv[2]
    config = MobileConfig()
    config.set_model_from_file(nb)
    predictor = create_paddle_predictor(config)
    predictor.get_input(0).from_numpy(np.load(x_path))
    predictor.run()
    print(json.dumps(predictor.get_output(0).numpy().tolist()))
"""


@pytest.fixture(scope="module")
def paddle_model(tmp_path_factory):
    """A tiny static Paddle model (legacy .pdmodel) exported on 3.11 with paddle 2.6, plus x and y=f(x)."""
    out = tmp_path_factory.mktemp("paddle_tiny")
    script = out / "export.py"  # a file: dy2static reads the forward's source
    script.write_text(PADDLE_EXPORT, encoding="utf-8")
    env = py39_env(extra={"GLOG_minloglevel": "2"})
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "tiny.pdmodel").exists() and (out / "tiny.pdiparams").exists()
    return out


def test_paddle_lite_round_trip_python_opt(paddle_model):
    """Convert with paddlelite.lite.Opt on 3.9, run with MobileConfig on 3.9, compare with paddle on 3.11."""
    d = paddle_model
    run_py39("""
        import sys
        from paddlelite.lite import Opt
        opt = Opt()
        opt.set_model_file(sys.argv[1])
        opt.set_param_file(sys.argv[2])
        opt.set_valid_places("x86")
        opt.set_model_type("naive_buffer")
        opt.set_optimize_out(sys.argv[3])
        opt.run()
    """, d / "tiny.pdmodel", d / "tiny.pdiparams", d / "tiny_py")
    assert (d / "tiny_py.nb").stat().st_size > 0
    got = np.array(run_py39_json(LITE_RUN, d / "tiny_py.nb", d / "x.npy"), dtype=np.float32)
    np.testing.assert_allclose(got, np.load(d / "y.npy"), atol=1e-5, rtol=0)


def test_paddle_lite_round_trip_opt_cli(paddle_model):
    """The wheel's `paddle_lite_opt` console script (exposed as .toolchain/py39/bin/paddle_lite_opt)."""
    d = paddle_model
    assert PADDLE_LITE_OPT.exists()
    proc = run_opt_cli([f"--model_file={d / 'tiny.pdmodel'}", f"--param_file={d / 'tiny.pdiparams'}",
                        "--valid_targets=x86", "--optimize_out_type=naive_buffer",
                        f"--optimize_out={d / 'tiny_cli'}"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = np.array(run_py39_json(LITE_RUN, d / "tiny_cli.nb", d / "x.npy"), dtype=np.float32)
    np.testing.assert_allclose(got, np.load(d / "y.npy"), atol=1e-5, rtol=0)
