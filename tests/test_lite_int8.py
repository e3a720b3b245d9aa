"""Why Paddle Lite's INT8 .nb gave NaN, as a minimal reproduction, and the fix in infra/lite.py.

One ``paddle.nn.Linear`` saved by Paddle 2.6 is a ``matmul_v2`` + ``elementwise_add``. Paddle Lite
2.13rc0's ``opt --quant_model --quant_type=QUANT_INT8`` stores that matmul_v2's weight as INT8, but
the runtime de-quantizes weights only for conv2d / fc / mul / lookup_table, so the x86 kernel reads
the INT8 bytes as float32: garbage, NaN/inf. The same Linear written as the legacy ``mul`` op
(``infra.lite.legacy_weight_ops``) round-trips within INT8 rounding.
"""

import numpy as np
import pytest

from tests.py39 import run_py39_json

RUN_NB = r"""
import json, sys
import numpy as np
from paddlelite.lite import MobileConfig, create_paddle_predictor
config = MobileConfig()
config.set_model_from_file(sys.argv[1])
predictor = create_paddle_predictor(config)
predictor.get_input(0).from_numpy(np.load(sys.argv[2]))
predictor.run()
out = np.array(predictor.get_output(0).numpy(), dtype=np.float64)
print(json.dumps({"finite": bool(np.all(np.isfinite(out))), "out": np.nan_to_num(out, posinf=1e30, neginf=-1e30).tolist()}))
"""


@pytest.fixture(scope="module")
def one_linear(tmp_path_factory):
    """A saved Paddle 2.6 program with one Linear(256 → 192) on a [batch, seq, 256] input, its input and output."""
    import paddle
    from paddle.static import InputSpec

    root = tmp_path_factory.mktemp("one-linear")
    paddle.seed(0)
    layer = paddle.nn.Linear(256, 192)
    layer.eval()
    x = np.random.default_rng(0).standard_normal((1, 5, 256)).astype("float32")
    want = layer(paddle.to_tensor(x)).numpy()
    static = paddle.jit.to_static(layer, input_spec=[InputSpec([None, None, 256], "float32", "x")], full_graph=True)
    paddle.jit.save(static, str(root / "model"))
    np.save(root / "x.npy", x)
    return root, want


def run_nb(nb, x_file):
    got = run_py39_json(RUN_NB, str(nb), str(x_file))
    return got["finite"], np.asarray(got["out"], dtype=np.float32)


def test_lite_int8_of_a_plain_linear_is_garbled_without_the_rewrite(one_linear):
    from infra import lite

    root, want = one_linear
    lite._run39(lite._CONVERT, str(root / "model.pdmodel"), str(root / "model.pdiparams"), str(root / "raw-int8"),
                "x86", "QUANT_INT8")  # opt straight on Paddle 2.6's matmul_v2, as export did before
    finite, got = run_nb(root / "raw-int8.nb", root / "x.npy")
    error = np.max(np.abs(got.reshape(want.shape) - want)) / np.max(np.abs(want))
    assert not finite or error > 0.5, f"Paddle Lite now de-quantizes matmul_v2 (relative error {error:.4f})"


def test_the_rewritten_linear_round_trips_through_lite_int8_and_fp32_is_exact(one_linear, tmp_path):
    from infra import lite

    root, want = one_linear
    _, _, counts = lite.legacy_weight_ops(root / "model.pdmodel", root / "model.pdiparams", tmp_path / "legacy")
    assert counts == {"mul": 1, "lookup_table": 0}
    nb8 = lite.convert(root / "model.pdmodel", root / "model.pdiparams", tmp_path / "int8", "x86", "int8")
    nb32 = lite.convert(root / "model.pdmodel", root / "model.pdiparams", tmp_path / "fp32", "x86", "fp32")
    assert nb8.stat().st_size < 0.5 * nb32.stat().st_size  # the weights really are stored as INT8
    finite, got8 = run_nb(nb8, root / "x.npy")
    assert finite
    got8 = got8.reshape(want.shape)
    assert np.max(np.abs(got8 - want)) / np.max(np.abs(want)) < 0.02
    cosines = np.sum(got8 * want, -1) / (np.linalg.norm(got8, axis=-1) * np.linalg.norm(want, axis=-1))
    assert cosines.min() >= 0.999
    finite, got32 = run_nb(nb32, root / "x.npy")
    np.testing.assert_allclose(got32.reshape(want.shape), want, atol=1e-5)


def test_an_unknown_lite_quantization_is_refused():
    from infra import lite

    with pytest.raises(ValueError, match="int8 or int16"):
        lite.convert("m.pdmodel", "m.pdiparams", "out", "x86", "int4")
