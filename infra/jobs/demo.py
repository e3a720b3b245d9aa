"""The offline demo: start a local S3-compatible server (SeaweedFS on 127.0.0.1), run the
pipeline from infra/demo.yaml against it (embed → index → distill → export → publish), then
start the Lambda through its real entrypoint (`python -m awslambdaric app.handler` against a
local Runtime API) and print profiles for data/samples.jsonl.

Runs on the embedded default: the project's small DEMO teacher trained on synthetic data,
not pretrained ERNIE (model hubs are not reachable here). The S3 data persists under
--s3-data, so a second run finds its release already published and finishes in seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import urllib.request
from contextlib import contextmanager

DEMO_NOTE = "DEMO teacher trained on synthetic data (not pretrained ERNIE); local S3 on 127.0.0.1"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="infra/demo.yaml", help="pipeline config")
    p.add_argument("--s3-data", default="build/demo/s3", help="where the local S3 server keeps its objects")
    p.add_argument("--s3-port", type=int, default=0, help="S3 port on 127.0.0.1 (default: any free port)")
    p.add_argument("--samples", default="data/samples.jsonl", help="inputs to profile after publishing")


@contextmanager
def local_release(config_path: str, s3_data: str, s3_port: int = 0):
    """Local S3 with the demo bucket; yields the pipeline config (env set for S3 and the pseudonym key).

    A server already serving ``s3_data`` (``python -m infra local-s3``) is used and left running;
    otherwise one is started here and stopped on the way out, also when the block fails."""
    from infra.jobs.local_s3 import demo_bucket
    from infra.jobs.pipeline import PipelineConfig
    from local.procs import check_port_free
    from local.s3 import LocalS3Server, serving

    config = PipelineConfig.load(config_path, {})
    if config.pseudonym_key_file:  # the demo's throwaway key: user ids become keyed pseudonyms
        from infra.jobs.new_key import ensure_key_file

        os.environ["COLDSTART_PSEUDONYM_KEY_FILE"] = os.path.abspath(ensure_key_file(config.pseudonym_key_file))
    bucket = demo_bucket(config_path)
    running = serving(s3_data)
    if running is not None:
        server = LocalS3Server(s3_data, port=running[1])
        server.create_bucket(bucket)
        os.environ.update(server.env())
        print(f"local S3 (SeaweedFS) already running at {server.endpoint_url} (pid {running[0]}), "
              f"bucket {bucket}", flush=True)
        yield config
        return
    check_port_free(s3_port, "the local S3", "--s3-port")
    with LocalS3Server(s3_data, port=s3_port, buckets=[bucket]) as server:
        os.environ.update(server.env())
        print(f"local S3 (SeaweedFS) ready at {server.endpoint_url}, bucket {bucket}", flush=True)
        yield config


@contextmanager
def local_function(release_uri: str, cache_dir: str = "build/demo/lambda-tmp", port: int = 0):
    from local.lambda_api import LocalLambda

    env = {"COLDSTART_RELEASE_URI": release_uri, "COLDSTART_CACHE_DIR": os.path.abspath(cache_dir)}
    with LocalLambda(env=env, port=port, payload_version="1.0", function_timeout=10,
                     log_path=os.path.abspath("build/demo/lambda.log")) as function:
        print(f"function started via awslambdaric (cold start {function.init_seconds:.2f} s); "
              f"logs in build/demo/lambda.log", flush=True)
        yield function


def post_profile(url: str, text: str) -> dict:
    request = urllib.request.Request(url + "/profile", data=json.dumps({"text": text}).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, **json.loads(exc.read() or b"{}")}


def print_profile(sample: dict, body: dict) -> None:
    from coldstart.preprocess import prepare_text

    masked, _ = prepare_text(sample["text"])
    if "error" in body:
        print(f"\n{sample['text']}\n  error {body.get('status')}: {body['error']['message']}")
        return
    expect = sample.get("expect_top") or "/".join(sample.get("accept", [])) or "-"
    ok = body["top_tag"] == sample.get("expect_top") or body["top_tag"] in sample.get("accept", [])
    tags = "  ".join(f"{t['tag']} {t['score']:.2f}" for t in body["tags"][:4])
    print(f"\n{sample['text']}")
    if body["pii_masked"]:
        print(f"  masked   {masked}   ({', '.join(f'{k}={v}' for k, v in body['pii_masked'].items())})")
    print(f"  top tag  {body['top_tag']}  (expected {expect}: {'ok' if ok else 'MISS'})"
          f"  confidence {body['confidence']:.2f}{'  FALLBACK' if body['fallback'] else ''}")
    print(f"  tags     {tags}")
    print(f"  why      {body.get('why', '')}   [{body['latency_ms']:.1f} ms, cache {body['cache']}]")


# Issue 14's acceptance figures on the independent test set (data/eval/interests/README.md)
TARGET_TOP1, TARGET_MARGIN, TARGET_ECE, TARGET_ABSTAIN_NO, TARGET_ABSTAIN_IN = 0.85, 0.10, 0.05, 0.95, 0.05


def print_test_figures(work_dir: str, name: str = "test") -> None:
    """The independent test set's figures against the targets, from the pipeline's evaluation."""
    path = os.path.join(work_dir, "quality", name, "evaluation.json")
    if not os.path.isfile(path):
        print(f"\n== independent test set: not evaluated ({path} missing; see data/eval/interests/README.md) ==")
        return
    with open(path, encoding="utf-8") as fh:
        report = json.load(fh)
    sem, kw, seed = (report["methods"][m] for m in ("semantic", "keyword", "seed"))

    def mark(ok):
        return "ok" if ok else "NOT REACHED"

    def pct(v):
        return "–" if v is None else f"{100 * v:.1f}%"

    top1_ok = sem["top1"] >= TARGET_TOP1 and sem["top1"] >= kw["top1"] + TARGET_MARGIN
    print(f"\n== independent test set ({', '.join(report['data'])}: {report['n_in_interest']} in-interest, "
          f"{report['n_no_interest']} no-interest texts; never used for training or tuning) ==")
    print(f"semantic top-1        {sem['top1']:.3f}   target >= {TARGET_TOP1} and >= keyword {kw['top1']:.3f} + "
          f"{TARGET_MARGIN}   {mark(top1_ok)}   (seed top-5 vote {seed['top1']:.3f})")
    print(f"ECE                   {sem['ece']:.3f}   target <= {TARGET_ECE}   {mark(sem['ece'] <= TARGET_ECE)}   "
          f"(a perfectly calibrated confidence would measure {sem['ece_floor']:.3f} here; keyword {kw['ece']:.3f})")
    no_ok = sem["abstain_no"] is not None and sem["abstain_no"] >= TARGET_ABSTAIN_NO
    in_ok = sem["abstain_in"] is not None and sem["abstain_in"] <= TARGET_ABSTAIN_IN
    print(f"no-interest abstain   {pct(sem['abstain_no'])}   target >= {pct(TARGET_ABSTAIN_NO)}   {mark(no_ok)}")
    print(f"in-interest abstain   {pct(sem['abstain_in'])}   target <= {pct(TARGET_ABSTAIN_IN)}   {mark(in_ok)}")
    print(f"command               {report['command']}")


def run(args: argparse.Namespace) -> int:
    from infra.cli import main

    print(f"coldstart demo: {DEMO_NOTE}", flush=True)
    with local_release(args.config, args.s3_data, args.s3_port) as config:
        code = main(["pipeline", "--config", args.config])
        if code:
            return code
        print_test_figures(config.work_dir)
        samples = [json.loads(line) for line in open(args.samples, encoding="utf-8") if line.strip()]
        with local_function(config.publish_to) as function:
            print("\n== profiles (POST /profile through the local API → awslambdaric → app.handler) ==")
            for sample in samples:
                print_profile(sample, post_profile(function.url, sample["text"]))
    print("\nmake serve keeps this API up on 127.0.0.1 for curl.")
    return 0
