"""Serve the demo release locally until Ctrl-C: local S3 + the Lambda through awslambdaric behind an
API Gateway-like front on 127.0.0.1. Run `make demo` first (it publishes the release).

  curl -s -X POST http://127.0.0.1:8080/profile -H 'Content-Type: application/json' \\
       -d '{"text": "我喜欢看科幻电影和打篮球"}'
  curl -s http://127.0.0.1:8080/health

Another port: `python -m infra serve --port 8090` (or `make serve PORT=8090`).
"""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="infra/demo.yaml", help="pipeline config whose release is served")
    p.add_argument("--s3-data", default="build/demo/s3", help="where the local S3 server keeps its objects")
    p.add_argument("--port", type=int, default=8080, help="API port on 127.0.0.1")


def run(args: argparse.Namespace) -> int:
    from infra.jobs.demo import local_function, local_release
    from local.procs import check_port_free, wait_for_stop_signal

    check_port_free(args.port, "the API")  # before anything starts: nothing to clean up
    with local_release(args.config, args.s3_data) as config:
        _require_release(args.config, config.publish_to)
        with local_function(config.publish_to, port=args.port) as function:
            print(f"coldstart API on {function.url}  (POST /profile, GET /health); Ctrl-C stops", flush=True)
            wait_for_stop_signal()
            print("stopping", flush=True)
    return 0


def _require_release(config_path: str, publish_to) -> None:
    """Serving nothing would answer 503 to every request: say so before starting the function."""
    from coldstart.errors import ConfigError
    from coldstart.release import read_current
    from coldstart.storage import open_store

    if not publish_to:
        raise ConfigError(f"{config_path} has no publish_to: nothing to serve")
    if read_current(open_store(publish_to)) is None:
        raise ConfigError(f"no release published at {publish_to} yet: run `make demo` first")
