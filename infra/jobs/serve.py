"""Serve the demo release locally: local S3 + the Lambda through awslambdaric behind an
API Gateway-like front on 127.0.0.1, until Ctrl-C. Run `make demo` first (it publishes).

  curl -s -X POST http://127.0.0.1:8080/profile -H 'Content-Type: application/json' \\
       -d '{"text": "我喜欢看科幻电影和打篮球"}'
"""
from __future__ import annotations

import argparse
import time


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="infra/demo.yaml")
    p.add_argument("--s3-data", default="build/demo/s3")
    p.add_argument("--port", type=int, default=8080, help="API port on 127.0.0.1")


def run(args: argparse.Namespace) -> int:
    from infra.jobs.demo import local_function, local_release

    with local_release(args.config, args.s3_data) as config:
        with local_function(config.publish_to, port=args.port) as function:
            print(f"coldstart API on {function.url}  (POST /profile, GET /health); Ctrl-C stops", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                print("stopping", flush=True)
    return 0
