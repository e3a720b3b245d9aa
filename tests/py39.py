"""Run code on the kiosk toolchain: CPython 3.9 + edge/requirements.txt in .toolchain/py39.

The toolchain is built by ``make edge-setup`` (edge/toolchain.sh); tests do not build it, they fail
with that instruction when it is missing or older than edge/toolchain.sh / edge/requirements.txt.

    from tests.py39 import require_toolchain, run_py39, run_py39_json

    require_toolchain()
    run_py39("import coldstart.pii")                       # CompletedProcess; raises on failure
    run_py39_json("import json, sys; print(json.dumps(sys.argv[1:]))", "a", "b")   # -> ['a', 'b']
    run_py39_json(code, input=json.dumps(payload))        # pass data on stdin

The child gets a clean Python environment: no PYTHON* variables from the (3.11) caller, layer/
on PYTHONPATH (so ``import coldstart`` finds the working tree), no bytecode written into the repo.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layer"
TOOLCHAIN = ROOT / ".toolchain" / "py39"
PY39 = TOOLCHAIN / "bin" / "python"
PADDLE_LITE_OPT = TOOLCHAIN / "bin" / "paddle_lite_opt"
STAMP = TOOLCHAIN / ".stamp"
BUILD_SCRIPT = ROOT / "edge" / "toolchain.sh"
REQUIREMENTS = ROOT / "edge" / "requirements.txt"
HOW_TO_BUILD = "run `make edge-setup` (bash edge/toolchain.sh) to build it"


def expected_stamp_hash() -> str:
    """The hash edge/toolchain.sh writes into the stamp: sha256(script + mirror lookup + requirements)[:16]."""
    return hashlib.sha256(BUILD_SCRIPT.read_bytes() + (BUILD_SCRIPT.parent / "toolchain_lib.sh").read_bytes()
                          + REQUIREMENTS.read_bytes()).hexdigest()[:16]


def toolchain_problem() -> Optional[str]:
    """None when .toolchain/py39 is built and current, else what is wrong."""
    if not PY39.exists():
        return f"the Python 3.9 toolchain is missing ({PY39.relative_to(ROOT)}); {HOW_TO_BUILD}"
    if not STAMP.exists():
        return f"the Python 3.9 toolchain is incomplete (no {STAMP.relative_to(ROOT)}); {HOW_TO_BUILD}"
    if STAMP.read_text(encoding="utf-8").split("\n", 1)[0].strip() != expected_stamp_hash():
        return ("the Python 3.9 toolchain is out of date (edge/toolchain.sh or edge/requirements.txt "
                f"changed since it was built); {HOW_TO_BUILD}")
    return None


def require_toolchain() -> Path:
    """Fail the calling test (not skip: the project installs the toolchain) unless it is usable."""
    problem = toolchain_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    return PY39


def py39_env(pythonpath: Iterable[Union[str, Path]] = (), extra: Optional[Mapping[str, str]] = None) -> dict:
    """Environment for a 3.9 child: the caller's, minus PYTHON*, plus layer/ (+ ``pythonpath``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in [LAYER, *pythonpath])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    if extra:
        env.update(extra)
    return env


def run_py39(code: str, *args: str, cwd: Union[str, Path, None] = None, input: Optional[str] = None,
             env: Optional[Mapping[str, str]] = None, timeout: float = 300,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run ``code`` (dedented) as ``python -c`` on the 3.9 toolchain; ``args`` become sys.argv[1:].

    With ``check`` (default) a non-zero exit fails with the child's stdout and stderr.
    """
    require_toolchain()
    proc = subprocess.run(
        [str(PY39), "-c", textwrap.dedent(code), *map(str, args)],
        cwd=str(cwd) if cwd else None, input=input, env=dict(env) if env is not None else py39_env(),
        capture_output=True, encoding="utf-8", errors="replace", timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"Python 3.9 child exited with {proc.returncode}\n--- stdout ---\n{proc.stdout}"
            f"\n--- stderr ---\n{proc.stderr}")
    return proc


def run_py39_json(code: str, *args: str, **kwargs: Any) -> Any:
    """Like run_py39; returns the JSON document on the last non-empty stdout line.

    Earlier stdout lines are ignored (Paddle Lite, for one, prints progress to stdout).
    """
    proc = run_py39(code, *args, **kwargs)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        raise AssertionError(f"Python 3.9 child printed nothing\n--- stderr ---\n{proc.stderr}")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise AssertionError(f"last stdout line is not JSON ({exc}): {lines[-1]!r}\n"
                             f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}") from None


def run_opt_cli(args: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess:
    """Run the toolchain's ``paddle_lite_opt`` converter with ``args``."""
    require_toolchain()
    kwargs.setdefault("env", py39_env())
    kwargs.setdefault("timeout", 300)
    return subprocess.run([str(PADDLE_LITE_OPT), *map(str, args)], capture_output=True, encoding="utf-8",
                          errors="replace", **kwargs)
