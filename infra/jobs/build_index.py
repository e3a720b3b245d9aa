"""Build the Annoy index (angular) over the teacher embeddings, with its sidecar and manifest.

The index holds a stratified sample of the users (--sample, default 100k) at the serving width
(--width, default 128: a projection learned from the sample and written beside the index as
projection.npz, which `export` folds into the student): its size does not grow with the user
base (infra/serving_rows.py; the defaults come from bench/scale.py). The chunks are streamed.
Measures recall@10 against exact search on held-out (leave-one-out) queries (on the GPU when
Paddle sees one, else a bounded number of queries on the CPU: infra/exact.py), tunes search_k
(then n_trees) to reach --min-recall, and refuses to write an index below it.
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
    from infra.serving_rows import DEFAULT_SAMPLE, DEFAULT_WIDTH

    p.add_argument("--sample", type=int, default=DEFAULT_SAMPLE,
                   help="users in the serving index, a stratified sample by tags and activity (0: every user)")
    p.add_argument("--width", type=int, default=DEFAULT_WIDTH,
                   help="serving width: project the teacher's vectors to this many dims (0 or >= the "
                        "teacher's dim: the teacher's width)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the sample (same seed, same users)")
    p.add_argument("--projection", default=None,
                   help="reuse this projection.npz (e.g. the previous index's) instead of fitting one, so the "
                        "current student, which has it folded in, can be carried forward")
    p.add_argument("--projection-from", default=None,
                   help="a release target (s3://BUCKET/PREFIX or a directory): reuse its current student's projection "
                        "when that student comes from this teacher at this --width (the daily refresh), else fit one")
    p.add_argument("--exact-device", default="auto", choices=["auto", "gpu", "cpu"],
                   help="exact search for the recall gate (auto: the GPU when Paddle sees one)")


def run(args: argparse.Namespace) -> int:
    from coldstart.hashing import sha256_bytes
    from coldstart.items import ItemTable
    from coldstart.pseudonyms import handle_of
    from coldstart.release import INDEX_FILE, ITEMS_NPZ, IndexManifest, RecallReport, describe_files, staged_directory
    from coldstart.storage import open_store
    from coldstart.vector_index import build_tuned
    from infra.embeddings import EMBED_MANIFEST, read_spec
    from infra.exact import exact_top_k, recall_queries, resolve_device
    from infra.serving_rows import load_serving_rows

    started = time.time()
    store = open_store(args.embeddings)
    spec = read_spec(store)
    embed_sha = sha256_bytes(store.get_bytes(EMBED_MANIFEST))
    print(f"build-index: {spec.count} vectors of dim {spec.teacher.dim} from {store.uri()}", flush=True)
    reuse = None
    if args.projection_from and not args.projection and 0 < args.width < spec.teacher.dim:
        reuse = _current_projection(args.projection_from, spec.teacher, args.width)
    if args.projection:
        from coldstart.errors import ConfigError
        from coldstart.projection import Projection

        if not Path(args.projection).is_file():
            raise ConfigError(f"--projection {args.projection}: no such file (a build-index --out holds one when it "
                              "was built at a reduced --width)")
        reuse = Projection.load(args.projection)  # read now: --out (which may hold it) is replaced below
    rows = load_serving_rows(store, spec, args.sample, args.width, args.sample_seed,
                             log=lambda msg: print(f"  {msg}", flush=True), reuse=reuse)
    vectors, user_keys, tags = rows.vectors, rows.user_keys, rows.tags
    device = resolve_device(args.exact_device)
    n_queries = recall_queries(len(vectors), vectors.shape[1], args.queries, device)
    print(f"  recall gate: exact neighbours on the {device.upper()}, {n_queries} queries", flush=True)
    with Activity("build-index: Annoy build + recall tuning") as activity:
        tuned = build_tuned(vectors, min_recall=args.min_recall, k=args.k, n_queries=n_queries,
                            n_trees=args.n_trees, search_k=args.search_k, max_trees=args.max_trees,
                            seed=args.seed, log=lambda msg: activity.note(f"  {msg}"),
                            exact=lambda v, q, k, exclude: exact_top_k(v, q, k, exclude, device=device))
    out = Path(args.out)
    with staged_directory(out) as staging:  # the directory is replaced whole, never half-written
        tuned.index.save(str(staging / INDEX_FILE))
        # a release names users only by opaque handles (coldstart.pseudonyms), never by id
        items = ItemTable.from_rows([handle_of(k) for k in user_keys], tags)
        items.save(staging / ITEMS_NPZ)
        projection = _save_projection(rows.projection, staging)
        m = tuned.measurement
        manifest = IndexManifest(
            teacher=spec.teacher, dim=int(vectors.shape[1]), count=len(vectors), n_trees=tuned.n_trees,
            search_k=m.search_k,
            recall=RecallReport(k=args.k, recall=round(m.recall, 4), search_k=m.search_k, n_queries=m.n_queries,
                                threshold=args.min_recall, annoy_ms_per_query=round(m.annoy_ms_per_query, 4),
                                exact_ms_per_query=round(m.exact_ms_per_query, 4)),
            files=describe_files(staging, [INDEX_FILE, ITEMS_NPZ]),
            extra={"embeddings_manifest_sha256": embed_sha, "embeddings_input_sha256": spec.input_sha256, "preprocess": spec.preprocess,
                   "max_seq_len": spec.max_seq_len, "tuning": [list(t) for t in tuned.tried],
                   "recall_device": device, **rows.manifest_extra(),
                   "serving_argv": ["--sample", str(args.sample), "--width", str(args.width),
                                    "--sample-seed", str(args.sample_seed)]},
            projection=projection,
        )
        manifest.save(staging)
    summary("build-index", count=manifest.count, dim=manifest.dim, n_trees=manifest.n_trees,
            search_k=manifest.search_k, recall_at_10=f"{manifest.recall.recall:.4f}",
            gate=args.min_recall, teacher=manifest.teacher.id, seconds=f"{time.time() - started:.1f}", out=str(out))
    return 0


def _current_projection(release_uri: str, teacher, width: int):
    """The projection folded into the current release's student (from PREFIX/projections/, checked
    against its sha256), or None (with the reason printed) when there is none to reuse."""
    from coldstart.errors import ObjectNotFound, VerificationError
    from coldstart.hashing import sha256_bytes
    from coldstart.projection import Projection
    from coldstart.release import projection_key
    from coldstart.storage import open_store
    from infra.model_manifest import current_student

    store = open_store(release_uri)
    version, model = current_student(store)
    why = None
    if model is None:
        why = "nothing published yet" if version is None else f"release {version} has no student"
    elif not model.teacher.same_space(teacher):
        why = f"release {version}'s student comes from another teacher"
    elif model.projection is None or model.projection.width != width:
        why = f"release {version}'s student is not reduced to --width {width}"
    if why:
        print(f"  projection: not reused ({why}); fitting one", flush=True)
        return None
    try:
        data = store.get_bytes(projection_key(model.projection.sha256))
    except ObjectNotFound:
        print(f"  projection: release {version}'s is not under {store.uri(projection_key(model.projection.sha256))}; "
              "fitting one (the student will be exported again)", flush=True)
        return None
    if sha256_bytes(data) != model.projection.sha256:
        raise VerificationError(f"{store.uri(projection_key(model.projection.sha256))}: sha256 differs from its name")
    print(f"  projection: reusing release {version}'s ({model.projection.source_dim} -> {model.projection.width}), "
          "so its student can be carried forward", flush=True)
    return Projection.from_bytes(data)


def _save_projection(projection, folder: Path):
    """projection.npz beside the index, for `export` to fold into the student (not published: the
    student applies it). Its record (sha256, widths) goes into the manifest; None at the teacher's width."""
    if projection is None:
        return None
    from coldstart.hashing import sha256_bytes
    from coldstart.release import PROJECTION_FILE, atomic_write

    data = projection.to_bytes()
    atomic_write(folder / PROJECTION_FILE, data)
    return projection.describe(sha256_bytes(data))
