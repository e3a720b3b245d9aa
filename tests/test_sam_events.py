"""SAM parity: events made by `sam local generate-event` at test time (the sam-cli in .venv-sam,
installed by `make test`), driven through the real function/app.py handlers.

What these events look like, and what the handler must do with them:
- API Gateway events from sam carry no Content-Type (real clients often omit it too): read as JSON;
  an explicit non-JSON type is still refused (415).
- sam base64-encodes the body (``isBase64Encoded: true``); a string "false" is not a boolean.
- HTTP API (2.0) events from sam name a stage ("prod") but leave it out of rawPath; API Gateway with a
  named stage puts it in rawPath (``/prod/profile``). Both route to /profile; nothing else does.
- An unparseable SQS message is reported in batchItemFailures, so it reaches the dead-letter queue.
"""
from __future__ import annotations

import base64
import copy
import importlib
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.test_handler import FakeContext

SAM = ROOT / ".venv-sam" / "bin" / "sam"


def generate(*args: str) -> dict:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    done = subprocess.run([str(SAM), "local", "generate-event", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def sam_events():
    assert SAM.is_file(), "sam-cli is installed by `make sam-setup` (a prerequisite of `make test`)"
    body = json.dumps({"text": "我喜欢看科幻电影和打篮球"}, ensure_ascii=False)
    return {
        "rest_profile": generate("apigateway", "aws-proxy", "--method", "POST", "--path", "profile",
                                 "--resource", "/profile", "--body", body),
        "rest_health": generate("apigateway", "aws-proxy", "--method", "GET", "--path", "health",
                                "--resource", "/health", "--body", ""),
        "http_profile": generate("apigateway", "http-api-proxy", "--method", "POST", "--path", "profile",
                                 "--stage", "prod", "--body", body),
        "sqs_poison": generate("sqs", "receive-message", "--body", "not json {"),
    }


@pytest.fixture
def app(tiny_pipeline, tmp_path, monkeypatch):
    from infra.cli import main

    store = tmp_path / "store"
    assert main(["publish", "--to", str(store), "--index", str(tiny_pipeline / "idx"),
                 "--model", str(tiny_pipeline / "model"), "--version", "sam1"]) == 0
    monkeypatch.setenv("COLDSTART_RELEASE_URI", str(store))
    monkeypatch.setenv("COLDSTART_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLDSTART_PROFILE_STORE_URI", str(tmp_path / "profiles"))
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ColdstartTest")
    monkeypatch.syspath_prepend(str(ROOT / "function"))
    sys.modules.pop("app", None)
    module = importlib.import_module("app")
    yield module
    sys.modules.pop("app", None)


def call(app, event):
    response = app.handler(copy.deepcopy(event), FakeContext())
    return response["statusCode"], json.loads(response["body"])


def test_sam_events_have_no_content_type_and_a_base64_body(sam_events):
    for name in ("rest_profile", "http_profile"):
        event = sam_events[name]
        assert not any(k.lower() == "content-type" for k in event["headers"]), name
        assert event["isBase64Encoded"] is True
        assert json.loads(base64.b64decode(event["body"]))["text"]


def test_a_post_profile_without_content_type_is_profiled(app, sam_events):
    for name in ("rest_profile", "http_profile"):
        status, body = call(app, sam_events[name])
        assert status == 200, (name, body)
        assert body["top_tag"] and body["model_version"].startswith("sam1/")


def test_health_from_a_sam_event(app, sam_events):
    status, body = call(app, sam_events["rest_health"])
    assert status == 200 and body["ready"] is True and body["release"] == "sam1"


def test_an_explicit_non_json_content_type_is_still_refused(app, sam_events):
    event = copy.deepcopy(sam_events["rest_profile"])
    event["headers"]["Content-Type"] = "text/plain"
    status, body = call(app, event)
    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")


def test_is_base64_encoded_must_be_a_boolean(app, sam_events):
    event = copy.deepcopy(sam_events["rest_profile"])
    event["isBase64Encoded"] = "false"  # a string: not "false", and not true either
    status, body = call(app, event)
    assert (status, body["error"]["code"]) == (400, "invalid_event")
    event["isBase64Encoded"] = False
    event["body"] = json.dumps({"text": "我喜欢打篮球"})
    assert call(app, event)[0] == 200


def test_http_api_named_stage_is_stripped_and_routes_are_exact(app, sam_events):
    staged = copy.deepcopy(sam_events["http_profile"])
    staged["rawPath"] = "/prod/profile"  # as API Gateway sends it with a named stage
    staged["requestContext"]["http"]["path"] = "/prod/profile"
    assert call(app, staged)[0] == 200
    for path in ("/x/y/profile", "/prod/x/profile", "/profilex", "/prod"):
        event = copy.deepcopy(sam_events["http_profile"])
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        status, body = call(app, event)
        assert (status, body["error"]["code"]) == (404, "not_found"), path
    for path in ("/x/y/profile", "/api/profile"):
        event = copy.deepcopy(sam_events["rest_profile"])
        event["path"] = event["requestContext"]["path"] = path
        status, body = call(app, event)
        assert (status, body["error"]["code"]) == (404, "not_found"), path


def test_a_poison_sqs_message_is_reported_for_the_dead_letter_queue(app, sam_events):
    event = copy.deepcopy(sam_events["sqs_poison"])
    message_id = event["Records"][0]["messageId"]
    assert app.update_handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": message_id}]}
