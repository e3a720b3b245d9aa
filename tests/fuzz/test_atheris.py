"""Coverage-guided fuzzing (atheris/libFuzzer) inside ``make test``, with a bounded budget.

All five targets run once per session, two processes at a time, for ``COLDSTART_FUZZ_CI_SECONDS``
of wall time in total (default 25 s: ~10 s of fuzzing per target), with a fixed libFuzzer seed
so CI is repeatable. Longer, randomised runs: ``python -m tests.fuzz.run --seconds 600`` or
``make fuzz`` (see tests/fuzz/run.py).
"""
from __future__ import annotations

import os

import pytest

from tests.fuzz.run import TARGETS, report, run_all

CI_SECONDS = float(os.environ.get("COLDSTART_FUZZ_CI_SECONDS", "25"))


@pytest.fixture(scope="module")
def ci_run(fuzz_release, tmp_path_factory):
    root = tmp_path_factory.mktemp("atheris")
    results = run_all(CI_SECONDS, TARGETS, jobs=2, corpus_root=root / "corpus", release=fuzz_release, seed=1)
    print("\n" + report(results))
    return {r.target: r for r in results}


@pytest.mark.parametrize("target", TARGETS)
def test_atheris_finds_no_crash_hang_or_leak_within_the_ci_budget(ci_run, target):
    result = ci_run[target]
    assert result.returncode == 0 and not result.crashes, report([result])
    assert result.runs >= 100, f"{target}: only {result.runs} inputs ran; the harness is broken\n" + report([result])
    assert result.new_units > 0, f"{target}: no coverage feedback; the instrumentation is broken"


def test_the_harness_reports_a_crash(tmp_path, monkeypatch):
    """The atheris harness is not vacuous: an oracle violation stops the run and leaves its input."""
    from tests.fuzz import targets

    monkeypatch.setenv("COLDSTART_FUZZ_MANIFEST_HANG_SECONDS", "0")  # every input now 'hangs'
    results = run_all(3, ["manifest"], corpus_root=tmp_path / "corpus", seed=1)
    assert results[0].returncode != 0 and results[0].crashes and "OracleError" in results[0].error_excerpt
    assert targets.HANG["manifest"] > 0  # this process is untouched; only the child saw the variable
