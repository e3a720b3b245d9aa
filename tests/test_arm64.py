"""The kiosk's profiling path on arm64 (aarch64 CPython 3.9 + arm64 wheels + cross-built Annoy, under
qemu-user; edge/arm64.sh, ``make arm64-setup``) gives what it gives on x86_64: same top tags, vectors
at cosine >= 0.999. A small sample of the held-out texts keeps it within a minute or two of emulation;
``bench/arm64.py`` runs all of them on the demo release (edge/README.md, "arm64").

The release is made from the committed demo teacher and student (models/), not from the tests' tiny
random models: those put every text in near-ties, where INT8 rounding noise (x86 VNNI vs ARM kernels,
cosine 0.99997) flips neighbours and so top tags, which says nothing about arm64."""
import hashlib
import json
import subprocess

import numpy as np
import pytest

from tests.conftest import DATA, LENIENT_GATES, ROOT
from tests.py39 import PY39, py39_env, require_toolchain
from tests.test_edge import publish

ARM64 = ROOT / ".toolchain" / "arm64"
ARM_PY = ARM64 / "bin" / "python"
SAMPLE = 24
HOW_TO_BUILD = "run `make arm64-setup` (bash edge/arm64.sh) to build it"


def require_arm64() -> None:
    """Skip only when the emulator cannot be installed on this host (edge/arm64.sh says why); fail
    when the toolchain is merely missing or out of date, since `make test` builds it."""
    marker = ARM64 / ".unavailable"
    if marker.is_file() and not (ARM64 / ".stamp").is_file():
        pytest.skip(f"arm64 emulation unavailable: {marker.read_text().strip()}")
    stamp = ARM64 / ".stamp"
    if not ARM_PY.exists() or not stamp.is_file():
        pytest.fail(f"the arm64 toolchain is missing ({ARM_PY.relative_to(ROOT)}); {HOW_TO_BUILD}", pytrace=False)
    want = hashlib.sha256((ROOT / "edge" / "arm64.sh").read_bytes() + (ROOT / "edge" / "toolchain_lib.sh").read_bytes()
                          + (ROOT / "edge" / "requirements.txt").read_bytes()).hexdigest()[:16]
    if stamp.read_text().split("\n", 1)[0].strip() != want:
        pytest.fail(f"the arm64 toolchain is out of date (edge/arm64.sh or edge/requirements.txt changed); "
                    f"{HOW_TO_BUILD}", pytrace=False)


@pytest.fixture(scope="module")
def demo_model_release(tmp_path_factory, small_users):
    """models/demo-teacher embeds 300 demo users, models/demo-student is exported (ONNX INT8) against them."""
    from infra.cli import main

    root = tmp_path_factory.mktemp("arm64-demo-model")
    teacher, student = ROOT / "models" / "demo-teacher", ROOT / "models" / "demo-student"
    assert main(["embed", "--input", str(small_users), "--out", str(root / "emb"), "--teacher", str(teacher),
                 "--chunk-size", "128", "--max-seq-len", "64"]) == 0
    assert main(["build-index", "--embeddings", str(root / "emb"), "--out", str(root / "idx"),
                 "--min-recall", "0.9", "--queries", "100"]) == 0
    assert main(["export", "--student", str(student), "--index", str(root / "idx"), "--teacher", str(teacher),
                 "--heldout", str(DATA / "heldout.jsonl"), "--out", str(root / "model"), "--no-lite",
                 *LENIENT_GATES]) == 0
    publish(root / "release", root, "v1")
    return root / "release"


def profile_texts(python, release, texts, out, timeout):
    env = py39_env()  # a clean Python environment; the wrappers add their own site folder
    env.pop("PYTHONPATH")
    done = subprocess.run([str(python), "-m", "edge.profile_texts", "--release", str(release), "--texts", str(texts),
                           "--limit", str(SAMPLE), "--out", str(out)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def test_the_kiosk_path_on_arm64_matches_x86(demo_model_release, tmp_path):
    require_arm64()
    require_toolchain()
    release = demo_model_release
    texts = DATA / "heldout.jsonl"
    x86 = profile_texts(PY39, release, texts, tmp_path / "x86.json", timeout=300)
    arm = profile_texts(ARM_PY, release, texts, tmp_path / "arm64.json", timeout=900)  # bounded: ~1 min here

    assert (x86["machine"], arm["machine"]) == ("x86_64", "aarch64")
    assert x86["python"] == arm["python"] and x86["backend"] == arm["backend"] == "onnx"
    assert len(x86["texts"]) == len(arm["texts"]) == SAMPLE
    assert [r["top_tag"] for r in arm["texts"]] == [r["top_tag"] for r in x86["texts"]]
    # a text with nothing left after masking is never encoded (vector None): the same ones on both
    encoded = [r["vector"] is not None for r in x86["texts"]]
    assert [r["vector"] is not None for r in arm["texts"]] == encoded and sum(encoded) >= SAMPLE - 4
    a = np.asarray([r["vector"] for r in arm["texts"] if r["vector"] is not None], dtype=np.float64)
    b = np.asarray([r["vector"] for r in x86["texts"] if r["vector"] is not None], dtype=np.float64)
    cosine = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert cosine.min() >= 0.999, cosine.min()
    assert not np.allclose(a, 0)  # real vectors, not an empty answer twice
