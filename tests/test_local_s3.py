"""local/s3.py against the real SeaweedFS server it starts on 127.0.0.1."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from local.procs import free_port
from local.s3 import READER_ACCESS_KEY, READER_SECRET_KEY, LocalS3Error, LocalS3Server

ROOT = Path(__file__).resolve().parents[1]


def _error_code(exc: ClientError) -> tuple[str, int]:
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def _assert_gone(pid: int, data_dir: Path) -> None:
    deadline = time.monotonic() + 2  # a detached weed (CLI) is reaped by init, maybe a bit later
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # nothing left in weed's process group either
    for proc in Path("/proc").glob("[0-9]*"):  # and no weed anywhere serving this data dir
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        assert not (argv and argv[0].endswith(b"weed") and f"-dir={data_dir}".encode() in argv), proc


def test_put_get_roundtrip_exact_bytes(s3_bucket):
    server, bucket = s3_bucket
    s3 = server.client()
    small = bytes(range(256)) * 3 + b"\x00\r\n\xff"
    big = os.urandom(5 * 1024 * 1024 + 7)  # above weed's 4 MB chunk size: stored as several chunks
    s3.put_object(Bucket=bucket, Key="bin/small.bin", Body=small)
    s3.put_object(Bucket=bucket, Key="bin/big.bin", Body=big)

    got = s3.get_object(Bucket=bucket, Key="bin/small.bin")
    assert got["Body"].read() == small
    assert got["ContentLength"] == len(small)
    assert got["ETag"].strip('"') == hashlib.md5(small).hexdigest()
    assert s3.get_object(Bucket=bucket, Key="bin/big.bin")["Body"].read() == big
    ranged = s3.get_object(Bucket=bucket, Key="bin/big.bin", Range="bytes=4194300-4194310")
    assert ranged["Body"].read() == big[4194300:4194311]

    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="bin/missing.bin")
    assert _error_code(exc.value) == ("NoSuchKey", 404)


def test_listing(s3_bucket):
    server, bucket = s3_bucket
    s3 = server.client()
    keys = ["releases/v1/manifest.json", "releases/v1/model.onnx", "releases/v2/manifest.json", "top.txt"]
    for i, key in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x" * (i + 1))

    listed = s3.list_objects_v2(Bucket=bucket)
    assert [(o["Key"], o["Size"]) for o in listed["Contents"]] == [(k, i + 1) for i, k in enumerate(keys)]

    v1 = s3.list_objects_v2(Bucket=bucket, Prefix="releases/v1/")
    assert [o["Key"] for o in v1["Contents"]] == keys[:2]

    tree = s3.list_objects_v2(Bucket=bucket, Prefix="releases/", Delimiter="/")
    assert [p["Prefix"] for p in tree["CommonPrefixes"]] == ["releases/v1/", "releases/v2/"]
    assert "Contents" not in tree

    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_read_only_identity_cannot_put(s3_bucket):
    server, bucket = s3_bucket
    server.client().put_object(Bucket=bucket, Key="existing", Body=b"readable")
    reader = server.client(READER_ACCESS_KEY, READER_SECRET_KEY)

    assert reader.get_object(Bucket=bucket, Key="existing")["Body"].read() == b"readable"
    assert [o["Key"] for o in reader.list_objects_v2(Bucket=bucket)["Contents"]] == ["existing"]

    with pytest.raises(ClientError) as exc:
        reader.put_object(Bucket=bucket, Key="intruder", Body=b"nope")
    assert _error_code(exc.value) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        reader.delete_object(Bucket=bucket, Key="existing")
    assert _error_code(exc.value) == ("AccessDenied", 403)

    keys = [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["existing"]


def test_wrong_credentials_rejected(s3_bucket):
    server, bucket = s3_bucket
    wrong_secret = server.client(server.access_key, "not-the-secret")
    with pytest.raises(ClientError) as exc:
        wrong_secret.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert _error_code(exc.value) == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as exc:
        wrong_secret.list_objects_v2(Bucket=bucket)
    assert _error_code(exc.value)[1] == 403

    with pytest.raises(ClientError) as exc:
        server.client("no-such-key", "whatever").list_buckets()
    assert _error_code(exc.value) == ("InvalidAccessKeyId", 403)

    server.client().put_object(Bucket=bucket, Key="k", Body=b"v")
    with pytest.raises(urllib.error.HTTPError) as http:  # anonymous, unsigned
        urllib.request.urlopen(f"{server.endpoint_url}/{bucket}/k", timeout=5)
    assert http.value.code == 403


def test_env_convention_plain_boto3(s3_env, s3_bucket):
    server, bucket = s3_bucket
    assert s3_env == {
        "AWS_ENDPOINT_URL": server.endpoint_url,
        "AWS_ACCESS_KEY_ID": "coldstart-test",
        "AWS_SECRET_ACCESS_KEY": "coldstart-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    assert server.endpoint_url.startswith("http://127.0.0.1:")
    s3 = boto3.session.Session().client("s3")  # endpoint, keys and region all from the env
    s3.put_object(Bucket=bucket, Key="from-env", Body=b"env works")
    assert server.client().get_object(Bucket=bucket, Key="from-env")["Body"].read() == b"env works"


def test_start_failure_reports_log_tail(tmp_path):
    fake = tmp_path / "weed"
    fake.write_text("#!/bin/sh\necho 'F0101 simulated fatal: cannot start' >&2\nexit 3\n")
    fake.chmod(0o755)
    server = LocalS3Server(tmp_path / "data", weed_bin=str(fake), timeout=5)
    with pytest.raises(LocalS3Error, match="(?s)exited with code 3.*simulated fatal"):
        server.start()
    assert not server.running


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "local.s3", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_object_survives_restart_and_stop_leaves_no_process(tmp_path):
    """stop() + start on the same data dir keeps objects; the second start is the CLI's
    --background mode (as `make demo` uses it), stopped with --stop --pidfile."""
    data, pidfile = tmp_path / "s3data", tmp_path / "s3.pid"
    server = LocalS3Server(data, buckets=["persist"])
    with server:
        pid = server.pid
        assert server.start_seconds is not None
        server.client().put_object(Bucket="persist", Key="a/b.txt", Body=b"kept across restarts")
    assert not server.running and server.pid is None
    _assert_gone(pid, data.resolve())
    server.stop()  # idempotent
    assert (data / "weed.log").stat().st_size > 0  # weed's output went to the log, not the console

    port = free_port()
    started = _cli("--data", str(data), "--port", str(port), "--bucket", "demo-releases",
                   "--background", "--pidfile", str(pidfile))
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == (
        f"local S3 (SeaweedFS) on http://127.0.0.1:{port}, bucket(s) demo-releases; "
        "AWS_ACCESS_KEY_ID=coldstart-test AWS_SECRET_ACCESS_KEY=coldstart-test-secret"
    )
    cli_pid = int(pidfile.read_text())
    assert cli_pid != pid
    try:
        client = LocalS3Server(data, port=port).client()  # a client for the CLI's server
        assert client.get_object(Bucket="persist", Key="a/b.txt")["Body"].read() == b"kept across restarts"
        assert sorted(b["Name"] for b in client.list_buckets()["Buckets"]) == ["demo-releases", "persist"]
    finally:
        stopped = _cli("--stop", "--pidfile", str(pidfile))
        if stopped.returncode != 0:  # never leave it behind
            os.killpg(cli_pid, signal.SIGKILL)
    assert stopped.returncode == 0, stopped.stderr
    assert not pidfile.exists()
    _assert_gone(cli_pid, data.resolve())


def test_volume_id_notation_and_files_on_disk(tmp_path):
    from local.s3 import _parse_id_ranges, volumes_on_disk

    assert _parse_id_ranges(" 1-3,7") == {1, 2, 3, 7} and _parse_id_ranges("") == set()
    for name in ("3.dat", "releases_12.dat", "my_bucket_5.dat", "12.idx", "notes.dat"):
        (tmp_path / name).write_bytes(b"")
    assert volumes_on_disk(tmp_path) == {3, 5, 12}


def test_restart_is_ready_only_once_the_master_lists_the_volumes_on_disk(tmp_path, monkeypatch):
    """After a restart on an existing data dir, weed answers ListBuckets before the volume server has
    re-registered its volumes, and GETs answer InternalError meanwhile. start() must wait for them:
    here the master is made to 'not know' the volumes for the first polls."""
    data = tmp_path / "s3data"
    with LocalS3Server(data, buckets=["kept"]) as server:
        server.client().put_object(Bucket="kept", Key="k", Body=b"still here")
    from local import s3 as local_s3

    assert local_s3.volumes_on_disk(data.resolve())  # the restart below has volumes to wait for
    real = LocalS3Server.master_volume_ids
    calls = []

    def late_registration(self):
        calls.append(time.monotonic())
        return set() if len(calls) <= 5 else real(self)

    monkeypatch.setattr(LocalS3Server, "master_volume_ids", late_registration)
    with LocalS3Server(data) as server:
        assert len(calls) == 6  # polled until the volumes were listed, not one poll more
        assert server.client().get_object(Bucket="kept", Key="k")["Body"].read() == b"still here"
        assert local_s3.volumes_on_disk(data.resolve()) <= real(server)
