"""infra/ deployment templates: batch.yaml (AWS Batch, CloudFormation), Dockerfile, pipeline.example.yaml.

No AWS and no Docker engine here: the CloudFormation template is checked with cfn-lint and by reading
it; the job definitions' commands are parsed with the real `python -m infra` argument parser.
"""
import json
import re
import shlex
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from tests.cfn import CfnLoader

ROOT = Path(__file__).resolve().parents[1]
BATCH = ROOT / "infra" / "batch.yaml"
DOCKERFILE = ROOT / "infra" / "Dockerfile"
PIPELINE_EXAMPLE = ROOT / "infra" / "pipeline.example.yaml"

# Stand-in stack parameters for resolving !Sub / !Ref in the IAM policy and the job commands.
PARAMS = {
    "ReleaseBucketName": "rel-bucket",
    "ReleasePrefix": "coldstart",
    "InputUri": "s3://in-bucket/active/users.jsonl",
    "HeldoutUri": "s3://in-bucket/heldout/heldout.jsonl",
    "Teacher": "ernie-3.0-medium-zh",
    "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/coldstart-batch:1",
    "PseudonymSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:coldstart-pseudonym-AbCdEf",
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
}


# ---------------------------------------------------------------- CloudFormation helpers

_CfnLoader = CfnLoader  # shared loader: tests/cfn.py


def _resolve(value, params=PARAMS):
    """Evaluate the intrinsics the template uses for strings (Ref to parameters, Sub, Select, Split)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [_resolve(v, params) for v in value]
    assert isinstance(value, dict) and len(value) == 1, value
    (fn, arg), = value.items()
    if fn == "Ref":
        return params[arg]
    if fn == "Fn::Sub":
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        scope = dict(params, **{k: _resolve(v, params) for k, v in variables.items()})
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(scope[m.group(1)]), text)
    if fn == "Fn::Select":
        index, items = arg
        return _resolve(items, params)[int(index)]
    if fn == "Fn::Split":
        sep, text = arg
        return _resolve(text, params).split(sep)
    raise AssertionError(f"unexpected intrinsic {fn} in {value}")


@pytest.fixture(scope="module")
def template():
    return yaml.load(BATCH.read_text(encoding="utf-8"), Loader=_CfnLoader)


def _resources(template, kind):
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _statements(template):
    """Every inline IAM statement in the template, with the resource that holds it."""
    for name, res in template["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            docs = [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs = [props["PolicyDocument"]]
        else:
            continue
        for doc in docs:
            for statement in doc["Statement"]:
                yield name, statement


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _job_role_name(template):
    jobdef = template["Resources"]["EmbedJobDefinition"]["Properties"]
    return jobdef["ContainerProperties"]["JobRoleArn"]["Fn::GetAtt"][0]


# ---------------------------------------------------------------- batch.yaml

def _cfn_lint_command():
    script = Path(sys.executable).parent / "cfn-lint"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cfnlint"]


def test_batch_template_passes_cfn_lint_without_errors_or_warnings():
    proc = subprocess.run(_cfn_lint_command() + ["--", str(BATCH)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "" and proc.stderr.strip() == ""


def test_no_s3_wildcards_in_any_policy(template):
    s3_statements = 0
    for holder, statement in _statements(template):
        actions = _as_list(statement["Action"])
        assert "*" not in actions, f"{holder}: Action '*'"
        if not any(a.lower().startswith("s3:") for a in actions):
            continue
        s3_statements += 1
        assert not any(a.lower() in ("s3:*",) or a.endswith("*") for a in actions), f"{holder}: {actions}"
        for resource in _as_list(statement["Resource"]):
            assert resource != "*", f"{holder}: S3 action on Resource '*'"
        assert statement["Effect"] == "Allow"
    assert s3_statements >= 2


def test_job_role_s3_access_is_the_input_objects_and_the_release_prefix(template):
    role = _job_role_name(template)
    bucket, prefix = PARAMS["ReleaseBucketName"], PARAMS["ReleasePrefix"]
    input_objects = {"arn:aws:s3:::in-bucket/active/users.jsonl", "arn:aws:s3:::in-bucket/heldout/heldout.jsonl"}
    allowed = {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{prefix}/*", *input_objects}
    write_actions = {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
    seen = set()
    secrets = []
    for holder, statement in _statements(template):
        if holder != role:
            continue
        assert "NotResource" not in statement and "NotAction" not in statement
        actions = set(_as_list(statement["Action"]))
        if actions == {"secretsmanager:GetSecretValue"}:  # the pseudonym key, and nothing else
            secrets.append(_resolve(statement["Resource"]))
            continue
        assert all(a.startswith("s3:") for a in actions), actions  # otherwise the jobs need S3 only
        for resource in (_resolve(r) for r in _as_list(statement["Resource"])):
            assert resource in allowed, f"{resource} is not an input object, the release bucket or its prefix"
            # every ARN names the bucket itself: no wildcard in the bucket part
            assert re.fullmatch(r"arn:aws:s3:::[a-z0-9.-]+(/.*)?", resource), resource
            seen.add(resource)
            if resource in input_objects:
                assert actions == {"s3:GetObject"}, "the inputs are read-only"
            if resource == f"arn:aws:s3:::{bucket}":
                assert actions == {"s3:ListBucket"}, "bucket-level ARN only for listing"
            if actions & write_actions:
                assert resource == f"arn:aws:s3:::{bucket}/{prefix}/*", "writes only under the release prefix"
    assert seen == allowed
    assert secrets == [PARAMS["PseudonymSecretArn"]]


def test_job_role_can_be_assumed_only_by_ecs_tasks(template):
    role = template["Resources"][_job_role_name(template)]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert "ManagedPolicyArns" not in role


def test_compute_environment_is_managed_ec2_gpu(template):
    (env,) = _resources(template, "AWS::Batch::ComputeEnvironment").values()
    props = env["Properties"]
    assert props["Type"] == "MANAGED"
    compute = props["ComputeResources"]
    assert compute["Type"] == "EC2" and compute["MinvCpus"] == 0
    assert compute["InstanceTypes"] and all(re.match(r"g(4dn|5)\.", t) for t in compute["InstanceTypes"])
    (ec2_config,) = compute["Ec2Configuration"]
    image_type = ec2_config["ImageType"]
    if isinstance(image_type, dict):
        param = template["Parameters"][image_type["Ref"]]
        assert param["Default"] in param["AllowedValues"]
        assert all(re.fullmatch(r"ECS_AL2(023)?_NVIDIA", v) for v in param["AllowedValues"])
    else:
        assert image_type.endswith("_NVIDIA")


def test_brief_parameters_and_outputs_exist(template):
    params = template["Parameters"]
    for name in ("ImageUri", "ReleaseBucketName", "ReleasePrefix", "InputUri", "HeldoutUri", "Teacher", "ArraySize",
                 "SubnetIds", "SecurityGroupIds", "MaxvCpus"):
        assert name in params
    assert params["ReleasePrefix"]["Default"] == "coldstart"
    assert params["Teacher"]["Default"] == "ernie-3.0-medium-zh"
    assert params["ArraySize"]["Default"] == 4
    assert params["SubnetIds"]["Type"] == "List<AWS::EC2::Subnet::Id>"
    assert {"JobQueueArn", "ArrayJobDefinitionArn", "FinishJobDefinitionArn"} <= set(template["Outputs"])
    (log_group,) = _resources(template, "AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["RetentionInDays"] > 0


def _parse_job(command, jobdef_props):
    """The container command as `python -m infra` would parse it (ENTRYPOINT + Command)."""
    from infra.cli import JOBS, build_parser

    defaults = {k: _resolve(v) for k, v in jobdef_props.get("Parameters", {}).items()}
    argv = []
    for token in (_resolve(t) for t in command):
        if token.startswith("Ref::"):
            assert token[5:] in defaults, f"{token} has no default in the job definition's Parameters"
            token = defaults[token[5:]]
        argv.append(token)
    assert argv[0] in JOBS, argv
    return build_parser().parse_args(argv)


def test_array_job_embeds_one_shard_per_child_on_a_gpu(template):
    props = template["Resources"]["EmbedJobDefinition"]["Properties"]
    container = props["ContainerProperties"]
    requirements = {r["Type"]: r["Value"] for r in container["ResourceRequirements"]}
    assert requirements["GPU"] == "1" and int(requirements["VCPU"]) >= 1 and int(requirements["MEMORY"]) > 0
    args = _parse_job(container["Command"], props)
    assert args.job == "embed"
    assert args.shard is None, "the shard comes from AWS_BATCH_JOB_ARRAY_INDEX / _SIZE, not a fixed --shard"
    assert args.out == "s3://rel-bucket/coldstart/work/embeddings"
    assert args.input == PARAMS["InputUri"] and args.teacher == PARAMS["Teacher"]
    assert args.device == "gpu"
    assert props["RetryStrategy"]["Attempts"] == 2
    assert props["Timeout"]["AttemptDurationSeconds"] > 0


def test_no_job_definition_sets_the_reserved_aws_batch_variables(template):
    # Batch rejects AWS_BATCH_* in job definitions; it sets AWS_BATCH_JOB_ARRAY_INDEX/_SIZE itself.
    text = json.dumps(_resources(template, "AWS::Batch::JobDefinition"))
    for env in re.findall(r'"Environment": (\[[^\]]*\])', text):
        assert not any(e["Name"].startswith("AWS_BATCH") for e in json.loads(env))


def test_finish_job_builds_the_index_then_the_student_then_publishes_a_whole_release(template):
    props = template["Resources"]["FinishJobDefinition"]["Properties"]
    (task,) = props["EcsProperties"]["TaskProperties"]
    assert task["TaskRoleArn"] == {"Fn::GetAtt": [_job_role_name(template), "Arn"]}
    containers = {c["Name"]: c for c in task["Containers"]}
    assert list(containers) == ["build-index", "student", "publish"]
    build, student, publish = containers["build-index"], containers["student"], containers["publish"]
    assert build["Essential"] is False and student["Essential"] is False and publish["Essential"] is True
    assert student["DependsOn"] == [{"ContainerName": "build-index", "Condition": "SUCCESS"}]
    assert publish["DependsOn"] == [{"ContainerName": "student", "Condition": "SUCCESS"}]
    gpus = {name: "GPU" in {r["Type"] for r in c["ResourceRequirements"]} for name, c in containers.items()}
    assert gpus == {"build-index": False, "student": True, "publish": False}  # only distillation needs one
    build_args = _parse_job(build["Command"], props)
    student_args = _parse_job(student["Command"], props)
    publish_args = _parse_job(publish["Command"], props)
    assert (build_args.job, student_args.job, publish_args.job) == ("build-index", "student", "publish")
    embed_props = template["Resources"]["EmbedJobDefinition"]["Properties"]
    embed_args = _parse_job(embed_props["ContainerProperties"]["Command"], embed_props)
    assert build_args.embeddings == student_args.embeddings == embed_args.out
    assert student_args.input == embed_args.input and student_args.teacher == embed_args.teacher
    assert student_args.heldout == PARAMS["HeldoutUri"] and student_args.device == "gpu"
    assert build_args.min_recall == 0.95
    assert publish_args.to == student_args.release == "s3://rel-bucket/coldstart"
    assert publish_args.index == student_args.index == build_args.out
    # a new student when the student step exported one, else the current release's carried forward: never none
    assert publish_args.model is None and publish_args.model_if_present == student_args.out
    # the directories are on a volume the three containers mount
    volumes = {v["Name"] for v in task["Volumes"]}
    mounts = {name: {(m["SourceVolume"], m["ContainerPath"]) for m in c["MountPoints"]}
              for name, c in containers.items()}
    shared = mounts["build-index"] & mounts["student"] & mounts["publish"]
    assert shared and all(v in volumes for v, _ in shared)
    for path in (build_args.out, student_args.out):
        assert any(path.startswith(p.rstrip("/") + "/") for _, p in shared)


def test_batch_jobs_wait_longer_for_s3_than_the_lambda(tmp_path, monkeypatch):
    """Every `python -m infra` job runs with the batch S3 defaults (read 30 s, 4 attempts: uploads of
    hundreds of MB); outside a job the serving defaults apply (read 2 s, 2 attempts); the environment
    overrides both."""
    from coldstart.storage import StoreSettings
    from coldstart.storage.base import BATCH_DEFAULTS, SERVING_DEFAULTS
    from infra.cli import main

    for var in StoreSettings.ENV.values():
        monkeypatch.delenv(var, raising=False)
    seen = []
    monkeypatch.setattr("infra.jobs.publish._list", lambda store: seen.append(StoreSettings.from_env()) or 0)
    assert main(["publish", "--to", str(tmp_path), "--list"]) == 0
    (inside,) = seen
    assert (inside.read_timeout, inside.max_attempts) == (BATCH_DEFAULTS["read_timeout"], BATCH_DEFAULTS["max_attempts"])
    outside = StoreSettings.from_env()
    assert (outside.read_timeout, outside.max_attempts) == (SERVING_DEFAULTS["read_timeout"], 2)
    monkeypatch.setenv("COLDSTART_S3_READ_TIMEOUT", "7")
    seen.clear()
    assert main(["publish", "--to", str(tmp_path), "--list"]) == 0
    assert seen[0].read_timeout == 7.0


# ---------------------------------------------------------------- Dockerfile

def _instructions():
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.strip().partition(" ")
        out.append((keyword.upper(), rest.strip()))
        current = ""
    assert not current, "unterminated continuation line"
    return out


def _one(instructions, keyword):
    found = [rest for kw, rest in instructions if kw == keyword]
    assert found, f"no {keyword}"
    return found[-1]  # the last one is the one that takes effect


def _base_image(instructions):
    args = {}
    for kw, rest in instructions:
        if kw == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args[name.strip()] = value.strip().strip('"')
        if kw == "FROM":
            image = rest.split()[0]
            return re.sub(r"\$\{?(\w+)\}?", lambda m: args[m.group(1)], image)
    raise AssertionError("no FROM")


def test_dockerfile_base_is_paddle_2_6_cuda_11_8_gpu():
    instructions = _instructions()
    assert [kw for kw, _ in instructions].count("FROM") == 1
    image = _base_image(instructions)
    assert re.fullmatch(r"paddlepaddle/paddle:2\.6\.\d+-gpu-cuda11\.8-cudnn8\.\d+(-trt8\.\d+)?", image), image
    assert any(kw == "ARG" and rest.startswith("BASE_IMAGE=") for kw, rest in instructions)


def test_dockerfile_entrypoint_cmd_user_workdir():
    instructions = _instructions()
    assert json.loads(_one(instructions, "ENTRYPOINT")) == ["python", "-m", "infra"]
    assert json.loads(_one(instructions, "CMD")) == ["pipeline", "--help"]
    assert _one(instructions, "WORKDIR") == "/app"
    user = _one(instructions, "USER").split(":")[0]
    assert user not in ("root", "0"), "the image must run as a non-root user"
    env = " ".join(rest for kw, rest in instructions if kw == "ENV")
    assert re.search(r"\bPYTHONUNBUFFERED=1\b", env)
    copies = [rest for kw, rest in instructions if kw == "COPY"]
    assert any(c.split()[0] == "infra/" for c in copies) and any(c.split()[0] == "data/" for c in copies)


def _shell_commands(run):
    """The simple commands of a RUN line, as word lists (quotes respected; split at && || ; |)."""
    lexer = shlex.shlex(run, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands, words = [], []
    for token in lexer:
        if token in ("&&", "||", ";", "|"):
            commands.append(words)
            words = []
        else:
            words.append(token)
    return commands + [words]


def test_dockerfile_keeps_the_images_paddle():
    commands = [words for kw, rest in _instructions() if kw == "RUN" for words in _shell_commands(rest)]
    # requirements.txt reaches pip only through a grep that drops the paddlepaddle (CPU) pin ...
    (grep,) = [w for w in commands if w[:1] == ["grep"] and any("requirements" in x for x in w)]
    assert grep[1:3] == ["-v", "-E"] and grep[-2] == ">"
    pattern, filtered = grep[3], grep[-1]
    regex = re.compile(pattern.replace("[[:space:]]", r"\s"))
    lines = (ROOT / "infra" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not regex.search(line)]
    assert "paddlepaddle==2.6.2" in lines and "paddlepaddle==2.6.2" not in kept
    assert set(lines) - set(kept) == {"paddlepaddle==2.6.2"}, "the filter drops only the paddle pin"
    assert any(line.startswith("paddlenlp==") for line in kept)
    # ... and nothing pip-installs paddlepaddle, or the unfiltered file, over the image's paddlepaddle-gpu
    installs = [w for w in commands if "pip" in w and "install" in w]
    assert installs
    for words in installs:
        targets = words[words.index("install") + 1:]
        assert not any(re.match(r"paddlepaddle(==|>=|<=|~=|<|>|$)", t) for t in targets), words
        for i, t in enumerate(targets):
            if t in ("-r", "--requirement"):
                assert targets[i + 1] == filtered, f"pip -r {targets[i + 1]}: not the filtered requirements"


def test_dockerfile_lint_basics():
    instructions = _instructions()
    runs = [rest for kw, rest in instructions if kw == "RUN"]
    for run in runs:
        assert "apt-get upgrade" not in run and "dist-upgrade" not in run
        if "apt-get install" in run:
            assert "--no-install-recommends" in run and "rm -rf /var/lib/apt/lists/*" in run
        if "pip install" in run:
            assert "--no-cache-dir" in run
    assert ":latest" not in _base_image(instructions)
    assert any("pip install" in r and "/tmp/layer" in r for r in runs), "installs the coldstart core (layer/)"
    # inline `python -c` programs only run at `docker build`: at least make sure they parse
    for run in runs:
        for words in _shell_commands(run):
            if words[:2] == ["python", "-c"]:
                compile(words[2], "Dockerfile RUN python -c", "exec")


def test_dockerignore_keeps_the_image_inputs_and_drops_the_rest():
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*", "allow-list: exclude everything, then re-include what the image copies"
    assert {"!infra", "!layer", "!data", "!models"} <= set(lines)
    assert "**/__pycache__" in lines


# ---------------------------------------------------------------- pipeline.example.yaml

def test_pipeline_example_has_exactly_the_config_keys():
    from infra.jobs.pipeline import PipelineConfig

    data = yaml.safe_load(PIPELINE_EXAMPLE.read_text(encoding="utf-8"))
    assert set(data) == {f.name for f in fields(PipelineConfig)}
    config = PipelineConfig.load(str(PIPELINE_EXAMPLE), {})
    assert config.teacher == "ernie-3.0-medium-zh"
    assert config.publish_to == "s3://my-coldstart-releases/coldstart"
    assert config.min_recall == 0.95
    assert config.demo_teacher is False
    assert config.heldout == "data/heldout.jsonl" and config.student_init == "ernie-3.0-nano-zh"
    assert config.profiles == "s3://my-coldstart-releases/coldstart/profiles"
    assert config.pseudonym_key_file == "/run/secrets/coldstart-pseudonym.key"
    # every other key is the production default
    defaults = PipelineConfig()
    for f in fields(PipelineConfig):
        if f.name not in ("input", "publish_to", "heldout", "student_init", "profiles", "pseudonym_key_file"):
            assert getattr(config, f.name) == getattr(defaults, f.name), f.name
