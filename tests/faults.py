"""Fault injection helpers for tests/test_faults.py (and anything else that wants them).

``FaultProxy``: a small HTTP/1.1 proxy on 127.0.0.1 in front of the local S3 server (SeaweedFS).
Point a client's endpoint at ``proxy.endpoint_url`` and add rules; every request the proxy sees
is logged (method, path, action), so a test can count the attempts a client really made.

    with FaultProxy(server.port) as proxy:
        proxy.add("status", path="current.json", status=500, times=2)   # two 500s, then pass
        proxy.add("delay", path="/releases/v2/", seconds=2)             # seconds per request
        hold = proxy.add("hold", path="index.ann")                      # until hold.release()
        proxy.add("truncate", path="index.ann")                          # half the body, then close
        proxy.add("corrupt", path="index.ann")                           # one byte flipped, same length
        proxy.add("drop")                                                # close without an answer
        proxy.refuse()  / proxy.accept()                                 # nothing listens / listen again

Rules are tried in the order they were added; the first whose method and path match (and that
has ``times`` left) decides. Requests are forwarded on a fresh upstream connection with
``Connection: close`` (not a signed header, so SigV4 signatures stay valid: the Host header the
client signed is passed through unchanged), and every response goes back with ``Connection:
close``: each request is its own connection, so connection counts equal request counts.

``mounted_tmpfs``: a real, small filesystem (tmpfs, root only) for disk-full faults; ``fill``
writes a file until the OS says ENOSPC.

``KILL_PRELUDE``: code for a child process (``python -c``): ``fault_wrap`` numbers every call of a
method (before / after), ``fault_step`` SIGKILLs the process at step N, and ``fault_fork_each`` forks
once per kill point after the imports (one interpreter start for every step), for "killed at every
step" tests; ``steps_from`` / ``results_from`` read what the child printed.
"""
from __future__ import annotations

import errno
import os
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

HOST = "127.0.0.1"
ACTIONS = ("pass", "status", "drop", "delay", "hold", "truncate", "corrupt")


@dataclass
class Rule:
    action: str
    method: Optional[str] = None
    path: Optional[str] = None          # substring of the request path
    times: Optional[int] = None         # None: forever
    status: int = 503
    code: str = "ServiceUnavailable"
    seconds: float = 0.0
    hits: int = 0
    event: threading.Event = field(default_factory=threading.Event)   # hold: set to let requests go
    holding: threading.Event = field(default_factory=threading.Event)  # hold: a request is being held

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method != method:
            return False
        return self.path is None or self.path in path

    def release(self) -> None:
        self.event.set()


@dataclass
class Seen:
    method: str
    path: str
    action: str
    at: float


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = HOST):
        self.upstream = (upstream_host, upstream_port)
        self.rules: List[Rule] = []
        self.seen: List[Seen] = []
        self._lock = threading.Lock()
        self._closing = False
        self._threads: List[threading.Thread] = []
        self._listener: Optional[socket.socket] = None
        self.port = 0
        self._listen()

    # -- lifecycle ---------------------------------------------------------------------------
    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self.port))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        self._listener = sock
        t = threading.Thread(target=self._accept_loop, args=(sock,), name="fault-proxy", daemon=True)
        t.start()
        self._threads.append(t)

    def refuse(self) -> None:
        """S3 is down: nothing listens on the port any more (connections are refused)."""
        sock, self._listener = self._listener, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def accept(self) -> None:
        """S3 is back, on the same port."""
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self._closing = True
        for rule in self.rules:
            rule.release()
        self.refuse()

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # -- rules and log -----------------------------------------------------------------------
    def add(self, action: str, method: Optional[str] = None, path: Optional[str] = None,
            times: Optional[int] = None, **kw) -> Rule:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        rule = Rule(action, method, path, times, **kw)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            for rule in self.rules:
                rule.release()
            self.rules = []

    def requests(self, method: Optional[str] = None, path: Optional[str] = None) -> List[Seen]:
        with self._lock:
            return [s for s in self.seen if (method is None or s.method == method) and (path is None or path in s.path)]

    def _decide(self, method: str, path: str) -> Rule:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    chosen = rule
                    break
            else:
                chosen = Rule("pass")
            self.seen.append(Seen(method, path, chosen.action, time.monotonic()))
        return chosen

    # -- the proxy ---------------------------------------------------------------------------
    def _accept_loop(self, sock: socket.socket) -> None:
        while True:
            try:
                client, _ = sock.accept()
            except OSError:
                return  # refuse() / close()
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            client.settimeout(60)
            request = _read_request(client)
            if request is None:
                return
            method, path, head_lines, body = request
            rule = self._decide(method, path)
            action = rule.action
            if action == "hold":
                rule.holding.set()
                rule.event.wait(120)
                if self._closing:
                    return
                action = "pass"
            if action == "drop":
                return  # closed without a response
            if action == "status":
                client.sendall(_error_response(rule.status, rule.code, method))
                return
            if action == "delay":
                time.sleep(rule.seconds)
            response = self._forward(method, head_lines, body)
            head, _, payload = response.partition(b"\r\n\r\n")
            head = _force_close(head)
            if action == "truncate" and payload:
                client.sendall(head + b"\r\n\r\n" + payload[: len(payload) // 2])
                return
            if action == "corrupt" and payload and b"transfer-encoding: chunked" not in head.lower():
                middle = len(payload) // 2
                payload = payload[:middle] + bytes([payload[middle] ^ 0xFF]) + payload[middle + 1:]
            client.sendall(head + b"\r\n\r\n" + payload)
        except OSError:
            pass
        finally:
            try:
                client.close()
            except OSError:
                pass

    def _forward(self, method: str, head_lines: List[bytes], body: bytes) -> bytes:
        lines = [l for l in head_lines[1:] if not l.lower().startswith((b"connection:", b"expect:"))]
        data = b"\r\n".join([head_lines[0], *lines, b"Connection: close", b"", b""]) + body
        with socket.create_connection(self.upstream, timeout=60) as up:
            up.sendall(data)
            chunks = []
            while True:
                block = up.recv(1 << 16)
                if not block:
                    break
                chunks.append(block)
        return b"".join(chunks)


def _recv_until(sock: socket.socket, buf: bytes, marker: bytes) -> Tuple[Optional[bytes], bytes]:
    while marker not in buf:
        block = sock.recv(1 << 16)
        if not block:
            return None, buf
        buf += block
    head, _, rest = buf.partition(marker)
    return head, rest


def _recv_exact(sock: socket.socket, buf: bytes, n: int) -> Tuple[bytes, bytes]:
    while len(buf) < n:
        block = sock.recv(1 << 16)
        if not block:
            raise OSError("client closed mid-body")
        buf += block
    return buf[:n], buf[n:]


def _read_request(client: socket.socket):
    head, rest = _recv_until(client, b"", b"\r\n\r\n")
    if head is None:
        return None
    lines = head.split(b"\r\n")
    method, path = lines[0].split(b" ")[:2]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"expect", b"").lower() == b"100-continue":
        client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            size_line, rest = _recv_until(client, rest, b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            chunk, rest = _recv_exact(client, rest, size + 2)
            body += size_line + b"\r\n" + chunk
            if size == 0:
                break
    else:
        body, rest = _recv_exact(client, rest, int(headers.get(b"content-length", b"0")))
    return method.decode(), path.decode(), lines, body


def _force_close(head: bytes) -> bytes:
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"connection:")]
    return b"\r\n".join(lines + [b"Connection: close"])


def _error_response(status: int, code: str, method: str) -> bytes:
    reason = {403: "Forbidden", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>injected by FaultProxy'
            f'</Message><RequestId>fault</RequestId></Error>').encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {len(body)}\r\n"
            f"x-amz-request-id: fault\r\nConnection: close\r\n\r\n").encode()
    return head + (b"" if method == "HEAD" else body)


# ------------------------------------------------------------------------------ disk full

def can_mount_tmpfs() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and Path("/proc/mounts").is_file()


@contextmanager
def mounted_tmpfs(path: Path, size_bytes: int):
    """A real filesystem of ``size_bytes`` at ``path`` (tmpfs; needs root): writes past it fail with
    ENOSPC from the kernel. Unmounted (lazily, so open files do not block it) on exit."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=0700", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(f"cannot mount tmpfs at {path}: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(path: Path, block: int = 4096) -> int:
    """Write ``path`` until the filesystem is full (ENOSPC); returns the bytes written."""
    written = 0
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        chunk = b"\0" * block
        while True:
            try:
                written += os.write(fd, chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if block == 1:
                    break
                block = max(1, block // 8)
                chunk = b"\0" * block
    finally:
        os.close(fd)
    return written


# ------------------------------------------------------------------------------ kill at step N

KILL_PRELUDE = r'''
import json, os, signal, sys
_kill_at = [int(os.environ.get("FAULT_KILL_AT", "-1"))]
_step = [0]

def fault_step(label):
    """Step N (0-based): print it, and SIGKILL this process when N is the kill point."""
    n = _step[0]
    _step[0] += 1
    print(f"STEP {n} {label}", file=sys.stderr, flush=True)
    if n == _kill_at[0]:
        os.kill(os.getpid(), signal.SIGKILL)

def fault_wrap(owner, name, label_of=lambda a, k: str(a[0]) if a else ""):
    original = getattr(owner, name)
    def wrapped(self, *a, **k):
        label = f"{name} {label_of(a, k)}"
        fault_step("before " + label)
        result = original(self, *a, **k)
        fault_step("after " + label)
        return result
    setattr(owner, name, wrapped)

def fault_fork_each(points, action):
    """For each kill point k: fork (the imports are done once, in this process), run action(k)
    in the child with the kill point set, and collect how the child ended: its exit code, or
    minus the signal that killed it. Prints one line: RESULTS {"k": code, ...}."""
    results = {}
    for k in points:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _kill_at[0], _step[0] = k, 0
            try:
                code = int(action(k) or 0)
            except BaseException as exc:
                print(f"child {k} failed: {exc!r}", file=sys.stderr, flush=True)
                code = 99
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        results[k] = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    print("RESULTS " + json.dumps(results), flush=True)
'''


def steps_from(stderr: str) -> List[str]:
    """The STEP lines a child printed, in order (one run)."""
    return [line.split(" ", 2)[2] for line in stderr.splitlines() if line.startswith("STEP ")]


def results_from(stdout: str) -> dict:
    (line,) = [l for l in stdout.splitlines() if l.startswith("RESULTS ")]
    import json

    return {int(k): v for k, v in json.loads(line[len("RESULTS "):]).items()}
