"""local/lambda_api.py: the real entrypoint (python -m awslambdaric app.handler) behind a local
Lambda Runtime API and an API Gateway HTTP API-like front.

No coldstart release is needed: app.handler is pointed at an EMPTY release directory, where the
real service answers 503 not_ready. Error paths use tiny throwaway handler modules in tmp_path.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from local.procs import pid_alive
from local.lambda_api import (
    MAX_PAYLOAD_BYTES,
    FunctionError,
    InitError,
    LocalLambda,
    http_api_event,
    rest_api_event,
    translate_response,
)

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
HEALTH_EVENT = EVENTS / "health_http.json"
# events/README.md: the 4xx answers do not depend on a release; everything else is 503 without one
EVENT_STATUS = {"profile_bad_json_rest.json": (400, "invalid_json"),
                "profile_missing_text_http.json": (400, "missing_text"),
                "profile_wrong_content_type_rest.json": (415, "unsupported_media_type"),
                "profile_text_too_long_http.json": (413, "text_too_long")}

# urllib must never send 127.0.0.1 through a proxy from the environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _request(url, method="GET", data=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def app_fn(tmp_path_factory):
    """app.handler through awslambdaric, release URI = an empty local directory."""
    tmp = tmp_path_factory.mktemp("local_lambda")
    release = tmp / "empty-release"
    release.mkdir()
    fn = LocalLambda(env={"COLDSTART_RELEASE_URI": str(release), "COLDSTART_CACHE_DIR": str(tmp / "cache")},
                     log_path=tmp / "lambda.log", init_timeout=60)
    fn.start()
    try:
        yield fn
    finally:
        fn.stop()


TOY = '''
import base64, json, time

def handler(event, context):
    path = event.get("rawPath")
    if path == "/boom":
        raise ValueError("boom: the handler raised")
    if path == "/sleep":
        time.sleep(float(event.get("queryStringParameters", {}).get("s", "5")))
    if path == "/bin":
        return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                "isBase64Encoded": True, "body": base64.b64encode(bytes(range(256))).decode()}
    if path == "/plain":
        return {"answer": 42}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "cookies": ["a=1; Path=/"],
            "body": json.dumps({"event": event, "remaining_ms": context.get_remaining_time_in_millis(),
                                "request_id": context.aws_request_id,
                                "function_arn": context.invoked_function_arn})}
'''


@pytest.fixture
def toy_fn(tmp_path):
    (tmp_path / "boom.py").write_text(TOY)
    fn = LocalLambda(handler="boom.handler", task_root=tmp_path, log_path=tmp_path / "lambda.log", timeout=5)
    fn.start()
    try:
        yield fn
    finally:
        fn.stop()


# ----------------------------------------------------------------- app.handler, empty release
def test_health_over_http_is_503_not_ready(app_fn):
    assert isinstance(app_fn.init_seconds, float) and app_fn.init_seconds > 0
    assert app_fn.runtime_api.startswith("127.0.0.1:")
    status, headers, body = _request(app_fn.url + "/health")
    assert status == 503
    assert headers["Content-Type"].startswith("application/json")
    payload = json.loads(body)
    assert payload["ready"] is False and payload["error"]["code"] == "not_ready"
    # the real reason (which names current.json's location) is for the operator's log, not the caller
    assert "current.json" not in payload["error"]["message"] and "no release" in payload["error"]["message"]


def test_profile_with_invalid_json_is_400_even_without_a_release(app_fn):
    # the route parses the body before the service checks readiness
    status, _, body = _request(app_fn.url + "/profile", "POST", b"{not json",
                               {"Content-Type": "application/json"})
    assert status == 400
    assert json.loads(body)["error"]["code"] == "invalid_json"
    status, _, body = _request(app_fn.url + "/profile", "POST", json.dumps({"text": "hiking and jazz"}).encode(),
                               {"Content-Type": "application/json"})
    assert status == 503
    assert json.loads(body)["error"]["code"] == "not_ready"


def test_invoke_raw_health_event(app_fn):
    if HEALTH_EVENT.exists():
        event = json.loads(HEALTH_EVENT.read_text())
    else:
        event = http_api_event("GET", "/health", headers={"User-Agent": "pytest"})
    response = app_fn.invoke(event)
    assert response["statusCode"] == 503
    assert response["isBase64Encoded"] is False
    assert json.loads(response["body"])["error"]["code"] == "not_ready"


@pytest.mark.skipif(not EVENTS.is_dir(), reason="no events/ directory")
def test_every_sample_event_through_the_runtime(app_fn):
    files = sorted(p for p in EVENTS.glob("*.json") if not p.name.startswith("sqs_"))  # sqs_*: update_handler
    assert files
    for f in files:
        response = app_fn.invoke(json.loads(f.read_text()))
        status, code = EVENT_STATUS.get(f.name, (503, "not_ready"))
        assert (response["statusCode"], json.loads(response["body"])["error"]["code"]) == (status, code), f.name


def test_rest_api_front_sends_payload_v1(tmp_path, app_fn):
    with LocalLambda(env=app_fn.extra_env, log_path=tmp_path / "l.log", payload_version="1.0") as fn:
        status, headers, body = _request(fn.url + "/health")
        assert status == 503 and json.loads(body)["error"]["code"] == "not_ready"
        status, _, body = _request(fn.url + "/profile", "POST", b"{}", {"Content-Type": "text/plain"})
        assert status == 415
    e = rest_api_event("POST", "/profile", b"{}", {"Content-Type": "application/json"}, "a=1&a=2")
    assert e["httpMethod"] == "POST" and e["resource"] == "/profile" and e["body"] == "{}"
    assert e["multiValueQueryStringParameters"] == {"a": ["1", "2"]} and e["queryStringParameters"] == {"a": "2"}


def test_body_over_6mb_is_413_without_invoking(app_fn):
    before = app_fn.invocations
    status, _, body = _request(app_fn.url + "/profile", "POST", b"x" * (MAX_PAYLOAD_BYTES + 1),
                               {"Content-Type": "application/json"})
    assert status == 413
    assert json.loads(body) == {"message": "Request Entity Too Large"}
    assert app_fn.invocations == before
    assert _request(app_fn.url + "/health")[0] == 503  # and the connection pool / child are fine


def test_awslambdaric_speaks_the_runtime_api(app_fn):
    calls = [(m, p) for m, p, _ in app_fn.runtime_calls]
    assert ("GET", "/2018-06-01/runtime/invocation/next") in calls
    posts = [(p, h) for m, p, h in app_fn.runtime_calls if m == "POST"]
    assert posts and all(p.startswith("/2018-06-01/runtime/invocation/") and p.endswith("/response")
                         for p, _ in posts)
    agent = next(h for m, p, h in app_fn.runtime_calls if m == "GET")["User-Agent"]
    assert agent.startswith("aws-lambda-python/")


# ----------------------------------------------------------------- toy handlers
def test_event_shape_and_response_translation(toy_fn):
    status, headers, body = _request(toy_fn.url + "/echo?a=1&a=2&b=x%20y", "POST", "héllo".encode(),
                                     {"Content-Type": "text/plain", "X-Custom": "v", "Cookie": "c1=1; c2=2"})
    assert status == 200
    assert headers["Set-Cookie"] == "a=1; Path=/" and "apigw-requestid" in headers
    out = json.loads(body)
    e = out["event"]
    assert e["version"] == "2.0" and e["routeKey"] == "POST /echo" and e["rawPath"] == "/echo"
    assert e["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert e["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert e["headers"]["x-custom"] == "v" and e["headers"]["content-type"] == "text/plain"
    assert e["cookies"] == ["c1=1", "c2=2"] and "cookie" not in e["headers"]
    assert e["body"] == "héllo" and e["isBase64Encoded"] is False
    http = e["requestContext"]["http"]
    assert http["method"] == "POST" and http["path"] == "/echo" and http["sourceIp"] == "127.0.0.1"
    assert "userAgent" in http and e["requestContext"]["requestId"] == headers["apigw-requestid"]
    assert isinstance(e["requestContext"]["timeEpoch"], int)
    assert 0 < out["remaining_ms"] <= 5000  # Lambda-Runtime-Deadline-Ms reached the context
    assert out["function_arn"] == toy_fn.function_arn

    # not UTF-8 -> base64 in, base64 response -> bytes out; non-proxy result -> 200 JSON
    status, _, body = _request(toy_fn.url + "/echo", "PUT", b"\xff\xfe\x00", {"Content-Type": "application/octet-stream"})
    e = json.loads(body)["event"]
    assert e["isBase64Encoded"] is True and e["body"] == "//4A"
    status, headers, body = _request(toy_fn.url + "/bin")
    assert status == 200 and body == bytes(range(256)) and headers["Content-Type"] == "application/octet-stream"
    status, headers, body = _request(toy_fn.url + "/plain")
    assert status == 200 and json.loads(body) == {"answer": 42} and headers["Content-Type"] == "application/json"


def test_handler_error_is_502_and_the_runtime_keeps_serving(toy_fn):
    pid = toy_fn.pid
    status, headers, body = _request(toy_fn.url + "/boom")
    assert status == 502
    assert json.loads(body) == {"message": "Internal server error"}
    with pytest.raises(FunctionError) as info:
        toy_fn.invoke(http_api_event("GET", "/boom"))
    assert info.value.error_type == info.value.payload["errorType"] == "ValueError"
    error_posts = [h for m, p, h in toy_fn.runtime_calls if m == "POST" and p.endswith("/error")]
    assert error_posts and "lambda-runtime-function-xray-error-cause" in error_posts[-1]
    assert "boom: the handler raised" in info.value.payload["errorMessage"]
    assert _request(toy_fn.url + "/ok")[0] == 200
    assert toy_fn.pid == pid and toy_fn.cold_starts == 1  # awslambdaric continues after an error


@pytest.mark.parametrize("timeouts, expected", [({"timeout": 1}, 504),  # API Gateway's 29 s, shortened
                                                 ({"timeout": 5, "function_timeout": 1}, 502)])  # Lambda Timeout
def test_timeout_recycles_the_instance(tmp_path, timeouts, expected):
    (tmp_path / "boom.py").write_text(TOY)
    with LocalLambda(handler="boom.handler", task_root=tmp_path, log_path=tmp_path / "l.log", **timeouts) as fn:
        pid = fn.pid
        t0 = time.monotonic()
        status, _, body = _request(fn.url + "/sleep?s=10")
        assert status == expected and time.monotonic() - t0 < 4
        assert not pid_alive(pid)
        assert _request(fn.url + "/ok")[0] == 200  # a fresh cold start
        assert fn.cold_starts == 2 and fn.pid != pid
        if "function_timeout" in timeouts:
            with pytest.raises(FunctionError, match="Task timed out after 1.00 seconds"):
                fn.invoke(http_api_event("GET", "/sleep", query="s=10"))


def test_init_error_fails_start_with_the_functions_message(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('config missing: COLDSTART_SOMETHING')\n"
                                        "def handler(event, context):\n    return {}\n")
    fn = LocalLambda(handler="broken.handler", task_root=tmp_path, log_path=tmp_path / "l.log", init_timeout=20)
    with pytest.raises(InitError) as info:
        fn.start()
    msg = str(info.value)
    assert "init" in msg and "config missing: COLDSTART_SOMETHING" in msg and "RuntimeError" in msg
    assert info.value.error.get("errorType") == "RuntimeError"
    assert not fn.running and fn.pid is None


def test_missing_handler_module_fails_start(tmp_path):
    fn = LocalLambda(handler="nosuchmodule.handler", task_root=tmp_path, log_path=tmp_path / "l.log")
    with pytest.raises(InitError, match="Unable to import module 'nosuchmodule'"):
        fn.start()


def test_stop_leaves_no_child_and_is_idempotent(tmp_path):
    (tmp_path / "boom.py").write_text(TOY)
    fn = LocalLambda(handler="boom.handler", task_root=tmp_path, log_path=tmp_path / "l.log")
    fn.start()
    pid, url = fn.pid, fn.url
    assert pid and pid_alive(pid)
    fn.stop()
    assert not pid_alive(pid) and fn.pid is None
    fn.stop()
    with pytest.raises(OSError):
        _OPENER.open(url + "/ok", timeout=2)


def test_translate_response_rejects_malformed_proxy_responses():
    assert translate_response({"statusCode": 204})[:1] == (204,)
    for bad in ({"statusCode": "abc"}, {"statusCode": 200, "body": {"not": "a string"}},
                {"statusCode": 200, "isBase64Encoded": True, "body": "%%%"}):
        with pytest.raises(ValueError):
            translate_response(bad)


# ----------------------------------------------------------------- CLI
def test_cli_invoke_prints_the_lambda_response(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps(http_api_event("GET", "/health")))
    release = tmp_path / "rel"
    release.mkdir()
    env = {**os.environ, "COLDSTART_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "local.lambda_api", "invoke", str(event), "--release-uri",
                           str(release), "--log", str(tmp_path / "l.log")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["statusCode"] == 503
    assert "init" in proc.stderr
    assert '"message":"init"' in (tmp_path / "l.log").read_text()  # the function's Powertools log went to the file
