"""Sizing a rebuild from the user count (infra/sizing.py, `python -m infra plan`)."""
import json

import pytest

from infra import sizing
from infra.cli import main


def test_shards_follow_the_users_and_the_throughput():
    plan = sizing.plan_shards(100_000_000, 1_100, target_hours=1.0)
    assert plan.gpu_hours == pytest.approx(100_000_000 / 1_100 / 3600)  # 25.3 GPU-hours
    assert plan.shards == 26 and plan.chunks == 48_829
    assert plan.wall_hours <= 1.0 + sizing.CHILD_OVERHEAD_HOURS + 0.01
    faster = sizing.plan_shards(100_000_000, 36_000, target_hours=1.0)  # issue 18's H200 figure at 128 tokens
    assert faster.shards == 1 and faster.gpu_hours == pytest.approx(0.77, abs=0.01)
    assert sizing.plan_shards(3_000, 10.0, target_hours=0.01).shards == 2  # never more children than chunks
    with pytest.raises(ValueError):
        sizing.plan_shards(0, 1.0)


def test_the_serving_index_stops_growing_at_the_sample():
    s = sizing.SERVING
    assert sizing.serving_index_mb(100_000_000, s) == sizing.serving_index_mb(s.sample, s) == s.index_mb
    assert sizing.serving_index_mb(10_000, s) < s.index_mb
    # the formula for an index of every user against bench/README.md's measured 100k x 192 (91 MB)
    assert sizing.full_population_index_mb(100_000, 192) == pytest.approx(91, rel=0.05)
    assert sizing.full_population_index_mb(1_000_000, 768) > 3_000  # what issue 18 started from (~3.7 GB)


def test_lambda_memory_and_cost():
    assert sizing.lambda_memory_mb(65.0) == sizing.LAMBDA_MB_PER_VCPU  # small index: one full vCPU
    assert sizing.lambda_memory_mb(3_700.0) > 4_800  # a full 1M x 768 index would need more
    cost = sizing.lambda_cost_per_million(1769, 2.4)  # billed in whole ms: 3 ms
    assert cost == pytest.approx(1e6 * 0.003 * 1769 / 1024 * 0.0000166667 + 0.20, rel=1e-9)


def test_plan_uses_the_throughput_an_embed_run_measured(tmp_path, capsys):
    stats = tmp_path / "emb" / "stats"
    stats.mkdir(parents=True)
    for i, (users, seconds) in enumerate([(2048, 1.0), (2048, 2.0), (1024, 1.0)]):
        (stats / f"shard-{i:05d}-of-00003.json").write_text(json.dumps(
            {"users": users, "encode_seconds": seconds, "device": "gpu:0"}))
    assert main(["plan", "--users", "10000000", "--embeddings", str(tmp_path / "emb")]) == 0
    out = capsys.readouterr().out
    assert "1,024 users/s per GPU (measured: median of 3 shard(s) on gpu:0)" in out
    assert "--array-properties size=3" in out  # 2.7 GPU-hours -> 3 children of ~1 h
    assert main(["plan", "--users", "100000000", "--table"]) == 0
    out = capsys.readouterr().out
    assert "estimated for a g5.xlarge" in out and "| 100,000,000 |" in out


def test_plan_without_measurements_says_so(tmp_path, capsys):
    (tmp_path / "emb").mkdir()
    assert main(["plan", "--users", "1000", "--embeddings", str(tmp_path / "emb")]) == 1
    assert "no throughput recorded" in capsys.readouterr().err
