"""Every user mistake ends `python -m infra …` with ONE line naming the problem and the fix, a
non-zero exit, and nothing left running (issue 16).

Each command runs as a real subprocess with a unique marker in its environment; every process it
starts inherits the marker (weed gets the environment minus AWS_*, awslambdaric the COLDSTART_*
variables), so "nothing left running" is checked by looking for the marker in /proc/*/environ.
"""
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path


from tests.conftest import ROOT, TEST_KEY_FILE

MARKER = "COLDSTART_TEST_MARKER"


def _leftovers(marker: str) -> list:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if f"{MARKER}={marker}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc.name, (proc / "cmdline").read_bytes().replace(b"\0", b" ")[:200]))
        except OSError:
            continue
    return found


def run_infra(*argv, cwd=ROOT, env=None, drop=(), timeout=180) -> subprocess.CompletedProcess:
    marker = uuid.uuid4().hex
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layer"), str(ROOT)]), MARKER: marker,
                **(env or {})}
    for name in drop:
        full_env.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "infra", *map(str, argv)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    deadline = time.monotonic() + 3  # a killed child may take a moment to be reaped
    while _leftovers(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    done.leftovers = _leftovers(marker)
    return done


def assert_one_line_mistake(done, *words, code=1):
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code, (done.returncode, done.stderr)
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in done.stderr
    assert done.leftovers == [], done.leftovers


def test_unknown_config_key_names_the_key_and_suggests_the_right_one(tmp_path):
    config = tmp_path / "p.yaml"
    config.write_text("input: data/users.jsonl\nteachr: models/demo-teacher\n", encoding="utf-8")
    done = run_infra("pipeline", "--config", config)
    assert_one_line_mistake(done, "unknown key(s) teachr", "did you mean teacher?", "pipeline.example.yaml")


def test_bad_yaml_names_the_line(tmp_path):
    config = tmp_path / "p.yaml"
    config.write_text("input: data/users.jsonl\nteacher: [models/demo-teacher\n", encoding="utf-8")
    done = run_infra("pipeline", "--config", config)
    assert_one_line_mistake(done, "is not valid YAML at line 3", str(config))


def test_wrong_value_type_in_the_config(tmp_path):
    config = tmp_path / "p.yaml"
    config.write_text("min_recall: high\n", encoding="utf-8")
    assert_one_line_mistake(run_infra("pipeline", "--config", config), "min_recall must be a number, not 'high'")


def test_port_in_use_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_infra("serve", "--port", port, "--s3-data", tmp_path / "s3")
    assert_one_line_mistake(done, f"port {port}", "already in use", "--port")
    assert not (tmp_path / "s3").exists()  # the local S3 never started


def test_serving_before_anything_was_published_stops_the_s3_it_started(tmp_path):
    config = tmp_path / "demo.yaml"
    config.write_text(f"publish_to: s3://nothing-here/coldstart\npseudonym_key_file: {TEST_KEY_FILE}\n",
                      encoding="utf-8")
    done = run_infra("serve", "--config", config, "--port", 0, "--s3-data", tmp_path / "s3")
    assert_one_line_mistake(done, "no release published at s3://nothing-here/coldstart", "make demo")
    assert (tmp_path / "s3" / "weed.log").is_file()  # it did start (and the marker check saw it stopped)


def test_unreachable_model_hub_for_the_default_teacher(tmp_path):
    done = run_infra("embed", "--input", ROOT / "data" / "users.jsonl", "--out", tmp_path / "emb",
                     "--pseudonym-key-file", TEST_KEY_FILE)  # default teacher: ernie-3.0-medium-zh
    assert_one_line_mistake(done, "cannot download teacher 'ernie-3.0-medium-zh'", "unreachable", "--teacher DIR")


def test_s3_uri_with_one_slash_is_not_a_local_folder(tmp_path):
    done = run_infra("publish", "--to", "s3:/bucket/x", "--list", cwd=tmp_path)
    assert_one_line_mistake(done, "s3:/bucket/x", "s3://BUCKET/PREFIX")
    assert list(tmp_path.iterdir()) == []  # no folder named "s3:" appeared


def test_rollback_to_the_current_release_is_refused(tmp_path):
    from coldstart.release import CurrentPointer

    (tmp_path / "current.json").write_bytes(CurrentPointer("r2", "0" * 64, "2026-12-01T00:00:00Z", "r1").to_bytes())
    done = run_infra("publish", "--to", tmp_path, "--rollback", "r2")
    assert_one_line_mistake(done, "release r2 is already current", "publish --list")
    assert json.loads((tmp_path / "current.json").read_text())["previous"] == "r1"  # untouched


def test_missing_pseudonym_key_file_names_the_command_that_makes_one(tmp_path):
    missing = tmp_path / "nokey"
    done = run_infra("embed", "--input", ROOT / "data" / "users.jsonl", "--out", tmp_path / "emb",
                     "--teacher", ROOT / "models" / "demo-teacher", "--pseudonym-key-file", missing)
    assert_one_line_mistake(done, f"pseudonym key file {missing} not found", f"new-key --out {missing}")


def test_pipeline_without_s3_credentials_says_how_to_start_the_local_s3(tmp_path):
    config = tmp_path / "p.yaml"
    config.write_text(f"publish_to: s3://coldstart-demo/coldstart\npseudonym_key_file: {TEST_KEY_FILE}\n",
                      encoding="utf-8")
    no_credentials = dict(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                          AWS_EC2_METADATA_DISABLED="true")
    done = run_infra("pipeline", "--config", config, env=no_credentials,
                     drop=[k for k in os.environ if k.startswith("AWS_") and k != "AWS_CA_BUNDLE"])
    assert_one_line_mistake(done, "NoCredentialsError", "infra local-s3")


def test_a_bad_command_line_is_one_line_too():
    done = run_infra("export", "--student", "s", "--index", "i", "--teacher", "t", "--heldout", "h",
                     "--out", "o", "--lite", "yes")  # the old spelling: --lite / --no-lite now
    assert_one_line_mistake(done, "python -m infra export: error: unrecognized arguments: yes", "--help", code=2)


def test_ab_report_without_exposures(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text('{"event": "click", "user_key": "k1", "ts": 5}\n', encoding="utf-8")
    assert_one_line_mistake(run_infra("ab-report", events, "--out", tmp_path / "r"), "no exposure events")
