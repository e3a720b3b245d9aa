"""`infra pipeline`: the jobs in order from one config, skipping steps that are up to date."""
import subprocess
import sys

import pytest

from coldstart.errors import ConfigError
from coldstart.release import read_current, read_release
from coldstart.storage import open_store
from infra.cli import JOBS, main
from infra.jobs.pipeline import PipelineConfig
from tests.conftest import ROOT


def test_pipeline_publishes_then_skips_everything_on_rerun(small_users, tiny_teacher, tiny_pipeline, s3_bucket, s3_env,
                                                           tmp_path, capsys):
    """No `heldout` in the config (no student step): the index refresh. With nothing published it is
    refused (a release needs a student); once a release with this teacher's student is current,
    the pipeline carries that student forward into its new release."""
    _, bucket = s3_bucket
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        f"input: {small_users}\nteacher: {tiny_teacher}\nwork_dir: {tmp_path / 'work'}\n"
        f"publish_to: s3://{bucket}/cs\nmin_recall: 0.9\nchunk_size: 128\nmax_seq_len: 32\n", encoding="utf-8")
    assert main(["pipeline", "--config", str(config), "--version", "r1"]) == 1
    captured = capsys.readouterr()
    assert "publish refused: this index comes without a student model" in captured.err
    assert "keywords: users=300" in captured.out  # the steps before publish ran (and are reused below)
    assert read_current(open_store(f"s3://{bucket}/cs")) is None

    assert main(["publish", "--to", f"s3://{bucket}/cs", "--index", str(tiny_pipeline / "idx"), "--model",
                 str(tiny_pipeline / "model"), "--version", "r0"]) == 0
    assert main(["pipeline", "--config", str(config), "--version", "r1"]) == 0
    out = capsys.readouterr().out
    assert "== coldstart release ==" in out and "version      r1" in out
    assert "recall@10    " in out and "300 users" in out
    assert "model=carried-forward:r0" in out
    assert read_current(open_store(f"s3://{bucket}/cs")).version == "r1"
    # the keyword baseline ships in the release, so a `keyword` experiment variant has its table
    release = read_release(open_store(f"s3://{bucket}/cs"), "r1")
    assert "index/keywords.json" in release.files and "model/student.int8.onnx" in release.files

    assert main(["pipeline", "--config", str(config), "--version", "r2"]) == 0
    out = capsys.readouterr().out
    assert "chunks_done=0 chunks_skipped=3" in out
    assert "build-index: up to date" in out and "keywords: up to date" in out
    assert "publish: up to date (current release r1 carries this index and model)" in out
    assert read_current(open_store(f"s3://{bucket}/cs")).version == "r1"


def test_flags_override_the_config_file(small_users, tiny_teacher, tmp_path, capsys):
    config = tmp_path / "p.yaml"
    config.write_text(f"input: {small_users}\nteacher: /does/not/exist\nwork_dir: {tmp_path / 'w'}\n"
                      "min_recall: 0.9\n", encoding="utf-8")
    assert main(["pipeline", "--config", str(config), "--teacher", str(tiny_teacher)]) == 0
    assert "(not published)" in capsys.readouterr().out


def test_unknown_config_key_is_an_error(tmp_path, capsys):
    config = tmp_path / "p.yaml"
    config.write_text("input: x\nteachr: y\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) teachr \(did you mean teacher\?\)"):
        PipelineConfig.load(str(config), {})
    assert main(["pipeline", "--config", str(config)]) == 1
    assert capsys.readouterr().err == (f"error: {config}: unknown key(s) teachr (did you mean teacher?); "
                                       "the keys are listed in infra/pipeline.example.yaml\n")


@pytest.mark.parametrize("job", [None, *JOBS])
def test_every_job_has_help(job):
    argv = [sys.executable, "-m", "infra"] + ([job] if job else []) + ["--help"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m infra") and "--help" in done.stdout
    assert "paddle" not in done.stderr.lower()  # --help must not pay for a paddle import
