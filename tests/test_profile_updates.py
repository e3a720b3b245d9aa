"""The profile store and profile updates through SQS (function/app.py:update_handler), against the
real S3 server: opt-in storage keyed by HMAC pseudonyms with no raw id or PII, who may write and
erase a profile, version ordering, duplicates, malformed messages, and partial batch failures."""
import copy
import hashlib
import importlib
import json
import sys

import pytest
from botocore.exceptions import ClientError

from coldstart.pseudonyms import Pseudonymizer
from coldstart.storage import open_store
from infra.cli import main
from tests.conftest import ROOT, TEST_KEY_FILE
from tests.test_handler import FakeContext

KEYS = Pseudonymizer.from_file(TEST_KEY_FILE)

EVENTS = ROOT / "events"
PHONE = "13812345678"


def _rest_event(body, subject=None):
    """POST /profile as API Gateway (REST) sends it; ``subject``: the signed-in user's Cognito ``sub``."""
    event = json.loads((EVENTS / "profile_rest.json").read_text(encoding="utf-8"))
    event["body"] = json.dumps(body, ensure_ascii=False)
    if subject is not None:
        event["requestContext"]["authorizer"] = {"claims": {"sub": subject}}
    return event


def _sqs_event(*messages):
    """SQS batch in the shape of events/sqs_update.json; messages: (message_id, body dict or raw str)."""
    template = json.loads((EVENTS / "sqs_update.json").read_text(encoding="utf-8"))["Records"][0]
    records = []
    for message_id, body in messages:
        record = copy.deepcopy(template)
        record["messageId"] = message_id
        record["body"] = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        record["md5OfBody"] = hashlib.md5(record["body"].encode("utf-8")).hexdigest()
        records.append(record)
    return {"Records": records}


@pytest.fixture
def stack(s3_bucket, s3_env, tiny_pipeline, tmp_path, monkeypatch):
    """function/app.py with a release on S3 and the profile store under the same prefix."""
    bucket = s3_bucket[1]
    uri = f"s3://{bucket}/cs"
    assert main(["publish", "--to", uri, "--index", str(tiny_pipeline / "idx"), "--model",
                 str(tiny_pipeline / "model"), "--version", "t1"]) == 0
    monkeypatch.setenv("COLDSTART_RELEASE_URI", uri)
    monkeypatch.setenv("COLDSTART_PROFILE_STORE_URI", f"{uri}/profiles")
    monkeypatch.setenv("COLDSTART_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ColdstartTest")
    monkeypatch.syspath_prepend(str(ROOT / "function"))
    sys.modules.pop("app", None)
    app = importlib.import_module("app")
    client = s3_bucket[0].client()

    def objects():
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="cs/profiles/")
        return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                for page in pages for o in page.get("Contents", [])}

    yield app, objects
    sys.modules.pop("app", None)


def _signup(app, body, subject="same"):
    """Sign up as the user the body names (``subject="same"``), as another user, or anonymously (None)."""
    subject = body.get("user_id") if subject == "same" else subject
    response = app.handler(_rest_event(body, subject), FakeContext())
    return response["statusCode"], json.loads(response["body"])


def _key(user_id):
    return "cs/profiles/" + KEYS.user_key(user_id) + ".json"


def _record(objects, user_id):
    return json.loads(objects()[_key(user_id)])


# ---------------------------------------------------------------- the store, opt-in at sign-up

def test_store_opt_in_writes_one_keyed_object_without_raw_id_or_pii(stack, capsys):
    app, objects = stack
    user_id = "user-42@example.com"
    text = f"产品经理，喜欢徒步和摄影，电话{PHONE}"
    status, body = _signup(app, {"user_id": user_id, "text": text, "fields": {"occupation": "产品经理"},
                                 "store": True})
    assert status == 200 and body["stored"] is True
    stored = objects()
    assert list(stored) == [_key(user_id)]
    # neither the key nor the body names the user: an unkeyed sha256 of the id would be enumerable
    assert hashlib.sha256(user_id.encode()).hexdigest() not in list(stored)[0]
    raw = next(iter(stored.values())).decode("utf-8")
    assert PHONE not in raw and "1381234" not in raw and user_id not in raw and "example.com" not in raw
    record = json.loads(raw)
    assert "user_id" not in record and record["user_key"] == KEYS.user_key(user_id) and record["version"] == 0
    assert "[PHONE]" in record["text"] and "[PHONE]" in record["masked_text"]
    assert record["fields"] == {"occupation": "产品经理"}
    assert record["top_tag"] == body["top_tag"] and record["tags"] == body["tags"]
    assert record["model_version"].startswith("t1/") and record["index_version"].startswith("t1/")
    assert isinstance(record["embedding"], list) and len(record["embedding"]) > 0
    assert record["updated_at"]

    # a retried sign-up overwrites the same object
    status, body = _signup(app, {"user_id": user_id, "text": text, "store": True})
    assert status == 200 and body["stored"] is True and len(objects()) == 1
    out = capsys.readouterr()
    assert PHONE not in out.out + out.err and user_id not in out.out + out.err


def test_without_opt_in_nothing_is_stored_and_store_needs_a_user_id(stack):
    app, objects = stack
    status, body = _signup(app, {"user_id": "u-1", "text": "我喜欢打篮球"})
    assert status == 200 and "stored" not in body and objects() == {}
    status, body = _signup(app, {"text": "我喜欢打篮球", "store": True}, subject=None)
    assert status == 400 and body["error"]["code"] == "missing_user_id"
    status, body = _signup(app, {"user_id": "u-1", "text": "我喜欢打篮球", "store": "yes"})
    assert status == 400 and body["error"]["code"] == "invalid_store"
    assert objects() == {}


def test_store_by_configuration(stack, monkeypatch):
    app, objects = stack
    monkeypatch.setenv("COLDSTART_STORE_PROFILES", "1")
    sys.modules.pop("app", None)
    app = importlib.import_module("app")
    status, body = _signup(app, {"user_id": "u-cfg", "text": "我喜欢打篮球"})
    assert status == 200 and body["stored"] is True and len(objects()) == 1
    status, body = _signup(app, {"user_id": "u-off", "text": "我喜欢打篮球", "store": False})
    assert body["stored"] is False and len(objects()) == 1
    # the setting stores only a signed-in user's own profile: an anonymous caller's user_id is not enough
    status, body = _signup(app, {"user_id": "u-anon", "text": "我喜欢打篮球"}, subject=None)
    assert status == 200 and "stored" not in body and len(objects()) == 1


# ---------------------------------------------------------------- who may write and erase a profile

def test_a_caller_cannot_overwrite_someone_elses_profile(stack):
    app, objects = stack
    status, body = _signup(app, {"user_id": "victim", "text": "我喜欢打篮球", "store": True})
    assert status == 200 and body["stored"] is True
    before = objects()
    # another signed-in user names the victim: refused, nothing written
    status, body = _signup(app, {"user_id": "victim", "text": "我喜欢化妆", "store": True}, subject="mallory")
    assert status == 403 and body["error"]["code"] == "forbidden"
    # the shared API key alone (no user token): refused too
    status, body = _signup(app, {"user_id": "victim", "text": "我喜欢化妆", "store": True}, subject=None)
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    assert objects() == before and "victim" not in json.dumps(body)


def test_the_token_subject_is_the_user_id_when_the_body_names_none(stack):
    app, objects = stack
    status, body = _signup(app, {"text": "我喜欢打篮球", "store": True}, subject="sub-123")
    assert status == 200 and body["stored"] is True and list(objects()) == [_key("sub-123")]


def _delete_event(user_id, subject):
    event = json.loads((EVENTS / "profile_rest.json").read_text(encoding="utf-8"))
    event.update({"httpMethod": "DELETE", "path": f"/profile/{user_id}", "resource": "/profile/{user_id}",
                  "body": None, "pathParameters": {"user_id": user_id}})
    event["requestContext"].update({"httpMethod": "DELETE", "resourcePath": "/profile/{user_id}"})
    if subject is not None:
        event["requestContext"]["authorizer"] = {"claims": {"sub": subject}}
    return event


def test_delete_erases_every_version_and_leaves_a_tombstone(stack, s3_bucket, capsys):
    """Right to be forgotten: in a versioned bucket a plain delete keeps noncurrent versions; DELETE
    /profile/{user_id} removes all of them, and a tombstone tells the next rebuild to drop the user."""
    app, objects = stack
    client = s3_bucket[0].client()
    bucket = s3_bucket[1]
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    user_id = "leaving@example.com"
    for text in ("我喜欢打篮球", "我喜欢看电影", "我喜欢旅游"):  # three versions of the one object
        assert _signup(app, {"user_id": user_id, "text": text, "store": True})[1]["stored"] is True
    key = _key(user_id)
    versions = lambda: [v for v in client.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
                        if v["Key"] == key]
    assert len(versions()) >= 2
    # someone else may not erase it
    other = app.handler(_delete_event(user_id, "mallory"), FakeContext())
    assert other["statusCode"] == 403 and len(versions()) >= 2
    response = app.handler(_delete_event(user_id, user_id), FakeContext())
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["versions_removed"] >= 2
    assert versions() == [] and key not in objects()
    tombstone = "cs/profiles/deleted/" + KEYS.user_key(user_id)
    assert tombstone in objects() and user_id.encode() not in objects()[tombstone]
    again = app.handler(_delete_event(user_id, user_id), FakeContext())  # idempotent
    assert again["statusCode"] == 200 and json.loads(again["body"])["versions_removed"] == 0
    out = capsys.readouterr()
    assert user_id not in out.out + out.err


# ---------------------------------------------------------------- updates through the queue

def test_the_sample_event_is_processed(stack):
    app, objects = stack
    event = json.loads((EVENTS / "sqs_update.json").read_text(encoding="utf-8"))
    assert app.update_handler(event, FakeContext()) == {"batchItemFailures": []}
    for record in event["Records"]:
        message = json.loads(record["body"])
        stored = _record(objects, message["user_id"])
        assert stored["version"] == message["version"] and stored["fields"] == message["fields"]


def test_update_merges_masks_and_reprofiles_the_stored_profile(stack):
    app, objects = stack
    _signup(app, {"user_id": "u-7", "text": "我喜欢看科幻电影", "fields": {"occupation": "学生"}, "store": True})
    before = _record(objects, "u-7")
    update = {"user_id": "u-7", "fields": {"education": "计算机硕士", "bio": f"篮球爱好者，微信{PHONE}",
                                           "occupation": "软件工程师"}, "version": 1}
    assert app.update_handler(_sqs_event(("m1", update)), FakeContext()) == {"batchItemFailures": []}
    after = _record(objects, "u-7")
    assert after["version"] == 1 and after["text"] == before["text"] == "我喜欢看科幻电影"
    assert after["fields"]["occupation"] == "软件工程师" and after["fields"]["education"] == "计算机硕士"
    assert "[WECHAT]" in after["fields"]["bio"] and PHONE not in json.dumps(after, ensure_ascii=False)
    assert "计算机硕士" in after["masked_text"] and after["embedding"] != before["embedding"]
    assert len(objects()) == 1


def test_out_of_order_update_is_ignored(stack):
    app, objects = stack
    v2 = {"user_id": "u-ord", "fields": {"occupation": "医生"}, "version": 2}
    v1 = {"user_id": "u-ord", "fields": {"occupation": "律师", "school": "某大学"}, "version": 1}
    assert app.update_handler(_sqs_event(("m-v2", v2)), FakeContext()) == {"batchItemFailures": []}
    assert app.update_handler(_sqs_event(("m-v1", v1)), FakeContext()) == {"batchItemFailures": []}
    record = _record(objects, "u-ord")
    assert record["version"] == 2 and record["fields"] == {"occupation": "医生"}


def test_duplicate_delivery_is_idempotent(stack):
    app, objects = stack
    v2 = {"user_id": "u-dup", "fields": {"occupation": "教师"}, "version": 2}
    assert app.update_handler(_sqs_event(("m-a", v2)), FakeContext()) == {"batchItemFailures": []}
    first = objects()
    assert app.update_handler(_sqs_event(("m-a", v2), ("m-b", v2)), FakeContext()) == {"batchItemFailures": []}
    assert objects() == first and len(first) == 1  # same one object, byte for byte


def test_malformed_messages_are_reported_for_the_dead_letter_queue_not_dropped(stack, capsys):
    """A poison message is listed in batchItemFailures: SQS redelivers it up to maxReceiveCount and
    then parks it in the dead-letter queue, where an operator can see it. Nothing is lost, and the
    log's reason is a generic code, never the message's keys or values."""
    app, objects = stack
    good = {"user_id": "u-ok", "fields": {"occupation": "厨师"}, "version": 1}
    event = _sqs_event(("bad-json", '{"user_id": '), ("no-version", {"user_id": PHONE, "fields": {}}),
                       ("bad-fields", {"user_id": "u-x", "fields": {"bio": 3}, "version": 1}),
                       ("zero-version", {"user_id": "u-x", "fields": {}, "version": 0}),
                       ("odd-key", {"user_id": "u-y", "fields": {}, "version": 1, PHONE: "a@b.example.com"}),
                       ("good", good))
    assert app.update_handler(event, FakeContext()) == {"batchItemFailures": [
        {"itemIdentifier": m} for m in ("bad-json", "no-version", "bad-fields", "zero-version", "odd-key")]}
    assert list(objects()) == [_key("u-ok")]
    out = capsys.readouterr().out
    assert PHONE not in out and "a@b.example.com" not in out
    metrics = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    count = lambda name: sum(sum(v) if isinstance(v, list) else v for v in (d.get(name, 0) for d in metrics))
    assert count("UpdatesInvalid") == 5 and count("UpdatesApplied") == 1 and count("UpdatesFailed") == 0


def test_a_transient_failure_fails_only_its_message(stack, monkeypatch):
    """S3 refuses writes for one user's object: only that message is reported, the others are written."""
    app, objects = stack
    backend = app.SERVICE.profile_store.store
    broken_key = backend._key(app.SERVICE.profile_store.object_key(KEYS.user_key("u-b")))
    real_put = backend.client.put_object

    def put_object(**kwargs):
        if kwargs["Key"] == broken_key:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}},
                              "PutObject")
        return real_put(**kwargs)

    monkeypatch.setattr(backend.client, "put_object", put_object)
    event = _sqs_event(*((f"m-{u}", {"user_id": f"u-{u}", "fields": {"bio": "喜欢跑步"}, "version": 1})
                         for u in "abc"))
    assert app.update_handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "m-b"}]}
    assert sorted(objects()) == sorted(_key(f"u-{u}") for u in "ac")

    # SQS redelivers m-b once S3 is back: it is applied, and the others (already applied) stay as they are
    monkeypatch.setattr(backend.client, "put_object", real_put)
    before = objects()
    assert app.update_handler(event, FakeContext()) == {"batchItemFailures": []}
    after = objects()
    assert len(after) == 3 and all(after[k] == v for k, v in before.items())


def test_no_release_means_every_message_is_retried(tmp_path, monkeypatch):
    monkeypatch.setenv("COLDSTART_RELEASE_URI", str(tmp_path / "empty"))
    monkeypatch.setenv("COLDSTART_PROFILE_STORE_URI", str(tmp_path / "profiles"))
    monkeypatch.setenv("COLDSTART_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(ROOT / "function"))
    sys.modules.pop("app", None)
    try:
        app = importlib.import_module("app")
        event = _sqs_event(("m1", {"user_id": "u1", "fields": {"bio": "x"}, "version": 1}))
        assert app.update_handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
        assert open_store(str(tmp_path / "profiles")).list() == []
    finally:
        sys.modules.pop("app", None)


# ---------------------------------------------------------------- template.yaml: the queue and UpdateFunction

@pytest.fixture(scope="module")
def template():
    from tests.cfn import load_cfn

    return load_cfn(ROOT / "template.yaml")


def test_queue_is_encrypted_with_a_dead_letter_queue(template):
    res = template["Resources"]
    queue, dlq = res["ProfileUpdateQueue"], res["ProfileUpdateDeadLetterQueue"]
    assert queue["Type"] == dlq["Type"] == "AWS::SQS::Queue"
    for q in (queue, dlq):
        assert q["Properties"].get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in q["Properties"]
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["ProfileUpdateDeadLetterQueue", "Arn"]}, "maxReceiveCount": 5}
    # AWS: the visibility timeout of a Lambda event source queue should be at least 6x the function timeout
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * res["UpdateFunction"]["Properties"]["Timeout"]


def test_update_function_is_the_same_image_with_the_update_handler(template):
    res = template["Resources"]
    update, profile = res["UpdateFunction"], res["ProfileFunction"]
    assert update["Metadata"] == profile["Metadata"]
    props = update["Properties"]
    assert props["PackageType"] == "Image" and props["ImageConfig"]["Command"] == ["app.update_handler"]
    (event,) = props["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["ProfileUpdateQueue", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= event["Properties"]["BatchSize"] <= 10
    store_uri = {"Fn::Sub": ["s3://${Bucket}/${ReleasePrefix}/profiles",
                             {"Bucket": {"Fn::If": ["CreateReleaseBucket", {"Ref": "ReleaseBucket"},
                                                    {"Ref": "ExistingReleaseBucket"}]}}]}
    for function in (update, profile):
        assert function["Properties"]["Environment"]["Variables"]["COLDSTART_PROFILE_STORE_URI"] == store_uri
    assert update["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "UpdateFunctionLogGroup"}


def test_update_function_role_is_least_privilege(template):
    """An explicit role: SAM's generated one would also get AWSLambdaSQSQueueExecutionRole (every queue)."""
    res = template["Resources"]
    props = res["UpdateFunction"]["Properties"]
    assert props["Role"] == {"Fn::GetAtt": ["UpdateFunctionExecutionRole", "Arn"]} and "Policies" not in props
    role = res["UpdateFunctionExecutionRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    by_action = {}
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:  # the KMS key, only for an existing KMS-encrypted bucket
                statement = statement["Fn::If"][1]
                assert statement["Resource"] == {"Ref": "ReleaseBucketKmsKeyArn"}
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert statement["Resource"] != "*" and not any("*" in a for a in actions), statement
            for action in actions:
                by_action[action] = statement["Resource"]
    s3 = {a for a in by_action if a.startswith("s3:")}
    assert s3 == {"s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:DeleteObject"}  # delete: key rotation moves
    for action in ("s3:PutObject", "s3:DeleteObject"):
        assert by_action[action]["Fn::Sub"][0] == "arn:${AWS::Partition}:s3:::${Bucket}/${ReleasePrefix}/profiles/*"
    assert by_action["s3:GetObject"]["Fn::Sub"][0] == "arn:${AWS::Partition}:s3:::${Bucket}/${ReleasePrefix}/*"
    sqs = {a for a in by_action if a.startswith("sqs:")}
    assert sqs == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}
    assert all(by_action[a] == {"Fn::GetAtt": ["ProfileUpdateQueue", "Arn"]} for a in sqs)
    assert by_action["logs:PutLogEvents"] == {"Fn::Sub": "${UpdateFunctionLogGroup.Arn}:*"}
    assert by_action["secretsmanager:GetSecretValue"] == {"Ref": "PseudonymKeySecret"}
    assert set(by_action) - s3 - sqs == {"logs:CreateLogStream", "logs:PutLogEvents", "kms:Decrypt",
                                         "kms:GenerateDataKey", "secretsmanager:GetSecretValue"}
