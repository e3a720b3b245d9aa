"""Start the local S3 server (SeaweedFS on 127.0.0.1) in the background, for running the pipeline
and the other jobs by hand, and print the environment to export:

  eval "$(.venv/bin/python -m infra local-s3)"        # start (or find it running), export its env
  .venv/bin/python -m infra pipeline --config infra/demo.yaml
  .venv/bin/python -m infra local-s3 --stop

Only the export lines go to stdout, so `eval` takes them; the note about the server goes to stderr.
It uses the data directory of `make demo` / `make serve` (build/demo/s3), and they reuse a server
started here instead of starting a second one on the same directory.
"""
from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="infra/demo.yaml", help="pipeline config whose publish_to bucket is created")
    p.add_argument("--s3-data", default="build/demo/s3", help="where the server keeps its objects (kept between runs)")
    p.add_argument("--port", type=int, default=8333, help="S3 port on 127.0.0.1 (0: any free port)")
    p.add_argument("--stop", action="store_true", help="stop the server serving --s3-data")


def run(args: argparse.Namespace) -> int:
    from local.s3 import LocalS3Server, serving, stop_pid

    running = serving(args.s3_data)
    if args.stop:
        if running is None:
            print(f"local S3: nothing serves {args.s3_data}", file=sys.stderr)
            return 0
        stop_pid(running[0])
        print(f"local S3 (pid {running[0]}) stopped", file=sys.stderr)
        return 0
    bucket = demo_bucket(args.config)
    if running is not None:
        server = LocalS3Server(args.s3_data, port=running[1])
        server.create_bucket(bucket)
        note = f"already running (pid {running[0]})"
    else:
        from local.procs import check_port_free

        check_port_free(args.port, "the local S3", "--port")
        server = LocalS3Server(args.s3_data, port=args.port, buckets=[bucket], kill_with_parent=False)
        server.start()
        note = f"started in the background (pid {server.detach()})"
    for key, value in server.env().items():
        print(f"export {key}={value}")
    print(f"local S3 (SeaweedFS) {note} on {server.endpoint_url}, data {args.s3_data}, bucket {bucket}; "
          f"stop it with `python -m infra local-s3 --stop`", file=sys.stderr)
    return 0


def demo_bucket(config_path: str) -> str:
    """The bucket of the config's ``publish_to`` (s3://BUCKET/…), else the demo's."""
    from infra.jobs.pipeline import PipelineConfig

    publish_to = PipelineConfig.load(config_path, {}).publish_to or ""
    return publish_to.split("/")[2] if publish_to.startswith("s3://") else "coldstart-demo"
