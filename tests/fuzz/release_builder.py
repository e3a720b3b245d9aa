"""A tiny published release for the fuzz targets, without pytest.

The pytest fixtures (``tests/fuzz/conftest.py``) reuse the session's ``tiny_pipeline`` (also
used by tests/test_handler.py, so the suite builds it once); ``python -m tests.fuzz.run``
calls :func:`build_release` here, which runs the same commands as ``tests/conftest.py``
(tiny teacher → embed → build-index → distill → export → publish to a directory) and keeps
the result in ``build/fuzz-release`` so later runs start in seconds.
"""
from __future__ import annotations

import zlib  # noqa: F401  must precede paddle, see infra/__init__.py

import json
import shutil
from pathlib import Path

from tests.conftest import DATA, ROOT, build_tiny_pipeline

DEFAULT_DIR = ROOT / "build" / "fuzz-release"
VERSION = "fuzz1"


def publish(pipeline: Path, store: Path, version: str = VERSION) -> Path:
    """Publish a tiny_pipeline directory (idx/, model/) to a directory store; returns the store."""
    from infra.cli import main

    assert main(["publish", "--to", str(store), "--index", str(pipeline / "idx"),
                 "--model", str(pipeline / "model"), "--version", version]) == 0
    return store


def build_pipeline(root: Path, n_users: int = 300) -> Path:
    """emb/, idx/, student/, model/ from a tiny random teacher on the first demo users."""
    from tests.tiny_models import make_tiny_teacher

    root.mkdir(parents=True, exist_ok=True)
    lines = (DATA / "users.jsonl").read_text(encoding="utf-8").splitlines()
    users = root / "users.jsonl"
    users.write_text("\n".join(lines[:n_users]) + "\n", encoding="utf-8")
    teacher = make_tiny_teacher(root / "teacher", lines)
    return build_tiny_pipeline(root, users, teacher)


def build_release(target: Path = DEFAULT_DIR, rebuild: bool = False) -> Path:
    """The directory store (holding current.json) of a tiny release; built once, then reused."""
    target = Path(target)
    store = target / "store"
    if not rebuild and (store / "current.json").is_file():
        return store
    if target.exists():
        shutil.rmtree(target)
    build_pipeline(target / "pipeline")
    publish(target / "pipeline", store)
    (target / "README.txt").write_text("tiny release for tests/fuzz (python -m tests.fuzz.run); safe to delete\n",
                                       encoding="utf-8")
    json.loads((store / "current.json").read_text(encoding="utf-8"))
    return store


if __name__ == "__main__":
    print(build_release(rebuild=True))
