"""Benchmark: the Annoy index next to exact numpy search, measured side by side in one run.

For each dataset prints build time (add loop and build separately), file size, mmap load
time, then recall@10 and batch-1 query latency (median, p99) for a few search_k values,
next to exact brute-force cosine search over the same held-out queries. Not a test: it
asserts nothing about timings.

Datasets:
  demo       the index written by `make demo` (--demo-index); its vectors are read back from
             the index with get_item_vector, so no paddle is needed. Skipped if absent.
  synthetic  --size x --dim clustered, embedding-like vectors (fixed seed), built at --n-trees.
             200 cluster centres on the unit sphere of a 32-dim latent subspace (randomly
             embedded in --dim dims); point = centre + Gaussian spread of norm ~1.0 inside that
             subspace (as large as the centre, so clusters overlap), + isotropic noise of norm
             ~0.3 in all dims, + a shared offset 0.5 * one global direction (sentence embeddings
             occupy a cone); rows L2-normalised. Most, not all, exact top-10 neighbours of a
             point fall in its own cluster (printed as same-cluster@10).

Queries are leave-one-out (sample_queries; each query excludes itself), as in measure_recall.
Annoy queries are single-threaded; exact search uses numpy's BLAS (threads printed at the top).
"""
from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layer"))
from coldstart import vector_index as vi  # noqa: E402
from coldstart.release import read_index_manifest  # noqa: E402

K = 10


def synthetic(n: int, dim: int, seed: int = 0, clusters: int = 200, latent: int = 32):
    """Clustered, embedding-like rows (see the module docstring); returns (vectors, labels)."""
    rng = np.random.default_rng(seed)
    latent = min(latent, dim)
    embed = np.linalg.qr(rng.standard_normal((dim, latent), dtype=np.float32))[0]
    offset = vi.l2_normalise(rng.standard_normal(dim, dtype=np.float32))
    centres = vi.l2_normalise(rng.standard_normal((clusters, latent), dtype=np.float32))
    labels = rng.integers(0, clusters, n)
    points = centres[labels] + rng.standard_normal((n, latent), dtype=np.float32) / np.sqrt(latent)
    x = points @ embed.T
    x += 0.5 * offset
    x += rng.standard_normal((n, dim), dtype=np.float32) * (0.3 / np.sqrt(dim))
    return vi.l2_normalise(x), labels


def timed_build(vectors: np.ndarray, n_trees: int):
    """vi.build_annoy, with the moment it calls build() recorded: (index, add_s, build_s)."""
    marks = {}

    class Timed(vi.AnnoyIndex):
        def build(self, *args, **kwargs):
            marks["build"] = time.perf_counter()
            return super().build(*args, **kwargs)

    t0 = time.perf_counter()
    with mock.patch.object(vi, "AnnoyIndex", Timed):
        index = vi.build_annoy(vectors, n_trees)
    t1 = time.perf_counter()
    return index, marks["build"] - t0, t1 - marks["build"]


def per_query_ms(fn, query_ids: np.ndarray) -> np.ndarray:
    out = np.empty(len(query_ids))
    for j, i in enumerate(query_ids):
        t0 = time.perf_counter()
        fn(int(i))
        out[j] = (time.perf_counter() - t0) * 1000
    return out


def bench(name, index, vectors, n_trees, chosen, add_s, build_s, file_mb, load_ms, args,
          labels=None, note=""):
    n, dim = vectors.shape
    qids = vi.sample_queries(n, args.queries)
    k = min(K, n - 1)
    truth = {}

    def exact(i):
        truth[i] = vi.exact_top_k(vectors, vectors[i:i + 1], k, exclude=[i])[0]

    exact_ms = per_query_ms(exact, qids)
    ex50, ex99 = np.median(exact_ms), np.percentile(exact_ms, 99)
    base = n_trees * k
    plan = [base * m for m in (1, 2, 4, 8, 16, 32, 64)]
    rows = {}

    def measure(sk):
        recall = vi.measure_recall(index, vectors, qids, k, sk).recall
        lat = per_query_ms(lambda i: vi.annoy_top_k(index, vectors[i], k, sk, exclude=i), qids)
        rows[sk] = (recall, np.median(lat), np.percentile(lat, 99))
        return recall

    for sk in sorted({*plan[:4], 5000} | ({chosen} if chosen else set())):
        measure(sk)
    if chosen is None:  # build_tuned's rule: smallest search_k on its doubling plan meeting the gate
        chosen = next((sk for sk in plan[:4] if rows[sk][0] >= args.min_recall), None)
        for sk in plan[4:] if chosen is None else ():
            if measure(sk) >= args.min_recall:
                chosen = sk
                break
    if chosen is None:
        chosen = max(rows, key=lambda s: rows[s][0])
        note += f" (no search_k reached the {args.min_recall} gate; marked the best)"

    print(f"\n== {name}: n={n} dim={dim} n_trees={n_trees} queries={len(qids)} (leave-one-out) {note}")
    print(f"   add loop {add_s:.2f} s + build {build_s:.2f} s, file {file_mb:.1f} MB, load (mmap) {load_ms:.2f} ms")
    if labels is not None:
        same = np.mean([np.mean(labels[truth[i]] == labels[i]) for i in qids])
        print(f"   same-cluster@10 of exact neighbours: {same:.3f}")
    print(f"   {'':2}{'search_k':>9} {'recall@10':>10} {'p50 ms':>9} {'p99 ms':>9} {'speed-up':>9}")
    for sk, (recall, p50, p99) in sorted(rows.items()):
        mark = "*" if sk == chosen else ""
        print(f"   {mark:2}{sk:>9} {recall:>10.4f} {p50:>9.3f} {p99:>9.3f} {ex50 / p50:>8.1f}x")
    print(f"   {'':2}{'exact':>9} {1.0:>10.4f} {ex50:>9.3f} {ex99:>9.3f} {1.0:>8.1f}x")
    print("   * = search_k the index uses; speed-up = exact p50 / annoy p50")
    recall, p50, p99 = rows[chosen]
    print(f"index-bench dataset={name} n={n} dim={dim} n_trees={n_trees} add_s={add_s:.2f} "
          f"build_s={build_s:.2f} file_mb={file_mb:.1f} load_ms={load_ms:.3f} annoy_p50_ms={p50:.3f} "
          f"annoy_p99_ms={p99:.3f} exact_p50_ms={ex50:.3f} exact_p99_ms={ex99:.3f} "
          f"speedup={ex50 / p50:.1f} recall@10={recall:.4f} search_k={chosen}", flush=True)


def load_timed(path: Path, dim: int):
    t0 = time.perf_counter()
    index = vi.load_annoy(path, dim)
    return index, (time.perf_counter() - t0) * 1000, path.stat().st_size / 1e6


def run_demo(args) -> None:
    root = Path(args.demo_index)
    if not (root / vi.INDEX_FILE).is_file():
        print(f"\ndemo index not found at {root}: run `make demo` first (skipped)", flush=True)
        return
    manifest = read_index_manifest(root)
    index, load_ms, file_mb = load_timed(root / vi.INDEX_FILE, manifest.dim)
    vectors = vi.l2_normalise(np.array([index.get_item_vector(i) for i in range(index.get_n_items())]))
    _, add_s, build_s = timed_build(vectors, manifest.n_trees)  # timing only; queries use the file
    bench("demo", index, vectors, manifest.n_trees, manifest.search_k, add_s, build_s, file_mb, load_ms,
          args, note=f"(build timed on a rebuild; search_k from its manifest, which recorded recall "
               f"{manifest.recall.recall:.4f})")


def run_synthetic(args) -> None:
    t0 = time.perf_counter()
    vectors, labels = synthetic(args.size, args.dim, seed=args.seed)
    print(f"\nsynthetic: generated {args.size} x {args.dim} in {time.perf_counter() - t0:.1f} s", flush=True)
    built, add_s, build_s = timed_build(vectors, args.n_trees)
    with tempfile.TemporaryDirectory(prefix="index-bench-") as tmp:
        path = Path(tmp) / vi.INDEX_FILE
        built.save(str(path))
        built.unload()
        del built
        index, load_ms, file_mb = load_timed(path, args.dim)
        bench("synthetic", index, vectors, args.n_trees, None, add_s, build_s, file_mb, load_ms, args,
              labels=labels, note=f"(search_k: smallest on the doubling plan with recall >= {args.min_recall})")
        index.unload()


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
        return ", ".join(f"{p['internal_api']} {p['num_threads']} threads" for p in threadpool_info()) or "?"
    except ImportError:
        return "? (threadpoolctl not installed)"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--demo-index", default="build/demo/pipeline/index", help="demo index directory")
    p.add_argument("--size", type=int, default=100_000, help="synthetic rows")
    p.add_argument("--dim", type=int, default=768, help="synthetic dimension")
    p.add_argument("--n-trees", type=int, default=50, help="synthetic tree count")
    p.add_argument("--queries", type=int, default=500, help="held-out queries per dataset")
    p.add_argument("--min-recall", type=float, default=0.95, help="gate used to pick synthetic search_k")
    p.add_argument("--seed", type=int, default=0, help="synthetic data seed")
    p.add_argument("--skip-demo", action="store_true")
    p.add_argument("--skip-synthetic", action="store_true")
    args = p.parse_args(argv)
    print(f"machine: {os.cpu_count()} cpus, load avg {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"python {sys.version.split()[0]}, numpy {np.__version__} (BLAS: {blas_threads()}), "
          f"annoy {importlib.metadata.version('annoy')} (queries single-threaded)", flush=True)
    if not args.skip_demo:
        run_demo(args)
    if not args.skip_synthetic:
        run_synthetic(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
