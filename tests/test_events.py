"""events/*.json: sample API Gateway events (REST payload v1 `*_rest.json`, HTTP API payload v2 `*_http.json`).

These tests check the files themselves; what the handler answers to each is tested in tests/test_handler.py.
"""
import base64
import json
import re
from pathlib import Path

import pytest

from coldstart.pii import id_card_valid, mask_pii

EVENTS = Path(__file__).resolve().parents[1] / "events"

EXPECTED = {
    "profile_rest.json", "profile_http.json", "profile_pii_rest.json", "profile_base64_http.json",
    "profile_bad_json_rest.json", "profile_missing_text_http.json", "profile_wrong_content_type_rest.json",
    "profile_text_too_long_http.json", "health_rest.json", "health_http.json",
}
# API Gateway events; sqs_*.json are SQS batches for update_handler (tests/test_profile_updates.py)
FILES = sorted(p for p in EVENTS.glob("*.json") if not p.name.startswith("sqs_"))
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def _load(name):
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def _is_v2(name):
    return name.endswith("_http.json")


def _method_path(event):
    if event.get("version") == "2.0":
        return event["requestContext"]["http"]["method"], event["rawPath"]
    return event["httpMethod"], event["path"]


def _header(event, name):
    matches = [v for k, v in (event.get("headers") or {}).items() if k.lower() == name]
    assert len(matches) <= 1
    return matches[0] if matches else None


def _body_text(event):
    body = event["body"]
    if event.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True).decode("utf-8")
    return body


def test_the_expected_files_are_there():
    assert {p.name for p in FILES} == EXPECTED
    assert (EVENTS / "README.md").is_file()
    readme = (EVENTS / "README.md").read_text(encoding="utf-8")
    for name in EXPECTED:
        assert f"`{name}`" in readme, f"events/README.md does not list {name}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_event_parses_and_has_its_payload_version_fields(path):
    event = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(event, dict)
    if _is_v2(path.name):
        assert event["version"] == "2.0"
        assert event["routeKey"] == f'{event["requestContext"]["http"]["method"]} {event["rawPath"]}'
        assert event["requestContext"]["http"]["method"] in ("GET", "POST")
        assert event["requestContext"]["http"]["path"] == event["rawPath"]
        assert event["requestContext"]["routeKey"] == event["routeKey"]
        assert "body" in event and "isBase64Encoded" in event
    else:
        assert path.name.endswith("_rest.json")
        assert "version" not in event
        for key in ("httpMethod", "path", "body", "headers", "requestContext"):
            assert key in event, key
        ctx = event["requestContext"]
        assert ctx["httpMethod"] == event["httpMethod"]
        assert ctx["resourcePath"] == event["resource"] == event["path"]
        assert ctx["path"] == f'/{ctx["stage"]}{event["path"]}'
        # REST events carry every header twice; a Content-Type must agree in both
        for key, value in event["headers"].items():
            if key.lower() == "content-type":
                assert event["multiValueHeaders"][key] == [value]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_routes_and_content_types(path):
    event = json.loads(path.read_text(encoding="utf-8"))
    method, route = _method_path(event)
    if path.name.startswith("health_"):
        assert (method, route) == ("GET", "/health")
        assert event["body"] is None and event["isBase64Encoded"] is False
        return
    assert (method, route) == ("POST", "/profile")
    content_type = _header(event, "content-type")
    if path.name == "profile_wrong_content_type_rest.json":
        assert content_type == "text/plain"
        json.loads(_body_text(event))  # only the header is wrong
    else:
        assert content_type == "application/json", "without it the handler answers 415 before anything else"


def test_plain_profile_events():
    rest = _load("profile_rest.json")
    assert rest["isBase64Encoded"] is False
    assert json.loads(rest["body"]) == {"text": "我平时喜欢踢足球和看NBA比赛"}
    http = _load("profile_http.json")
    assert http["isBase64Encoded"] is False
    assert json.loads(http["body"]) == {"user_id": "new-001", "text": "最近在准备考研，想多学点编程知识", "k": 10}


def test_pii_event_has_a_valid_id_number_and_mobile_number():
    event = _load("profile_pii_rest.json")
    text = json.loads(event["body"])["text"]
    assert text.startswith("产品经理，喜欢徒步和摄影，电话13812345678，身份证")
    (id_number,) = ID_NUMBER.findall(text)
    assert id_number[:17] == "11010119900307123"
    assert id_card_valid(id_number)  # GB 11643 check character
    assert not id_card_valid(id_number[:17] + ("0" if id_number[17] != "0" else "1"))
    assert MOBILE.findall(text) == ["13812345678"]
    counts = mask_pii(text).counts  # the event exercises both maskers
    assert counts.get("ID_CARD") == 1 and counts.get("PHONE") == 1


def test_base64_event_decodes_to_json_with_text():
    event = _load("profile_base64_http.json")
    assert event["isBase64Encoded"] is True
    payload = json.loads(base64.b64decode(event["body"], validate=True).decode("utf-8"))
    assert isinstance(payload["text"], str) and payload["text"]


def test_bad_json_event_is_not_json():
    event = _load("profile_bad_json_rest.json")
    assert event["body"].strip() == '{"text":'
    with pytest.raises(json.JSONDecodeError):
        json.loads(event["body"])


def test_missing_text_event():
    payload = json.loads(_body_text(_load("profile_missing_text_http.json")))
    assert payload == {"k": 5}


def test_text_too_long_event():
    text = json.loads(_body_text(_load("profile_text_too_long_http.json")))["text"]
    assert len(text) > 2000  # COLDSTART_MAX_TEXT_CHARS
    assert len(text) == 2001
