"""Experiments: deterministic assignment, the keyword variant, exposure logs, and the A/B
analysis checked against simulated events with a known (planted) lift."""
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coldstart.api import answer_profile  # noqa: E402
from coldstart.errors import ConfigError
from coldstart.experiments import Experiment, ExperimentError, assign, resolve, user_key
from coldstart.outcome import Assignment
from coldstart.service import ProfileService
from coldstart.settings import ServingSettings
from infra.cli import main
from infra.jobs.ab_report import analyze, pick_control, proportion_interval, srm_check, two_proportion_p
from infra.jobs.simulate_events import simulate

ROOT = Path(__file__).resolve().parents[1]
EXP = '{"name": "semantic-vs-keyword", "variants": {"semantic": 0.5, "keyword": 0.5}}'


# ------------------------------------------------------------------ assignment

def test_assignment_is_stable_across_processes():
    code = ("import json; from coldstart.experiments import Experiment, assign; "
            f"e = Experiment.parse({EXP!r}); print(json.dumps([assign(e, f'user-{{i}}') for i in range(2000)]))")
    runs = []
    for seed in ("1", "2"):  # a different str-hash seed per process: assignment must not depend on it
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}, cwd=str(ROOT))
        runs.append(json.loads(out.stdout))
    here = [assign(Experiment.parse(EXP), f"user-{i}") for i in range(2000)]
    assert runs[0] == runs[1] == here
    assert set(here) == {"semantic", "keyword"}


@pytest.mark.parametrize("shares", [{"semantic": 0.5, "keyword": 0.5}, {"a": 0.2, "b": 0.3, "c": 0.5}])
def test_traffic_shares_hold_within_one_point_over_100k_ids(shares):
    exp = Experiment.from_dict({"name": "shares", "variants": shares})
    counts = {v: 0 for v in shares}
    for i in range(100_000):
        counts[assign(exp, f"u{i:06d}")] += 1
    for v, share in shares.items():
        assert abs(counts[v] / 100_000 - share) < 0.01, counts


def test_bad_experiment_configs_are_refused():
    for raw in ('{"name": "x", "variants": {"a": 0.5, "b": 0.4}}', '{"name": "", "variants": {"a": 1}}',
                '{"name": "x", "variants": {"a": 0, "b": 1}}', "not json", '{"name": "x"}'):
        with pytest.raises(ExperimentError):
            Experiment.parse(raw)
    assert Experiment.parse("") is None and Experiment.parse(None) is None


def test_no_user_id_gets_the_control_unassigned_and_no_exposure(caplog):
    from coldstart.pseudonyms import Pseudonymizer

    exp = Experiment.parse(EXP)
    keys = Pseudonymizer([b"e" * 32])
    with caplog.at_level(logging.INFO, logger="coldstart.experiments"):
        assert resolve(exp, None, keys) == Assignment("semantic-vs-keyword", "semantic", False)
    assert not caplog.records
    with caplog.at_level(logging.INFO, logger="coldstart.experiments"):
        arm = resolve(exp, "alice@example.com", keys)
    assert arm.assigned is True and arm.variant == assign(exp, "alice@example.com")
    (record,) = caplog.records
    event = json.loads(record.getMessage())
    # the join key is the keyed handle: not the id, and not an unkeyed (enumerable) hash of it
    assert event["event"] == "exposure" and event["user_key"] == user_key("alice@example.com", keys)
    assert event["user_key"] != hashlib.sha256(b"alice@example.com").hexdigest()[:16]
    assert record.variant == arm.variant and "alice" not in record.getMessage()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="coldstart.experiments"):  # no key: assigned, but nothing logged
        assert resolve(exp, "alice@example.com").assigned is True
    assert not caplog.records


def test_experiment_setting_comes_from_the_environment():
    s = ServingSettings.from_env({"COLDSTART_EXPERIMENT": EXP})
    assert Experiment.parse(s.experiment).shares == {"semantic": 0.5, "keyword": 0.5}


# ------------------------------------------------------------------ serving

def _user_for(variant, exp=EXP):
    e = Experiment.parse(exp)
    return next(f"user-{i}" for i in range(1000) if assign(e, f"user-{i}") == variant)


@pytest.fixture
def keyword_release(s3_bucket, s3_env, tiny_pipeline, small_users, tmp_path):
    """A release whose index directory carries keywords.json (built by `python -m infra keywords`)."""
    idx = tmp_path / "idx"
    shutil.copytree(tiny_pipeline / "idx", idx)
    assert main(["keywords", "--input", str(small_users), "--out", str(idx)]) == 0
    uri = f"s3://{s3_bucket[1]}/kw"
    assert main(["publish", "--to", uri, "--index", str(idx), "--model", str(tiny_pipeline / "model"),
                 "--version", "v1"]) == 0
    return uri, json.loads((idx / "keywords.json").read_text(encoding="utf-8"))


def _ask(svc, payload):
    status, body, _ = answer_profile(svc, json.dumps(payload), "application/json")
    assert status == 200, body
    return body


def test_response_names_experiment_and_variant_and_keyword_variant_profiles_by_keywords(keyword_release, tmp_path):
    uri, table = keyword_release
    svc = ProfileService(ServingSettings(release_uri=uri, cache_dir=str(tmp_path / "cache"), experiment=EXP))
    tag = sorted(table["tags"], key=lambda t: -len(table["tags"][t]))[0]
    words = [g for g, _ in table["tags"][tag][:3]]
    text = "我平时" + "，".join(words)
    kw = _ask(svc, {"text": text, "user_id": _user_for("keyword")})
    assert kw["experiment"] == {"name": "semantic-vs-keyword", "variant": "keyword", "assigned": True}
    assert kw["fallback"] is False and kw["reason"] == "keywords" and kw["top_tag"] == tag
    assert "neighbors" not in kw and abs(sum(t["score"] for t in kw["tags"]) - 1.0) < 1e-3
    assert all(w not in kw["why"] for w in words)  # counts only, never the text
    sem = _ask(svc, {"text": text, "user_id": _user_for("semantic")})
    assert sem["experiment"]["variant"] == "semantic" and sem["reason"] != "keywords"  # the student + index vote
    anon = _ask(svc, {"text": text})
    assert anon["experiment"] == {"name": "semantic-vs-keyword", "variant": "semantic", "assigned": False}
    nothing = _ask(svc, {"text": "嗯。", "user_id": _user_for("keyword")})
    assert nothing["fallback"] is True and nothing["reason"] == "no_keywords"


def test_keyword_variant_without_a_keyword_table_falls_back(s3_bucket, s3_env, tiny_pipeline, tmp_path):
    uri = f"s3://{s3_bucket[1]}/nokw"
    assert main(["publish", "--to", uri, "--index", str(tiny_pipeline / "idx"), "--model",
                 str(tiny_pipeline / "model"), "--version", "v1"]) == 0
    svc = ProfileService(ServingSettings(release_uri=uri, cache_dir=str(tmp_path / "cache"), experiment=EXP))
    body = _ask(svc, {"text": "我喜欢打篮球", "user_id": _user_for("keyword")})
    assert body["fallback"] is True and body["reason"] == "no_keyword_table"
    plain = ProfileService(ServingSettings(release_uri=uri, cache_dir=str(tmp_path / "cache2")))
    assert "experiment" not in _ask(plain, {"text": "我喜欢打篮球", "user_id": "u1"})


# ------------------------------------------------------------------ analysis

def test_planted_lift_is_recovered_through_the_cli_pipe(tmp_path):
    """The acceptance command: simulate-events --lift 0.05 | ab-report -."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layer")])}  # this tree's coldstart
    sim = subprocess.Popen([sys.executable, "-m", "infra", "simulate-events", "--users", "60000", "--lift", "0.05",
                            "--seed", "8"], stdout=subprocess.PIPE, cwd=str(ROOT), env=env)
    report = subprocess.run([sys.executable, "-m", "infra", "ab-report", "-", "--out", str(tmp_path / "r")],
                            stdin=sim.stdout, capture_output=True, text=True, cwd=str(ROOT), env=env)
    sim.stdout.close()
    assert sim.wait() == 0 and report.returncode == 0, report.stderr
    result = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    ctr = result["overall"]["lift"]["semantic"]["ctr"]
    assert ctr["ci"][0] <= 0.05 <= ctr["ci"][1] and ctr["p"] < 0.05, ctr
    assert result["srm"]["mismatch"] is False
    assert set(result["segments"]) == {"cold", "warm"}
    assert (tmp_path / "r" / "report.png").stat().st_size > 10_000
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "Sample-ratio check" in md and "report.png" in md
    assert "ctr_lift=" in report.stdout and "next-day retention" in report.stdout


def test_planted_lift_is_covered_at_about_the_nominal_rate():
    covered = 0
    for seed in range(8):
        r = analyze(simulate(6000, lift=0.05, seed=100 + seed))
        lo, hi = r["overall"]["lift"]["semantic"]["ctr"]["ci"]
        covered += lo <= 0.05 <= hi
    assert covered >= 6  # P(covered <= 5 of 8 | 95% coverage) < 0.6%


def test_aa_false_positive_rate_is_near_five_percent():
    runs = 40
    hits = {m: 0 for m in ("ctr", "first_day_ctr", "retention_d1", "dwell")}
    for seed in range(runs):
        r = analyze(simulate(2000, seed=1000 + seed, aa=True))
        assert r["srm"]["p"] > 0.0
        for m in hits:
            hits[m] += r["overall"]["lift"]["semantic"][m]["p"] < 0.05
    # Binomial(40, 0.05): P(X >= 7) = 1.3%; all four metrics share that bound.
    assert all(h <= 6 for h in hits.values()), hits
    assert sum(hits.values()) <= 16, hits  # 160 tests, 8 expected


def test_sample_ratio_mismatch_flags_a_52_48_split():
    assert srm_check({"a": 52_000, "b": 48_000}, {"a": 0.5, "b": 0.5})["mismatch"] is True
    assert srm_check({"a": 50_100, "b": 49_900}, {"a": 0.5, "b": 0.5})["mismatch"] is False
    lines = [json.dumps({"event": "exposure", "experiment": "e", "variant": "a" if i < 52_000 else "b",
                         "user_key": f"k{i}", "ts": 0}) for i in range(100_000)]
    r = analyze(lines, expected={"a": 0.5, "b": 0.5}, control="a")
    assert r["srm"]["mismatch"] is True and r["srm"]["p"] < 1e-10


# The statistics come from statsmodels/scipy since they replaced hand-written formulas; these values were
# printed by the hand-written Wilson interval, pooled z-test and SRM chi-square before the change.

def test_wilson_interval_and_two_proportion_test_keep_their_values():
    assert proportion_interval(45, 500) == pytest.approx((0.0679425478891394, 0.11830941128933344), abs=1e-12)
    assert proportion_interval(0, 20) == pytest.approx((0.0, 0.16112515805281938), abs=1e-12)
    assert proportion_interval(20, 20) == pytest.approx((0.8388748419471806, 1.0), abs=1e-12)
    control, treated = {"n": 6000, "successes": 480}, {"n": 6000, "successes": 540}
    assert two_proportion_p(control, treated) == pytest.approx(0.049530546065980625, rel=1e-9)


def test_sample_ratio_chi_square_keeps_its_values():
    two = srm_check({"a": 52_000, "b": 48_000}, {"a": 0.5, "b": 0.5})
    assert two["chi2"] == pytest.approx(160.0) and two["p"] == pytest.approx(1.1314837902433038e-36, rel=1e-9)
    three = srm_check({"a": 2050, "b": 2990, "c": 4960}, {"a": 0.2, "b": 0.3, "c": 0.5})
    assert three["chi2"] == pytest.approx(1.6033333333333335) and three["p"] == pytest.approx(0.44858070623180535)
    assert three["df"] == 2 and three["mismatch"] is False
    assert srm_check({"a": 10, "b": 1}, {"a": 1.0})["mismatch"] is True  # users where none were expected


def test_report_figures_on_simulated_events_keep_their_values():
    r = analyze(simulate(6000, lift=0.05, seed=3))
    lift = r["overall"]["lift"]["semantic"]
    assert lift["ctr"]["lift"] == pytest.approx(0.07469687308535256, rel=1e-9)
    assert lift["ctr"]["ci"] == pytest.approx((0.020482900898210143, 0.1317910060059293), rel=1e-9)
    assert lift["ctr"]["p"] == pytest.approx(0.006418033015967074, rel=1e-9)
    assert lift["first_day_ctr"]["p"] == pytest.approx(0.5754910926794699, rel=1e-9)
    assert lift["retention_d1"]["p"] == pytest.approx(0.42970561926323536, rel=1e-9)
    assert lift["dwell"]["p"] == pytest.approx(0.7072527673476416, rel=1e-9)
    keyword = r["overall"]["metrics"]["keyword"]
    assert keyword["first_day_ctr"]["ci"] == pytest.approx((0.5156035615204062, 0.5511547279501625), rel=1e-9)
    assert keyword["dwell"]["ci"] == pytest.approx((64.24055237105262, 67.98844072717938), rel=1e-9)
    assert (r["srm"]["chi2"], r["srm"]["p"]) == pytest.approx((0.32266666666666666, 0.5700094659199787), rel=1e-9)


def test_the_control_is_the_first_listed_variant_everywhere():
    lines = list(simulate(3000, seed=5))  # simulate-events' default lists keyword first
    assert analyze(lines)["control"] == "keyword"  # named by the exposures, as the serving log writes them
    # the definition says so too; listing semantic first makes semantic the control, whatever the names
    flipped = Experiment.parse('{"name": "semantic-vs-keyword", "variants": {"semantic": 0.5, "keyword": 0.5}}')
    bare = [json.dumps({k: v for k, v in json.loads(line).items() if k != "control"}) for line in lines]
    r = analyze(bare, definition=flipped)
    assert r["control"] == "semantic" and r["variants"] == ["semantic", "keyword"]
    assert r["control_source"] == "experiment definition" and set(r["overall"]["lift"]) == {"keyword"}
    with pytest.raises(ConfigError, match="cannot tell the control"):
        analyze(bare)  # no definition, no control field: nothing is guessed from the names
    assert analyze(bare, control="keyword")["control"] == "keyword"
    with pytest.raises(ConfigError, match="contradicts"):
        analyze(lines, control="semantic")
    with pytest.raises(ConfigError, match="has no exposed users"):
        pick_control(["a", "b"], control="c")


def test_report_states_the_control_and_prints_p_values_in_scientific_notation(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(simulate(20000, lift=0.1, seed=2)) + "\n", encoding="utf-8")
    assert main(["ab-report", str(events), "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "**Control (对照组): `keyword`**, the first variant listed in the experiment's definition" in md
    assert "| 点击率 CTR (clicks / impressions) | semantic |" in md
    ctr_row = next(line for line in md.splitlines() if line.startswith("| 点击率") and "| semantic |" in line)
    assert re.search(r"\| \d\.\d\de-\d\d \|$", ctr_row), ctr_row  # e.g. 3.21e-08, never 0.0000
    from PIL import Image

    width, height = Image.open(tmp_path / "r" / "report.png").size
    assert width == 1000 and 900 <= height <= 1300  # four stacked panels, readable at 100%


def test_kiosk_python39_assigns_the_same_variants_and_runs_the_keyword_baseline():
    from tests.py39 import require_toolchain, run_py39_json

    require_toolchain()
    code = ("import json; from coldstart.experiments import Experiment, assign; "
            "from coldstart.keyword_baseline import build_keywords, KeywordProfiler; "
            f"e = Experiment.parse({EXP!r}); "
            "kp = KeywordProfiler(build_keywords(['我爱打篮球', '我爱打篮球', '看电影追剧', '看电影追剧'], "
            "[['体育'], ['体育'], ['娱乐'], ['娱乐']])); "
            "print(json.dumps({'v': [assign(e, f'user-{i}') for i in range(500)], "
            "'top': max(kp.score('周末打篮球')[0].items(), key=lambda kv: kv[1])[0]}))")
    out = run_py39_json(code)
    assert out["v"] == [assign(Experiment.parse(EXP), f"user-{i}") for i in range(500)]
    assert out["top"] == "体育"
