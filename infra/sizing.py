"""Sizing from the user count: embed shards, GPU-hours, the serving index, the Lambda, and what they cost.

Used by ``python -m infra plan`` (which prints the array size to submit) and for the table in
infra/README.md. Every figure is one of three kinds, and the plan says which:

measured  ``embed`` writes each shard's throughput (users/s on its device) to ``stats/`` beside
          its chunks; ``plan --embeddings`` reads the median of a previous run's shards. The
          serving figures (index MB, cold start, warm latency, RSS) are bench/scale.py's at the
          defaults (SERVING below; the run is in bench/README.md).
estimated ASSUMED_USERS_PER_GPU_SECOND when nothing was measured on the batch GPU yet: the only
          GPU measurement is issue 18's (ernie-3.0-medium shape in PyTorch bf16 on one H200: 133k
          users/s at 32 tokens, 72k at 64, 36k at 128), scaled to a g5.xlarge's A10G running Paddle
          in FP32, as embed does: 36k x 31.2 / 989 TFLOPS (A10 FP32 peak / H200 BF16 dense peak,
          NVIDIA datasheets) ~ 1,100 users/s at 128 tokens. TF32 or BF16 on the A10G would be up
          to 4x faster; run embed once and pass --embeddings instead.
prices    PRICES, public on-demand prices for us-east-1 as known in mid-2025, written down from
          memory on a machine without network access: check them on aws.amazon.com/lambda/pricing
          and aws.amazon.com/ec2/pricing/on-demand before relying on them. AWS Batch itself costs
          nothing beyond the EC2 instances it starts.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional

ASSUMED_USERS_PER_GPU_SECOND = 1_100   # g5.xlarge, FP32, 128 tokens (see the module docstring)
CHILD_OVERHEAD_HOURS = 0.1             # per array child: instance start, image pull, teacher load (assumed)
STATS_PREFIX = "stats/"


@dataclass(frozen=True)
class Prices:
    region: str = "us-east-1"
    as_of: str = "mid-2025, from memory (no network here): check before use"
    lambda_gb_second: float = 0.0000166667       # x86, first 6B GB-s per month
    lambda_per_million_requests: float = 0.20
    gpu_instance: str = "g5.xlarge"
    gpu_instance_hour: float = 1.006              # on-demand, Linux (g4dn.xlarge: 0.526)
    api_gateway_rest_per_million: float = 3.50    # REST API, first 333M requests per month


PRICES = Prices()


@dataclass(frozen=True)
class ServingFigures:
    """The serving index at the defaults, as bench/scale.py measured it (bench/README.md, "scale.py").
    The index holds the sample, so these hold for any user count above it."""

    sample: int = 100_000
    width: int = 128
    index_mb: float = 67.5          # index.ann + items.npz
    model_mb: float = 1.1           # the release's ONNX INT8 student (the demo's, 1.06 MB; nano is ~18 MB)
    cold_start_ms: float = 1451.0   # median of 2 cold runs (1,510 and 1,393), on a machine at load avg ~1
    warm_p50_ms: float = 3.06       # warm handler, cache off (also what each profile is billed at)
    rss_mb: float = 181.0           # the serving process after its warm requests
    source: str = "bench/scale.py --quick, 2026-12-05 03:08 UTC, load avg ~1 (bench/README.md)"


SERVING = ServingFigures()
LAMBDA_MB_PER_VCPU = 1769      # a Lambda gets one full vCPU at 1,769 MB
LAMBDA_INIT_LIMIT_S = 10.0


@dataclass(frozen=True)
class ShardPlan:
    users: int
    users_per_second: float
    throughput_source: str
    shards: int
    chunks: int
    gpu_hours: float               # embedding only
    wall_hours: float              # per child, with its start-up overhead
    batch_cost: float              # all children, start-up included

    def to_dict(self) -> Dict:
        return asdict(self)


def plan_shards(users: int, users_per_second: float, target_hours: float = 1.0, chunk_size: int = 2048,
                throughput_source: str = "assumed", prices: Prices = PRICES) -> ShardPlan:
    """Enough array children that each embeds for about ``target_hours`` (never more children than
    chunks: a child without a chunk would only cost its start-up)."""
    if users < 1 or users_per_second <= 0 or target_hours <= 0:
        raise ValueError("users, users_per_second and target_hours must be positive")
    chunks = math.ceil(users / chunk_size)
    gpu_hours = users / users_per_second / 3600.0
    shards = max(1, min(chunks, math.ceil(gpu_hours / target_hours)))
    per_child = math.ceil(chunks / shards) * chunk_size / users_per_second / 3600.0
    cost = (gpu_hours + shards * CHILD_OVERHEAD_HOURS) * prices.gpu_instance_hour
    return ShardPlan(users, users_per_second, throughput_source, shards, chunks, gpu_hours,
                     per_child + CHILD_OVERHEAD_HOURS, cost)


def full_population_index_mb(users: int, width: int) -> float:
    """Annoy angular: 12 + 4 x dim bytes per item node, ~17% more for the trees (100k x 192 measured
    91 MB), plus items.npz (~30 B per user): what the index would be without the sample."""
    return users * ((12 + 4 * width) * 1.17 + 30) / 1e6


def serving_index_mb(users: int, serving: ServingFigures = SERVING) -> float:
    """The serving index: the sample (measured size) once there are more users than it holds."""
    if users >= serving.sample:
        return serving.index_mb
    return full_population_index_mb(users, serving.width)


def lambda_memory_mb(index_mb: float, serving: ServingFigures = SERVING) -> int:
    """What to configure: at least one full vCPU (1,769 MB: the latency figures assume it), and
    room for the process, the whole index in page cache and the model, +30%, in 64 MB steps."""
    need = (serving.rss_mb + index_mb + serving.model_mb) * 1.3
    return max(LAMBDA_MB_PER_VCPU, int(math.ceil(need / 64.0) * 64))


def lambda_cost_per_million(memory_mb: int, billed_ms: float, prices: Prices = PRICES) -> float:
    """Lambda compute + requests for one million profiles (warm; billed per 1 ms)."""
    gb_seconds = 1e6 * math.ceil(billed_ms) / 1000.0 * memory_mb / 1024.0
    return gb_seconds * prices.lambda_gb_second + prices.lambda_per_million_requests


def cold_start_cost(memory_mb: int, init_ms: float, prices: Prices = PRICES) -> float:
    """One cold start's init, billed like the handler (AWS bills the INIT phase since Aug 2025)."""
    return init_ms / 1000.0 * memory_mb / 1024.0 * prices.lambda_gb_second


def read_measured_throughput(store) -> Optional[Dict]:
    """The median users/s of a previous embed run's shards (their ``stats/`` files), or None."""
    rates, devices = [], set()
    for key in store.list(STATS_PREFIX):
        stats = json.loads(store.get_bytes(key))
        if stats.get("users", 0) > 0 and stats.get("encode_seconds", 0) > 0:
            rates.append(stats["users"] / stats["encode_seconds"])
            devices.add(stats.get("device", "?"))
    if not rates:
        return None
    rates.sort()
    return {"users_per_second": rates[len(rates) // 2], "shards": len(rates), "devices": sorted(devices)}


def sizing_rows(user_counts: List[int], users_per_second: float, target_hours: float = 1.0,
                throughput_source: str = "assumed", serving: ServingFigures = SERVING,
                prices: Prices = PRICES) -> List[Dict]:
    rows = []
    for users in user_counts:
        shards = plan_shards(users, users_per_second, target_hours, throughput_source=throughput_source,
                             prices=prices)
        index_mb = serving_index_mb(users, serving)
        memory = lambda_memory_mb(index_mb, serving)
        rows.append({
            "users": users, "shards": shards.shards, "gpu_hours": shards.gpu_hours, "wall_hours": shards.wall_hours,
            "batch_cost": shards.batch_cost, "batch_cost_per_million_users": shards.batch_cost / users * 1e6,
            "index_mb": index_mb, "full_index_mb": full_population_index_mb(users, 768),
            "cold_start_ms": serving.cold_start_ms, "lambda_memory_mb": memory,
            "lambda_per_million_profiles": lambda_cost_per_million(memory, serving.warm_p50_ms, prices),
            "cold_start_cost": cold_start_cost(memory, serving.cold_start_ms, prices),
        })
    return rows


def format_table(rows: List[Dict]) -> str:
    head = ("| users | embed shards | GPU-hours | per child (h) | Batch $ per rebuild | serving index MB "
            "(without the sample, 768-d) | cold start | Lambda memory | Lambda $ per 1M profiles |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        lines.append(f"| {r['users']:,} | {r['shards']:,} | {r['gpu_hours']:.2f} | {r['wall_hours']:.2f} | "
                     f"{r['batch_cost']:.2f} | {r['index_mb']:.0f} ({r['full_index_mb']:,.0f}) | "
                     f"{r['cold_start_ms'] / 1000:.1f} s | {r['lambda_memory_mb']:,} MB | "
                     f"{r['lambda_per_million_profiles']:.2f} |")
    return "\n".join(lines)
