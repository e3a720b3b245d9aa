"""function/app.py: every event in events/ through the real handler, with a published release;
the awslambdaric entrypoint through the local Runtime API; and no raw PII in logs."""
import importlib
import json
import sys

import pytest

from tests.conftest import ROOT

EVENTS = ROOT / "events"
EXPECTED = {
    "profile_rest.json": (200, None), "profile_http.json": (200, None), "profile_pii_rest.json": (200, None),
    "profile_base64_http.json": (200, None), "profile_bad_json_rest.json": (400, "invalid_json"),
    "profile_missing_text_http.json": (400, "missing_text"),
    "profile_wrong_content_type_rest.json": (415, "unsupported_media_type"),
    "profile_text_too_long_http.json": (413, "text_too_long"), "health_rest.json": (200, None),
    "health_http.json": (200, None),
}


def header(response, name):
    """A response header, from ``headers`` (HTTP API) or ``multiValueHeaders`` (REST: Powertools'
    REST resolver answers with multi-value headers, which API Gateway accepts)."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return values[-1]
    raise KeyError(name)


class FakeContext:
    function_name = "coldstart"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart"
    aws_request_id = "test-request"


@pytest.fixture(scope="module")
def local_release(tiny_pipeline, tmp_path_factory):
    """The tiny release published to a directory store (the handler reads it like S3)."""
    from infra.cli import main

    root = tmp_path_factory.mktemp("release-store")
    assert main(["publish", "--to", str(root), "--index", str(tiny_pipeline / "idx"),
                 "--model", str(tiny_pipeline / "model"), "--version", "t1"]) == 0
    return root


@pytest.fixture
def app(local_release, tmp_path, monkeypatch):
    monkeypatch.setenv("COLDSTART_RELEASE_URI", str(local_release))
    monkeypatch.setenv("COLDSTART_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ColdstartTest")
    monkeypatch.syspath_prepend(str(ROOT / "function"))
    sys.modules.pop("app", None)
    module = importlib.import_module("app")
    yield module
    sys.modules.pop("app", None)


def test_events_folder_is_covered():
    # sqs_*.json go to update_handler: tests/test_profile_updates.py
    assert sorted(p.name for p in EVENTS.glob("*.json") if not p.name.startswith("sqs_")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_event_gets_its_expected_answer(app, name):
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    response = app.handler(event, FakeContext())
    status, code = EXPECTED[name]
    body = json.loads(response["body"])
    assert response["statusCode"] == status, body
    assert header(response, "Content-Type").startswith("application/json")
    if code:
        assert body["error"]["code"] == code and body["error"]["message"]
    elif name.startswith("profile"):
        assert body["top_tag"] and body["tags"] and body["index_version"].startswith("t1/")
    else:
        assert body["ready"] is True and body["release"] == "t1"


def test_pii_never_reaches_logs_metrics_or_response(app, capsys):
    event = json.loads((EVENTS / "profile_pii_rest.json").read_text(encoding="utf-8"))
    response = app.handler(event, FakeContext())
    out = capsys.readouterr()
    everything = out.out + out.err + response["body"]
    for secret in ("13812345678", "110101199003071233", "1381234"):
        assert secret not in everything
    body = json.loads(response["body"])
    assert body["pii_masked"] == {"PHONE": 1, "ID_CARD": 1}
    metrics = [json.loads(line) for line in out.out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for doc in metrics for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"Requests", "LatencyMs", "CacheHit", "Fallback", "PiiMaskedPhone", "PiiMaskedIdCard"} <= names


def test_no_release_answers_503_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("COLDSTART_RELEASE_URI", str(tmp_path / "empty"))
    monkeypatch.setenv("COLDSTART_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(ROOT / "function"))
    sys.modules.pop("app", None)
    app = importlib.import_module("app")
    try:
        for name in ("health_rest.json", "profile_rest.json"):
            response = app.handler(json.loads((EVENTS / name).read_text(encoding="utf-8")), FakeContext())
            body = json.loads(response["body"])
            assert response["statusCode"] == 503
            assert body["error"]["code"] == "not_ready" and "no release" in body["error"]["message"]
    finally:
        sys.modules.pop("app", None)


def test_garbage_events_never_give_a_5xx(app):
    for event in ({}, {"httpMethod": "POST"}, {"version": "2.0"}, {"httpMethod": "POST", "path": "/profile",
                  "headers": None, "body": None}, {"httpMethod": "POST", "path": "/profile", "isBase64Encoded": True,
                  "headers": {"content-type": "application/json"}, "body": "%%%not-base64"}, []):
        response = app.handler(event, FakeContext())
        assert 400 <= response["statusCode"] < 500, (event, response)


def test_awslambdaric_entrypoint_serves_a_profile(local_release, tmp_path):
    """The container's real entrypoint: python -m awslambdaric app.handler, via a local Runtime API."""
    import urllib.request

    from local.lambda_api import LocalLambda

    env = {"COLDSTART_RELEASE_URI": str(local_release), "COLDSTART_CACHE_DIR": str(tmp_path / "cache")}
    with LocalLambda(env=env, payload_version="1.0", log_path=tmp_path / "lambda.log") as function:
        request = urllib.request.Request(function.url + "/profile", method="POST",
                                         data=json.dumps({"text": "我喜欢看科幻电影和打篮球"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        assert response.status == 200 and body["top_tag"] and body["index_version"].startswith("t1/")
        assert function.init_seconds > 0


def test_the_serving_path_imports_no_paddle(local_release, tmp_path):
    """Regression guard: the Lambda must not pay paddle's ~1.7 GB / 3 s import."""
    import subprocess

    code = ("import json, sys, types; import app; "
            "ctx = types.SimpleNamespace(function_name='f', memory_limit_in_mb=1, invoked_function_arn='a', "
            "aws_request_id='r'); ev = json.load(open(sys.argv[1])); r = app.handler(ev, ctx); "
            "print(json.dumps({'status': r['statusCode'], 'paddle': sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('paddle', 'paddlenlp', 'paddle2onnx'))}))")
    env = {"PATH": "/usr/bin:/bin", "COLDSTART_RELEASE_URI": str(local_release),
           "COLDSTART_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": ":".join(str(p) for p in (ROOT / "function", ROOT / "layer"))}
    done = subprocess.run([sys.executable, "-c", code, str(EVENTS / "profile_rest.json")], cwd=ROOT / "function",
                          env=env, capture_output=True, text=True, timeout=120)
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"status"')]
    assert results == [{"status": 200, "paddle": []}], done.stdout[-2000:] + done.stderr[-2000:]


def test_an_http_api_event_with_a_null_header_value_is_a_400_not_a_crash(app):
    """Fuzz finding: Powertools' v2 header parsing splits every value and raised TypeError on null."""
    event = {"version": "2.0", "routeKey": "GET /health", "rawPath": "/health", "headers": {"Header1": None},
             "requestContext": {"http": {"method": "GET", "path": "/health"}, "stage": "$default"}}
    response = app.handler(event, FakeContext())
    body = json.loads(response["body"])
    assert response["statusCode"] == 400 and body["error"]["code"] == "invalid_event"
    assert "headers must be an object of strings" in body["error"]["message"]


@pytest.mark.parametrize("field, value", [
    ("multiValueHeaders", {"Accept-Encoding": [None]}),  # hypothesis finding: Powertools joined the list
    ("headers", {"Accept": None}),
    ("queryStringParameters", {"q": 1}),
    ("multiValueQueryStringParameters", {"q": "not a list"}),
])
def test_a_rest_event_with_non_string_header_or_query_values_is_a_400(app, field, value):
    event = {"resource": "/health", "path": "/health", "httpMethod": "GET", "body": None, field: value,
             "requestContext": {"stage": "prod"}}
    response = app.handler(event, FakeContext())
    assert response["statusCode"] == 400 and json.loads(response["body"])["error"]["code"] == "invalid_event"
