"""Fault injection against the real S3-compatible server (SeaweedFS) and real filesystems.

Faults are injected with ``tests/faults.py``: a TCP/HTTP proxy in front of the S3 port (down,
dropped connections, 5xx, access denied, seconds per request, held requests, truncated and
corrupted transfers), a small tmpfs that fills up with a real ENOSPC (root only; skipped
otherwise), and child processes that SIGKILL themselves at step N of a publish or an outbox
upload, for every N.

Already covered elsewhere (not repeated here):
  corrupted object at rest (same size, other bytes)      test_serving::test_corrupted_release_is_refused_and_the_old_one_keeps_serving,
                                                         test_edge::test_sync_swaps_releases_refuses_a_corrupted_one_and_rolls_back
  current.json naming a release that never arrived      test_serving::test_half_uploaded_release_is_refused
  nothing published yet (503 at cold start)             test_serving::test_no_release_gives_503_with_a_clear_message
  publish: access denied / unreachable S3 / killed mid-upload of a large object
                                                         test_publish::test_access_denied_is_reported_and_nothing_switches,
                                                         ::test_unreachable_s3_fails_after_bounded_retries,
                                                         ::test_publish_killed_mid_upload_leaves_current_on_the_previous_release
  outbox: SQLite's own "database or disk is full", kill -9 mid-append, offline then online
                                                         test_edge::test_kiosk_keeps_serving_and_reports_a_full_disk,
                                                         ::test_outbox_survives_a_kill_mid_write_and_uploads_each_record_once,
                                                         ::test_the_scheduler_uploads_once_the_stopped_s3_server_is_started_again
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np
import pytest

from coldstart.api import answer_health, answer_profile  # noqa: E402
from coldstart.release import read_current
from coldstart.service import ProfileService
from coldstart.settings import ServingSettings
from coldstart.storage import StoreSettings, open_store
from coldstart.storage.s3 import S3Store, make_client
from edge.outbox import OUTBOX_FILE, PREFIX, Outbox
from infra.cli import main
from tests.conftest import ROOT
from tests.faults import KILL_PRELUDE, FaultProxy, can_mount_tmpfs, fill, mounted_tmpfs, results_from, steps_from

PROFILE = json.dumps({"text": "我喜欢打篮球和看科幻电影"})
needs_tmpfs = pytest.mark.skipif(not can_mount_tmpfs(), reason="disk-full faults mount a small tmpfs: run as root")


# ------------------------------------------------------------------------------ the rig

@contextmanager
def env(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Rig:
    """v1 of the tiny release published straight to S3; services read it through the proxy."""

    def __init__(self, server, bucket, proxy, pipeline, tmp_path):
        self.server, self.bucket, self.proxy, self.pipeline, self.tmp = server, bucket, proxy, pipeline, tmp_path
        self.uri = f"s3://{bucket}/cs"
        self.client = server.client()

    def publish(self, version):
        with env(AWS_ENDPOINT_URL=self.server.endpoint_url):  # around the proxy
            assert main(["publish", "--to", self.uri, "--index", str(self.pipeline / "idx"),
                         "--model", str(self.pipeline / "model"), "--version", version]) == 0

    def key(self, name):
        return f"cs/{name}"

    def get(self, name):
        return self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()

    def put(self, name, body):
        self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=body)

    def service(self, background=0, refresh_seconds=1, cache="cache"):
        svc = ProfileService(ServingSettings(release_uri=self.uri, cache_dir=str(self.tmp / cache),
                                             refresh_seconds=refresh_seconds, refresh_background=background))
        clock = [0.0]  # the refresh clock is the test's: time 0 is the last check
        if svc.manager is not None:
            svc.manager.clock = lambda: clock[0]
            svc.manager.last_check = 0.0
        return svc, clock


def refresh(svc, clock):
    clock[0] += 10.0
    svc.manager.maybe_refresh()


def profile(svc):
    return answer_profile(svc, PROFILE, "application/json")


@pytest.fixture
def proxy(s3_server):
    with FaultProxy(s3_server.port) as p:
        yield p


@pytest.fixture
def rig(s3_bucket, s3_env, proxy, tiny_pipeline, tmp_path, monkeypatch):
    server, bucket = s3_bucket
    r = Rig(server, bucket, proxy, tiny_pipeline, tmp_path)
    r.publish("v1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint_url)
    monkeypatch.setenv("COLDSTART_S3_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("COLDSTART_S3_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("COLDSTART_S3_READ_TIMEOUT", "10")
    return r


def assert_serves_v1_and_reports(svc, *needles):
    assert svc.manager.current.version == "v1"
    status, health = answer_health(svc)
    assert status == 200 and health["release"] == "v1" and health["refresh_failed"] is True
    for needle in needles:  # the details are the operator's (log), never in the caller's body
        assert needle in svc.manager.last_error, svc.manager.last_error
        assert needle not in json.dumps(health)
    status, body, _ = profile(svc)
    assert status == 200 and body["index_version"].startswith("v1/")


def no_partial_download(rig, cache="cache"):
    return not [p.name for p in (rig.tmp / cache).glob(".*")] and not (rig.tmp / cache / "v2").exists()


# ------------------------------------------------------------------------------ S3 down

def test_s3_down_at_cold_start_gives_503_naming_the_endpoint_and_recovers_when_it_is_back(rig):
    rig.proxy.refuse()
    svc, clock = rig.service()
    status, body = answer_health(svc)
    assert status == 503 and body["error"]["code"] == "not_ready"
    reason = svc.not_ready_reason()  # for the operator's log: names the endpoint and the object
    assert f"cannot reach {rig.proxy.endpoint_url}" in reason and "current.json" in reason
    status, body, _ = profile(svc)
    assert status == 503 and body["error"]["code"] == "not_ready"
    for leaked in (rig.proxy.endpoint_url, "127.0.0.1", "current.json", "s3://", "Error"):
        assert leaked not in json.dumps(body)

    rig.proxy.accept()
    refresh(svc, clock)  # the next due check (refresh_seconds) loads it
    status, body = answer_health(svc)
    assert status == 200 and body["release"] == "v1" and "refresh_failed" not in body


def test_after_a_failed_cold_start_the_next_attempt_comes_within_seconds_not_a_refresh_period(rig):
    """Regression: a failed cold start stayed 503 for a whole refresh period (300 s by default)
    after S3 came back."""
    rig.proxy.refuse()
    svc, clock = rig.service(refresh_seconds=300)
    assert answer_health(svc)[0] == 503
    rig.proxy.accept()
    clock[0] += 2.0
    assert answer_health(svc)[0] == 503  # no attempt on every request: S3 outages must not multiply
    clock[0] += 4.0                # 6 s after the failure: due again
    status, body = answer_health(svc)
    assert status == 200 and body["release"] == "v1"


LAMBDA_CHILD = r"""
import json, sys
sys.path[:0] = [sys.argv[1] + "/function", sys.argv[1] + "/layer"]
import app
class Ctx:
    function_name = "coldstart"; memory_limit_in_mb = 1769; aws_request_id = "fault"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart"
out = {}
for name in ("health_rest", "profile_rest"):
    event = json.load(open(sys.argv[1] + "/events/" + name + ".json"))
    r = app.handler(event, Ctx())
    out[name] = [r["statusCode"], json.loads(r["body"])]
print("RESULT " + json.dumps(out))
"""


def test_s3_down_at_cold_start_through_the_lambda_entrypoint_answers_503(rig, tmp_path):
    rig.proxy.refuse()
    child_env = {**os.environ, "COLDSTART_RELEASE_URI": rig.uri, "COLDSTART_CACHE_DIR": str(tmp_path / "lambda"),
                 "COLDSTART_S3_MAX_ATTEMPTS": "1", "POWERTOOLS_METRICS_NAMESPACE": "FaultTest"}
    done = subprocess.run([sys.executable, "-c", LAMBDA_CHILD, str(ROOT)], env=child_env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    (line,) = [l for l in done.stdout.splitlines() if l.startswith("RESULT ")]
    out = json.loads(line[len("RESULT "):])
    for name in ("health_rest", "profile_rest"):
        status, body = out[name]
        assert status == 503 and body["error"]["code"] == "not_ready"
        assert rig.proxy.endpoint_url not in json.dumps(body) and "s3://" not in json.dumps(body)


def test_s3_down_during_refresh_keeps_the_old_release_serving_and_reports_it(rig):
    svc, clock = rig.service()
    assert svc.manager.current.version == "v1"
    rig.publish("v2")
    rig.proxy.refuse()
    refresh(svc, clock)
    assert_serves_v1_and_reports(svc, "cannot reach", rig.proxy.endpoint_url)

    rig.proxy.accept()
    refresh(svc, clock)
    status, health = answer_health(svc)
    assert status == 200 and health["release"] == "v2" and "refresh_failed" not in health


# ------------------------------------------------------------------------------ slow S3

def test_requests_are_answered_while_a_background_refresh_is_stuck_on_slow_s3(rig, monkeypatch):
    monkeypatch.setenv("COLDSTART_S3_READ_TIMEOUT", "60")
    svc, clock = rig.service(background=1, refresh_seconds=60)
    rig.publish("v2")
    hold = rig.proxy.add("hold", method="GET", path="/cs/releases/v2/")  # S3 never answers, until released
    clock[0] = 61.0
    status, body, _ = profile(svc)  # makes the refresh due: it starts on a thread
    assert status == 200 and body["index_version"].startswith("v1/")
    assert hold.holding.wait(30), "the refresh never reached S3"
    for _ in range(20):  # the refresh is blocked inside an S3 request: requests are not
        status, body, _ = profile(svc)
        assert status == 200 and body["index_version"].startswith("v1/")
    assert answer_health(svc)[1]["release"] == "v1"
    assert svc.manager._lock.locked()  # the refresh is still in flight
    hold.release()
    deadline = time.monotonic() + 60
    while svc.manager.current.version != "v2" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert svc.manager.current.version == "v2" and svc.manager.last_error is None


def test_seconds_per_request_within_the_read_timeout_still_load_the_release(rig):
    slow = rig.proxy.add("delay", method="GET", path="/cs/releases/v1/index/index.ann", seconds=1.5)
    slower = rig.proxy.add("delay", method="GET", path="/cs/releases/v1/release.json", seconds=1.5)
    svc, _ = rig.service()
    assert svc.manager.current is not None and svc.manager.current.version == "v1"
    assert (slow.hits, slower.hits) == (1, 1)  # each slow answer taken once, not retried
    assert answer_health(svc)[0] == 200


def test_s3_slower_than_the_read_timeout_fails_the_refresh_and_the_old_release_serves(rig, monkeypatch):
    svc, clock = rig.service()
    rig.publish("v2")
    monkeypatch.setenv("COLDSTART_S3_READ_TIMEOUT", "0.5")
    svc.manager.loader.store = open_store(rig.uri)  # a client with the short read timeout
    rig.proxy.add("delay", method="GET", path="/cs/releases/v2/release.json", seconds=2)
    refresh(svc, clock)
    assert_serves_v1_and_reports(svc, "releases/v2/release.json", "Read timeout")
    assert no_partial_download(rig)


# ------------------------------------------------------------------------------ bad objects

def test_truncated_object_in_s3_is_refused_by_its_size(rig):
    svc, clock = rig.service()
    rig.publish("v2")
    body = rig.get("releases/v2/index/index.ann")
    rig.put("releases/v2/index/index.ann", body[: len(body) // 2])
    refresh(svc, clock)
    assert_serves_v1_and_reports(svc, "index/index.ann: size")
    assert no_partial_download(rig)


@pytest.mark.parametrize("action, reported", [
    ("truncate", ("releases/v2/index/index.ann",)),   # the transfer is cut off mid-object
    ("corrupt", ("checksum", "sha256")),              # one byte flipped: botocore's checksum or our sha256
], ids=["cut-off-mid-object", "corrupted-in-transit"])
def test_a_damaged_transfer_is_refused(rig, action, reported):
    svc, clock = rig.service()
    rig.publish("v2")
    fault = rig.proxy.add(action, method="GET", path="/cs/releases/v2/index/index.ann")
    refresh(svc, clock)
    assert fault.hits >= 1
    assert_serves_v1_and_reports(svc, "index/index.ann")
    assert any(word in svc.manager.last_error for word in reported)
    assert no_partial_download(rig)


def test_current_json_pointing_to_a_release_with_a_missing_object_is_refused(rig):
    svc, clock = rig.service()
    rig.publish("v2")
    rig.client.delete_object(Bucket=rig.bucket, Key=rig.key("releases/v2/index/manifest.json"))
    refresh(svc, clock)
    assert_serves_v1_and_reports(svc, "releases/v2/index/manifest.json: not found")
    assert no_partial_download(rig)


def test_half_written_current_json_keeps_the_old_release_and_is_503_at_cold_start(rig):
    svc, clock = rig.service()
    pointer = rig.get("current.json")
    rig.put("current.json", pointer[: len(pointer) // 2])  # a writer that died mid-file
    refresh(svc, clock)
    assert_serves_v1_and_reports(svc, "current.json is not valid JSON")

    cold, _ = rig.service(cache="cache-cold")
    status, body = answer_health(cold)
    assert status == 503 and "current.json is not valid JSON" in cold.not_ready_reason()


def test_release_json_that_is_not_the_one_current_json_names_is_refused(rig):
    """current.json carries the sha256 of the release.json that was verified before the switch;
    a release.json replaced afterwards (half-rewritten release, or an operator's mistake) must
    not be trusted."""
    svc, clock = rig.service()
    rig.publish("v2")
    manifest = json.loads(rig.get("releases/v2/release.json"))
    manifest["components"]["index"]["note"] = "rewritten after the publish"
    rig.put("releases/v2/release.json", json.dumps(manifest).encode())
    refresh(svc, clock)
    assert_serves_v1_and_reports(svc, "release.json")


# ------------------------------------------------------------------------------ access denied

def test_unknown_credentials_at_cold_start_give_503_saying_access_denied(rig, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-key")
    svc, _ = rig.service()
    status, body = answer_health(svc)
    assert status == 503 and "access denied (InvalidAccessKeyId)" in svc.not_ready_reason()
    assert len(rig.proxy.requests(path="/cs/current.json")) == 1  # not retried: retrying cannot help


def test_access_denied_during_refresh_keeps_the_old_release_and_is_not_retried(rig):
    svc, clock = rig.service()
    rig.publish("v2")
    deny = rig.proxy.add("status", method="GET", path="/cs/releases/v2/", status=403, code="AccessDenied")
    refresh(svc, clock)
    assert_serves_v1_and_reports(svc, "access denied (AccessDenied)")
    assert deny.hits == 1


def test_outbox_upload_with_read_only_credentials_keeps_every_record_pending(s3_bucket, s3_env, tmp_path):
    server, bucket = s3_bucket
    ob = Outbox(tmp_path / OUTBOX_FILE, "kiosk-test")
    ids = [ob.append(f"喜欢篮球 {i}", np.ones(8, np.float32), [], {}) for i in range(3)]
    reader = S3Store(bucket, "fleet", settings=StoreSettings(endpoint_url=server.endpoint_url))
    reader.client = server.reader_client()
    out = ob.upload(reader)
    assert out["put"] == 0 and out["pending"] == 3 and "access denied (AccessDenied)" in out["error"]
    assert "Contents" not in server.client().list_objects_v2(Bucket=bucket, Prefix="fleet/")
    out = ob.upload(open_store(f"s3://{bucket}/fleet"))  # write access back
    assert out["put"] == 3 and out["pending"] == 0 and out["error"] is None
    keys = sorted(o["Key"] for o in server.client().list_objects_v2(Bucket=bucket, Prefix="fleet/")["Contents"])
    assert keys == sorted(f"fleet/{PREFIX}/kiosk-test/{i}.json" for i in ids)
    ob.close()


# ------------------------------------------------------------------------------ retries

def _retry_handler(client):
    for handler in client.meta.events._emitter._handlers.prefix_search("needs-retry.s3.GetObject"):
        owner = getattr(handler, "__self__", None)
        if owner is not None and type(owner).__name__ == "RetryHandler":
            return owner
    raise AssertionError("no retry handler on the S3 client")


def test_s3_client_retries_in_standard_mode_with_exponential_backoff_and_full_jitter():
    from botocore.retries.standard import ExponentialBackoff, RetryContext

    client = make_client(StoreSettings(endpoint_url="http://127.0.0.1:9", max_attempts=4))
    assert client.meta.config.retries["mode"] == "standard"
    backoff = _retry_handler(client)._retry_policy._retry_backoff
    assert isinstance(backoff, ExponentialBackoff) and backoff._random is random.random  # jitter: rand(0, 1) * …
    top = ExponentialBackoff(random=lambda: 1.0)  # the same class with the random factor pinned
    assert [round(top.delay_amount(RetryContext(attempt_number=n)), 3) for n in (1, 2, 3, 4)] == [0.05, 0.1, 0.2, 0.4]
    assert ExponentialBackoff(random=lambda: 0.0).delay_amount(RetryContext(attempt_number=3)) == 0.0


def test_transient_errors_are_retried_until_they_succeed(rig):
    store = S3Store(rig.bucket, "cs", settings=StoreSettings(endpoint_url=rig.proxy.endpoint_url, max_attempts=3))
    rig.proxy.add("status", method="GET", path="/cs/current.json", status=500, code="InternalError", times=1)
    rig.proxy.add("drop", method="GET", path="/cs/current.json", times=1)
    assert read_current(store).version == "v1"
    assert [s.action for s in rig.proxy.requests(path="/cs/current.json")] == ["status", "drop", "pass"]


def test_retries_stop_after_the_configured_number_of_attempts(rig):
    store = S3Store(rig.bucket, "cs", settings=StoreSettings(endpoint_url=rig.proxy.endpoint_url, max_attempts=3))
    rig.proxy.add("status", method="GET", path="/cs/current.json", status=503, code="ServiceUnavailable")
    with pytest.raises(Exception, match="S3 error ServiceUnavailable"):
        store.get_bytes("current.json")
    assert len(rig.proxy.requests(path="/cs/current.json")) == 3


def test_retries_are_bounded_when_s3_keeps_failing(rig):
    """A failing S3 gets a small, bounded number of attempts and then a clear error, never an endless loop."""
    store = S3Store(rig.bucket, "cs", settings=StoreSettings(endpoint_url=rig.proxy.endpoint_url, max_attempts=3))
    rig.proxy.add("drop", method="GET", path="/cs/current.json")
    with pytest.raises(Exception, match="ConnectionClosedError"):
        store.get_bytes("current.json")
    assert len(rig.proxy.requests(path="/cs/current.json")) == 3


# ------------------------------------------------------------------------------ disk full

@needs_tmpfs
def test_disk_full_in_the_release_cache_at_cold_start_gives_503(rig):
    with mounted_tmpfs(rig.tmp / "small", 32 * 1024) as cache:
        svc = ProfileService(ServingSettings(release_uri=rig.uri, cache_dir=str(cache / "c")))
        status, body = answer_health(svc)
        assert status == 503 and "No space left on device" in svc.not_ready_reason()
        assert profile(svc)[0] == 503
        assert not list((cache / "c").iterdir())  # the staging directory was removed


@needs_tmpfs
def test_disk_full_in_the_release_cache_during_refresh_keeps_the_old_release(rig):
    with mounted_tmpfs(rig.tmp / "cache", 8 * 1024 * 1024):
        svc, clock = rig.service()
        assert svc.manager.current.version == "v1"
        rig.publish("v2")
        filler = rig.tmp / "cache" / "filler"
        fill(filler)
        refresh(svc, clock)
        assert_serves_v1_and_reports(svc, "No space left on device")
        assert not list((rig.tmp / "cache").glob(".v2*")) and not (rig.tmp / "cache" / "v2").exists()
        filler.unlink()
        refresh(svc, clock)
        assert svc.manager.current.version == "v2" and svc.manager.last_error is None


@pytest.fixture
def local_release(tiny_pipeline, tmp_path):
    root = tmp_path / "releases-src"
    assert main(["publish", "--to", str(root), "--index", str(tiny_pipeline / "idx"), "--model",
                 str(tiny_pipeline / "model"), "--version", "v1"]) == 0
    return root


@needs_tmpfs
def test_disk_full_in_the_kiosk_outbox_answers_reports_and_recovers(local_release, tmp_path):
    from tests.test_edge import Running, make_kiosk

    with mounted_tmpfs(tmp_path / "kiosk", 8 * 1024 * 1024) as data:
        running = Running(make_kiosk(local_release, data))
        try:
            status, _, headers = running.json("POST", "/api/profile", PROFILE)
            assert status == 200 and headers["X-Outbox-Record"] != "not-saved"
            first = headers["X-Outbox-Record"]
            filler = data / "filler"
            fill(filler)
            saved = []
            for i in range(20):  # SQLite may still have a free page or two
                status, body, headers = running.json("POST", "/api/profile",
                                                     json.dumps({"text": f"喜欢旅行和摄影{i}" * 30}))
                assert status == 200 and body["tags"]  # the visitor still gets a profile
                if headers["X-Outbox-Record"] == "not-saved":
                    break
                saved.append(headers["X-Outbox-Record"])
            assert headers["X-Outbox-Record"] == "not-saved"
            health = running.operator_json()[1]
            assert "disk full" in health["kiosk"]["disk_full"]
            assert "disk is full" in health["kiosk"]["outbox"]["last_error"]

            filler.unlink()
            status, _, headers = running.json("POST", "/api/profile", PROFILE)
            assert status == 200 and headers["X-Outbox-Record"] != "not-saved"
            assert running.operator_json()[1]["kiosk"]["disk_full"] is None
            ob = running.kiosk.outbox
            assert ob.integrity() == "ok"
            ids = {r["id"] for r in ob.pending(10000)}
            assert ids == {first, headers["X-Outbox-Record"], *saved}  # nothing committed was lost
        finally:
            running.close()


@needs_tmpfs
def test_disk_full_while_the_kiosk_syncs_a_release_keeps_the_old_one(local_release, tiny_pipeline, tmp_path):
    from tests.test_edge import make_kiosk

    with mounted_tmpfs(tmp_path / "kiosk", 8 * 1024 * 1024) as data:
        k = make_kiosk(local_release, data)
        try:
            assert k.manager.current.version == "v1"
            assert main(["publish", "--to", str(local_release), "--index", str(tiny_pipeline / "idx"), "--model",
                         str(tiny_pipeline / "model"), "--version", "v2"]) == 0
            filler = data / "filler"
            fill(filler)
            out = k.sync_once()["release"]
            assert out["after"] == "v1" and "No space left on device" in out["error"]
            assert "No space left" in k.status()[1]["kiosk"]["disk_full"]
            assert answer_profile(k.service, PROFILE, "application/json")[0] == 200
            assert sorted(p.name for p in (data / "releases").iterdir()) == ["state.json", "v1"]
            filler.unlink()
            out = k.sync_once()["release"]
            assert out["after"] == "v2" and out["error"] is None and k.status()[1]["kiosk"]["disk_full"] is None
        finally:
            k.close()


# ------------------------------------------------------------------------------ killed at every step

PUBLISH_CHILD = KILL_PRELUDE + r"""
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/layer"]
import zlib
from coldstart.storage.s3 import S3Store
for name in ("put_file", "put_bytes", "download"):
    fault_wrap(S3Store, name)
from infra.cli import main
base, index, points = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
fault_fork_each(points, lambda k: main(["publish", "--to", f"{base}/k{k}", "--index", index, "--version", "v2"]))
"""


def run_killed(script, *argv):
    """One child process; it forks once per kill point (see faults.KILL_PRELUDE)."""
    done = subprocess.run([sys.executable, "-c", script, str(ROOT), *map(str, argv)],
                          env={**os.environ, "TQDM_DISABLE": "1"}, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and "RESULTS " in done.stdout, done.stderr[-3000:]
    return results_from(done.stdout), done.stderr


def verified(store, version):
    from infra.jobs.publish import _verify_remote

    return _verify_remote(store, version).version == version


def test_publish_killed_at_every_step_never_switches_to_an_incomplete_release(s3_bucket, s3_env, tmp_path):
    """The daily refresh (index only: v1's student carried forward) killed at every storage step."""
    from tests.synthetic import write_model
    from tests.test_publish import make_index

    _, bucket = s3_bucket
    base = f"s3://{bucket}"
    idx1 = make_index(tmp_path, "idx1", n=400, dim=16)
    idx2 = make_index(tmp_path, "idx2", n=400, dim=16, seed=9)
    assert main(["publish", "--to", f"{base}/seed", "--index", str(idx1), "--model",
                 str(write_model(tmp_path / "model1", idx1)), "--version", "v1"]) == 0
    client = s3_bucket[0].client()
    seed = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="seed/")["Contents"]]

    def copy_seed(k):  # every run starts from its own copy of a published v1
        for key in seed:
            client.copy_object(Bucket=bucket, Key=f"k{k}/" + key[len("seed/"):], CopySource={"Bucket": bucket, "Key": key})

    copy_seed(-1)
    results, stderr = run_killed(PUBLISH_CHILD, base, idx2, "[-1]")  # a dry run lists the steps
    assert results == {-1: 0}
    steps = steps_from(stderr)
    assert steps[0].startswith("before download releases/v1/model/")  # the student carried forward
    assert any(s.startswith("before put_file releases/v2/") for s in steps)
    assert steps[-1] == "after put_bytes current.json"
    assert any(s.startswith("before download releases/v2/") for s in steps)
    # "after step i" is "before step i+1": every point between two storage operations, plus the very end
    kill_points = [i for i, s in enumerate(steps) if s.startswith("before ")] + [len(steps) - 1]
    for k in kill_points:
        copy_seed(k)
    results, _ = run_killed(PUBLISH_CHILD, base, idx2, json.dumps(kill_points))
    for k in kill_points:
        assert results[k] == -signal.SIGKILL, steps[k]
        store = open_store(f"{base}/k{k}")
        switched = k == len(steps) - 1
        now = read_current(store).version
        assert now == ("v2" if switched else "v1"), steps[k]
        assert verified(store, now)  # whatever current.json names is complete and intact
        # The operator reruns the same command: it completes and switches (or says it is done).
        rerun = main(["publish", "--to", f"{base}/k{k}", "--index", str(idx2), "--version", "v2"])
        assert rerun == (1 if switched else 0), steps[k]
        assert read_current(store).version == "v2" and read_current(store).previous == "v1", steps[k]
        assert not switched or verified(store, "v2")  # (a rerun that switched has just verified it)


OUTBOX_CHILD = KILL_PRELUDE + r"""
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/layer"]
from pathlib import Path
from coldstart.storage import open_store
from coldstart.storage.s3 import S3Store
from edge.outbox import OUTBOX_FILE, Outbox
fault_wrap(S3Store, "put_bytes")
fault_wrap(Outbox, "mark_uploaded")
root, base, points = Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])

def upload(k):
    ob = Outbox(root / f"k{k}" / OUTBOX_FILE, "kiosk-test")
    print(json.dumps(ob.upload(open_store(f"{base}/k{k}"))))

fault_fork_each(points, upload)
"""


def s3_objects(server, bucket, prefix):
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"]: server.client().get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            for page in pages for o in page.get("Contents", [])}


def test_outbox_upload_killed_at_every_step_loses_and_duplicates_nothing(s3_bucket, s3_env, tmp_path):
    server, bucket = s3_bucket
    base = f"s3://{bucket}"
    template = tmp_path / "template" / OUTBOX_FILE
    ob = Outbox(template, "kiosk-test")
    rng = np.random.default_rng(0)
    ids = [ob.append(f"喜欢篮球 [PHONE] {i}", rng.random(8, dtype=np.float32), [{"tag": "体育", "score": 0.5}],
                     {"model_version": "v1/m"}) for i in range(3)]
    documents = {ob.key(r["id"]): ob.document(r) for r in ob.pending()}
    ob.close()

    shutil.copytree(template.parent, tmp_path / "k-1")
    results, stderr = run_killed(OUTBOX_CHILD, tmp_path, base, "[-1]")
    assert results == {-1: 0}
    steps = steps_from(stderr)
    assert len(steps) == 4 * len(ids)  # before/after the put, before/after the mark, per record
    for k in range(len(steps)):
        shutil.copytree(template.parent, tmp_path / f"k{k}")
    results, _ = run_killed(OUTBOX_CHILD, tmp_path, base, json.dumps(list(range(len(steps)))))
    for k, step in enumerate(steps):
        assert results[k] == -signal.SIGKILL, step
        ob = Outbox(tmp_path / f"k{k}" / OUTBOX_FILE, "kiosk-test")
        try:
            assert ob.integrity() == "ok" and ob.counts()["total"] == len(ids), step
            out = ob.upload(open_store(f"{base}/k{k}"))  # the next scheduled upload
            assert out["error"] is None and out["pending"] == 0 and out["uploaded"] == len(ids), step
        finally:
            ob.close()
        got = s3_objects(server, bucket, f"k{k}/")
        assert got == {f"k{k}/{key}": doc for key, doc in documents.items()}, step  # one object per record
