"""Build the Annoy index (angular) over the teacher embeddings, with its sidecar and manifest.

Measures recall@10 against exact search on a sample of held-out (leave-one-out) queries,
tunes search_k (then n_trees) to reach --min-recall, and refuses to write an index below it.
The output directory is replaced whole, never left half-written.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from infra.progress import Activity, summary


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--embeddings", required=True, help="output of `embed` (directory or s3:// prefix)")
    p.add_argument("--out", required=True, help="index directory to (re)write")
    p.add_argument("--min-recall", type=float, default=0.95, help="recall@10 gate; below it nothing is written")
    p.add_argument("--n-trees", type=int, default=None, help="fix the tree count (default: tuned)")
    p.add_argument("--search-k", type=int, default=None, help="fix search_k (default: tuned)")
    p.add_argument("--max-trees", type=int, default=200, help="upper bound when tuning n_trees")
    p.add_argument("--k", type=int, default=10, help="neighbours for the recall measurement")
    p.add_argument("--queries", type=int, default=500, help="held-out queries for recall")
    p.add_argument("--seed", type=int, default=42, help="Annoy's and the query sample's random seed")


def run(args: argparse.Namespace) -> int:
    from coldstart.hashing import sha256_bytes
    from coldstart.items import ItemTable
    from coldstart.pseudonyms import handle_of
    from coldstart.release import INDEX_FILE, ITEMS_NPZ, IndexManifest, RecallReport, describe_files, staged_directory
    from coldstart.storage import open_store
    from coldstart.vector_index import build_tuned
    from infra.embeddings import EMBED_MANIFEST, load_all

    started = time.time()
    store = open_store(args.embeddings)
    spec, vectors, user_keys, tags = load_all(store)
    embed_sha = sha256_bytes(store.get_bytes(EMBED_MANIFEST))
    print(f"build-index: {len(vectors)} vectors of dim {vectors.shape[1]} from {store.uri()}", flush=True)
    with Activity("build-index: Annoy build + recall tuning") as activity:
        tuned = build_tuned(vectors, min_recall=args.min_recall, k=args.k, n_queries=args.queries,
                            n_trees=args.n_trees, search_k=args.search_k, max_trees=args.max_trees,
                            seed=args.seed, log=lambda msg: activity.note(f"  {msg}"))
    out = Path(args.out)
    with staged_directory(out) as staging:  # the directory is replaced whole, never half-written
        tuned.index.save(str(staging / INDEX_FILE))
        # a release names users only by opaque handles (coldstart.pseudonyms), never by id
        items = ItemTable.from_rows([handle_of(k) for k in user_keys], tags)
        items.save(staging / ITEMS_NPZ)
        m = tuned.measurement
        manifest = IndexManifest(
            teacher=spec.teacher, dim=int(vectors.shape[1]), count=len(vectors), n_trees=tuned.n_trees,
            search_k=m.search_k,
            recall=RecallReport(k=args.k, recall=round(m.recall, 4), search_k=m.search_k, n_queries=m.n_queries,
                                threshold=args.min_recall, annoy_ms_per_query=round(m.annoy_ms_per_query, 4),
                                exact_ms_per_query=round(m.exact_ms_per_query, 4)),
            files=describe_files(staging, [INDEX_FILE, ITEMS_NPZ]),
            extra={"embeddings_manifest_sha256": embed_sha, "embeddings_input_sha256": spec.input_sha256, "preprocess": spec.preprocess,
                   "max_seq_len": spec.max_seq_len, "tuning": [list(t) for t in tuned.tried]},
        )
        manifest.save(staging)
    summary("build-index", count=manifest.count, dim=manifest.dim, n_trees=manifest.n_trees,
            search_k=manifest.search_k, recall_at_10=f"{manifest.recall.recall:.4f}",
            gate=args.min_recall, teacher=manifest.teacher.id, seconds=f"{time.time() - started:.1f}", out=str(out))
    return 0
