"""The kiosk (edge/): offline profiling over HTTP, release sync and refusal, the outbox's
durability and exactly-once upload to the real local S3 server, and Paddle Lite ↔ ONNX parity
on the Python 3.9 toolchain."""
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


class Running:
    def __init__(self, kiosk):
        self.kiosk = kiosk
        self.server = serve(kiosk, 0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def request(self, method, path, body=None, ctype="application/json"):
        data = body.encode("utf-8") if isinstance(body, str) else body
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if ctype:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)

    def json(self, method, path, body=None, ctype="application/json"):
        status, raw, headers = self.request(method, path, body, ctype)
        return status, json.loads(raw), headers

    def close(self):
        self.server.shutdown()
        self.server.server_close()
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
    assert "提交" in page.decode("utf-8") and "/api/profile" in page.decode("utf-8")

    status, body, headers = kiosk.json("POST", "/api/profile", json.dumps({"text": PHONE_TEXT, "k": 5}))
    assert status == 200 and body["tags"] and body["top_tag"] == body["tags"][0]["tag"]
    assert body["why"] and body["pii_masked"] == {"PHONE": 1} and body["model_version"].startswith("v1/")
    record_id = headers["X-Outbox-Record"]

    status, health, _ = kiosk.json("GET", "/api/health")
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
            assert k.health()[1]["kiosk"]["sync"]["last_error"]
        finally:
            moved.rename(local_release)
        out = k.sync_once()
        assert out["release"]["error"] is None and k.health()[1]["kiosk"]["sync"]["last_error"] is None
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
    status, health, _ = kiosk.json("GET", "/api/health")
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
        assert k.health()[1]["kiosk"]["sync"]["last_error"]

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
        health = running.json("GET", "/api/health")[1]
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
        health = running.json("GET", "/api/health")[1]
        assert health["kiosk"]["outbox"]["pending"] == 1 and health["kiosk"]["outbox"]["last_upload_error"]

        server.start()  # the network is back
        key = f"p/{PREFIX}/kiosk-test/{headers['X-Outbox-Record']}.json"
        deadline = time.monotonic() + 30
        while running.kiosk.outbox.counts()["pending"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert s3_keys(server, "fleet", "p/") == [key]
        assert running.json("GET", "/api/health")[1]["kiosk"]["outbox"]["pending"] == 0
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


# -- the page in a real browser ----------------------------------------------------------------------

def test_the_page_in_headless_chromium_shows_tags_and_why(kiosk):
    from tests.cdp import Browser, find_chromium

    if not find_chromium():  # `make test` installs Debian's chromium (make browser-setup)
        pytest.fail("chromium is not installed: run `make browser-setup` (apt-get install chromium)")
    with Browser() as browser:
        page = browser.page()
        page.call("Page.navigate", url=kiosk.url + "/")
        page.wait_for("document.readyState === 'complete' && !!document.getElementById('text')")
        page.eval("document.getElementById('text').focus()")
        page.call("Input.insertText", text=PHONE_TEXT)  # typed, as a visitor would
        page.eval("document.getElementById('submit').click()")
        page.wait_for("document.body.dataset.state === 'done'")
        tags = page.eval("[...document.querySelectorAll('#tags li')].map(li => [li.querySelector('.name').textContent,"
                         " li.querySelector('.score').textContent])")
        why = page.eval("document.getElementById('why').textContent")
        error = page.eval("document.getElementById('error').textContent")
        status = page.wait_for("document.getElementById('status').textContent.includes('模型版本') && "
                               "document.getElementById('status').textContent")
    assert error == "" and tags and why.startswith("最相近的")
    _, body, _ = kiosk.json("POST", "/api/profile", json.dumps({"text": PHONE_TEXT}))
    assert tags == [[t["tag"], f"{t['score']:.2f}"] for t in body["tags"]] and why == body["why"]
    assert "v1" in status and "待上传" in status


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
