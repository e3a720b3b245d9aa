"""The production batch path, run here: infra/batch.yaml's job commands, in order, against the local
S3 server, then a cold start of the Lambda handler on what they published.

Nothing is re-typed: the commands are read from the template (Ref:: parameters filled from the job
definitions' defaults and the stack parameters), the only local changes being

  * the tiny test teacher and a tiny student shape, lenient gates (a 1-layer random teacher puts
    users in near-ties; the gates themselves are tested on the demo model and in test_distill_export);
  * ``--device gpu`` -> ``cpu`` (no GPU here) and the task volume ``/app/work`` -> a temporary directory;
  * the pseudonym key comes from the test key file (tests/conftest.py), not from Secrets Manager
    (the container's ``COLDSTART_PSEUDONYM_SECRET`` is left out);
  * the array job's children run one after the other, each with the AWS_BATCH_JOB_ARRAY_INDEX/_SIZE
    that Batch would set.

Run 1 (nothing published) trains a student and publishes the first release; run 2 (the daily refresh:
a new population, same teacher) carries that student forward. Containers run in DependsOn order, each
only when the one before succeeded, as Batch does.
"""
import json
import os
import subprocess
import sys

import pytest
import yaml

from coldstart.release import read_current, read_release
from coldstart.storage import open_store
from infra.cli import main
from tests.cfn import CfnLoader
from tests.conftest import DATA, ROOT
from tests.test_infra_templates import BATCH, PARAMS, _resolve

TINY = {"hidden_size": "32", "layers": "1", "heads": "2", "intermediate_size": "64", "max_seq_len": "32",
        "epochs": "4", "student_init": "teacher", "min_student_recall": "0", "min_top_tag_agreement": "0",
        "min_int8_overlap": "0"}


@pytest.fixture(scope="module")
def template():
    return yaml.load(BATCH.read_text(encoding="utf-8"), Loader=CfnLoader)


def job_argv(command, props, params, overrides, work):
    """A container's command as Batch would pass it: Ref:: from the job's parameters (+ overrides)."""
    values = {k: _resolve(v, params) for k, v in props.get("Parameters", {}).items()}
    values.update(overrides)
    argv = []
    for token in (_resolve(t, params) for t in command):
        if token.startswith("Ref::"):
            token = values[token[5:]]
        argv.append(token.replace("/app/work", str(work)))
    if "--device" in argv:
        argv[argv.index("--device") + 1] = "cpu"  # the one change: no GPU on this machine
    return argv


def container_env(container):
    env = {e["Name"]: e["Value"] for e in container.get("Environment", [])}
    env.pop("COLDSTART_PSEUDONYM_SECRET", None)  # here: the test key file (COLDSTART_PSEUDONYM_KEY_FILE)
    return env


def run_job(argv, env, log):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        code = main(argv)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    log.append((argv[0], code))
    return code


def run_stack(template, params, overrides, work, array_size=2):
    """The array job (every child), then the finish job's containers in DependsOn order."""
    log = []
    embed = template["Resources"]["EmbedJobDefinition"]["Properties"]
    container = embed["ContainerProperties"]
    argv = job_argv(container["Command"], embed, params, overrides, work)
    for child in range(array_size):
        env = {**container_env(container), "AWS_BATCH_JOB_ARRAY_INDEX": str(child),
               "AWS_BATCH_JOB_ARRAY_SIZE": str(array_size)}
        assert run_job(argv, env, log) == 0, log
    finish = template["Resources"]["FinishJobDefinition"]["Properties"]
    (task,) = finish["EcsProperties"]["TaskProperties"]
    done = set()
    pending = list(task["Containers"])
    while pending:
        ready = [c for c in pending if all(d["ContainerName"] in done for d in c.get("DependsOn", []))]
        assert ready, f"DependsOn cycle among {[c['Name'] for c in pending]}"
        c = ready[0]
        pending.remove(c)
        code = run_job(job_argv(c["Command"], finish, params, overrides, work), container_env(c), log)
        assert code == 0, f"container {c['Name']} failed: {log}"  # SUCCESS gates the next container
        done.add(c["Name"])
    return [name for name, _ in log]


LAMBDA_CHILD = r"""
import json, sys
sys.path[:0] = [sys.argv[1] + "/function", sys.argv[1] + "/layer"]
import app
class Ctx:
    function_name = "coldstart"; memory_limit_in_mb = 1769; aws_request_id = "batch-path"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart"
out = {}
for name in ("health_rest", "profile_rest"):
    r = app.handler(json.load(open(sys.argv[1] + "/events/" + name + ".json")), Ctx())
    out[name] = [r["statusCode"], json.loads(r["body"])]
print("RESULT " + json.dumps(out, ensure_ascii=False))
"""


def cold_start(uri, cache):
    env = {**os.environ, "COLDSTART_RELEASE_URI": uri, "COLDSTART_CACHE_DIR": str(cache),
           "POWERTOOLS_METRICS_NAMESPACE": "BatchPathTest"}
    done = subprocess.run([sys.executable, "-c", LAMBDA_CHILD, str(ROOT)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    return json.loads(line[len("RESULT "):])


def test_the_batch_stack_publishes_a_release_the_lambda_serves_then_refreshes_the_index(
        template, s3_bucket, s3_env, small_users, tiny_teacher, tmp_path, capsys):
    server, bucket = s3_bucket
    client = server.client()
    users = small_users.read_bytes()
    client.put_object(Bucket=bucket, Key="in/users.jsonl", Body=users)
    heldout = b"\n".join((DATA / "heldout.jsonl").read_bytes().splitlines()[:80]) + b"\n"
    client.put_object(Bucket=bucket, Key="in/heldout.jsonl", Body=heldout)
    params = {**PARAMS, "ReleaseBucketName": bucket, "InputUri": f"s3://{bucket}/in/users.jsonl",
              "HeldoutUri": f"s3://{bucket}/in/heldout.jsonl", "Teacher": str(tiny_teacher)}
    release_uri = f"s3://{bucket}/coldstart"

    # run 1: the first production release (nothing published: the student step trains one)
    run1 = {**TINY, "embeddings": f"{release_uri}/work/run1/embeddings"}
    steps = run_stack(template, params, run1, tmp_path / "task1")
    assert steps == ["embed", "embed", "build-index", "student", "publish"]
    out = capsys.readouterr().out
    assert "student: nothing is published yet: distill + export" in out and "student: decision=new" in out
    assert "model=new" in out
    first = read_current(open_store(release_uri)).version
    release = read_release(open_store(release_uri), first)
    assert release.has_model and "model/student.int8.onnx" in release.files and "canaries.json" in release.files
    served = cold_start(release_uri, tmp_path / "lambda1")
    assert served["health_rest"][0] == 200 and served["health_rest"][1]["release"] == first
    assert served["profile_rest"][0] == 200 and served["profile_rest"][1]["tags"]

    # run 2: the daily refresh, a new population (a user left, the rest stay), the same teacher
    client.put_object(Bucket=bucket, Key="in/users.jsonl", Body=b"\n".join(users.splitlines()[1:]) + b"\n")
    run2 = {**TINY, "embeddings": f"{release_uri}/work/run2/embeddings"}
    steps = run_stack(template, params, run2, tmp_path / "task2")
    assert steps == ["embed", "embed", "build-index", "student", "publish"]
    out = capsys.readouterr().out
    assert "nothing to train; publish carries it forward" in out and "decision=carry-forward" in out
    assert f"model=carried-forward:{first}" in out
    pointer = read_current(open_store(release_uri))
    assert pointer.version != first and pointer.previous == first
    second = read_release(open_store(release_uri), pointer.version)
    assert second.components["index"]["count"] == 299
    assert {n: e for n, e in second.files.items() if n.startswith("model/")} == \
        {n: e for n, e in release.files.items() if n.startswith("model/")}
    served = cold_start(release_uri, tmp_path / "lambda2")
    assert served["health_rest"][0] == 200 and served["health_rest"][1]["release"] == pointer.version
    assert served["profile_rest"][0] == 200


def test_the_student_step_trains_only_when_the_index_needs_a_new_student(tmp_path, capsys):
    """Its decision, without training: same teacher carries forward (and clears a stale --out),
    another teacher or nothing published means distill + export."""
    from infra.jobs.student import decide
    from tests.synthetic import write_model
    from tests.test_publish import make_index

    store = str(tmp_path / "store")
    index = make_index(tmp_path, "idx")
    assert decide(store, str(index)) == (False, "nothing is published yet")
    assert main(["publish", "--to", store, "--index", str(index), "--model", str(write_model(tmp_path / "m", index)),
                 "--version", "v1"]) == 0
    carry, why = decide(store, str(make_index(tmp_path, "idx-day2", seed=2)))
    assert carry and "v1's student comes from the index's teacher synthetic" in why
    carry, why = decide(store, str(make_index(tmp_path, "idx-teacher2", seed=3, weights_sha256="e" * 64)))
    assert not carry and "comes from teacher synthetic (000000000000…), the index from synthetic (eeeeeeeeeeee…)" in why

    stale = write_model(tmp_path / "stale-model", index)  # e.g. left on a reused volume by an earlier run
    capsys.readouterr()
    assert main(["student", "--release", store, "--index", str(index), "--embeddings", "unused", "--input", "unused",
                 "--teacher", "unused", "--heldout", "unused", "--out", str(stale)]) == 0
    assert "decision=carry-forward" in capsys.readouterr().out and not stale.exists()
