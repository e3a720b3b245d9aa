"""Load and soak: the Lambda handler in one process, and the kiosk API over HTTP with concurrent clients.

Part 1, handler: function/app.py's ``handler`` is imported in THIS process (its module init loads
the release, as a Lambda cold start does) and called --requests times with API Gateway events made
from the files in events/ (REST v1 and HTTP API v2): valid profiles (held-out texts, most of them
made unique so the SimHash cache keeps churning, some with a phone number or an e-mail to mask,
some base64-encoded, /health) mixed with invalid input (not JSON, bad base64, wrong content type,
missing or non-string text, text over the limit, bad k, unknown fields, wrong method, unknown
route, an event that is not a dict). Powertools' log and metric lines go to /dev/null.

Part 2, kiosk: ``python -m edge kiosk`` (ONNX backend, --sync-every 10 s with its outbox uploaded to
a local directory, so the scheduler runs during the soak) in a child process on 127.0.0.1;
--clients threads send a similar mix over keep-alive HTTP/1.1 connections for --duration seconds.

Both parts print throughput, latency p50 / p99 / p99.9 (ms), counts by HTTP status and error code,
and RSS / open file descriptors sampled over time (part 1: this process, every --sample-every
requests; part 2: the kiosk process, every second). The warm-up lasts at least --warmup-fraction of
the run and until --warm-unique distinct texts were sent (10,000: the embedding cache's default
size, so the cache is full and its bounded growth is not counted as a leak); after it they check
that RSS grows by less than 5 % (last sample vs the first sample after warm-up) and that the
descriptor count is flat (last - first after warm-up within +-2), and print PASS / FAIL. Part 2
runs its warm-up, then --duration seconds.
The exit code is 1 when a check fails.

Release: the demo release (build/demo/pipeline/{index,model}, made by `make demo`), published to a
local directory with the project's own `publish` (bench/edge.py's ensure_release) under
--cache-root; or any --release-uri (a directory or s3://).

    .venv/bin/python bench/load.py                 # 100,000 handler requests + kiosk warm-up + 120 s of load
    .venv/bin/python bench/load.py --quick         # 5,000 requests + 10 s (a smoke run)
    .venv/bin/python bench/load.py --skip-kiosk --requests 200000

Not a test: nothing here asserts timings; the last lines, `load-bench part=... metric=... value=...`,
are meant for grep.
"""
from __future__ import annotations

import argparse
import base64
import copy
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "layer", ROOT / "function"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from bench.serving import FakeContext, load_texts  # noqa: E402  (reused, not copied)
from local.procs import free_port  # noqa: E402

RSS_LIMIT = 0.05
FD_TOLERANCE = 2
PHONE = "电话13812345678"
EMAIL = "邮箱zhang.wei@example.com"


# ------------------------------------------------------------------------------ measurements
def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(q / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[i]


def proc_sample(pid="self"):
    """(RSS MB, open fds) of a process from /proc."""
    rss = float("nan")
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024.0
                break
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def loadavg():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def checks(samples, warm_at):
    """samples: [(progress, t, rss, fds)]; warm_at: progress value where the warm-up ends."""
    after = [s for s in samples if s[0] >= warm_at]
    if len(after) < 2:
        return {"error": "not enough samples after the warm-up"}
    first, last = after[0], after[-1]
    growth = (last[2] - first[2]) / first[2]
    return {"rss_warm_mb": first[2], "rss_end_mb": last[2], "rss_max_mb": max(s[2] for s in after),
            "rss_growth": growth, "rss_pass": growth < RSS_LIMIT,
            "fd_warm": first[3], "fd_end": last[3], "fd_min": min(s[3] for s in after), "fd_max": max(s[3] for s in after),
            "fd_drift": last[3] - first[3], "fd_pass": abs(last[3] - first[3]) <= FD_TOLERANCE}


def report(part, wall, latencies_ms, statuses, codes, samples, warm_at, progress_label, out):
    lat = sorted(latencies_ms)
    n = len(lat)
    p50, p99, p999 = percentile(lat, 50), percentile(lat, 99), percentile(lat, 99.9)
    w = out.write
    w(f"\n== {part}: {n:,} requests in {wall:.1f} s = {n / wall:,.0f} req/s (load avg {loadavg()})\n")
    w(f"   latency ms: p50 {p50:.3f}  p99 {p99:.3f}  p99.9 {p999:.3f}  max {lat[-1]:.3f}\n")
    w("   by status: " + ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items())) + "\n")
    w("   by error code: " + (", ".join(f"{k}: {v:,}" for k, v in sorted(codes.items())) or "none") + "\n")
    w(f"   RSS and open fds over time ({progress_label}):\n")
    step = max(1, len(samples) // 12)
    shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    for prog, t, rss, fds in shown:
        mark = "" if prog >= warm_at else "  (warm-up)"
        w(f"     {prog:>10,.0f}  t={t:7.1f}s  rss={rss:8.1f} MB  fds={fds:4d}{mark}\n")
    c = checks(samples, warm_at)
    if "error" in c:
        w(f"   CHECK: {c['error']}\n")
        return {"n": n, "rps": n / wall, "p50": p50, "p99": p99, "p999": p999, "pass": False}
    w(f"   RSS after warm-up: {c['rss_warm_mb']:.1f} -> {c['rss_end_mb']:.1f} MB (max {c['rss_max_mb']:.1f}), "
      f"growth {c['rss_growth'] * 100:+.2f}% (limit < {RSS_LIMIT * 100:.0f}%): {'PASS' if c['rss_pass'] else 'FAIL'}\n")
    after = [s for s in samples if s[0] >= warm_at]
    half = after[len(after) // 2:]  # the slope over the last half of the soak: still creeping, or flat?
    if len(half) >= 2 and half[-1][0] > half[0][0]:
        per, unit = (10000, "10,000 requests") if progress_label == "requests" else (60, "minute")
        w(f"   RSS slope over the last half: {(half[-1][2] - half[0][2]) / (half[-1][0] - half[0][0]) * per:+.2f} MB "
          f"per {unit}\n")
    w(f"   open fds after warm-up: {c['fd_warm']} -> {c['fd_end']} (min {c['fd_min']}, max {c['fd_max']}), "
      f"drift {c['fd_drift']:+d} (limit +-{FD_TOLERANCE}): {'PASS' if c['fd_pass'] else 'FAIL'}\n")
    out.flush()
    return {"n": n, "rps": n / wall, "p50": p50, "p99": p99, "p999": p999, "rss_growth_pct": c["rss_growth"] * 100,
            "fd_drift": c["fd_drift"], "pass": c["rss_pass"] and c["fd_pass"],
            "errors_4xx": sum(v for k, v in statuses.items() if 400 <= k < 500),
            "errors_5xx": sum(v for k, v in statuses.items() if k >= 500)}


# ------------------------------------------------------------------------------ request mix
class Mix:
    """Weighted request kinds; each makes (method, path, body bytes|None, content type, base64?)."""

    def __init__(self, texts, seed=0):
        self.texts = texts
        self.rng = random.Random(seed)
        self.counter = 0
        kinds = [  # (weight, name, maker)
            (40, "profile", self.profile_unique), (12, "profile_repeat", self.profile_repeat),
            (5, "profile_pii", self.profile_pii), (4, "profile_fields", self.profile_fields),
            (3, "profile_base64", self.profile_base64), (5, "health", self.health),
            (4, "bad_json", lambda: ("POST", "/profile", b'{"text": ', "application/json", False)),
            (3, "missing_text", lambda: ("POST", "/profile", b'{"k": 5}', "application/json", False)),
            (3, "wrong_type", lambda: ("POST", "/profile", b'{"text": "x"}', "text/plain", False)),
            (3, "too_long", lambda: ("POST", "/profile", json.dumps({"text": "长" * 2001}).encode(), "application/json", False)),
            (3, "bad_k", lambda: ("POST", "/profile", b'{"text": "x", "k": 0}', "application/json", False)),
            (3, "unknown_field", lambda: ("POST", "/profile", b'{"text": "x", "colour": 1}', "application/json", False)),
            (2, "text_not_string", lambda: ("POST", "/profile", b'{"text": 5}', "application/json", False)),
            (2, "not_utf8", lambda: ("POST", "/profile", b"\xff\xfe\x00garbage", "application/json", False)),
            (2, "deep_nesting", lambda: ("POST", "/profile", b"[" * 5000 + b"]" * 5000, "application/json", False)),
            (2, "wrong_method", lambda: ("GET", "/profile", None, None, False)),
            (2, "unknown_route", lambda: ("GET", "/nope", None, None, False)),
            (1, "bad_base64", lambda: ("POST", "/profile", b"%%% not base64", "application/json", True)),
        ]
        self.names = [k[1] for k in kinds]
        self.makers = [k[2] for k in kinds]
        self.weights = [k[0] for k in kinds]

    def text(self, unique=True):
        t = self.rng.choice(self.texts)
        if unique:  # another text's tail and a counter: a new SimHash almost every time
            self.counter += 1
            other = self.rng.choice(self.texts)
            t = f"{t}，{other[len(other) // 2:]} {self.counter}"
        return t

    def _json(self, doc):
        return ("POST", "/profile", json.dumps(doc, ensure_ascii=False).encode("utf-8"), "application/json", False)

    def profile_unique(self):
        return self._json({"text": self.text()})

    def profile_repeat(self):
        return self._json({"text": self.rng.choice(self.texts[:50])})

    def profile_pii(self):
        return self._json({"text": f"{self.text()}，{self.rng.choice([PHONE, EMAIL])}", "k": 5})

    def profile_fields(self):
        return self._json({"text": self.text(), "user_id": f"u-load-{self.counter}",
                           "fields": {"bio": self.text(False), "occupation": "程序员"}})

    def profile_base64(self):
        m, p, body, ct, _ = self.profile_unique()
        return m, p, body, ct, True

    def health(self):
        return ("GET", "/health", None, None, False)

    def next(self):
        i = self.rng.choices(range(len(self.makers)), weights=self.weights)[0]
        return self.names[i], self.makers[i]()


def load_templates():
    """API Gateway REST v1 and HTTP API v2 events from events/ (bodies replaced per request)."""
    rest = json.loads((ROOT / "events" / "profile_rest.json").read_text(encoding="utf-8"))
    http = json.loads((ROOT / "events" / "profile_http.json").read_text(encoding="utf-8"))
    return rest, http


def to_event(templates, rng, method, path, body, ctype, b64):
    rest, http = templates
    if rng.random() < 0.5:
        e = copy.deepcopy(rest)
        e["httpMethod"], e["path"], e["resource"] = method, path, path
        e["requestContext"]["httpMethod"], e["requestContext"]["resourcePath"] = method, path
        headers = {k: v for k, v in e["headers"].items() if k.lower() != "content-type"}
    else:
        e = copy.deepcopy(http)
        e["rawPath"], e["routeKey"] = path, f"{method} {path}"
        e["requestContext"]["http"]["method"], e["requestContext"]["http"]["path"] = method, path
        headers = {k: v for k, v in e["headers"].items() if k.lower() != "content-type"}
    if ctype:
        headers["Content-Type"] = ctype
    e["headers"] = headers
    if body is None:
        e["body"], e["isBase64Encoded"] = None, False
    elif b64:
        e["body"] = body.decode("ascii") if body.startswith(b"%") else base64.b64encode(body).decode("ascii")
        e["isBase64Encoded"] = True
    else:
        e["body"], e["isBase64Encoded"] = body.decode("utf-8", "surrogateescape"), False
    return e


# ------------------------------------------------------------------------------ release
def release_uri(args, out) -> str:
    if args.release_uri:
        return args.release_uri
    index, model = Path(args.demo_index), Path(args.demo_model)
    if not (index / "index.ann").is_file() or not (model / "model_manifest.json").is_file():
        raise SystemExit(f"demo release not found ({index}, {model}): run `make demo` first, or pass --release-uri")
    from bench.edge import ensure_release  # the project's own publish into a local directory

    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        path = ensure_release(index, model, Path(args.cache_root), rebuild=False)
    out.write(f"release: {path} (published from {index} + {model})\n")
    return str(path)


# ------------------------------------------------------------------------------ part 1: handler
def part_handler(args, uri, out):
    work = Path(tempfile.mkdtemp(prefix="load-bench-"))
    os.environ.update({"COLDSTART_RELEASE_URI": uri, "COLDSTART_CACHE_DIR": str(work / "cache"),
                       "POWERTOOLS_SERVICE_NAME": "coldstart", "POWERTOOLS_METRICS_NAMESPACE": "ColdstartLoad"})
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1)
    sys.stdout.flush()
    os.dup2(devnull, 1)  # Powertools' JSON log lines and EMF metrics: one or two per request
    try:
        t0 = time.perf_counter()
        import app  # module init = the cold start: the release is loaded here

        init_s = time.perf_counter() - t0
        if app.SERVICE.manager is None or app.SERVICE.manager.current is None:
            raise SystemExit(f"the handler did not load {uri}: {app.SERVICE._not_ready_reason()}")
        texts = load_texts(Path(args.texts))
        mix = Mix(texts, seed=args.seed)
        templates = load_templates()
        rng = random.Random(args.seed + 1)
        ctx = FakeContext()
        n = args.requests
        warm_at = int(n * args.warmup_fraction)
        cache_full_at = None  # request index where warm_unique distinct texts have been sent
        latencies = [0.0] * n
        statuses, codes, kinds = Counter(), Counter(), Counter()
        samples = [(0, 0.0, *proc_sample())]
        started = time.perf_counter()
        for i in range(n):
            kind, req = mix.next()
            event = "not an event" if kind == "unknown_route" and rng.random() < 0.2 else to_event(templates, rng, *req)
            kinds[kind] += 1
            t1 = time.perf_counter()
            resp = app.handler(event, ctx)
            latencies[i] = (time.perf_counter() - t1) * 1000.0
            status = resp["statusCode"]
            statuses[status] += 1
            if status >= 400:
                codes[json.loads(resp["body"])["error"]["code"]] += 1
            if cache_full_at is None and mix.counter >= args.warm_unique:
                cache_full_at = i + 1
            if (i + 1) % args.sample_every == 0:
                samples.append((i + 1, time.perf_counter() - started, *proc_sample()))
                if (i + 1) % (args.sample_every * 10) == 0:
                    os.write(saved, f"   ... {i + 1:,} requests, {samples[-1][2]:.1f} MB RSS\n".encode())
        wall = time.perf_counter() - started
        cache = app.SERVICE.embedder.cache
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    out.write(f"\nhandler: cold start (import app, release {app.SERVICE.manager.current.version}) {init_s:.2f} s; "
              f"mix: " + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()) + "\n")
    if cache is not None and hasattr(cache, "__len__"):
        out.write(f"   embedding cache entries at the end: {len(cache):,}\n")
    if cache_full_at is not None and cache_full_at > warm_at:  # the warm-up lasts until the cache is full
        warm_at = -(-cache_full_at // args.sample_every) * args.sample_every
    out.write(f"   warm-up: the first {warm_at:,} requests ({args.warm_unique:,} distinct texts sent after "
              f"{cache_full_at or 0:,})\n")
    res = report("part 1: Lambda handler, one process", wall, latencies, statuses, codes, samples, warm_at,
                 "requests", out)
    shutil.rmtree(work, ignore_errors=True)
    return res


# ------------------------------------------------------------------------------ part 2: kiosk
def part_kiosk(args, uri, out):
    work = Path(tempfile.mkdtemp(prefix="load-kiosk-"))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layer"), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "edge", "kiosk", "--release", uri, "--data", str(work / "data"), "--port", str(port),
           "--backend", "onnx", "--sync-every", str(args.sync_every), "--outbox", str(work / "fleet")]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if "kiosk on http://127.0.0.1:" not in line:
            raise SystemExit(f"kiosk did not start: {line}{proc.stderr.read()[-2000:]}")
        out.write(f"\nkiosk: {line.strip()}  (pid {proc.pid}, {args.clients} clients, {args.duration:.0f} s)\n")
        texts = load_texts(Path(args.texts))
        stop = threading.Event()
        lock = threading.Lock()
        latencies, statuses, codes = [], Counter(), Counter()
        failures = Counter()
        samples = []
        started = time.perf_counter()

        mixes = [Mix(texts, seed=args.seed + 10 + i) for i in range(args.clients)]

        def client(mix):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine, st, cd = [], Counter(), Counter()
            while not stop.is_set():
                kind, (method, path, body, ctype, b64) = mix.next()
                if b64:
                    continue  # transport details of API Gateway; the kiosk gets raw bodies
                path = "/api" + path if path != "/nope" else path
                headers = {"Content-Type": ctype} if ctype else {}
                t1 = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except (OSError, http.client.HTTPException) as exc:
                    failures[type(exc).__name__] += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    continue
                mine.append((time.perf_counter() - t1) * 1000.0)
                st[resp.status] += 1
                if resp.status >= 400:
                    try:
                        cd[json.loads(data)["error"]["code"]] += 1
                    except (ValueError, KeyError, TypeError):
                        cd["?"] += 1
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.close()
            with lock:
                latencies.extend(mine)
                statuses.update(st)
                codes.update(cd)

        threads = [threading.Thread(target=client, args=(m,), daemon=True) for m in mixes]
        samples.append((0.0, 0.0, *proc_sample(proc.pid)))
        for t in threads:
            t.start()
        # warm-up: until warm_unique distinct texts were sent (the kiosk's cache is full) and at least
        # warmup_fraction * duration; then --duration seconds of soak
        warm_at = None
        while warm_at is None or time.perf_counter() - started < warm_at + args.duration:
            time.sleep(1.0)
            el = time.perf_counter() - started
            samples.append((el, el, *proc_sample(proc.pid)))
            if warm_at is None and sum(m.counter for m in mixes) >= args.warm_unique \
                    and el >= args.duration * args.warmup_fraction:
                warm_at = el
                out.write(f"   warm-up done after {el:.0f} s ({sum(m.counter for m in mixes):,} distinct texts sent)\n")
                out.flush()
            if el > args.max_warmup and warm_at is None:
                warm_at = el
                out.write(f"   warm-up cut at --max-warmup {args.max_warmup:.0f} s (cache maybe not full)\n")
        stop.set()
        for t in threads:
            t.join(60)
        wall = time.perf_counter() - started
        if failures:
            out.write(f"   transport failures: {dict(failures)}\n")
        res = report(f"part 2: kiosk over HTTP, {args.clients} concurrent clients", wall, latencies, statuses, codes,
                     samples, warm_at, "seconds", out)
        res["transport_failures"] = sum(failures.values())
        return res
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------------------ main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--requests", type=int, default=100_000, help="handler requests (part 1)")
    p.add_argument("--duration", type=float, default=120.0, help="seconds of kiosk load after its warm-up (part 2)")
    p.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (part 2)")
    p.add_argument("--sync-every", type=float, default=10.0, help="the kiosk's sync + outbox upload period (part 2)")
    p.add_argument("--warmup-fraction", type=float, default=0.25,
                   help="share of the run (requests / seconds) before RSS and fds are compared")
    p.add_argument("--sample-every", type=int, default=1000, help="handler requests between RSS/fd samples")
    p.add_argument("--warm-unique", type=int, default=10000,
                   help="the warm-up also lasts until this many distinct texts were sent (default: the embedding "
                        "cache's size, 10,000, so the cache is full before RSS is compared)")
    p.add_argument("--max-warmup", type=float, default=600.0, help="kiosk: longest warm-up, seconds")
    p.add_argument("--release-uri", default=None, help="a release directory or s3:// URI (default: the demo release)")
    p.add_argument("--demo-index", default=str(ROOT / "build/demo/pipeline/index"))
    p.add_argument("--demo-model", default=str(ROOT / "build/demo/pipeline/model"))
    p.add_argument("--cache-root", default=str(ROOT / "build/bench/load"), help="where the local release is published")
    p.add_argument("--texts", default=str(ROOT / "data/heldout.jsonl"), help="JSONL with a text per line")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-handler", action="store_true")
    p.add_argument("--skip-kiosk", action="store_true")
    p.add_argument("--quick", action="store_true",
                   help="5,000 handler requests and 10 s of kiosk load, warm-up 1,000 distinct texts (a smoke run)")
    args = p.parse_args(argv)
    if args.quick:
        args.requests, args.duration, args.sample_every, args.warm_unique = 5000, 10.0, 250, 1000
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)
    os.environ.setdefault("TQDM_DISABLE", "1")
    out = sys.stdout
    out.write(f"machine: {os.cpu_count()} cpus, load avg {loadavg()}, python {sys.version.split()[0]}\n")
    uri = release_uri(args, out)
    results = {}
    started = time.time()
    if not args.skip_handler:
        results["handler"] = part_handler(args, uri, out)
    if not args.skip_kiosk:
        results["kiosk"] = part_kiosk(args, uri, out)
    out.write(f"\nwall {time.time() - started:.0f} s, load avg {loadavg()}\n")
    ok = True
    for part, r in results.items():
        ok &= bool(r.get("pass"))
        for metric in ("n", "rps", "p50", "p99", "p999", "rss_growth_pct", "fd_drift", "errors_4xx", "errors_5xx"):
            if metric in r:
                out.write(f"load-bench part={part} metric={metric} value={r[metric]:.4g}\n")
        out.write(f"load-bench part={part} checks={'PASS' if r.get('pass') else 'FAIL'}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
