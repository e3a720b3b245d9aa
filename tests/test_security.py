"""The checkable parts of SECURITY.md.

Template: every API route needs auth and nothing else is reachable without it; no wildcard S3 actions or
resources in any Allow statement; encryption at rest on the bucket and both queues, TLS-only access to
them; API Gateway never logs request bodies. Supply chain: function/requirements.lock pins every
package to one version with sha256 hashes and nothing else. Repository: no credentials in tracked files
(the documented local test credentials of local/s3.py excepted). Storage: profile object keys
carry no personal data. The detailed template checks (routes, auth modes, exact IAM resources, bucket
properties) are in tests/test_template.py; this file reuses its helpers and adds what it does not cover.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from tests.cfn import load_cfn
from tests.test_template import EXPECTED_ROUTES, _defaults, _pick

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = [ROOT / "template.yaml", ROOT / "infra" / "batch.yaml"]
LOCK = ROOT / "function" / "requirements.lock"

# The documented credentials of the local S3 test server (local/s3.py, 127.0.0.1 only): not secrets.
ALLOWED_CREDENTIALS = {"coldstart-test", "coldstart-test-secret", "coldstart-reader", "coldstart-reader-secret"}


@pytest.fixture(scope="module")
def serving():
    return load_cfn(ROOT / "template.yaml")


def _variants(template):
    """Parameter sets that switch every condition of the serving template both ways."""
    if "AuthMode" not in template.get("Parameters", {}):
        return [_defaults(template)]
    return [
        _defaults(template),
        _defaults(template, AuthMode="API_KEY"),
        _defaults(template, AuthMode="IAM", EnableAccessLogs="true"),
        _defaults(template, ExistingReleaseBucket="rel-bucket",
                  ReleaseBucketKmsKeyArn="arn:aws:kms:us-east-1:123456789012:key/k"),
    ]


def _as_list(v):
    return v if isinstance(v, list) else [v]


def _statements(node):
    """Every IAM/resource policy statement anywhere under node."""
    if isinstance(node, dict):
        if "Statement" in node and isinstance(node["Statement"], list):
            for s in node["Statement"]:
                if isinstance(s, dict) and "Effect" in s:
                    yield s
        for v in node.values():
            yield from _statements(v)
    elif isinstance(node, list):
        for v in node:
            yield from _statements(v)


def _resource_text(resource) -> str:
    if isinstance(resource, dict):
        if "Fn::Sub" in resource:
            sub = resource["Fn::Sub"]
            return sub[0] if isinstance(sub, list) else sub
        if "Fn::GetAtt" in resource:
            return "GetAtt:" + ".".join(resource["Fn::GetAtt"])
        if "Ref" in resource:
            return "Ref:" + resource["Ref"]
        return repr(resource)
    return str(resource)


# ---------------------------------------------------------------- API authentication

def test_no_entry_point_without_authentication(serving):
    res = serving["Resources"]
    for name, r in res.items():
        props = r.get("Properties", {})
        # no Lambda function URL, no second API, no open invoke permission, no unauthenticated method
        assert "FunctionUrlConfig" not in props, name
        assert r["Type"] not in ("AWS::Lambda::Url", "AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api",
                                 "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Method"), name
        if r["Type"] == "AWS::Lambda::Permission":
            assert props.get("Principal") not in ("*", None), name
        for event_name, event in (props.get("Events") or {}).items():
            if event["Type"] in ("Api", "HttpApi"):
                assert event["Properties"]["RestApiId"] == {"Ref": "ProfileApi"}, (name, event_name)
                assert "Auth" not in event["Properties"], (name, event_name)
    apis = [n for n, r in res.items() if r["Type"] == "AWS::Serverless::Api"]
    assert apis == ["ProfileApi"]
    body = res["ProfileApi"]["Properties"]["DefinitionBody"]
    for params in _variants(serving):
        paths = _pick(serving, body, params)["paths"]
        routes = {(p, m) for p, item in paths.items() for m in item}
        assert routes == EXPECTED_ROUTES
        for p, item in paths.items():
            for m, op in item.items():
                assert op.get("security") and all(op["security"]), (params["AuthMode"], p, m)


# ---------------------------------------------------------------- least privilege

@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_wildcard_s3_actions_or_resources(path):
    template = load_cfn(path)
    allows = 0
    for params in _variants(template):
        for statement in _statements(_pick(template, template["Resources"], params)):
            if statement["Effect"] != "Allow":
                continue  # a Deny with s3:* (TLS-only bucket policy) only takes rights away
            allows += 1
            actions = _as_list(statement.get("Action", []))
            assert "NotAction" not in statement and "NotResource" not in statement, statement
            assert "*" not in actions, statement
            for action in actions:
                if action.lower().startswith("s3:"):
                    assert "*" not in action, statement
            if any(a.lower().startswith("s3:") for a in actions):
                for resource in _as_list(statement["Resource"]):
                    text = _resource_text(resource)
                    assert text != "*" and not re.search(r"arn:[^:]*:s3:::\*", text), statement
                    # a bucket ARN or an object ARN under a named prefix: never the whole account, never bucket/*
                    assert re.search(r"s3:::\$\{\w+\}(/\$\{\w+\}/.*)?$", text), text
            for resource in _as_list(statement.get("Resource", [])):
                assert resource != "*", statement
    assert allows > 0


# ---------------------------------------------------------------- encryption at rest and in transit

def test_bucket_and_queues_are_encrypted_and_tls_only(serving):
    res = serving["Resources"]
    rule, = res["ReleaseBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms", "aws:kms:dsse")
    assert all(res["ReleaseBucket"]["Properties"]["PublicAccessBlockConfiguration"].values())
    queues = [n for n, r in res.items() if r["Type"] == "AWS::SQS::Queue"]
    assert sorted(queues) == ["ProfileUpdateDeadLetterQueue", "ProfileUpdateQueue"]
    for name in queues:
        props = res[name]["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or props.get("KmsMasterKeyId"), name
    # TLS only: bucket policy and queue policy deny any request without aws:SecureTransport
    tls_denied = set()
    for name, r in res.items():
        if r["Type"] not in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"):
            continue
        for s in _statements(r["Properties"]["PolicyDocument"]):
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert s["Principal"] == "*"
                tls_denied.update(_resource_text(x) for x in _as_list(s["Resource"]))
    assert {"GetAtt:ReleaseBucket.Arn", "${ReleaseBucket.Arn}/*", "GetAtt:ProfileUpdateQueue.Arn",
            "GetAtt:ProfileUpdateDeadLetterQueue.Arn"} <= tls_denied, tls_denied


def test_api_gateway_never_logs_bodies_and_logs_expire(serving):
    res = serving["Resources"]
    for setting in res["ProfileApi"]["Properties"]["MethodSettings"]:
        assert setting.get("DataTraceEnabled") is False
        assert setting.get("LoggingLevel") == "OFF"
    fmt = serving["Resources"]["ProfileApi"]["Properties"]["AccessLogSetting"]["Fn::If"][1]["Format"]
    assert "$context.requestBody" not in fmt and "body" not in fmt.lower()
    for name, r in res.items():
        if r["Type"] == "AWS::Logs::LogGroup":
            assert 0 < r["Properties"]["RetentionInDays"] <= 90, name
        if r["Type"] == "AWS::Serverless::Function":
            assert "Tracing" not in r["Properties"], f"{name}: X-Ray traces would need their own PII review"


# ---------------------------------------------------------------- supply chain

def test_function_lock_pins_everything_with_hashes_and_nothing_else():
    text = LOCK.read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    requirements = [line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert requirements
    for line in requirements:
        m = re.match(r"^([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+!-]+)((?: +--hash=sha256:[0-9a-f]{64})+) *$", line)
        assert m, f"not a name==version line with sha256 hashes: {line[:80]}"
    assert not re.search(r"^\s*(-e|--index-url|--extra-index-url|--trusted-host|-f|--find-links)\b", text, re.M)
    assert not re.search(r"(git\+|https?://)\S+", "\n".join(requirements))
    names = {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in requirements}
    # OCR without GUI libraries: the headless OpenCV build, never opencv-python (libGL) in the image
    assert "opencv-python-headless" in names and "opencv-python" not in names


# ---------------------------------------------------------------- secrets

SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
}
# key = value assignments of AWS secrets / passwords / tokens with a literal value
ASSIGNMENT = re.compile(
    r"(?i)(aws_secret_access_key|aws_session_token|secret_key|password|passwd|api_key|apikey|auth_token)"
    r"[\"']?\s*[:=]\s*[\"']([^\"'\s]{8,})[\"']")


def _tracked_files():
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in out.decode("utf-8").split("\0"):
        path = ROOT / name
        if name and path.is_file() and path.stat().st_size <= 5_000_000:
            data = path.read_bytes()
            if b"\0" not in data[:8192]:
                yield name, data.decode("utf-8", errors="replace")


def test_no_secrets_in_tracked_files():
    found = []
    scanned = 0
    for name, text in _tracked_files():
        scanned += 1
        for label, rx in SECRET_PATTERNS.items():
            for m in rx.finditer(text):
                found.append((name, label, m.group(0)[:12] + "..."))
        for m in ASSIGNMENT.finditer(text):
            value = m.group(2)
            if value in ALLOWED_CREDENTIALS or value.startswith(("${", "os.environ", "<", "$")):
                continue
            found.append((name, m.group(1), value[:4] + "..."))
    assert scanned > 50
    assert not found, found


def test_secret_scan_catches_what_it_should():
    fake_key = "AKIA" + "ABCDEFGHIJKLMNOP"
    assert SECRET_PATTERNS["AWS access key id"].search(f"key={fake_key}")
    assert SECRET_PATTERNS["private key"].search("-----BEGIN " + "RSA PRIVATE KEY-----")
    assert ASSIGNMENT.search('aws_secret_access_key = "' + "x" * 40 + '"')
    assert ASSIGNMENT.search('"AWS_SECRET_ACCESS_KEY": "coldstart-test-secret"').group(2) in ALLOWED_CREDENTIALS


# ---------------------------------------------------------------- no PII in S3 keys

@pytest.mark.parametrize("user_id", ["13812345678", "+86 138-1234-5678", "li.na@example.com", "11010519491231002X",
                                     "6222021234567890123", "微信wxid_abcdef123", "u000123"])
def test_profile_keys_carry_no_personal_data(user_id):
    """Keys are HMACs under the deployment's secret: not the id, not its digits, and not the unkeyed
    sha256 an attacker could compute by enumerating phone numbers."""
    import hashlib

    from coldstart.pii import mask_pii
    from coldstart.profile_store import ProfileStore
    from coldstart.pseudonyms import Pseudonymizer, handle_of

    keys = Pseudonymizer([b"s" * 32])
    user_key = keys.user_key(user_id)
    key = ProfileStore.object_key(user_key)
    assert re.fullmatch(r"k[0-9a-f]{8}\.[0-9a-f]{32}\.json", key), key
    assert mask_pii(key).counts == {}, "the key itself must not look like PII"
    digits = re.sub(r"\D", "", user_id)
    assert user_id not in key and (len(digits) < 5 or digits not in key)
    assert hashlib.sha256(user_id.encode()).hexdigest()[:32] not in key
    assert Pseudonymizer([b"t" * 32]).user_key(user_id) != user_key  # another secret, another key
    assert handle_of(user_key) not in key and len(handle_of(user_key)) == 16
