"""Benchmark: the serving path (cold start, warm handler latency, memory) next to the seed approach.

For each release the script starts a local S3 server (SeaweedFS on 127.0.0.1, in a temporary
directory), publishes the release to it with `python -m infra publish` (real upload and
verification), and then measures, each in a fresh Python process so nothing the benchmark
itself imported is counted:

  cold start  `import app` (function/app.py) with COLDSTART_RELEASE_URI=s3://… and an empty
              COLDSTART_CACHE_DIR, split into imports (numpy, annoy, onnxruntime, botocore,
              Powertools, coldstart), S3 client, current.json, download + verify, open
              (index mmap, items, ONNX session, tokenizer; on a fresh download the loader builds
              the session and tokenizer while index.ann still downloads, and they are shown
              there), plus the first request.
              The split comes from timing wrappers put around the library's functions inside
              the worker process (no library code is changed). Median over --cold-runs.
  warm        --requests requests through app.handler(event, context) (API Gateway REST v1
              events built from data/heldout.jsonl texts, cycling), with the embedding cache
              off (COLDSTART_CACHE_SIZE=0) and on (default size), and the same requests through
              SERVICE.handle() directly (handler overhead = Powertools logging/metrics + event
              and response JSON) and, cache off, the stages of the request path one by one.
              Cache off, the three are interleaved request by request (each from its own offset
              in the texts); cache on, handler then service, each starting from an empty cache.
              The worker's stdout (Powertools' JSON log lines and EMF metrics) goes to /dev/null.
  memory      peak RSS (VmHWM from /proc/self/status, never ru_maxrss: that one survives exec and
              reports the launcher's peak) of each cold-start worker right after init, and of each
              warm worker after its runs (index.ann pages the queries touched count there).
  seed        the seed article's approach on the same texts: the paddlenlp teacher in FP32
              (dygraph, batch 1) + brute-force cosine over ALL users (numpy `vectors @ q`,
              argpartition top-k) + the same tag vote (coldstart.voting.vote), in its own
              process (paddle, `import zlib` first). Two variants:
                demo-teacher  models/demo-teacher (the teacher the release's index came from)
                              over the release's own user vectors (read back from the index);
                medium-shape  a randomly initialised ERNIE of ernie-3.0-medium's shape (6 layers,
                              768 hidden, 12 heads, 3072 intermediate, vocab 40000) fed by the demo
                              tokenizer (its 3,924 ids are all < 40000), over a random
                              (users x 768) matrix, one row per user of the release: what a
                              production deployment's seed approach costs per request
                              (synthetic release only).

Releases:
  demo  the release `make demo` builds (--demo-index, --demo-model); skipped with a message if absent.
  100k  100,000 synthetic users in the demo model's vector space: each is a random demo user's
        vector + isotropic Gaussian noise, re-normalised, with that user's tags. The noise is
        scaled so a synthetic user's cosine to its source equals the median cosine of a real
        demo user to its 10th nearest neighbour (--noise-cos overrides). Indexed with
        build_tuned (recall@10 gate 0.95, leave-one-out), written like `build-index` does,
        paired with the demo model (same teacher, so the release's teacher check passes), and
        cached under build/bench/serving/ (rebuilt only when the source index or the settings change).

Production shape (an estimate, after the 100k release; --skip-production-shape): the demo student
is the demo teacher's size (2 x 192, 192-d index), far smaller than production's ernie-3.0-nano
student (4 x 312, vocab 40000) over a 768-d index. So the request path's stages are also timed
with a randomly initialised nano-shape student exported by the project's export steps (static
graph -> paddle2onnx -> INT8) and an Annoy index over 100,000 x 768 clustered vectors (bench/index.py's
generator, build_tuned at the 0.95 gate; Annoy is queried with indexed vectors, since a random
encoder's output is not in that space). Estimate = per-request sum of the stages + what the 100k
release spends around its stages (handler p50 - sum of stage p50s); compared with the medium-shape seed. Both cached under
--cache-root.

Threads: ONNX Runtime runs with the service's default (COLDSTART_THREADS, 1 intra-op thread; a
Lambda at 1,769 MB has one vCPU); the seed workers get --seed-threads paddle and BLAS threads
(default 1, the same single core); OMP/OPENBLAS/MKL_NUM_THREADS are set to --threads in the
serving workers and to --seed-threads in the seed workers.

Reading the numbers: "python start" is launch -> first line of this script (interpreter + site);
the in-process total starts after this script's own imports. "Handler overhead" is the difference
of two medians (handler, service), so it is only good to about 0.1 ms. Peak RSS
counts the mmapped index.ann pages the queries have touched (clean, shared page cache): the canary
texts every release answers at init already fault in nearly the whole file (64 KB fault-around per
page fault), so for the 100k release the figure after init is the steady state, index.ann + ~110 MB. --max-load waits before each measured phase; every
phase prints the load average it ran at.

Not a test: nothing asserts on timings. The last lines, `serving-bench release=… metric=… value=…`,
are meant for grep.
"""
from __future__ import annotations

import time

_T0_WALL = time.time()  # first thing the worker does: the parent subtracts its launch time

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
K = 10
BUCKET = "coldstart-bench"
PREFIX = "coldstart"
VERSION = "bench1"
MEDIUM_SHAPE = dict(vocab_size=40000, hidden_size=768, num_hidden_layers=6, num_attention_heads=12,
                    intermediate_size=3072, max_position_embeddings=2048, type_vocab_size=4,
                    task_type_vocab_size=16, use_task_id=True, pad_token_id=0)
MEDIUM_USERS, MEDIUM_DIM = 100_000, 768  # the synthetic release's size; the medium seed's dim
TARGETS = {"cold_total_ms": 1500.0, "p50_ms": 5.0, "p99_ms": 15.0, "seed_ratio": 20.0}
# Env that would override the local S3 settings (same list as tests/conftest.py).
_OVERRIDING_ENV = ("AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_REGION",
                   "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE")


# ----------------------------------------------------------------------------- small helpers
def pct(values, q):
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def summary_ms(values) -> dict:
    import numpy as np

    v = np.asarray(values, dtype=float)
    return {"n": int(v.size), "p50": pct(v, 50), "p99": pct(v, 99), "max": float(v.max()), "mean": float(v.mean())}


def load_texts(path: Path):
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def rest_event(text: str) -> dict:
    """An API Gateway REST (payload v1) POST /profile event, as in events/profile_rest.json."""
    return {"resource": "/profile", "path": "/profile", "httpMethod": "POST", "isBase64Encoded": False,
            "headers": {"Content-Type": "application/json", "Host": "bench.execute-api.us-east-1.amazonaws.com"},
            "multiValueHeaders": {"Content-Type": ["application/json"]}, "queryStringParameters": None,
            "pathParameters": None, "stageVariables": None,
            "requestContext": {"resourcePath": "/profile", "httpMethod": "POST", "stage": "prod",
                               "requestId": "bench", "identity": {"sourceIp": "127.0.0.1"}},
            "body": json.dumps({"text": text}, ensure_ascii=False)}


class FakeContext:
    function_name = "coldstart"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart"
    aws_request_id = "bench-request"


def rss_mb() -> tuple:
    """(peak RSS, current RSS) of this process in MB, from /proc/self/status (VmHWM, VmRSS).

    Not ``getrusage().ru_maxrss``: Linux carries it across fork and exec, so a worker started by a
    parent holding 1 GB reports >= 1 GB however little it touched itself (bench/README.md)."""
    status = memory_status()
    return status.get("VmHWM", float("nan")), status.get("VmRSS", float("nan"))


def memory_status() -> dict:
    """VmHWM, VmRSS, RssAnon, RssFile, RssShmem of this process (MB), plus ru_maxrss for contrast."""
    out = {"ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}  # KiB on Linux
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
                out[name] = int(value.split()[0]) / 1024.0
    except OSError:
        pass
    return out


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ----------------------------------------------------------------------------- serving worker
def worker_serve(args) -> int:
    """Runs in a fresh process: cold start of function/app.py, then (optionally) warm requests."""
    timings = {}
    t_start = time.perf_counter()  # the benchmark script's own imports (argparse, …) are before this, uncounted

    def stage(label, fn):
        t0 = time.perf_counter()
        result = fn()
        timings[label] = (time.perf_counter() - t0) * 1000.0
        return result

    stage("numpy", lambda: __import__("numpy"))
    stage("annoy", lambda: __import__("annoy"))
    stage("onnxruntime", lambda: __import__("onnxruntime"))
    stage("botocore", lambda: (__import__("botocore.session"), __import__("botocore.config")))  # what S3Store imports
    stage("powertools", lambda: (__import__("aws_lambda_powertools"), __import__("aws_lambda_powertools.metrics")))

    def import_coldstart():
        import coldstart.encoder  # noqa: F401
        import coldstart.service  # noqa: F401
        import coldstart.storage.s3  # noqa: F401
        import coldstart.tokenizer  # noqa: F401

    stage("coldstart", import_coldstart)
    timings["imports"] = sum(timings[k] for k in ("numpy", "annoy", "onnxruntime", "botocore", "powertools", "coldstart"))

    # Timing wrappers around the library's own functions (nothing in the library is edited).
    import coldstart.release_loader as rl
    import coldstart.service as svc
    import coldstart.tokenizer as tok
    from coldstart.items import ItemTable

    in_fetch = [False]  # the loader builds the encoder and tokenizer during the download when it can

    def wrap(owner, name, label, static=False, fetching=False):
        original = getattr(owner, name)

        def timed(*a, **kw):
            t0 = time.perf_counter()
            in_fetch[0] |= fetching
            try:
                return original(*a, **kw)
            finally:
                in_fetch[0] &= not fetching
                key = label + ("_during_download" if in_fetch[0] and not fetching else "")
                timings[key] = timings.get(key, 0.0) + (time.perf_counter() - t0) * 1000.0

        setattr(owner, name, staticmethod(timed) if static else timed)

    wrap(svc, "open_store", "s3_client")
    wrap(rl.ReleaseLoader, "current_pointer", "current_json")
    wrap(rl.ReleaseLoader, "fetch", "download_verify", fetching=True)
    wrap(rl.ReleaseLoader, "open", "open")
    wrap(rl.ReleaseLoader, "_smoke_test", "open_smoke_test")  # the canaries, inside open
    wrap(rl.ReleaseLoader, "prune", "prune")
    wrap(rl, "open_annoy", "open_index_mmap")  # the file check, then mmap
    wrap(ItemTable, "load", "open_items", static=True)
    wrap(rl.OnnxBackend, "create", "open_onnx_session")
    wrap(tok, "WordPieceTokenizer", "open_tokenizer")

    sys.path.insert(0, str(ROOT / "function"))
    t0 = time.perf_counter()
    import app  # noqa: E402  the cold start proper: module init loads the release

    timings["app_init"] = (time.perf_counter() - t0) * 1000.0
    timings["total"] = (time.perf_counter() - t_start) * 1000.0
    memory_after_init = memory_status()  # before any request: what init itself needed
    app_ready_wall = time.time()
    known = ("s3_client", "current_json", "download_verify", "open", "prune")
    timings["app_other"] = timings["app_init"] - sum(timings.get(k, 0.0) for k in known)
    timings["open_other"] = timings.get("open", 0.0) - sum(  # components built during the download are not in open
        timings.get(k, 0.0) for k in ("open_index_mmap", "open_items", "open_onnx_session", "open_tokenizer", "open_smoke_test"))
    release = app.SERVICE.manager.current if app.SERVICE.manager else None
    out = {"t0_wall": _T0_WALL, "ready_wall": app_ready_wall, "cold": timings, "memory_after_init": memory_after_init,
           "ready": release is not None, "error": app.SERVICE.manager.last_error if app.SERVICE.manager else None}
    if release is None:
        Path(args.out).write_text(json.dumps(out))
        return 1
    root = Path(release.root)
    out["downloaded_mb"] = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6

    texts = load_texts(Path(args.texts))
    events = [rest_event(t) for t in texts]
    ctx = FakeContext()
    t0 = time.perf_counter()
    first = app.handler(events[0], ctx)
    timings["first_request"] = (time.perf_counter() - t0) * 1000.0
    out["first_status"] = first["statusCode"]
    out["rss_after_first_request_mb"] = rss_mb()

    n = args.requests
    if n > 0:
        out["warm"] = warm_runs(app, events, texts, n, args.cache_off)
    out["peak_rss_mb"], out["rss_mb"] = rss_mb()
    Path(args.out).write_text(json.dumps(out))
    return 0


def warm_runs(app, events, texts, n, cache_off: bool) -> dict:
    from coldstart.api import parse_profile_request
    from coldstart.voting import vote
    from coldstart.preprocess import mask_input

    ctx = FakeContext()
    service = app.SERVICE
    cache = service.embedder.cache
    for i in range(min(50, len(events))):  # warm-up: ONNX Runtime's first runs, tokenizer tables
        app.handler(events[i], ctx)
    if cache is not None:
        cache.clear()
    result = {"texts": len(texts)}

    bodies = [e["body"] for e in events]
    release = service.manager.current
    settings = service.vote_settings(service.settings.k, release)
    handler_ms, service_ms, statuses, hits = [], [], {}, {"handler": 0, "service": 0}
    stages = {s: [] for s in ("preprocess", "tokenize", "encode", "annoy", "vote")}
    lengths = []

    def call_handler(j):
        t0 = time.perf_counter()
        response = app.handler(events[j], ctx)
        handler_ms.append((time.perf_counter() - t0) * 1000.0)
        statuses[response["statusCode"]] = statuses.get(response["statusCode"], 0) + 1
        hits["handler"] += json.loads(response["body"]).get("cache") == "hit"

    def call_service(j):
        t0 = time.perf_counter()
        outcome = service.profile(parse_profile_request(bodies[j], "application/json"))
        service_ms.append((time.perf_counter() - t0) * 1000.0)
        hits["service"] += outcome.cache == "hit"

    def call_stages(j):  # the request path stage by stage, as ProfileService.profile runs it
        t0 = time.perf_counter()
        clean = mask_input(texts[j], None, service.settings.max_text_chars).composed
        t1 = time.perf_counter()
        enc = release.tokenizer.encode(clean)
        t2 = time.perf_counter()
        vector = release.encoder.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)[0]
        t3 = time.perf_counter()
        ids, dist = release.index.get_nns_by_vector(vector, settings.k, search_k=release.search_k,
                                                    include_distances=True)
        t4 = time.perf_counter()
        vote(ids, [1.0 - d * d / 2.0 for d in dist], release.items, settings)
        t5 = time.perf_counter()
        for name, a, b in (("preprocess", t0, t1), ("tokenize", t1, t2), ("encode", t2, t3),
                           ("annoy", t3, t4), ("vote", t4, t5)):
            stages[name].append((b - a) * 1000.0)
        lengths.append(int(sum(enc.attention_mask)))

    m = len(events)
    if cache_off:
        # Interleaved, so load changes hit all three alike; each walks the texts from its own offset,
        # so no call follows a call on the same text (whose Annoy nodes would still be in CPU cache).
        for i in range(n):
            call_handler(i % m)
            call_service((i + m // 3) % m)
            call_stages((i + 2 * m // 3) % m)
    else:  # one after the other: each loop sees the cache fill from empty
        for i in range(n):
            call_handler(i % m)
        cache.clear()
        for i in range(n):
            call_service(i % m)
    result["handler"] = {**summary_ms(handler_ms), "hit_rate": hits["handler"] / n,
                         "statuses": {str(k): v for k, v in statuses.items()}}
    result["service"] = {**summary_ms(service_ms), "hit_rate": hits["service"] / n}
    if cache_off:
        result["stages"] = {k: summary_ms(v) for k, v in stages.items()}
        result["tokens"] = {"p50": pct(lengths, 50), "max": max(lengths)}
        result["search_k"] = release.search_k

    # How much the handler writes per request (Powertools' logger holds the real stdout, so
    # point its handlers at a buffer for a few requests; EMF goes through print()).
    buf = io.StringIO()
    handlers = [h for h in app.logger._logger.handlers if hasattr(h, "setStream")]
    old = [h.setStream(buf) for h in handlers]
    with contextlib.redirect_stdout(buf):
        for i in range(10):
            app.handler(events[i], ctx)
    for h, s in zip(handlers, old):
        h.setStream(s)
    text = buf.getvalue()
    result["stdout_per_request"] = {"lines": text.count("\n") / 10.0, "bytes": len(text.encode()) / 10.0}
    return result


# ----------------------------------------------------------------------------- seed worker
def worker_seed(args) -> int:
    """Runs in a fresh process: teacher FP32 + brute-force cosine + vote, batch 1."""
    import zlib  # noqa: F401  must precede paddle (see infra/__init__.py)

    t_start = time.perf_counter()
    timings = {}
    import numpy as np

    sys.path[:0] = [str(ROOT), str(ROOT / "layer")]
    from coldstart.items import load_index_items
    from coldstart.preprocess import prepare_text
    from coldstart.voting import ProfileSettings, vote
    from coldstart.release import INDEX_FILE, IndexManifest
    from coldstart.vector_index import l2_normalise, load_annoy
    from infra.teacher import Teacher, load_teacher, pick_device

    t0 = time.perf_counter()
    import paddle  # noqa: F401
    import paddlenlp.transformers  # noqa: F401

    timings["import_paddle"] = (time.perf_counter() - t0) * 1000.0
    index_dir = Path(args.index)
    manifest = IndexManifest.load(index_dir, verify=False)
    items = load_index_items(index_dir)
    max_len = int(manifest.extra.get("max_seq_len") or 64)
    t0 = time.perf_counter()
    if args.variant == "demo-teacher":
        teacher = load_teacher(args.teacher, max_seq_len=max_len, device="cpu")
        if teacher.dim != manifest.dim:
            raise SystemExit(f"teacher dim {teacher.dim} != index dim {manifest.dim}")
    else:  # medium-shape: random weights, the demo tokenizer
        from paddlenlp.transformers import AutoTokenizer, ErnieConfig, ErnieModel

        pick_device("cpu")
        paddle.seed(0)
        model = ErnieModel(ErnieConfig(**MEDIUM_SHAPE))
        model.eval()
        tokenizer = AutoTokenizer.from_pretrained(args.teacher)
        if len(tokenizer.vocab) > MEDIUM_SHAPE["vocab_size"]:
            raise SystemExit("demo tokenizer has more ids than the medium-shape vocabulary")
        teacher = Teacher(id="medium-shape-random", tokenizer=tokenizer, model=model, weights_sha256="-",
                          dim=MEDIUM_SHAPE["hidden_size"], demo=True, max_seq_len=128)
    timings["load_model"] = (time.perf_counter() - t0) * 1000.0
    n_params = sum(int(np.prod(p.shape)) for p in teacher.model.parameters())

    t0 = time.perf_counter()
    if args.variant == "demo-teacher":
        index = load_annoy(index_dir / INDEX_FILE, manifest.dim)
        vectors = l2_normalise(np.array([index.get_item_vector(i) for i in range(index.get_n_items())],
                                        dtype=np.float32))
        index.unload()
    else:
        rng = np.random.default_rng(0)  # one row per user of the release, so the vote has their tags
        vectors = l2_normalise(rng.standard_normal((len(items), MEDIUM_DIM), dtype=np.float32))
    timings["load_vectors"] = (time.perf_counter() - t0) * 1000.0
    timings["total_init"] = (time.perf_counter() - t_start) * 1000.0

    texts = load_texts(Path(args.texts))
    settings = ProfileSettings(k=K)

    def request(text):
        t0 = time.perf_counter()
        clean, _ = prepare_text(text, max_chars=2000)
        q = teacher.encode([clean], batch_size=1)[0]
        t1 = time.perf_counter()
        scores = vectors @ q
        top = np.argpartition(-scores, K)[:K]
        top = top[np.argsort(-scores[top])]
        t2 = time.perf_counter()
        vote(top.tolist(), scores[top].tolist(), items, settings)
        t3 = time.perf_counter()
        return (t3 - t0) * 1000.0, (t1 - t0) * 1000.0, (t2 - t1) * 1000.0, (t3 - t2) * 1000.0

    for i in range(10):  # warm-up
        request(texts[i])
    rows = [request(texts[i % len(texts)]) for i in range(args.requests)]
    total, encode, search, vote_ms = zip(*rows)
    peak, current = rss_mb()
    out = {"variant": args.variant, "init": timings, "users": int(vectors.shape[0]), "dim": int(vectors.shape[1]),
           "params": n_params, "threads": int(os.environ.get("COLDSTART_CPU_THREADS", "0") or 0),
           "total": summary_ms(total), "encode": summary_ms(encode), "search": summary_ms(search),
           "vote": summary_ms(vote_ms), "peak_rss_mb": peak, "rss_mb": current}
    Path(args.out).write_text(json.dumps(out))
    return 0


# ----------------------------------------------------------------------------- production shape
def worker_export_nano(args) -> int:
    """Paddle process: a randomly initialised ernie-3.0-nano-shape student (4 x 312, vocab 40000,
    projection to 768) through the project's own export steps (static graph -> paddle2onnx ->
    quantize_dynamic INT8, per-tensor)."""
    import zlib  # noqa: F401  must precede paddle

    sys.path[:0] = [str(ROOT), str(ROOT / "layer")]
    import paddle

    from infra.jobs.export import _quantize, _save_static, _to_onnx
    from infra.student import StudentShape, new_student
    from infra.teacher import pick_device

    pick_device("cpu")
    paddle.seed(0)
    student = new_student(MEDIUM_SHAPE["vocab_size"], 0, StudentShape(), out_dim=MEDIUM_DIM)
    student.eval()
    out = Path(args.index)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nano-export-") as tmp:
        pdmodel, pdiparams = _save_static(student, Path(tmp))
        _to_onnx(pdmodel, pdiparams, Path(tmp) / "fp32.onnx")
        _quantize(Path(tmp) / "fp32.onnx", Path(tmp) / "student.int8.onnx", per_channel=False)
        shutil.move(str(Path(tmp) / "student.int8.onnx"), str(out / "student.int8.onnx"))
    Path(args.out).write_text(json.dumps({"shape": StudentShape().__dict__}))
    return 0


def worker_prod(args) -> int:
    """No paddle: the request path's stages with the production shapes (nano INT8 encoder,
    Annoy over users x 768), timed like the cache-off stage breakdown."""
    import numpy as np

    from coldstart.encoder import OnnxEncoder
    from coldstart.items import load_index_items
    from coldstart.preprocess import prepare_text
    from coldstart.voting import ProfileSettings, vote
    from coldstart.tokenizer import WordPieceTokenizer
    from coldstart.vector_index import load_annoy

    prod = Path(args.index)
    meta = json.loads((prod / "meta.json").read_text())
    t0 = time.perf_counter()
    encoder = OnnxEncoder(str(Path(args.teacher) / "student.int8.onnx"), threads=1)
    session_ms = (time.perf_counter() - t0) * 1000.0
    tokenizer = WordPieceTokenizer(args.vocab, max_seq_len=128)
    index = load_annoy(prod / "index.ann", MEDIUM_DIM)
    items = load_index_items(args.items)
    if len(items) != index.get_n_items():
        raise SystemExit(f"{args.items} has {len(items)} items, the index {index.get_n_items()}")
    queries = np.load(prod / "queries.npy")
    texts = load_texts(Path(args.texts))
    settings = ProfileSettings(k=K)
    search_k = int(meta["search_k"])

    def request(i):
        t0 = time.perf_counter()
        clean, _ = prepare_text(texts[i % len(texts)], max_chars=2000)
        t1 = time.perf_counter()
        enc = tokenizer.encode(clean)
        t2 = time.perf_counter()
        encoder.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)
        t3 = time.perf_counter()
        # the random-weight encoder's output is not in the index's space: query with an indexed user's vector
        ids, dist = index.get_nns_by_vector(queries[i % len(queries)], K, search_k=search_k, include_distances=True)
        t4 = time.perf_counter()
        vote(ids, [1.0 - d * d / 2.0 for d in dist], items, settings)
        t5 = time.perf_counter()
        return [(t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t4 - t3) * 1e3, (t5 - t4) * 1e3]

    for i in range(50):
        request(i)
    rows = np.array([request(i) for i in range(args.requests)])
    names = ("preprocess", "tokenize", "encode", "annoy", "vote")
    peak, current = rss_mb()
    out = {"stages": {n: summary_ms(rows[:, j]) for j, n in enumerate(names)}, "total": summary_ms(rows.sum(axis=1)),
           "session_ms": session_ms, "model_mb": (Path(args.teacher) / "student.int8.onnx").stat().st_size / 1e6,
           "index_mb": (prod / "index.ann").stat().st_size / 1e6, "meta": meta, "peak_rss_mb": peak, "rss_mb": current}
    Path(args.out).write_text(json.dumps(out))
    return 0


def production_assets(cache_root: Path, users: int, min_recall: float, log=print) -> tuple:
    """(nano model dir, 768-d index dir), built once and cached under cache_root."""
    import importlib.util

    import numpy as np

    from coldstart.vector_index import INDEX_FILE, build_tuned, sample_queries

    nano = cache_root / "nano-int8"
    if not (nano / "student.int8.onnx").is_file():
        log("production shape: exporting a random ernie-3.0-nano-shape student to ONNX INT8 (paddle worker)")
        with tempfile.TemporaryDirectory() as tmp:
            run_worker(["--worker", "export-nano", "--index", str(nano)], worker_env({}, 2, {}),
                       Path(tmp) / "nano.json", timeout=1800)
    prod = cache_root / f"prod-768-{users}"
    key = {"users": users, "dim": MEDIUM_DIM, "min_recall": min_recall, "data": "bench/index.py synthetic seed 0"}
    meta_file = prod / "meta.json"
    if meta_file.is_file() and json.loads(meta_file.read_text()).get("key") == key and (prod / INDEX_FILE).is_file():
        log(f"production shape: reusing {prod}")
        return nano, prod
    spec = importlib.util.spec_from_file_location("bench_index", ROOT / "bench" / "index.py")
    bench_index = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_index)
    t0 = time.perf_counter()
    vectors, _ = bench_index.synthetic(users, MEDIUM_DIM, seed=0)
    log(f"production shape: {users} x {MEDIUM_DIM} clustered vectors (bench/index.py's generator); build_tuned ...")
    tuned = build_tuned(vectors, min_recall=min_recall, k=K, n_queries=500, seed=42,
                        log=lambda m: log(f"  build_tuned: {m}"))
    prod.mkdir(parents=True, exist_ok=True)
    tuned.index.save(str(prod / INDEX_FILE))
    np.save(prod / "queries.npy", vectors[sample_queries(users, 500, seed=11)])
    m = tuned.measurement
    meta_file.write_text(json.dumps({"key": key, "n_trees": tuned.n_trees, "search_k": m.search_k,
                                     "recall": m.recall, "build_s": round(time.perf_counter() - t0, 1)}))
    log(f"production shape: index built in {time.perf_counter() - t0:.0f} s (n_trees {tuned.n_trees}, "
        f"search_k {m.search_k}, recall@10 {m.recall:.4f})")
    return nano, prod


def bench_production(res100k: dict, args, texts_path: Path) -> dict:
    """Estimate of the production request: nano INT8 + Annoy(users x 768) stages + the measured handler overhead."""
    nano, prod = production_assets(Path(args.cache_root), res100k["users"], args.min_recall,
                                   log=lambda m: print(m, flush=True))
    wait_quiet(args.max_load, args.max_wait)
    print(f"production shape: {args.requests} requests (load avg {loadavg()})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        r = run_worker(["--worker", "prod", "--index", str(prod), "--teacher", str(nano), "--texts", str(texts_path),
                        "--requests", str(args.requests), "--vocab", str(Path(args.demo_model) / "vocab.txt"),
                        "--items", str(res100k["index_dir"])],
                       worker_env({}, args.threads, {}), Path(tmp) / "prod.json", timeout=1800)
    off = res100k["off"]["warm"]
    # everything around the stages (handler: Powertools + event/response JSON; service: parse, response dict)
    overhead = off["handler"]["p50"] - sum(v["p50"] for v in off["stages"].values())
    est50, est99 = r["total"]["p50"] + overhead, r["total"]["p99"] + overhead
    rate = res100k["downloaded_mb"] / max(median_of(res100k["cold_runs"], "download_verify"), 1e-9)  # MB per ms
    print(f"\n== production shape (estimate; no real release): random ernie-3.0-nano-shape student INT8 "
          f"({r['model_mb']:.1f} MB, session {r['session_ms']:.0f} ms) + Annoy over {res100k['users']:,} x {MEDIUM_DIM} "
          f"clustered synthetic vectors (index.ann {r['index_mb']:.0f} MB, n_trees {r['meta']['n_trees']}, search_k "
          f"{r['meta']['search_k']}, recall@10 {r['meta']['recall']:.4f})")
    print("   stages p50 / p99 ms: " + "   ".join(f"{k} {v['p50']:.3f}/{v['p99']:.3f}" for k, v in r["stages"].items()))
    print(f"   request (sum of stages) p50 {r['total']['p50']:.3f} / p99 {r['total']['p99']:.3f} ms; + {overhead:.3f} ms "
          f"around the stages (100k release: handler p50 - sum of stage p50s) = p50 {est50:.2f} / p99 {est99:.2f} ms; "
          f"peak RSS {r['peak_rss_mb']:.0f} MB")
    lines = [("prod_est_p50_ms", est50), ("prod_est_p99_ms", est99), ("prod_encode_p50_ms", r["stages"]["encode"]["p50"]),
             ("prod_annoy_p50_ms", r["stages"]["annoy"]["p50"]), ("prod_index_mb", r["index_mb"]),
             ("prod_session_ms", r["session_ms"])]
    medium = res100k.get("seed", {}).get("medium-shape")
    if medium:
        ratio = medium["total"]["p50"] / est50
        print(f"   medium-shape seed p50 {medium['total']['p50']:.1f} ms / production-shape estimate p50 {est50:.2f} ms "
              f"= {ratio:.1f}x (target >= {TARGETS['seed_ratio']:.0f}x: {'met' if ratio >= TARGETS['seed_ratio'] else 'NOT met'})")
        lines.append(("prod_vs_medium_seed_ratio", ratio))
    dl_ms = (r["index_mb"] + r["model_mb"]) / rate
    print(f"   cold start: downloading + verifying index.ann + model ({r['index_mb'] + r['model_mb']:.0f} MB) at this run's "
          f"local-S3 rate ({rate * 1000:.0f} MB/s) would take ~{dl_ms:.0f} ms on its own")
    lines.append(("prod_est_download_ms", dl_ms))
    return {"name": "production-shape", "lines": lines}


# ----------------------------------------------------------------------------- the 100k release
def synthetic_key(demo_index: Path, users: int, noise_cos, min_recall: float, seed: int) -> dict:
    from coldstart.release import INDEX_FILE, IndexManifest

    source = IndexManifest.load(demo_index, verify=False)
    return {"source_index_sha256": source.files[INDEX_FILE].sha256, "users": users, "noise_cos": noise_cos,
            "min_recall": min_recall, "seed": seed, "recipe": "demo-user+gaussian-v1",
            "tuner": "fewest-trees-first", "items": "handles-npz-v2",
            "writer": "coldstart.release"}  # a new writer: a new cache entry


def synthetic_release(demo_index: Path, out_root: Path, users: int, noise_cos, min_recall: float, seed: int,
                      log=print) -> Path:
    """The 100k index directory (cached): demo users' vectors + noise, tags copied. Built in a worker
    process: building it holds ~1 GB, and this process starts every measured worker (bench/README.md)."""
    from coldstart.release import IndexManifest

    key = synthetic_key(demo_index, users, noise_cos, min_recall, seed)
    out = out_root / f"index-{users}"
    try:
        cached = IndexManifest.load(out, verify=True)
        if cached.extra.get("bench_synthetic", {}).get("key") == key:
            log(f"100k: reusing the cached synthetic index {out} ({users} users)")
            return out
        log("100k: the cached synthetic index was made differently; rebuilding")
    except Exception as exc:  # absent, stale or damaged: rebuild
        log(f"100k: no usable cached index ({exc.__class__.__name__}); building it")
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["--worker", "synthetic", "--index", str(demo_index), "--out-dir", str(out), "--users", str(users),
                "--min-recall", str(min_recall), "--seed", str(seed)]
        argv += ["--noise-cos", str(noise_cos)] if noise_cos is not None else []
        result = run_worker(argv, worker_env({}, 2, {}), Path(tmp) / "synthetic.json", timeout=3600,
                            stdout=None)
    log(f"100k: built in a worker in {result['wall_s']:.1f} s (its peak RSS {result['peak_rss_mb']:.0f} MB)")
    return out


def worker_synthetic(args) -> int:
    """Fresh process: build the synthetic index directory the way build-index writes one."""
    import numpy as np

    from coldstart.hashing import sha256_file
    from coldstart.items import ItemTable, load_index_items
    from coldstart.release import INDEX_FILE, ITEMS_NPZ, IndexManifest, RecallReport, describe_files, staged_directory
    from coldstart.vector_index import build_tuned, l2_normalise, load_annoy

    demo_index, out, users, noise_cos = Path(args.index), Path(args.out_dir), args.users, args.noise_cos
    log = lambda m: print(m, flush=True)  # noqa: E731
    key = synthetic_key(demo_index, users, noise_cos, args.min_recall, args.seed)
    source = IndexManifest.load(demo_index, verify=False)
    t_start = time.perf_counter()
    index = load_annoy(demo_index / INDEX_FILE, source.dim)
    base = l2_normalise(np.array([index.get_item_vector(i) for i in range(index.get_n_items())], dtype=np.float32))
    index.unload()
    items = load_index_items(demo_index)
    sims = base @ base.T
    np.fill_diagonal(sims, -2.0)
    tenth = float(np.median(-np.partition(-sims, K - 1, axis=1)[:, K - 1]))
    target = tenth if noise_cos is None else float(noise_cos)
    scale = float(np.sqrt(1.0 / target ** 2 - 1.0))  # isotropic noise of norm s: cos(v, v + n) ~ 1/sqrt(1 + s^2)
    rng = np.random.default_rng(args.seed)
    src = rng.integers(0, len(base), users)
    noise = rng.standard_normal((users, source.dim), dtype=np.float32) * np.float32(scale / np.sqrt(source.dim))
    vectors = l2_normalise(base[src] + noise)
    achieved = float(np.median(np.einsum("ij,ij->i", vectors, base[src])))
    log(f"100k: {users} users from {len(base)} demo users + Gaussian noise (norm {scale:.3f}; median cosine to "
        f"the source {achieved:.4f}, target = demo users' median 10th-neighbour cosine {tenth:.4f}"
        f"{'' if noise_cos is None else f', overridden to {target:.4f}'})")
    handles = [f"{i:016x}" for i in range(users)]
    tags = [items.tags_of(int(s)) for s in src]
    t0 = time.perf_counter()
    tuned = build_tuned(vectors, min_recall=args.min_recall, k=K, n_queries=500, seed=42,
                        log=lambda m: log(f"  build_tuned: {m}"))
    build_s = time.perf_counter() - t0
    with staged_directory(out) as staging:  # as build-index writes it
        tuned.index.save(str(staging / INDEX_FILE))
        table = ItemTable.from_rows(handles, tags)
        table.save(staging / ITEMS_NPZ)  # as build-index writes it
        m = tuned.measurement
        IndexManifest(
            teacher=source.teacher, dim=source.dim, count=users, n_trees=tuned.n_trees, search_k=m.search_k,
            recall=RecallReport(k=K, recall=round(m.recall, 4), search_k=m.search_k, n_queries=m.n_queries,
                                threshold=args.min_recall, annoy_ms_per_query=round(m.annoy_ms_per_query, 4),
                                exact_ms_per_query=round(m.exact_ms_per_query, 4)),
            files=describe_files(staging, [INDEX_FILE, ITEMS_NPZ]),
            extra={**{k: v for k, v in source.extra.items() if k in ("max_seq_len", "preprocess")},
                   "tuning": [list(t) for t in tuned.tried],
                   "bench_synthetic": {"key": key, "noise_norm": scale, "median_source_cosine": achieved,
                                       "demo_tenth_neighbour_cosine": tenth, "source_index": str(demo_index),
                                       "sha256_of_source": sha256_file(demo_index / INDEX_FILE),
                                       "build_seconds": round(build_s, 1)}},
        ).save(staging)
    log(f"100k: built in {time.perf_counter() - t_start:.1f} s (build_tuned {build_s:.1f} s): n_trees={tuned.n_trees} "
        f"search_k={m.search_k} recall@10={m.recall:.4f} -> {out}")
    peak, _ = rss_mb()
    Path(args.out).write_text(json.dumps({"peak_rss_mb": peak}))
    return 0


# ----------------------------------------------------------------------------- orchestration
def worker_env(server_env: dict, threads: int, extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _OVERRIDING_ENV and not k.startswith("COLDSTART_")}
    env.update(server_env)
    env.update({"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
                "MKL_NUM_THREADS": str(threads), "TQDM_DISABLE": "1",
                "POWERTOOLS_SERVICE_NAME": "coldstart", "POWERTOOLS_METRICS_NAMESPACE": "ColdstartBench"})
    env.update(extra)
    return env


def run_worker(argv, env, out_file: Path, timeout: float, stdout=subprocess.DEVNULL) -> dict:
    """Run this script as ``--worker ...`` in a fresh process. The parent stays small (no index is
    built here), and each worker reads its own peak from /proc/self/status (VmHWM), which, unlike
    ru_maxrss, is not inherited across fork + exec."""
    launched = time.time()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *argv, "--out", str(out_file)],
                          env=env, cwd=str(ROOT), stdout=stdout, stderr=subprocess.PIPE, timeout=timeout)
    wall = time.time() - launched
    if not out_file.is_file():
        tail = proc.stderr.decode("utf-8", "replace")[-3000:]
        raise RuntimeError(f"worker {' '.join(argv[:2])} failed (rc={proc.returncode}):\n{tail}")
    data = json.loads(out_file.read_text())
    data["launched_wall"], data["wall_s"] = launched, wall
    if "t0_wall" in data:
        data["python_start_ms"] = (data["t0_wall"] - launched) * 1000.0
    return data


def publish(server, index_dir: Path, model_dir: Path) -> tuple:
    from infra.cli import main as cli

    uri = f"s3://{BUCKET}/{PREFIX}"
    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = cli(["publish", "--to", uri, "--index", str(index_dir), "--model", str(model_dir), "--version", VERSION])
    seconds = time.perf_counter() - t0
    if code:
        raise RuntimeError(f"publish failed ({code}):\n{buf.getvalue()[-2000:]}")
    return uri, seconds


def wait_quiet(max_load, max_wait: float) -> None:
    if max_load is None:
        return
    start = time.time()
    if os.getloadavg()[0] <= max_load:
        return
    print(f"   waiting (up to {max_wait:.0f} s) for a 1-min load avg < {max_load} (now {loadavg()})", flush=True)
    while os.getloadavg()[0] > max_load and time.time() - start < max_wait:
        time.sleep(5)
    quiet = os.getloadavg()[0] <= max_load
    print(f"   {'waited' if quiet else 'gave up after'} {time.time() - start:.0f} s (load avg {loadavg()})", flush=True)


def bench_release(name: str, index_dir: Path, model_dir: Path, args, texts_path: Path) -> dict:

    from coldstart.release import INDEX_FILE, ITEMS_NPZ, IndexManifest, ModelManifest

    manifest = IndexManifest.load(index_dir, verify=False)
    model = ModelManifest.load(model_dir, verify=False)
    onnx_file = model.serving.onnx
    items_file = ITEMS_NPZ  # what the loader reads
    sizes = {"index.ann": (index_dir / INDEX_FILE).stat().st_size, "items": (index_dir / items_file).stat().st_size,
             onnx_file: (model_dir / onnx_file).stat().st_size}
    shape = model.student.shape
    print(f"\n== release {name}: {manifest.count:,} users x {manifest.dim} (n_trees {manifest.n_trees}, search_k "
          f"{manifest.search_k}, recall@10 {manifest.recall.recall:.4f}); student {shape} INT8 "
          f"({sizes[onnx_file] / 1e6:.1f} MB); index.ann {sizes['index.ann'] / 1e6:.1f} MB, {items_file} "
          f"{sizes['items'] / 1e6:.2f} MB", flush=True)
    from local.s3 import LocalS3Server

    res = {"name": name, "users": manifest.count, "dim": manifest.dim, "index_dir": index_dir,
           "index_mb": sizes["index.ann"] / 1e6}
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp:
        tmp = Path(tmp)
        with LocalS3Server(tmp / "s3", buckets=[BUCKET]) as server:
            os.environ.update(server.env())
            uri, pub_s = publish(server, index_dir, model_dir)
            print(f"   local S3 {server.endpoint_url} (weed up in {server.start_seconds:.1f} s); published {uri} "
                  f"version {VERSION} in {pub_s:.1f} s (upload + download-back verify)", flush=True)
            res["publish_s"] = pub_s
            base = ["--worker", "serve", "--texts", str(texts_path)]

            def serve(tag, requests, cache_off):
                extra = {"COLDSTART_RELEASE_URI": uri, "COLDSTART_CACHE_DIR": str(tmp / f"cache-{tag}")}
                if cache_off:
                    extra["COLDSTART_CACHE_SIZE"] = "0"
                argv = base + ["--requests", str(requests)] + (["--cache-off"] if cache_off else [])
                return run_worker(argv, worker_env(server.env(), args.threads, extra), tmp / f"{tag}.json",
                                  timeout=1800)

            wait_quiet(args.max_load, args.max_wait)
            print(f"   cold start: {args.cold_runs} fresh processes (load avg {loadavg()})", flush=True)
            colds = [serve(f"cold{i}", 0, cache_off=False) for i in range(args.cold_runs)]
            if not all(c["ready"] for c in colds):
                raise RuntimeError(f"release did not load: {[c.get('error') for c in colds]}")
            res["cold_runs"] = colds
            res["downloaded_mb"] = colds[0]["downloaded_mb"]
            wait_quiet(args.max_load, args.max_wait)
            print(f"   warm, cache off: {args.requests} requests (load avg {loadavg()})", flush=True)
            res["off"] = serve("warm-off", args.requests, cache_off=True)
            print(f"   warm, cache on: {args.requests} requests (load avg {loadavg()})", flush=True)
            res["on"] = serve("warm-on", args.requests, cache_off=False)
        os.environ.pop("AWS_ENDPOINT_URL", None)

        if not args.skip_seed:
            seed_argv = ["--worker", "seed", "--index", str(index_dir), "--teacher", str(args.teacher),
                         "--texts", str(texts_path), "--requests", str(args.seed_requests)]
            env = worker_env({}, args.seed_threads, {"COLDSTART_CPU_THREADS": str(args.seed_threads)})
            res["seed"] = {}
            variants = ["demo-teacher"] + (["medium-shape"] if name != "demo" and not args.skip_medium else [])
            for variant in variants:
                wait_quiet(args.max_load, args.max_wait)
                print(f"   seed approach, {variant}: {args.seed_requests} requests, {args.seed_threads} thread(s) "
                      f"(load avg {loadavg()})", flush=True)
                res["seed"][variant] = run_worker(seed_argv + ["--variant", variant], env, tmp / f"seed-{variant}.json",
                                                  timeout=3600, stdout=subprocess.DEVNULL)
    res["load_after"] = loadavg()
    report(res, args)
    return res


def median_of(runs, key):
    import numpy as np

    return float(np.median([r["cold"].get(key, 0.0) for r in runs]))


def report(res, args) -> None:
    name, colds = res["name"], res["cold_runs"]
    med = lambda k: median_of(colds, k)  # noqa: E731
    py = float(sorted(c["python_start_ms"] for c in colds)[len(colds) // 2])
    total = med("total")
    print(f"\n   cold start (median of {len(colds)} fresh processes, empty cache dir, ms)")
    rows = [("python start (launch -> first line of the script)", py, ""),
            ("imports", med("imports"), " · ".join(f"{k} {med(k):.0f}" for k in
                                                   ("numpy", "annoy", "onnxruntime", "botocore", "powertools", "coldstart"))),
            ("S3 client (botocore session + client)", med("s3_client"), ""),
            ("current.json (GET)", med("current_json"), ""),
            ("download + verify (sha256)", med("download_verify"),
             f"{res['downloaded_mb']:.1f} MB from local S3, {res['downloaded_mb'] / max(med('download_verify'), 1e-9) * 1000:.0f} MB/s"
             + (f"; meanwhile ONNX session {med('open_onnx_session_during_download'):.1f} · tokenizer "
                f"{med('open_tokenizer_during_download'):.1f}" if med("open_onnx_session_during_download") else "")),
            ("open", med("open"), " · ".join(
                f"{lbl} {med(k):.1f}" if med(k) or not med(k + "_during_download") else f"{lbl}: during the download"
                for lbl, k in (("index check + mmap", "open_index_mmap"), ("items", "open_items"),
                               ("ONNX session", "open_onnx_session"), ("tokenizer", "open_tokenizer"),
                               ("canaries", "open_smoke_test"),
                               ("manifests/checks", "open_other")))),
            ("rest of app init (Powertools Logger/Metrics, prune)", med("app_other") + med("prune"), ""),
            ("= in-process total (imports + import app)", total, ""),
            ("first request after init", med("first_request"), "")]
    for label, value, note in rows:
        print(f"     {label:<52}{value:>8.0f}   {note}")
    every = ", ".join(f"{c['cold']['total']:.0f}" for c in colds)
    print(f"     {'(each run: ' + every + ' ms)':<52}")
    target = TARGETS["cold_total_ms"]
    if name == "100k":
        print(f"     target <= {target:.0f} ms for the 100k index: {'met' if total + py <= target else 'NOT met'} "
              f"({total + py:.0f} ms incl. python start)")
    print(f"\n   warm, {res['off']['warm']['handler']['n']} requests cycling {res['off']['warm']['texts']} held-out texts (ms)")
    print(f"     {'':<44}{'p50':>8}{'p99':>8}{'max':>8}{'mean':>8}   hit rate")
    for label, r in (("handler, cache off", res["off"]["warm"]["handler"]),
                     ("SERVICE.handle, cache off", res["off"]["warm"]["service"]),
                     ("handler, cache on", res["on"]["warm"]["handler"]),
                     ("SERVICE.handle, cache on", res["on"]["warm"]["service"])):
        print(f"     {label:<44}{r['p50']:>8.3f}{r['p99']:>8.3f}{r['max']:>8.2f}{r['mean']:>8.3f}   {r['hit_rate']:.0%}")
    off = res["off"]["warm"]
    overhead = off["handler"]["p50"] - off["service"]["p50"]
    st = off["stages"]
    around = off["service"]["p50"] - sum(v["p50"] for v in st.values())
    print(f"     handler overhead (p50 handler - p50 service, cache off): {overhead:.3f} ms; the handler writes "
          f"{off['stdout_per_request']['lines']:.0f} stdout lines ({off['stdout_per_request']['bytes']:.0f} B) per request; "
          f"service beyond its stages (parse, response dict): {around:.3f} ms")
    print(f"     stages, cache off (p50 / p99 ms; {off['tokens']['p50']:.0f} tokens median, max {off['tokens']['max']}; "
          f"search_k {off['search_k']}):")
    print("       " + "   ".join(f"{k} {v['p50']:.3f}/{v['p99']:.3f}" for k, v in st.items()))
    p50, p99 = off["handler"]["p50"], off["handler"]["p99"]
    print(f"     targets, cache off: p50 <= {TARGETS['p50_ms']:.0f} ms {'met' if p50 <= TARGETS['p50_ms'] else 'NOT met'}, "
          f"p99 <= {TARGETS['p99_ms']:.0f} ms {'met' if p99 <= TARGETS['p99_ms'] else 'NOT met'}")
    init_mem = [c["memory_after_init"] for c in colds]
    init_peak = max(m["VmHWM"] for m in init_mem)
    print(f"   peak RSS after init (VmHWM of each fresh cold-start process, /proc/self/status): {init_peak:.0f} MB "
          "(" + "; ".join(f"{m['VmHWM']:.0f} MB = anon {m.get('RssAnon', 0):.0f} + file {m.get('RssFile', 0):.0f} now; "
                          f"ru_maxrss {m['ru_maxrss']:.0f}" for m in init_mem)
          + "; ru_maxrss is inherited from the launcher, see bench/README.md)")
    print(f"   peak RSS after the warm requests (VmHWM): cache off {res['off']['peak_rss_mb']:.0f} MB, cache on "
          f"{res['on']['peak_rss_mb']:.0f} MB (includes the index.ann pages the queries touched: "
          f"{res['index_mb']:.0f} MB file)")
    lines = [("publish_s", res["publish_s"]), ("cold_total_ms", total), ("cold_python_start_ms", py),
             ("cold_imports_ms", med("imports")), ("cold_s3_client_ms", med("s3_client")),
             ("cold_download_verify_ms", med("download_verify")), ("cold_open_ms", med("open")),
             ("cold_onnx_session_ms", med("open_onnx_session") + med("open_onnx_session_during_download")), ("first_request_ms", med("first_request")),
             ("handler_cache_off_p50_ms", p50), ("handler_cache_off_p99_ms", p99),
             ("handler_cache_off_max_ms", off["handler"]["max"]),
             ("service_cache_off_p50_ms", off["service"]["p50"]), ("service_cache_off_p99_ms", off["service"]["p99"]),
             ("handler_cache_on_p50_ms", res["on"]["warm"]["handler"]["p50"]),
             ("handler_cache_on_p99_ms", res["on"]["warm"]["handler"]["p99"]),
             ("cache_hit_rate", res["on"]["warm"]["handler"]["hit_rate"]),
             ("encode_p50_ms", st["encode"]["p50"]), ("annoy_p50_ms", st["annoy"]["p50"]),
             ("peak_rss_after_init_mb", init_peak),
             ("peak_rss_mb_cache_off", res["off"]["peak_rss_mb"]), ("peak_rss_mb_cache_on", res["on"]["peak_rss_mb"])]
    if "seed" in res:
        print(f"\n   seed approach: teacher FP32 (paddle dygraph, batch 1) + brute-force cosine over all users + vote "
              f"({args.seed_threads} thread(s))")
        print(f"     {'':<58}{'p50':>8}{'p99':>8}{'encode':>8}{'search':>8}   init s   peak RSS   vs coldstart p50")
        for variant, r in res["seed"].items():
            what = (f"demo teacher ({r['params'] / 1e6:.1f}M params) + exact {r['users']:,} x {r['dim']}"
                    if variant == "demo-teacher" else
                    f"medium-shape random ({r['params'] / 1e6:.1f}M) + exact {r['users']:,} x {r['dim']} random")
            ratio = r["total"]["p50"] / p50
            print(f"     {what:<58}{r['total']['p50']:>8.2f}{r['total']['p99']:>8.2f}{r['encode']['p50']:>8.2f}"
                  f"{r['search']['p50']:>8.2f}   {r['init']['total_init'] / 1000:>6.1f}   {r['peak_rss_mb']:>6.0f} MB   "
                  f"{ratio:>6.1f}x ({'met' if ratio >= TARGETS['seed_ratio'] else 'NOT met'})")
            key = variant.replace("-", "_")
            lines += [(f"seed_{key}_p50_ms", r["total"]["p50"]), (f"seed_{key}_p99_ms", r["total"]["p99"]),
                      (f"seed_{key}_ratio", ratio), (f"seed_{key}_init_s", r["init"]["total_init"] / 1000),
                      (f"seed_{key}_peak_rss_mb", r["peak_rss_mb"])]
        print(f"     ratio = seed p50 / coldstart handler p50 (cache off, {p50:.3f} ms); target >= "
              f"{TARGETS['seed_ratio']:.0f}x. demo-teacher compares like with like (same space, same users); "
              "medium-shape is the production teacher's cost, against this demo-sized student (see README).")
    res["lines"] = lines
    print(f"   load avg after: {res['load_after']}", flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--demo-index", default="build/demo/pipeline/index", help="demo index directory")
    p.add_argument("--demo-model", default="build/demo/pipeline/model", help="demo model directory (export output)")
    p.add_argument("--teacher", default="models/demo-teacher", help="the demo teacher (seed approach)")
    p.add_argument("--texts", default="data/heldout.jsonl", help="request texts (JSON lines with a text field)")
    p.add_argument("--requests", type=int, default=2000, help="warm requests per run")
    p.add_argument("--seed-requests", type=int, default=200, help="requests per seed-approach variant")
    p.add_argument("--cold-runs", type=int, default=5, help="fresh processes for the cold start")
    p.add_argument("--users", type=int, default=MEDIUM_USERS, help="synthetic release size")
    p.add_argument("--noise-cos", type=float, default=None,
                   help="median cosine of a synthetic user to its source (default: demo median 10th-neighbour cosine)")
    p.add_argument("--min-recall", type=float, default=0.95, help="recall@10 gate for the synthetic index")
    p.add_argument("--cache-root", default="build/bench/serving", help="where the synthetic indexes and the nano model are cached")
    p.add_argument("--threads", type=int, default=1, help="OMP/BLAS threads of the serving workers")
    p.add_argument("--seed-threads", type=int, default=1, help="paddle + BLAS threads of the seed workers")
    p.add_argument("--max-load", type=float, default=None, help="wait (up to --max-wait s) for a 1-min load below this")
    p.add_argument("--max-wait", type=float, default=600.0)
    p.add_argument("--quick", action="store_true", help="300 warm requests, 40 seed requests, 2 cold runs")
    p.add_argument("--skip-seed", action="store_true", help="no paddle: skip the seed approach")
    p.add_argument("--skip-medium", action="store_true", help="skip the medium-shape seed variant")
    p.add_argument("--skip-demo", action="store_true", help="skip the demo release")
    p.add_argument("--skip-100k", action="store_true", help="skip the synthetic release")
    # internal: worker processes
    p.add_argument("--skip-production-shape", action="store_true",
                   help="skip the production-shape estimate (nano INT8 + 768-d index)")
    p.add_argument("--worker", choices=["serve", "seed", "export-nano", "prod", "synthetic"], help=argparse.SUPPRESS)
    p.add_argument("--out-dir", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--vocab", help=argparse.SUPPRESS)
    p.add_argument("--items", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--cache-off", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--variant", help=argparse.SUPPRESS)
    p.add_argument("--index", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.requests, args.seed_requests, args.cold_runs = 300, 40, 2
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker == "serve":
        return worker_serve(args)
    if args.worker == "seed":
        return worker_seed(args)
    if args.worker == "export-nano":
        return worker_export_nano(args)
    if args.worker == "prod":
        return worker_prod(args)
    if args.worker == "synthetic":
        return worker_synthetic(args)

    os.chdir(ROOT)
    os.environ.setdefault("TQDM_DISABLE", "1")
    for p in (ROOT, ROOT / "layer"):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))
    import zlib  # noqa: F401  (infra's rule; no paddle in this process)

    import importlib.metadata as md

    versions = ", ".join(f"{n} {md.version(n)}" for n in ("numpy", "annoy", "onnxruntime", "aws-lambda-powertools",
                                                            "boto3", "paddlepaddle", "paddlenlp"))
    started = time.time()
    print(f"machine: {os.cpu_count()} cpus, load avg {loadavg()}, python {sys.version.split()[0]}; {versions}")
    print(f"serving workers: ONNX Runtime 1 intra-op thread (service default), BLAS {args.threads}; "
          f"seed workers: {args.seed_threads} paddle/BLAS thread(s)", flush=True)
    demo_index, demo_model = Path(args.demo_index), Path(args.demo_model)
    texts_path = Path(args.texts).resolve()
    if not (demo_index / "index.ann").is_file() or not (demo_model / "model_manifest.json").is_file():
        print(f"\ndemo release not found ({demo_index}, {demo_model}): run `make demo` first (skipped; the 100k "
              "release is built from it, so it is skipped too)")
        return 0
    results = []
    if not args.skip_demo:
        results.append(bench_release("demo", demo_index, demo_model, args, texts_path))
    if not args.skip_100k:
        print(f"\n100k: synthetic index (load avg {loadavg()})", flush=True)
        index_100k = synthetic_release(demo_index, Path(args.cache_root), args.users, args.noise_cos,
                                       args.min_recall, seed=0, log=lambda m: print(m, flush=True))
        name = "100k" if args.users == MEDIUM_USERS else f"{args.users // 1000}k"
        results.append(bench_release(name, index_100k, demo_model, args, texts_path))
        if not args.skip_production_shape:
            results.append(bench_production(results[-1], args, texts_path))
    print(f"\nwall {time.time() - started:.0f} s, load avg {loadavg()}")
    for res in results:
        for metric, value in res["lines"]:
            print(f"serving-bench release={res['name']} metric={metric} value={value:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
