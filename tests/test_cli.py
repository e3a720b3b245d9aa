"""`python -m infra`: help text a user can rely on, and progress output that suits a log file."""
import argparse
import os
import re
import subprocess
import sys

import pytest

from infra.cli import JOBS, build_parser
from infra.progress import PlainProgress
from tests.conftest import ROOT


def _job_parsers():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


@pytest.mark.parametrize("job", list(JOBS))
def test_every_flag_has_help_and_each_default_is_shown_at_most_once(job):
    parser = _job_parsers()[job]
    for action in parser._actions:
        if action.dest != "help":
            assert action.help, f"{job} {action.option_strings or action.dest} has no help"
    text = parser.format_help()
    assert "(default: None)" not in text
    # one entry per flag: from its option strings to the next flag's
    for entry in re.split(r"\n  (?=-)", text.split("options:", 1)[1]):
        assert " ".join(entry.split()).count("default") <= 1, entry
    for action in parser._actions:  # required flags do not advertise a default
        if action.required and action.option_strings:
            entry = next(e for e in re.split(r"\n  (?=-)", text) if e.lstrip().startswith(action.option_strings[0]))
            assert "default" not in entry, entry


def test_boolean_flags_share_one_style():
    for job, parser in _job_parsers().items():
        for action in parser._actions:
            assert not (action.choices and set(action.choices) == {"yes", "no"}), (job, action.option_strings)
    lite = {a.dest: a for a in _job_parsers()["export"]._actions}["lite"]
    assert isinstance(lite, argparse.BooleanOptionalAction) and lite.option_strings == ["--lite", "--no-lite"]


def test_serve_help_keeps_the_curl_example_pasteable():
    text = _job_parsers()["serve"].format_help()
    assert ("  curl -s -X POST http://127.0.0.1:8080/profile -H 'Content-Type: application/json' \\\n"
            "       -d '{\"text\": \"我喜欢看科幻电影和打篮球\"}'\n") in text
    assert "--port PORT" in text and "(default: 8080)" in text


def test_version():
    done = subprocess.run([sys.executable, "-m", "infra", "--version"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": f"{ROOT / 'layer'}:{ROOT}"}, timeout=60)
    assert done.returncode == 0 and re.fullmatch(r"coldstart \d+\.\d+\.\d+\n", done.stdout), done


# ------------------------------------------------------------------ progress

def test_plain_progress_prints_whole_lines_with_percent_and_time_left(capsys):
    progress = PlainProgress(400, "embed shard 0/1", unit="user", every=0.0)
    progress.update(100)
    progress.set_postfix(loss="0.25")
    with progress:
        progress.update(300)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and len(lines) == 3, err
    assert re.fullmatch(r"embed shard 0/1: 100 user/400 user \(25%\) after \d+ s, about \d+ s left", lines[0])
    assert re.fullmatch(r"embed shard 0/1: 400 user/400 user \(100%\) after \d+ s  loss=0.25", lines[1])
    assert re.fullmatch(r"embed shard 0/1: 400 user/400 user \(100%\) in \d+\.\d s  loss=0.25", lines[2])


def test_plain_progress_is_quiet_between_intervals(capsys):
    progress = PlainProgress(10, "verify", unit="file", every=3600)
    for _ in range(10):
        progress.update(1)
    progress.close()
    progress.close()  # idempotent
    assert capsys.readouterr().err.splitlines() == [progress._line(done=True)]
    with PlainProgress(0, "embed shard 0/1", unit="user", every=0.0):
        pass  # every chunk was already there: no "0 user in 0.0 s" line
    assert capsys.readouterr().err == ""


def test_a_redirected_publish_log_has_no_bar_and_the_summary_on_its_own_line(tiny_pipeline, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}
    env.update(PYTHONPATH=f"{ROOT / 'layer'}:{ROOT}", COLDSTART_PROGRESS_SECONDS="0")
    done = subprocess.run([sys.executable, "-m", "infra", "publish", "--to", str(tmp_path / "rel"),
                           "--index", str(tiny_pipeline / "idx"), "--model", str(tiny_pipeline / "model"),
                           "--version", "r1"],  # a first release needs its student
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr and "\x1b" not in done.stderr
    assert re.search(r"^upload r1: .* of .* \(100%\) in \d+\.\d s$", done.stderr, re.M), done.stderr
    assert re.search(r"^verify r1: (\d+) file/\1 file \(100%\) in \d+\.\d s$", done.stderr, re.M), done.stderr
    assert done.stdout.splitlines()[-1].startswith("publish: version=r1 ")
