"""Every storage call is bounded in time: against an S3 endpoint that accepts TCP connections and
never answers (a "black hole"), each call fails with a StorageError inside
``StoreSettings.call_budget_seconds``, and the Lambda's init, /health, a ``store: true`` profile and
a queued update finish inside its 10 s timeout with a clear failure.

Regression: with botocore's defaults (60 s read timeout) and the old settings (30 s, 4 attempts)
each of those took ~120 s. "Connection refused" always failed fast; a black hole is what a stuck
proxy, a full security group or a hung S3 front end look like.

Every call runs under a watchdog (``bounded``) and every child process under a timeout, so a
regression fails the test instead of hanging it.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from coldstart.errors import StorageError
from coldstart.storage import StoreSettings
from coldstart.storage.s3 import S3Store
from infra.cli import main
from tests.conftest import ROOT

LAMBDA_TIMEOUT = 10.0  # template.yaml: ProfileFunction Timeout
SLACK = 1.5            # thread start-up, interpreter noise on a shared 2-core machine


class BlackHole:
    """127.0.0.1:port accepts connections (the kernel completes the handshake, a thread accepts
    them) and never sends a byte. Counts connections: one per attempt."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)  # kept open, never read, never answered

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        self.closed = True
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def hole():
    h = BlackHole()
    yield h
    h.close()


def bounded(fn, limit):
    """Run ``fn`` on a watchdog thread; (seconds it took, what it raised). Fails after ``limit`` + 5 s."""
    result = {}

    def run():
        started = time.monotonic()
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001  the test inspects it
            result["error"] = exc
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit + 5)
    assert not thread.is_alive(), f"still running after {limit + 5:.1f} s: the call is not bounded"
    return result["seconds"], result.get("error")


FAST = dict(connect_timeout=0.3, read_timeout=0.6, max_attempts=2)  # a small budget keeps the test quick


def store_calls(store, tmp_path):
    local = tmp_path / "upload.bin"
    local.write_bytes(b"x" * 1000)
    return {
        "get_bytes": lambda: store.get_bytes("current.json"),
        "get_versioned": lambda: store.get_versioned("profiles/a.json"),
        "put_bytes": lambda: store.put_bytes("profiles/a.json", b"{}"),
        "put_if_unchanged": lambda: store.put_if_unchanged("profiles/a.json", b"{}", None),
        "put_file": lambda: store.put_file("releases/v1/index/index.ann", local),
        "download": lambda: store.download("releases/v1/index/index.ann", tmp_path / "down.bin"),
        "iter_chunks": lambda: list(store.iter_chunks("releases/v1/index/index.ann")),
        "size": lambda: store.size("releases/v1/release.json"),
        "exists": lambda: store.exists("releases/v1/release.json"),
        "list": lambda: store.list("releases/"),
        "delete": lambda: store.delete("profiles/a.json"),
    }


CALLS = ["get_bytes", "get_versioned", "put_bytes", "put_if_unchanged", "put_file", "download", "iter_chunks",
         "size", "exists", "list", "delete"]


@pytest.mark.parametrize("call", CALLS)
def test_every_store_call_fails_within_its_budget_against_a_black_hole(hole, tmp_path, call, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    settings = StoreSettings(endpoint_url=hole.url, **FAST)
    store = S3Store("bucket", "cs", settings=settings)
    seconds, error = bounded(store_calls(store, tmp_path)[call], settings.call_budget_seconds)
    assert isinstance(error, StorageError), repr(error)
    assert "did not answer within 0.6 s" in str(error) and hole.url in str(error)
    assert seconds <= settings.call_budget_seconds + SLACK, (seconds, settings.call_budget_seconds)
    assert 1 <= len(hole.held) <= settings.max_attempts  # retried, but only as configured
    assert not (tmp_path / "down.bin").exists()  # a failed download leaves nothing


def test_the_default_settings_fit_a_call_inside_the_lambda_timeout(hole, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    settings = StoreSettings(endpoint_url=hole.url)
    assert settings.call_budget_seconds < LAMBDA_TIMEOUT - 1  # room for the request itself
    seconds, error = bounded(lambda: S3Store("bucket", "cs", settings=settings).get_bytes("current.json"),
                             settings.call_budget_seconds)
    assert isinstance(error, StorageError) and seconds <= settings.call_budget_seconds + SLACK
    assert len(hole.held) == settings.max_attempts


def test_settings_come_from_the_environment_and_bad_values_are_refused():
    env = {"COLDSTART_S3_CONNECT_TIMEOUT": "0.5", "COLDSTART_S3_READ_TIMEOUT": "1.5", "COLDSTART_S3_MAX_ATTEMPTS": "3",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    settings = StoreSettings.from_env(env)
    assert (settings.connect_timeout, settings.read_timeout, settings.max_attempts) == (0.5, 1.5, 3)
    assert settings.endpoint_url == "http://127.0.0.1:1"
    # 3 x (0.5 + 1.5) + backoffs 0.05 + 0.1, then max(one body read, 3 x 1 s of "100 Continue")
    assert settings.call_budget_seconds == pytest.approx(6.0 + 0.15 + 3.0)
    with pytest.raises(ValueError, match="COLDSTART_S3_READ_TIMEOUT='soon'"):
        StoreSettings.from_env({"COLDSTART_S3_READ_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="max_attempts >= 1"):
        StoreSettings.from_env({"COLDSTART_S3_MAX_ATTEMPTS": "0"})


# ------------------------------------------------------------------------------ the Lambda, end to end

LAMBDA_CHILD = r"""
import json, sys, time
sys.path[:0] = [sys.argv[1] + "/function", sys.argv[1] + "/layer"]
t0 = time.monotonic()
import app
out = {"init": [time.monotonic() - t0, None]}
class Ctx:
    function_name = "coldstart"; memory_limit_in_mb = 1769; aws_request_id = "bounds"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart"
def call(name, fn):
    t = time.monotonic()
    r = fn()
    out[name] = [time.monotonic() - t, r]
events = sys.argv[1] + "/events/"
health = json.load(open(events + "health_rest.json"))
profile = json.load(open(events + "profile_rest.json"))
profile["body"] = json.dumps({"text": "我平时喜欢踢足球和看NBA比赛", "user_id": "u-bounds", "store": True})
profile["requestContext"]["authorizer"] = {"claims": {"sub": "u-bounds"}}  # storing needs the user's own identity
update = json.load(open(events + "sqs_update.json"))
update["Records"] = update["Records"][:1]
for step in sys.argv[2].split(","):
    if step == "health":
        call("health", lambda: app.handler(health, Ctx()))
    elif step == "wait":
        time.sleep(5.5)  # past the not-ready retry interval: the next request tries S3 again
    elif step == "profile":
        call("profile", lambda: app.handler(profile, Ctx()))
    elif step == "update":
        call("update", lambda: app.update_handler(update, Ctx()))
out["last_error"] = app.SERVICE.manager.last_error if app.SERVICE.manager else None
print("RESULT " + json.dumps(out, ensure_ascii=False))
"""


def run_lambda(env, steps):
    child_env = {**os.environ, "POWERTOOLS_METRICS_NAMESPACE": "BoundsTest", "AWS_ACCESS_KEY_ID": "x",
                 "AWS_SECRET_ACCESS_KEY": "y", **env}
    for var in ("COLDSTART_S3_CONNECT_TIMEOUT", "COLDSTART_S3_READ_TIMEOUT", "COLDSTART_S3_MAX_ATTEMPTS",
                "AWS_ENDPOINT_URL_S3"):
        child_env.pop(var, None)  # the defaults are what is tested
    done = subprocess.run([sys.executable, "-c", LAMBDA_CHILD, str(ROOT), steps], env=child_env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    return json.loads(line[len("RESULT "):])


def test_init_and_health_end_within_the_lambda_timeout_with_a_clear_503(hole, tmp_path):
    out = run_lambda({"AWS_ENDPOINT_URL": hole.url, "COLDSTART_RELEASE_URI": "s3://releases/cs",
                      "COLDSTART_CACHE_DIR": str(tmp_path / "cache")}, "health,wait,health")
    budget = StoreSettings().call_budget_seconds
    assert out["init"][0] <= budget + 3.0  # + interpreter start and imports
    seconds, response = out["health"]
    assert seconds <= budget + SLACK and response["statusCode"] == 503
    assert json.loads(response["body"])["error"]["code"] == "not_ready"  # the body names no internals...
    assert "did not answer within 2 s" in out["last_error"] and "current.json" in out["last_error"]  # ...the log does


@pytest.fixture
def local_release(tmp_path):
    from tests.synthetic import clustered, write_embeddings, write_model

    emb = write_embeddings(tmp_path / "emb", clustered(600, dim=16))
    assert main(["build-index", "--embeddings", str(emb), "--out", str(tmp_path / "idx"), "--queries", "50"]) == 0
    model = write_model(tmp_path / "model", tmp_path / "idx")
    root = tmp_path / "releases"
    assert main(["publish", "--to", str(root), "--index", str(tmp_path / "idx"), "--model", str(model),
                 "--version", "v1"]) == 0
    return root


def test_a_store_request_and_an_update_end_within_the_lambda_timeout_when_the_profile_store_hangs(
        hole, tmp_path, local_release):
    out = run_lambda({"AWS_ENDPOINT_URL": hole.url, "COLDSTART_RELEASE_URI": str(local_release),
                      "COLDSTART_CACHE_DIR": str(tmp_path / "cache"),
                      "COLDSTART_PROFILE_STORE_URI": "s3://profiles-bucket/cs/profiles"}, "profile,update")
    budget = StoreSettings().call_budget_seconds
    seconds, response = out["profile"]
    assert seconds <= LAMBDA_TIMEOUT and seconds <= budget + SLACK, seconds
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 and body["stored"] is False  # the profile is answered, not stored
    seconds, response = out["update"]
    assert seconds <= budget + SLACK, seconds
    assert response == {"batchItemFailures": [{"itemIdentifier": "19dd0b57-b21e-4ac1-bd88-01bbb068cb78"}]}
