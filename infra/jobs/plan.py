"""Size a rebuild from the user count: embed array children, GPU-hours, the serving index, the Lambda
and what they cost (infra/sizing.py says where each figure comes from).

The throughput is the one a previous `embed` run measured (--embeddings: its stats/), else
--users-per-second, else an estimate for a g5.xlarge (labelled as such). Prints the array size to
submit (`aws batch submit-job --array-properties size=N`, infra/README.md) and, with --table, the
sizing table for several user counts.
"""
from __future__ import annotations

import argparse

from infra.progress import summary


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--users", type=int, required=True, help="active users to embed")
    p.add_argument("--embeddings", default=None,
                   help="a previous embed output (dir or s3:// prefix): use the throughput its shards measured")
    p.add_argument("--users-per-second", type=float, default=None, help="embed throughput of one GPU child")
    p.add_argument("--target-hours", type=float, default=1.0, help="embedding time per array child")
    p.add_argument("--chunk-size", type=int, default=2048, help="embed's --chunk-size")
    p.add_argument("--table", action="store_true", help="also print the sizing table for 100k .. 100M users")


def run(args: argparse.Namespace) -> int:
    from infra import sizing

    rate, source = _throughput(args)
    plan = sizing.plan_shards(args.users, rate, args.target_hours, args.chunk_size, throughput_source=source)
    (row,) = sizing.sizing_rows([args.users], rate, args.target_hours, source)
    p = sizing.PRICES
    print(f"plan: {args.users:,} users at {rate:,.0f} users/s per GPU ({source})")
    print(f"  embed: {plan.shards} array children x ~{plan.wall_hours:.2f} h ({plan.chunks:,} chunks of "
          f"{args.chunk_size}), {plan.gpu_hours:.2f} GPU-hours, ~${plan.batch_cost:.2f} on {p.gpu_instance} "
          f"(${p.gpu_instance_hour}/h, {p.region}, prices {p.as_of})")
    print(f"  submit: aws batch submit-job ... --array-properties size={plan.shards}")
    print(f"  serving index: {row['index_mb']:.0f} MB (a {sizing.SERVING.sample:,}-user sample at "
          f"{sizing.SERVING.width} dims; every user at 768 dims would be {row['full_index_mb']:,.0f} MB); cold start "
          f"~{row['cold_start_ms'] / 1000:.1f} s; Lambda memory {row['lambda_memory_mb']:,} MB; "
          f"${row['lambda_per_million_profiles']:.2f} per million profiles (+ ${row['cold_start_cost'] * 1e3:.2f} "
          f"per thousand cold starts; serving figures: {sizing.SERVING.source})")
    if args.table:
        print()
        print(sizing.format_table(sizing.sizing_rows([100_000, 1_000_000, 10_000_000, 100_000_000], rate,
                                                     args.target_hours, source)))
    summary("plan", users=args.users, shards=plan.shards, gpu_hours=f"{plan.gpu_hours:.2f}",
            users_per_second=f"{rate:.0f}", throughput=source.split(" ")[0])
    return 0


def _throughput(args):
    from infra import sizing

    if args.embeddings:
        from coldstart.errors import InputError
        from coldstart.storage import open_store

        measured = sizing.read_measured_throughput(open_store(args.embeddings))
        if measured is None:
            raise InputError(f"no throughput recorded under {args.embeddings}/{sizing.STATS_PREFIX} (an embed run "
                             "writes one file per shard that embedded anything)")
        return measured["users_per_second"], (f"measured: median of {measured['shards']} shard(s) on "
                                              f"{', '.join(measured['devices'])}")
    if args.users_per_second:
        return args.users_per_second, "given"
    return sizing.ASSUMED_USERS_PER_GPU_SECOND, "estimated for a g5.xlarge (A10G, FP32, 128 tokens; infra/sizing.py)"
