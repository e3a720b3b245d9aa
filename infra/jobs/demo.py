"""The offline demo: start a local S3-compatible server (SeaweedFS on 127.0.0.1), run the
pipeline from infra/demo.yaml against it, publish, and print the release.

Runs on the embedded default: the project's small DEMO teacher trained on synthetic data,
not pretrained ERNIE (model hubs are not reachable here). The S3 data persists under
--s3-data, so a second run finds its release already published and finishes in seconds.
"""
from __future__ import annotations

import argparse
import os


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="infra/demo.yaml", help="pipeline config")
    p.add_argument("--s3-data", default="build/demo/s3", help="where the local S3 server keeps its objects")
    p.add_argument("--s3-port", type=int, default=0, help="S3 port on 127.0.0.1 (0: any free port)")


def run(args: argparse.Namespace) -> int:
    from infra.cli import main
    from infra.jobs.pipeline import PipelineConfig
    from infra.local_s3 import LocalS3Server

    config = PipelineConfig.load(args.config, {})
    bucket = (config.publish_to or "s3://coldstart-demo").split("/")[2]
    print("coldstart demo: DEMO teacher trained on synthetic data (not pretrained ERNIE); local S3 on 127.0.0.1",
          flush=True)
    with LocalS3Server(args.s3_data, port=args.s3_port, buckets=[bucket]) as server:
        os.environ.update(server.env())
        print(f"local S3 (SeaweedFS) ready at {server.endpoint_url}, bucket {bucket}", flush=True)
        return main(["pipeline", "--config", args.config])
