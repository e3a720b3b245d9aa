"""Fixtures for the fuzz suite: the tiny release published to a directory, and the handler harness.

``fuzz_release`` reuses the session's ``tiny_pipeline`` (tests/conftest.py), which
tests/test_handler.py also builds, so ``make test`` pays for it once.
"""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def fuzz_release(tiny_pipeline, tmp_path_factory):
    """A directory store holding current.json → releases/fuzz1/ (index + ONNX student)."""
    from tests.fuzz.release_builder import publish

    return publish(tiny_pipeline, tmp_path_factory.mktemp("fuzz-release-store"))


@pytest.fixture(scope="module")
def harness(fuzz_release, tmp_path_factory):
    """function/app.py loaded against the fuzz release, its environment restored afterwards."""
    import sys

    from tests.fuzz.targets import HandlerHarness

    with pytest.MonkeyPatch.context() as mp:
        for var in ("COLDSTART_RELEASE_URI", "COLDSTART_CACHE_DIR", "COLDSTART_REFRESH_SECONDS",
                    "POWERTOOLS_METRICS_NAMESPACE"):
            mp.setenv(var, "")  # recorded, so that leaving the context restores (or removes) each one
        mp.setattr(sys, "path", list(sys.path))
        h = HandlerHarness(str(fuzz_release), str(tmp_path_factory.mktemp("fuzz-cache")))
        yield h
        sys.modules.pop("app", None)
