"""The demo release as a kiosk would be provisioned offline: a folder, like a USB stick.

``make demo`` publishes to a SeaweedFS server whose data stays in ``build/demo/s3`` but which runs
only while ``infra demo`` / ``infra serve`` runs, and a kiosk has no S3 credentials. So
``python -m edge demo-release`` (``make kiosk`` runs it; Python 3.11, it needs the venv's ``weed``)
starts that server on its data for a moment, copies the published release
(``current.json`` + ``releases/<version>/``) into ``build/demo/kiosk-release/`` and stops it; the
kiosk (``python -m edge kiosk --demo``) then uses that folder as its release URI, with the usual
sha256/size verification when it copies the release into its own cache. A copy that already
matches the published ``current.json`` is kept as it is.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
DEMO_S3_DATA = ROOT / "build" / "demo" / "s3"
DEMO_CONFIG = ROOT / "infra" / "demo.yaml"
DEMO_RELEASE = ROOT / "build" / "demo" / "kiosk-release"
DEMO_DATA = ROOT / "build" / "demo" / "kiosk-data"
READY_SECONDS = 30.0


class DemoReleaseMissing(RuntimeError):
    """There is no demo release to copy (make demo has not run) or no folder copy of it."""


def demo_publish_uri(config: Path = DEMO_CONFIG) -> str:
    """``publish_to`` of infra/demo.yaml (read as plain text: no YAML parser on the kiosk's Python)."""
    for line in config.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "publish_to":
            return value.split("#", 1)[0].strip()
    raise DemoReleaseMissing(f"{config} has no publish_to")


def _retried(call, seconds: float = READY_SECONDS):
    """``call()``, retried while SeaweedFS answers 5xx: a restarted ``weed mini`` serves S3 a moment before
    its volumes are loaded again (InternalError on GetObject). Bounded; the last error is raised."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status < 500 or time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def copied_version(out: Path = DEMO_RELEASE) -> Optional[str]:
    try:
        return json.loads((out / "current.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return None


def mirror_demo_release(s3_data: Path = DEMO_S3_DATA, out: Path = DEMO_RELEASE, config: Path = DEMO_CONFIG) -> str:
    """Copy the demo's published release out of its local S3 data into ``out``; returns the version."""
    from contextlib import nullcontext

    from local.s3 import LocalS3Server, serving  # 3.11 only: the weed binary comes with the venv

    if not Path(s3_data).is_dir():
        raise DemoReleaseMissing(f"no demo S3 data in {s3_data}: run `make demo` first")
    uri = demo_publish_uri(config)
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    prefix = prefix.strip("/")
    running = serving(s3_data)  # `python -m infra local-s3` may be serving it already: use that one
    server_cm = nullcontext(LocalS3Server(s3_data, port=running[1])) if running else \
        LocalS3Server(s3_data, buckets=[bucket])
    with server_cm as server:
        client = server.client()
        try:
            pointer = _retried(lambda: client.get_object(Bucket=bucket, Key=f"{prefix}/current.json")["Body"].read())
        except client.exceptions.NoSuchKey:
            raise DemoReleaseMissing(f"{uri} has no current.json: run `make demo` first") from None
        version = json.loads(pointer)["version"]
        if copied_version(out) == version and (out / "releases" / version / "release.json").is_file() \
                and (out / "current.json").read_bytes() == pointer:
            return version
        from coldstart.release import staged_directory

        release_prefix = f"{prefix}/releases/{version}/"
        with staged_directory(out) as staging:  # swapped in whole, only once every object is copied
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=release_prefix):
                for item in page.get("Contents", []):
                    target = staging / "releases" / version / item["Key"][len(release_prefix):]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    _retried(lambda: client.download_file(bucket, item["Key"], str(target)))
            (staging / "current.json").write_bytes(pointer)  # last: the copy is complete before it names a release
    return version
