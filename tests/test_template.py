"""Serving deployment: template.yaml (AWS SAM), function/Dockerfile, function/requirements.lock, samconfig.toml.

No AWS and no Docker engine here. The template is checked with cfn-lint (and `sam validate --lint` where
sam-cli is installed: it pins older boto3/botocore/click/pydantic than constraints.txt, so it is not in the
project venv; point SAM_CLI at a separate install) and by reading it;
the Dockerfile and the lock are read and checked against function/requirements.txt, constraints.txt and
.dockerignore. Handler behaviour is tested in tests/test_handler.py.
"""
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tests.cfn import CfnLoader

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
DOCKERFILE = ROOT / "function" / "Dockerfile"
LOCK = ROOT / "function" / "requirements.lock"
REQUIREMENTS = ROOT / "function" / "requirements.txt"
CONSTRAINTS = ROOT / "constraints.txt"

# The handler's environment contract (function/app.py, coldstart.settings) with the template's defaults.
ENV_CONTRACT = {
    "COLDSTART_RELEASE_URI": None,          # built from the bucket and ReleasePrefix, checked separately
    "COLDSTART_REFRESH_SECONDS": {"Ref": "RefreshSeconds"},
    "COLDSTART_CACHE_DIR": "/tmp/coldstart",
    "COLDSTART_THREADS": "1",
    "COLDSTART_K": "10",
    "COLDSTART_MIN_CONFIDENCE": {"Ref": "MinConfidence"},
    "COLDSTART_CACHE_SIZE": "10000",
    "COLDSTART_SIMHASH_DISTANCE": "3",
    "COLDSTART_MAX_TEXT_CHARS": "2000",
    "POWERTOOLS_SERVICE_NAME": "coldstart",
    "POWERTOOLS_METRICS_NAMESPACE": "Coldstart",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

# Dependencies the lock leaves out on purpose (never imported on the serving path; function/Dockerfile).
LEFT_OUT = {
    "sympy", "mpmath", "coloredlogs", "humanfriendly",                       # onnxruntime's tools
    "huggingface-hub", "filelock", "fsspec", "requests", "certifi",  # tokenizers' hub download (pyyaml: pinned, rapidocr reads its config)
    "charset-normalizer", "idna", "tqdm",
    "opencv-python",  # rapidocr declares it; the image installs opencv-python-headless (no libGL in Lambda)
}


# ---------------------------------------------------------------- template helpers

_CfnLoader = CfnLoader  # shared loader: tests/cfn.py


@pytest.fixture(scope="module")
def template():
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)


@pytest.fixture(scope="module")
def function(template):
    return template["Resources"]["ProfileFunction"]


def _defaults(template, **overrides):
    values = {name: p.get("Default") for name, p in template["Parameters"].items()}
    values.update(overrides)
    return {k: (str(v) if v is not None else None) for k, v in values.items()}


def _condition(template, name, params):
    def ev(expr):
        (fn, arg), = expr.items()
        if fn == "Fn::Equals":
            a, b = (params[x["Ref"]] if isinstance(x, dict) else str(x) for x in arg)
            return a == b
        if fn == "Fn::Not":
            return not ev(arg[0])
        if fn == "Fn::And":
            return all(ev(a) for a in arg)
        if fn == "Fn::Or":
            return any(ev(a) for a in arg)
        if fn == "Condition":
            return ev(template["Conditions"][arg])
        raise AssertionError(f"unexpected condition function {fn}")

    return ev(template["Conditions"][name])


def _pick(template, value, params):
    """Resolve every Fn::If in value for the given parameter values (AWS::NoValue drops the item)."""
    no_value = object()

    def walk(v):
        if isinstance(v, dict):
            if set(v) == {"Fn::If"}:
                cond, yes, no = v["Fn::If"]
                return walk(yes if _condition(template, cond, params) else no)
            if v == {"Ref": "AWS::NoValue"}:
                return no_value
            out = {k: walk(x) for k, x in v.items()}
            return {k: x for k, x in out.items() if x is not no_value}
        if isinstance(v, list):
            return [x for x in (walk(i) for i in v) if x is not no_value]
        return v

    return walk(value)


def _cfn_lint_command():
    script = Path(sys.executable).parent / "cfn-lint"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cfnlint"]


def _sam_command():
    local = Path(sys.executable).parent / "sam"
    if local.exists():
        return str(local)
    local = Path(__file__).resolve().parents[1] / ".venv-sam" / "bin" / "sam"  # `make sam-setup`
    return os.environ.get("SAM_CLI") or (str(local) if local.exists() else None) or shutil.which("sam")


# ---------------------------------------------------------------- linters

def test_template_passes_cfn_lint_without_errors_or_warnings():
    proc = subprocess.run(_cfn_lint_command() + ["--", str(TEMPLATE)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "" and proc.stderr.strip() == "", \
        proc.stdout + proc.stderr


def test_template_passes_sam_validate_lint():
    sam = _sam_command()
    if not sam:
        pytest.skip("sam-cli is not installed (it conflicts with constraints.txt; set SAM_CLI=/path/to/sam)")
    env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", SAM_CLI_TELEMETRY="0",
               AWS_ACCESS_KEY_ID=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
               AWS_SECRET_ACCESS_KEY=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"))
    proc = subprocess.run([sam, "validate", "--lint", "--template", str(TEMPLATE), "--region", "us-east-1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is a valid SAM Template" in proc.stdout + proc.stderr


# ---------------------------------------------------------------- function

def test_function_is_an_image_built_from_function_dockerfile(template, function):
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert function["Type"] == "AWS::Serverless::Function"
    props, meta = function["Properties"], function["Metadata"]
    assert props["PackageType"] == "Image"
    assert props["Architectures"] == ["x86_64"]
    assert meta["DockerContext"] == "."
    assert meta["Dockerfile"] == "function/Dockerfile"
    assert (ROOT / meta["DockerContext"] / meta["Dockerfile"]).is_file()
    assert meta["DockerTag"]
    # the template's handler is the image's CMD
    assert props["ImageConfig"]["Command"] == ["app.handler"]
    assert 'CMD ["app.handler"]' in DOCKERFILE.read_text(encoding="utf-8")


def test_timeout_fits_api_gateway_and_memory_is_the_parameter(template, function):
    props = function["Properties"]
    assert isinstance(props["Timeout"], int) and 1 <= props["Timeout"] <= 29  # API Gateway gives up at 29 s
    assert props["MemorySize"] == {"Ref": "MemorySize"}
    memory = template["Parameters"]["MemorySize"]
    assert memory["Type"] == "Number" and memory["Default"] == 1769  # 1 vCPU
    assert props["EphemeralStorage"]["Size"] == {"Ref": "EphemeralStorageSize"}
    assert 512 <= template["Parameters"]["EphemeralStorageSize"]["Default"] <= 10240


def test_environment_has_the_handler_contract(template, function):
    variables = function["Properties"]["Environment"]["Variables"]
    assert set(ENV_CONTRACT) <= set(variables), set(ENV_CONTRACT) - set(variables)
    for name, expected in ENV_CONTRACT.items():
        if expected is not None:
            assert variables[name] == expected, name
    params = template["Parameters"]
    assert params["RefreshSeconds"]["Default"] == 300
    assert params["MinConfidence"]["Default"] == "0.35"
    assert params["ReleasePrefix"]["Default"] == "coldstart"
    assert params["StageName"]["Default"] == "prod"

    # s3://BUCKET/PREFIX, BUCKET being the stack's bucket or the given one
    text, variables_ = variables["COLDSTART_RELEASE_URI"]["Fn::Sub"]
    assert text == "s3://${Bucket}/${ReleasePrefix}"
    assert variables_["Bucket"] == {"Fn::If": ["CreateReleaseBucket", {"Ref": "ReleaseBucket"},
                                               {"Ref": "ExistingReleaseBucket"}]}


def test_function_s3_access_is_read_only_and_scoped_to_the_release_prefix(template, function):
    policies = function["Properties"]["Policies"]
    # only inline documents: no managed policy or SAM policy template that could grant more
    assert all(isinstance(p, dict) and "Statement" in p for p in policies), policies
    for params in (_defaults(template), _defaults(template, ExistingReleaseBucket="rel-bucket",
                                                  ReleaseBucketKmsKeyArn="arn:aws:kms:us-east-1:123456789012:key/k")):
        statements = [s for p in _pick(template, policies, params) for s in p["Statement"]]
        s3 = {}
        for statement in statements:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                assert "*" not in action, statement
            for resource in resources:
                assert resource != "*", statement
            for action in actions:
                if action.startswith("s3:"):
                    s3[action] = statement
        # writes and erasures only in the profile store (PREFIX/profiles/, opt-in per request or StoreProfiles)
        assert set(s3) == {"s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:DeleteObject",
                           "s3:DeleteObjectVersion", "s3:ListBucketVersions"}
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
            assert s3[action]["Resource"]["Fn::Sub"][0] == \
                "arn:${AWS::Partition}:s3:::${Bucket}/${ReleasePrefix}/profiles/*", action
        versions = s3["s3:ListBucketVersions"]
        assert versions["Condition"] == {"StringLike": {"s3:prefix": [{"Fn::Sub": "${ReleasePrefix}/profiles/*"}]}}
        secrets = [s for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
        assert [s["Resource"] for s in secrets] == [{"Ref": "PseudonymKeySecret"}]

        get = s3["s3:GetObject"]["Resource"]["Fn::Sub"]
        assert get[0] == "arn:${AWS::Partition}:s3:::${Bucket}/${ReleasePrefix}/*"
        listing = s3["s3:ListBucket"]
        assert listing["Resource"]["Fn::Sub"][0] == "arn:${AWS::Partition}:s3:::${Bucket}"
        assert listing["Condition"] == {"StringLike": {"s3:prefix": [{"Fn::Sub": "${ReleasePrefix}/*"}]}}

        kms = [s for s in statements if s["Action"] == "kms:Decrypt"]
        if params["ReleaseBucketKmsKeyArn"]:
            assert [s["Resource"] for s in kms] == [{"Ref": "ReleaseBucketKmsKeyArn"}]
        else:
            assert kms == []


def test_function_log_group_has_a_retention(template, function):
    assert function["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "ProfileFunctionLogGroup"}
    assert template["Resources"]["ProfileFunctionLogGroup"]["Properties"]["RetentionInDays"] > 0


# ---------------------------------------------------------------- release bucket

def test_release_bucket_is_private_encrypted_versioned_and_tls_only(template):
    bucket = template["Resources"]["ReleaseBucket"]
    assert bucket["Type"] == "AWS::S3::Bucket"
    assert bucket["Condition"] == "CreateReleaseBucket"
    assert template["Conditions"]["CreateReleaseBucket"] == {"Fn::Equals": [{"Ref": "ExistingReleaseBucket"}, ""]}
    assert template["Parameters"]["ExistingReleaseBucket"]["Default"] == ""
    assert bucket["DeletionPolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms", "aws:kms:dsse")
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}

    policy = template["Resources"]["ReleaseBucketPolicy"]
    assert policy["Condition"] == "CreateReleaseBucket"
    assert policy["Properties"]["Bucket"] == {"Ref": "ReleaseBucket"}
    (deny,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == "*"
    assert {"Fn::GetAtt": ["ReleaseBucket", "Arn"]} in deny["Resource"]
    assert {"Fn::Sub": "${ReleaseBucket.Arn}/*"} in deny["Resource"]


# ---------------------------------------------------------------- API

EXPECTED_ROUTES = {("/profile", "post"), ("/profile/{user_id}", "delete"), ("/health", "get")}


def _api_events(template):
    for name, res in template["Resources"].items():
        if res["Type"] == "AWS::Serverless::Function":
            for event_name, event in (res["Properties"].get("Events") or {}).items():
                if event["Type"] in ("Api", "HttpApi"):
                    yield f"{name}.{event_name}", event


def test_routes_are_events_on_the_explicit_rest_api(template):
    routes = set()
    for name, event in _api_events(template):
        assert event["Type"] == "Api", name  # REST API (usage plans, API keys)
        props = event["Properties"]
        assert props["RestApiId"] == {"Ref": "ProfileApi"}, f"{name} would create an implicit, open API"
        assert "Auth" not in props, f"{name}: per-event Auth would override the API's security"
        routes.add((props["Path"], props["Method"].lower()))
    assert routes == EXPECTED_ROUTES
    assert template["Resources"]["ProfileApi"]["Type"] == "AWS::Serverless::Api"


@pytest.mark.parametrize("auth_mode", ["COGNITO", "API_KEY", "IAM"])
def test_every_method_requires_auth_in_each_auth_mode(template, auth_mode):
    api = template["Resources"]["ProfileApi"]["Properties"]
    # SAM's Auth block cannot be conditional, so security lives in DefinitionBody, merged with the events
    assert api["MergeDefinitions"] is True
    assert api["AlwaysDeploy"] is True  # switching AuthMode must reach the stage
    assert api["OpenApiVersion"] == api["DefinitionBody"]["swagger"] == "2.0"  # no extra, unthrottled "Stage" stage
    auth = api.get("Auth", {})
    assert auth.get("DefaultAuthorizer") != "NONE" and auth.get("ApiKeyRequired") is not False
    body = _pick(template, api["DefinitionBody"], _defaults(template, AuthMode=auth_mode))
    schemes = body["securityDefinitions"]
    assert schemes["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    user_routes = {"COGNITO": [{"cognito": [], "api_key": []}], "API_KEY": [{"api_key": []}],
                   "IAM": [{"sigv4": []}]}[auth_mode]
    health = {"COGNITO": [{"api_key": []}], "API_KEY": [{"api_key": []}], "IAM": [{"sigv4": []}]}[auth_mode]
    methods = {(path, method) for path, item in body["paths"].items() for method in item}
    assert methods == EXPECTED_ROUTES
    for path, item in body["paths"].items():
        for method, operation in item.items():
            # COGNITO: the user's token says who they are (the service lets them act only on their own
            # profile); the API key is there for the usage plan's rate limit, not as an identity
            assert operation["security"] == (health if path == "/health" else user_routes), (path, method)
    if auth_mode == "COGNITO":
        cognito = schemes["cognito"]
        assert cognito["x-amazon-apigateway-authtype"] == "cognito_user_pools"
        assert cognito["x-amazon-apigateway-authorizer"]["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]


def test_cognito_mode_is_the_default_and_the_api_key_only_rate_limits(template):
    params = template["Parameters"]["AuthMode"]
    assert params["Default"] == "COGNITO" and sorted(params["AllowedValues"]) == ["API_KEY", "COGNITO", "IAM"]
    res = template["Resources"]
    assert res["ProfileApiKey"]["Type"] == "AWS::ApiGateway::ApiKey"
    assert res["ProfileApiKey"]["Properties"]["Enabled"] is True
    plan = res["ProfileApiUsagePlan"]
    assert plan["Type"] == "AWS::ApiGateway::UsagePlan"
    assert plan["Properties"]["ApiStages"] == [{"ApiId": {"Ref": "ProfileApi"}, "Stage": {"Ref": "ProfileApi.Stage"}}]
    assert res["ProfileApiUsagePlanKey"]["Properties"] == {
        "KeyId": {"Ref": "ProfileApiKey"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": "ProfileApiUsagePlan"}}
    for name in ("ProfileApiKey", "ProfileApiUsagePlan", "ProfileApiUsagePlanKey"):
        assert res[name]["Condition"] == "UseApiKey"
    assert _condition(template, "UseApiKey", _defaults(template))
    assert _condition(template, "UseApiKey", _defaults(template, AuthMode="API_KEY"))
    assert not _condition(template, "UseApiKey", _defaults(template, AuthMode="IAM"))
    assert res["UserPool"]["Condition"] == res["UserPoolClient"]["Condition"] == "CreateUserPool"
    assert _condition(template, "CreateUserPool", _defaults(template))
    existing = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"
    assert not _condition(template, "CreateUserPool", _defaults(template, ExistingUserPoolArn=existing))


def test_stage_is_throttled(template):
    api = template["Resources"]["ProfileApi"]["Properties"]
    assert api["StageName"] == {"Ref": "StageName"}
    (setting,) = api["MethodSettings"]
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    assert setting["ThrottlingRateLimit"] == {"Ref": "ThrottleRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ThrottleBurstLimit"}


def test_outputs(template):
    outputs = template["Outputs"]
    assert {"ApiUrl", "HealthUrl", "FunctionArn", "ReleaseBucketName", "ApiKeyId"} <= set(outputs)
    assert outputs["ApiUrl"]["Value"]["Fn::Sub"].endswith("/${StageName}/profile")
    assert outputs["HealthUrl"]["Value"]["Fn::Sub"].endswith("/${StageName}/health")
    assert outputs["ApiKeyId"]["Condition"] == "UseApiKey"
    assert outputs["FunctionArn"]["Value"] == {"Fn::GetAtt": ["ProfileFunction", "Arn"]}


def test_samconfig_deploys_this_template():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_image_repos"] is True
    assert "AuthMode=COGNITO" in deploy["parameter_overrides"]


# ---------------------------------------------------------------- Dockerfile

def _instructions(path):
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_is_a_slim_python_311_image_with_awslambdaric():
    steps = _instructions(DOCKERFILE)
    args = dict(a.split("=", 1) for i, a in steps if i == "ARG" and "=" in a)
    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base), base  # pinned to a patch release, not latest
    froms = [a for i, a in steps if i == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]
    runtime = steps[[i for i, (word, _) in enumerate(steps) if word == "FROM"][-1]:]
    assert ("ENTRYPOINT", '["python", "-m", "awslambdaric"]') in runtime
    assert ("CMD", '["app.handler"]') in runtime
    assert ("WORKDIR", "${LAMBDA_TASK_ROOT}") in runtime
    env = " ".join(a for i, a in runtime if i == "ENV")
    assert "LAMBDA_TASK_ROOT=/var/task" in env
    assert ("COPY", "function/app.py ${LAMBDA_TASK_ROOT}/") in runtime
    users = [a for i, a in runtime if i == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    # no compiler in the runtime stage
    assert not any("apt-get install" in a for i, a in runtime if i == "RUN")


def test_dockerfile_installs_the_hash_pinned_lock_and_the_core_without_deps():
    runs = [a for i, a in _instructions(DOCKERFILE) if i == "RUN"]
    lock_install = [r for r in runs if "requirements.lock" in r and " install " in r]
    assert len(lock_install) == 1
    assert "--require-hashes" in lock_install[0] and "--no-cache-dir" in lock_install[0]
    layer_install = [r for r in runs if "/tmp/layer" in r and " install " in r]
    assert len(layer_install) == 1 and "--no-deps" in layer_install[0]
    assert not re.search(r"paddle(paddle|lite|nlp)?[=<> ]", " ".join(runs).replace("find_spec('paddle')", ""))


def _dockerignore_excludes(path: str) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its parents decides."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:].strip().strip("/") if negate else line.strip("/")
        rx = ""
        for part in re.split(r"(\*\*/?|\*|\?)", pattern):
            rx += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        patterns.append((re.compile(rx + r"\Z"), negate))
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for rx, negate in patterns:
        if any(rx.match(c) for c in candidates):
            excluded = not negate
    return excluded


def test_dockerignore_lets_in_what_the_serving_image_copies():
    needed = ["function/requirements.lock", "function/app.py", "layer/pyproject.toml", "layer/coldstart/__init__.py"]
    missing = [p for p in needed if _dockerignore_excludes(p)]
    assert not missing, f".dockerignore excludes {missing}: add '!function' (after '*') to it"
    assert _dockerignore_excludes(".venv/bin/python") and _dockerignore_excludes("layer/coldstart/__pycache__/x.pyc")


# ---------------------------------------------------------------- requirements.lock

def _lock_pins():
    pins, hashes, name = {}, {}, None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if m:
            name = canonicalize_name(m.group(1))
            pins[name] = m.group(2)
            hashes[name] = []
        elif name and "--hash=sha256:" in line:
            hashes[name].append(line.split("--hash=sha256:")[1].split()[0])
    return pins, hashes


def _left_out_in_lock():
    text = LOCK.read_text(encoding="utf-8")
    tail = text[text.index("# WARNING: The following packages were not pinned"):]
    return {canonicalize_name(m) for m in re.findall(r"^# ([A-Za-z0-9_.-]+)$", tail, re.M)}


def test_lock_pins_every_requirement_with_hashes():
    pins, hashes = _lock_pins()
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in function/requirements.txt but not in the lock: re-run pip-compile"
        assert req.specifier.contains(pins[name], prereleases=True), (req, pins[name])
    for name, digests in hashes.items():
        assert digests and all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests), name
    assert not any(n.startswith("paddle") for n in pins), "no paddle on the serving path"


def test_lock_agrees_with_constraints():
    pins, _ = _lock_pins()
    constraints = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if m:
            constraints[canonicalize_name(m.group(1))] = m.group(2)
    differ = {n: (v, constraints[n]) for n, v in pins.items() if n in constraints and constraints[n] != v}
    assert not differ, f"lock vs constraints.txt: {differ}; re-run pip-compile (command in the lock's header)"


def test_lock_leaves_out_exactly_the_documented_packages():
    pins, _ = _lock_pins()
    left_out = _left_out_in_lock()
    assert left_out == {canonicalize_name(n) for n in LEFT_OUT}
    assert not left_out & set(pins)
    header = LOCK.read_text(encoding="utf-8").split("\n\n", 1)[0]
    for name in LEFT_OUT:
        assert f"--unsafe-package {name}" in header, name
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    for name in ("sympy", "huggingface-hub"):
        assert name in dockerfile, f"the Dockerfile should say why {name} is left out"


def test_the_default_memory_size_is_chosen_from_the_measured_peak(template):
    """MemorySize >= 1.5 x the serving bench's peak RSS after init for the 100k release (bench/README.md)."""
    import re

    figures = re.findall(r"serving-bench release=100k metric=peak_rss_after_init_mb value=([0-9.]+)",
                         (ROOT / "bench" / "README.md").read_text(encoding="utf-8"))
    assert figures, "bench/README.md records no peak_rss_after_init_mb for the 100k release"
    peak = float(figures[0])
    memory = template["Parameters"]["MemorySize"]
    assert peak <= 300 and memory["Default"] >= 1.5 * peak and memory["MinValue"] >= 1.5 * peak
