"""The kiosk (edge/): offline profiling over HTTP, what the visitor listener may say and what only
the operator listener (token) says, release sync and refusal, the outbox's durability and
exactly-once upload to the real local S3 server, the demo route (make demo's S3 data → a folder
release → a kiosk with no credentials), and Paddle Lite ↔ ONNX parity on the Python 3.9 toolchain.
The page itself is driven in Chromium in tests/test_kiosk_page.py."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from coldstart.api import answer_profile
from coldstart.service import ProfileService
from coldstart.settings import ServingSettings
from coldstart.storage import StoreSettings, open_store
from edge.kiosk import Kiosk, KioskConfig, serve
from edge.outbox import OUTBOX_FILE, PREFIX, Outbox
from infra.cli import main
from local.procs import free_port

from tests.conftest import DATA, LENIENT_GATES, ROOT
from tests.py39 import run_py39_json
from tests.test_serving import BAD_REQUESTS

PHONE_TEXT = "我喜欢打篮球，电话13812345678"


def publish(uri, pipeline, version, model="model"):
    assert main(["publish", "--to", str(uri), "--index", str(pipeline / "idx"), "--model", str(pipeline / model),
                 "--version", version]) == 0


@pytest.fixture(scope="module")
def local_release(tiny_pipeline, tmp_path_factory):
    root = tmp_path_factory.mktemp("edge-release") / "releases"
    publish(root, tiny_pipeline, "v1")
    return root


@pytest.fixture
def no_network(monkeypatch):
    """Only 127.0.0.1 resolves: any attempt to reach another host fails at once."""
    real = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise socket.gaierror(socket.EAI_NONAME, "network unavailable (test)")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(var, raising=False)


OPERATOR_TOKEN = "test-operator-token-0123456789"


def http(url, method="GET", body=None, ctype="application/json", headers=None):
    data = body.encode("utf-8") if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


class Running:
    """The kiosk's two listeners on free ports: visitors (``url``) and the operator (``operator_url``)."""

    def __init__(self, kiosk, token=OPERATOR_TOKEN):
        from edge.operator_view import serve_operator

        self.kiosk = kiosk
        self.token = token
        self.server = serve(kiosk, 0)
        self.operator = serve_operator(kiosk, token, 0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.operator_url = f"http://127.0.0.1:{self.operator.server_address[1]}"
        for server in (self.server, self.operator):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def request(self, method, path, body=None, ctype="application/json"):
        return http(self.url + path, method, body, ctype)

    def json(self, method, path, body=None, ctype="application/json"):
        status, raw, headers = self.request(method, path, body, ctype)
        return status, json.loads(raw), headers

    def operator_json(self, method="GET", path="/api/status", token=None):
        token = self.token if token is None else token
        status, raw, headers = http(self.operator_url + path, method, b"" if method == "POST" else None, None,
                                    {"Authorization": f"Bearer {token}"} if token else {})
        return status, json.loads(raw), headers

    def close(self):
        for server in (self.server, self.operator):
            server.shutdown()
            server.server_close()
        self.kiosk.close()


def make_kiosk(release, data, store_settings=None, **kw):
    kw.setdefault("backend", "onnx")
    kw.setdefault("sync_every", 0)
    return Kiosk(KioskConfig(release=str(release), data=Path(data), kiosk_id="kiosk-test", **kw),
                 store_settings=store_settings)


@pytest.fixture
def kiosk(local_release, tmp_path, no_network):
    running = Running(make_kiosk(local_release, tmp_path / "data"))
    yield running
    running.close()


# -- offline profiling ----------------------------------------------------------------------------

def test_kiosk_profiles_offline_from_a_local_release(kiosk, tmp_path):
    status, page, headers = kiosk.request("GET", "/", ctype=None)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "提交" in page.decode("utf-8") and "重新开始" in page.decode("utf-8")
    assert "script-src 'self'" in headers["Content-Security-Policy"] and "<script>" not in page.decode("utf-8")
    status, script, headers = kiosk.request("GET", "/static/kiosk.js", ctype=None)
    assert status == 200 and headers["Content-Type"].startswith("text/javascript") and b"/api/profile" in script

    status, body, headers = kiosk.json("POST", "/api/profile", json.dumps({"text": PHONE_TEXT, "k": 5}))
    assert status == 200 and body["tags"] and body["top_tag"] == body["tags"][0]["tag"]
    assert body["why"] and body["pii_masked"] == {"PHONE": 1} and body["model_version"].startswith("v1/")
    record_id = headers["X-Outbox-Record"]

    status, health, _ = kiosk.operator_json()
    assert status == 200 and health["ready"] and health["release"] == "v1"
    assert health["kiosk"]["sync"]["current"] == "v1" and health["kiosk"]["disk_full"] is None
    assert health["kiosk"]["outbox"]["pending"] == 1

    # the outbox holds the masked text and the embedding, never the raw text
    raw = b"".join(p.read_bytes() for p in (tmp_path / "data").glob(OUTBOX_FILE + "*"))
    assert b"13812345678" not in raw and "我喜欢打篮球".encode() in raw
    (rec,) = kiosk.kiosk.outbox.pending()
    assert rec["id"] == record_id and "13812345678" not in rec["masked_text"]
    assert np.frombuffer(rec["embedding"], "<f4").shape == (32,)


def test_kiosk_rejects_bad_input_exactly_like_the_lambda(kiosk, local_release, tmp_path):
    lam = ProfileService(ServingSettings(release_uri=str(local_release), cache_dir=str(tmp_path / "lambda")))
    for method, body, ctype, status, code in BAD_REQUESTS:
        want_status, want, _ = answer_profile(lam, body, ctype)
        got_status, got, _ = kiosk.json(method, "/api/profile", body, ctype)
        assert (got_status, got) == (want_status, want)
        assert (got_status, got["error"]["code"]) == (status, code)
    assert kiosk.kiosk.outbox.counts()["total"] == 0  # nothing stored for refused requests


def test_a_failed_sync_is_reported_until_the_release_source_is_back(local_release, tmp_path, no_network):
    k = make_kiosk(local_release, tmp_path / "data")
    try:
        moved = local_release.with_name("unplugged")
        local_release.rename(moved)  # the USB stick is pulled
        try:
            out = k.sync_once()
            assert out["release"]["error"] and k.manager.current.version == "v1"
            assert k.status()[1]["kiosk"]["sync"]["last_error"]
        finally:
            moved.rename(local_release)
        out = k.sync_once()
        assert out["release"]["error"] is None and k.status()[1]["kiosk"]["sync"]["last_error"] is None
    finally:
        k.close()


def test_kiosk_keeps_serving_and_reports_a_full_disk(kiosk):
    ob = kiosk.kiosk.outbox
    pages = ob.conn.execute("PRAGMA page_count").fetchone()[0]
    ob.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL: "database or disk is full"
    for i in range(30):  # fill the last free pages
        status, body, headers = kiosk.json("POST", "/api/profile", json.dumps({"text": f"喜欢旅行和摄影{i}" * 20}))
        assert status == 200 and body["tags"]
        if headers["X-Outbox-Record"] == "not-saved":
            break
    assert headers["X-Outbox-Record"] == "not-saved"
    status, health, _ = kiosk.operator_json()
    assert status == 200 and "disk full" in health["kiosk"]["disk_full"]
    assert "disk is full" in health["kiosk"]["outbox"]["last_error"]


# -- sync ------------------------------------------------------------------------------------------

def test_sync_swaps_releases_refuses_a_corrupted_one_and_rolls_back(s3_bucket, s3_env, tiny_pipeline, tmp_path):
    server, bucket = s3_bucket
    uri = f"s3://{bucket}/cs"
    publish(uri, tiny_pipeline, "v1")
    data = tmp_path / "data"
    k = make_kiosk(uri, data)
    try:
        assert k.manager.current.version == "v1"
        publish(uri, tiny_pipeline, "v2")
        key = "cs/releases/v2/index/index.ann"
        size = len(server.client().get_object(Bucket=bucket, Key=key)["Body"].read())
        server.client().put_object(Bucket=bucket, Key=key, Body=b"\0" * size)  # same size, wrong bytes
        out = k.sync_once()
        assert out["release"]["after"] == "v1" and "sha256" in out["release"]["error"]
        assert k.manager.current.version == "v1"
        assert not (data / "releases" / "v2").exists()  # no partial release on disk
        assert k.status()[1]["kiosk"]["sync"]["last_error"]

        publish(uri, tiny_pipeline, "v3")
        out = k.sync_once()
        assert out["release"]["changed"] and k.manager.current.version == "v3" and out["release"]["error"] is None
        assert json.loads((data / "releases" / "state.json").read_text()) == {"current": "v3", "previous": "v1"}
    finally:
        k.close()
    # the CLI: a restarted kiosk serves v3 from its cache with S3 gone, and rolls back to v1
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "COLDSTART_S3_MAX_ATTEMPTS": "1",
           "PYTHONPATH": str(ROOT / "layer")}
    cmd = [sys.executable, "-m", "edge"]
    done = subprocess.run(cmd + ["sync", "--release", uri, "--data", str(data), "--backend", "onnx", "--no-upload"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["release"]["current"] == "v3"
    done = subprocess.run(cmd + ["rollback", "--release", uri, "--data", str(data), "--backend", "onnx"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "now serving v1" in done.stdout, done.stderr
    assert json.loads((data / "releases" / "state.json").read_text())["current"] == "v1"


# -- outbox ----------------------------------------------------------------------------------------

WRITER = r"""
import sys
sys.path[:0] = [sys.argv[2], sys.argv[3]]
import numpy as np
from pathlib import Path
from edge.outbox import Outbox
ob = Outbox(Path(sys.argv[1]), "kiosk-test")
rng = np.random.default_rng(0)
i = 0
while True:
    rid = ob.append("喜欢篮球 [PHONE] %d" % i, rng.random(32, dtype=np.float32), [{"tag": "体育", "score": 0.5}],
                    {"model_version": "v1/x", "index_version": "v1/y"})
    print(rid, flush=True)
    i += 1
"""


def s3_keys(server, bucket, prefix):
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_outbox_survives_a_kill_mid_write_and_uploads_each_record_once(s3_bucket, s3_env, tmp_path):
    server, bucket = s3_bucket
    db = tmp_path / "data" / OUTBOX_FILE
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(ROOT / "layer"), str(ROOT)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed = []
    try:
        for line in proc.stdout:
            printed.append(line.strip())
            if len(printed) >= 60:
                break
        os.kill(proc.pid, signal.SIGKILL)  # mid-loop: possibly inside a transaction
    finally:
        proc.kill()
        proc.wait()
    assert len(printed) >= 60, proc.stderr.read()

    ob = Outbox(db, "kiosk-test")
    assert ob.integrity() == "ok"
    total = ob.counts()["total"]
    ids = {r["id"] for r in ob.pending(10000)}
    assert total >= len(printed) and set(printed) <= ids and len(ids) == total  # committed ⇒ kept, no duplicates

    store = open_store(f"s3://{bucket}/fleet")
    out = ob.upload(store)
    assert out["error"] is None and out["put"] == total and out["pending"] == 0
    prefix = f"fleet/{PREFIX}/kiosk-test/"
    keys = s3_keys(server, bucket, prefix)
    assert keys == sorted(f"{prefix}{i}.json" for i in ids)
    assert ob.upload(store)["put"] == 0 and s3_keys(server, bucket, prefix) == keys

    # a crash between the put and the mark: the next upload puts the same key again
    rid = ob.append("喜欢旅行", np.ones(32, np.float32), [], {})
    store.put_bytes(ob.key(rid), ob.document(ob.pending()[0]))  # put, never marked
    assert ob.upload(store)["put"] == 1
    keys = s3_keys(server, bucket, prefix)
    assert len(keys) == total + 1 and keys.count(f"{prefix}{rid}.json") == 1
    doc = json.loads(server.client().get_object(Bucket=bucket, Key=f"{prefix}{rid}.json")["Body"].read())
    assert doc["record_id"] == rid and doc["masked_text"] == "喜欢旅行" and doc["embedding"]["dim"] == 32
    ob.close()


def test_a_profile_made_offline_reaches_s3_when_the_network_returns(local_release, s3_bucket, s3_env, tmp_path):
    server, bucket = s3_bucket
    offline = StoreSettings(endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1, connect_timeout=1)
    running = Running(make_kiosk(local_release, tmp_path / "data", outbox_uri=f"s3://{bucket}/fleet",
                                 store_settings=offline))
    try:
        status, body, headers = running.json("POST", "/api/profile", json.dumps({"text": PHONE_TEXT}))
        assert status == 200
        rid = headers["X-Outbox-Record"]
        out = running.kiosk.upload()
        assert out["put"] == 0 and "cannot reach" in out["error"] and out["pending"] == 1
        health = running.operator_json()[1]
        assert health["kiosk"]["outbox"]["pending"] == 1 and health["kiosk"]["outbox"]["last_upload_error"]

        running.kiosk.store_settings, running.kiosk._outbox_store = None, None  # the network is back
        out = running.kiosk.upload()
        assert out == {**out, "put": 1, "error": None, "pending": 0}
        key = f"fleet/{PREFIX}/kiosk-test/{rid}.json"
        assert s3_keys(server, bucket, f"fleet/{PREFIX}/") == [key]
        doc = json.loads(server.client().get_object(Bucket=bucket, Key=key)["Body"].read())
        assert "13812345678" not in json.dumps(doc, ensure_ascii=False) and "打篮球" in doc["masked_text"]
        assert doc["tags"] == body["tags"] and doc["versions"]["model_version"] == body["model_version"]
    finally:
        running.close()


def test_the_scheduler_uploads_once_the_stopped_s3_server_is_started_again(local_release, s3_env, tmp_path):
    """The acceptance scenario: a profile made while the S3 server is stopped reaches S3 by itself
    (the kiosk's scheduler) after the server is started again on the same port."""
    from local.s3 import LocalS3Server

    server = LocalS3Server(tmp_path / "s3", buckets=["fleet"]).start()
    settings = StoreSettings(endpoint_url=server.endpoint_url, max_attempts=1, connect_timeout=1, read_timeout=5)
    running = None
    try:
        server.stop()
        running = Running(make_kiosk(local_release, tmp_path / "data", outbox_uri="s3://fleet/p",
                                     store_settings=settings, sync_every=0.3))
        running.kiosk.start_scheduler()
        status, _, headers = running.json("POST", "/api/profile", json.dumps({"text": PHONE_TEXT}))
        assert status == 200
        deadline = time.monotonic() + 20
        while not running.kiosk.outbox.last_upload_error and time.monotonic() < deadline:
            time.sleep(0.1)
        health = running.operator_json()[1]
        assert health["kiosk"]["outbox"]["pending"] == 1 and health["kiosk"]["outbox"]["last_upload_error"]

        server.start()  # the network is back
        key = f"p/{PREFIX}/kiosk-test/{headers['X-Outbox-Record']}.json"
        deadline = time.monotonic() + 30
        while running.kiosk.outbox.counts()["pending"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert s3_keys(server, "fleet", "p/") == [key]
        assert running.operator_json()[1]["kiosk"]["outbox"]["pending"] == 0
    finally:
        if running:
            running.close()
        server.stop()


# -- Paddle Lite ---------------------------------------------------------------------------------

LITE_CHILD = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
import numpy as np
from coldstart.lite_encoder import LiteEncoder
from edge.kiosk import Kiosk, KioskConfig
texts = json.loads(sys.stdin.read())
k = Kiosk(KioskConfig(release=sys.argv[1], data=Path(sys.argv[2]), backend="auto", sync_every=0, kiosk_id="k39"))
rel = k.manager.current
fp32 = LiteEncoder(sys.argv[4])
out = {"python": sys.version.split()[0], "backend": k.backend.name, "served": [], "fp32": [], "ids": [], "tags": []}
for t in texts:
    enc = rel.tokenizer.encode(t)
    out["ids"].append([enc.input_ids.tolist(), enc.attention_mask.tolist(), enc.token_type_ids.tolist()])
    out["served"].append(rel.encoder.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)[0].tolist())
    out["fp32"].append(fp32.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)[0].tolist())
    status, body, _ = k.profile(json.dumps({"text": t}).encode(), "application/json")
    out["tags"].append([status, body.get("top_tag"), body.get("model_version")])
out["nb"] = sorted(p.name for p in (rel.root / "model").glob("*.nb"))
out["outbox"] = k.outbox.counts()
k.close()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def lite_model(tiny_pipeline, tiny_teacher):
    """The tiny student exported WITH Paddle Lite .nb (tiny_pipeline's model is ONNX only); reuses the
    one test_distill_export made in the same session when present."""
    for name in ("model-lite", "model-lite-edge"):
        if (tiny_pipeline / name / "model_manifest.json").is_file():
            return name
    out = tiny_pipeline / "model-lite-edge"
    assert main(["export", "--student", str(tiny_pipeline / "student"), "--index", str(tiny_pipeline / "idx"),
                 "--teacher", str(tiny_teacher), "--heldout", str(DATA / "heldout.jsonl"),
                 "--out", str(out), *LENIENT_GATES]) == 0
    return out.name


def test_lite_backend_matches_onnx_on_the_same_release(tiny_pipeline, lite_model, tmp_path):
    from coldstart.encoder import OnnxEncoder

    rel = tmp_path / "releases"
    publish(rel, tiny_pipeline, "v1", model=lite_model)
    texts = ["我喜欢看科幻电影和打篮球", "最近在准备考研，想多学点编程知识", "NBA和ＣＢＡ都看😀", PHONE_TEXT]
    model_dir = tiny_pipeline / lite_model
    got = run_py39_json(LITE_CHILD, str(rel), str(tmp_path / "kiosk39"), str(ROOT),
                        str(model_dir / "student.x86.fp32.nb"), input=json.dumps(texts), cwd=ROOT)
    assert got["python"].startswith("3.9") and got["backend"] == "lite"  # auto picks Paddle Lite on 3.9
    manifest = json.loads((model_dir / "model_manifest.json").read_text())
    served_nb = manifest["serving"]["lite"]["x86"]
    assert got["nb"] == [served_nb]  # the kiosk downloads only the .nb its runtime needs
    nb_version = "v1/" + manifest["files"][served_nb]["sha256"][:12]  # model_version names the file served
    assert all(status == 200 and tag and version == nb_version for status, tag, version in got["tags"])
    assert got["outbox"]["total"] == len(texts)

    onnx32 = OnnxEncoder(str(model_dir / "student.fp32.onnx"))
    onnx8 = OnnxEncoder(str(model_dir / "student.int8.onnx"))
    def cos(a, b):
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))

    for (ids, mask, types), served, fp32 in zip(got["ids"], got["served"], got["fp32"]):
        ids, mask, types = (np.asarray(a, dtype=np.int64) for a in (ids, mask, types))
        want32 = onnx32.encode_ids(ids, mask, types)[0]
        assert cos(np.asarray(fp32, np.float32), want32) >= 0.999        # FP32 .nb vs FP32 ONNX
        want_served = want32 if served_nb.endswith("fp32.nb") else onnx8.encode_ids(ids, mask, types)[0]
        assert cos(np.asarray(served, np.float32), want_served) >= (0.999 if served_nb.endswith("fp32.nb") else 0.98)


# ------------------------------------------------ what the kiosk keeps on disk (SECURITY.md)

def test_outbox_is_private_to_the_kiosk_account(tmp_path):
    import stat

    ob = Outbox(tmp_path / "kiosk-data" / "outbox.sqlite", "kiosk-test")
    ob.append("喜欢旅行", np.ones(4, np.float32), [], {})
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "kiosk-data").iterdir()}
    assert stat.S_IMODE((tmp_path / "kiosk-data").stat().st_mode) == 0o700
    assert modes["outbox.sqlite"] == 0o600
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes  # -wal / -shm too
    ob.close()


def test_uploaded_rows_are_deleted_after_the_retention_and_pending_rows_never(tmp_path):
    from coldstart.storage import LocalStore

    ob = Outbox(tmp_path / "outbox.sqlite", "kiosk-test", keep_uploaded_days=7)
    old = ob.append("旧记录", None, [], {})
    assert ob.upload(LocalStore(tmp_path / "s3"))["put"] == 1
    fresh = ob.append("新记录", None, [], {})
    now = time.time()
    assert ob.purge_uploaded(now=now + 6 * 86400) == 0          # within the retention: kept
    assert ob.purge_uploaded(now=now + 8 * 86400) == 1          # the uploaded one goes
    assert [r["id"] for r in ob.pending()] == [fresh] and ob.counts() == {"total": 1, "pending": 1, "uploaded": 0}
    assert (tmp_path / "s3" / "kiosk-outbox" / "kiosk-test" / f"{old}.json").is_file()  # it is in the store

    immediate = Outbox(tmp_path / "o2.sqlite", "kiosk-test", keep_uploaded_days=0)
    immediate.append("记录", None, [], {})
    out = immediate.upload(LocalStore(tmp_path / "s3"))
    assert (out["put"], out["purged"], out["total"]) == (1, 1, 0)
    ob.close()
    immediate.close()


def test_purged_rows_leave_no_text_in_the_database_file(tmp_path):
    from coldstart.storage import LocalStore

    ob = Outbox(tmp_path / "outbox.sqlite", "kiosk-test", keep_uploaded_days=0)
    marker = "独一无二的标记文本" * 20
    ob.append(marker, None, [], {})
    assert ob.upload(LocalStore(tmp_path / "s3"))["purged"] == 1
    ob.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ob.close()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("outbox.sqlite*"))
    assert marker.encode("utf-8") not in on_disk


# ------------------------------------------------ visitors vs the operator

INTERNAL_WORDS = ("release", "outbox", "sync", "kiosk", "Error", "s3://", "current.json", "backend", "version")


def test_the_visitor_listener_says_ready_and_nothing_about_operations(kiosk):
    for path in ("/api/ready", "/api/health", "/health"):
        status, body, _ = kiosk.json("GET", path)
        assert (status, body) == (200, {"ready": True, "ocr": kiosk.kiosk.ocr, "idle_seconds": 60.0})
    status, _, _ = kiosk.json("GET", "/api/status")
    assert status == 404  # the operator's route does not exist on the visitor listener


def test_the_operator_listener_refuses_requests_without_the_token(kiosk):
    kiosk.json("POST", "/api/profile", json.dumps({"text": PHONE_TEXT}))
    for token in ("", "wrong-token-0123456789", OPERATOR_TOKEN + "x", OPERATOR_TOKEN[:-1]):
        status, body, headers = kiosk.operator_json(token=token)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
        assert set(body) == {"error"} and not any(w in json.dumps(body) for w in ("v1", "pending", "kiosk-test"))
    status, raw, _ = http(kiosk.operator_url + "/api/status", headers={"Authorization": OPERATOR_TOKEN})  # no scheme
    assert status == 401
    before = kiosk.kiosk.manager.last_sync
    status, _, _ = kiosk.operator_json("POST", "/api/sync", token="wrong-token-0123456789")
    assert status == 401 and kiosk.kiosk.manager.last_sync == before  # refused before doing anything

    status, body, _ = kiosk.operator_json()
    assert status == 200 and body["release"] == "v1" and body["kiosk"]["outbox"]["pending"] == 1
    assert body["kiosk"]["sync"]["current"] == "v1" and body["kiosk"]["sync"]["last_sync"]
    status, body, _ = kiosk.operator_json("POST", "/api/sync")
    assert status == 200 and body["kiosk"]["sync"]["last_error"] is None
    status, page, _ = http(kiosk.operator_url + "/", ctype=None)  # the page is static: no data without the token
    assert status == 200 and b"v1" not in page and b"kiosk-test" not in page


def test_visitor_5xx_bodies_keep_the_code_and_drop_the_internals(tmp_path, no_network):
    empty = tmp_path / "no-release-yet"
    empty.mkdir()
    running = Running(make_kiosk(empty, tmp_path / "data"))
    try:
        status, body, _ = running.json("POST", "/api/profile", json.dumps({"text": PHONE_TEXT}))
        assert status == 503 and body["error"]["code"] == "not_ready"
        assert str(empty) not in json.dumps(body) and "current.json" not in json.dumps(body)
        assert running.json("GET", "/api/ready")[:2] == (503, {"ready": False, "ocr": running.kiosk.ocr,
                                                               "idle_seconds": 60.0})
        status, body, _ = running.operator_json()  # the operator sees the reason
        assert status == 503 and "current.json" in body["error"]["message"]
    finally:
        running.close()


def test_a_bug_answers_500_without_its_message(kiosk):
    class Broken:
        def encode_ids(self, *args):
            raise RuntimeError("secret internals /srv/model.nb")

    kiosk.kiosk.manager.current.encoder = Broken()
    status, body, _ = kiosk.json("POST", "/api/profile", json.dumps({"text": "喜欢旅行"}))
    assert status == 500 and body["error"]["code"] == "internal" and "secret" not in json.dumps(body)


def test_the_operator_token_is_made_once_kept_private_and_validated(tmp_path):
    import stat

    from edge.config import ConfigError, ensure_operator_token, read_config

    path = tmp_path / "data" / "kiosk.json"
    path.parent.mkdir(mode=0o700)
    path.write_text(json.dumps({"idle_seconds": 30}))
    token = ensure_operator_token(path)
    assert len(token) >= 16 and ensure_operator_token(path) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    found = read_config(path)
    assert (found.operator_token, found.idle_seconds) == (token, 30.0)  # other keys kept
    for bad, words in (({"operator_token": "short"}, "shorter"), ({"idle_seconds": -1}, "positive"),
                       ({"nope": 1}, "unknown"), ({"port": "8090"}, "wrong type"), ([], "object")):
        path.write_text(json.dumps(bad))
        with pytest.raises(ConfigError, match=words) as caught:
            read_config(path)
        assert token not in str(caught.value)


def edge_cli(*args, timeout=120):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT / "layer")
    return subprocess.run([sys.executable, "-m", "edge", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_edge_status_reads_the_running_kiosk_with_the_token_from_its_config(local_release, tmp_path, no_network):
    data = tmp_path / "data"
    running = Running(make_kiosk(local_release, data))
    try:
        running.json("POST", "/api/profile", json.dumps({"text": PHONE_TEXT}))
        port = running.operator_url.rsplit(":", 1)[1]
        done = edge_cli("status", "--data", str(data), "--operator-port", port)
        assert done.returncode == 2 and "kiosk: not running" in done.stdout  # no token in the config yet
        (data / "kiosk.json").write_text(json.dumps({"operator_token": "wrong-token-0123456789"}))
        done = edge_cli("status", "--data", str(data), "--operator-port", port)
        assert done.returncode == 3 and "refused the token" in done.stdout
        (data / "kiosk.json").write_text(json.dumps({"operator_token": OPERATOR_TOKEN, "operator_port": int(port)}))
        done = edge_cli("status", "--data", str(data))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "release      v1 (previous: none), backend onnx" in done.stdout
        assert "outbox       1 pending, 0 uploaded" in done.stdout and "status       ok" in done.stdout
        body = json.loads(edge_cli("status", "--data", str(data), "--json").stdout)
        assert body["kiosk"]["outbox"]["pending"] == 1
    finally:
        running.close()
    done = edge_cli("status", "--data", str(data))  # stopped: what the data directory says
    assert done.returncode == 2 and "not running" in done.stdout
    assert "release      v1" in done.stdout and "1 pending, 0 uploaded" in done.stdout


def test_the_demo_route_needs_no_s3_credentials(tiny_pipeline, tmp_path):
    """make demo's S3 data (SeaweedFS, stopped) → `edge demo-release`'s folder copy → a kiosk started with
    no AWS variables at all serves it, the operator page names it, SIGTERM stops it cleanly."""
    from edge.demo import copied_version, mirror_demo_release
    from local.s3 import LocalS3Server

    s3_data = tmp_path / "s3"
    config = tmp_path / "demo.yaml"
    config.write_text("publish_to: s3://coldstart-demo/coldstart  # as infra/demo.yaml\n")
    with LocalS3Server(s3_data, buckets=["coldstart-demo"]) as server:
        env = server.env()
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            publish("s3://coldstart-demo/coldstart", tiny_pipeline, "demo1")
        finally:
            for k, v in old.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    out = tmp_path / "kiosk-release"
    assert mirror_demo_release(s3_data, out, config) == "demo1" and copied_version(out) == "demo1"
    assert mirror_demo_release(s3_data, out, config) == "demo1"  # up to date: kept

    data = tmp_path / "kiosk-data"
    port, operator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONPATH=str(ROOT / "layer"), HOME=str(tmp_path))  # no ~/.aws either
    proc = subprocess.Popen([sys.executable, "-m", "edge", "kiosk", "--release", str(out), "--data", str(data),
                             "--port", str(port), "--operator-port", str(operator_port), "--backend", "onnx"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"kiosk on http://127.0.0.1:{port}/" in line and "release=demo1" in line, line + proc.stderr.read()
        assert f"operator page http://127.0.0.1:{operator_port}/" in proc.stdout.readline()
        status, body, _ = http(f"http://127.0.0.1:{port}/api/profile", "POST", json.dumps({"text": PHONE_TEXT}))
        assert status == 200 and json.loads(body)["model_version"].startswith("demo1/")
        token = json.loads((data / "kiosk.json").read_text())["operator_token"]
        status, body, _ = http(f"http://127.0.0.1:{operator_port}/api/status",
                               headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and json.loads(body)["kiosk"]["sync"]["current"] == "demo1"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
