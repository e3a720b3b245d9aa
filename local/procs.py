"""Child-process and port plumbing shared by the local stand-ins (``local.s3``, ``local.lambda_api``).

Both start a long-lived child (``weed mini``; ``python -m awslambdaric``) in its own process group,
log its output to a file, and must never leave it behind: the kernel kills it with its parent
(``PR_SET_PDEATHSIG``; covers a SIGKILLed test run, where atexit does not run), ``stop()`` is
registered with atexit, and stopping signals the whole group (SIGTERM, then SIGKILL after a grace).

stdlib only, Linux first (``prctl`` and ``/proc``; elsewhere atexit and the pidfile still apply).
"""
from __future__ import annotations

import atexit
import ctypes
import os
import random
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Optional

HOST = "127.0.0.1"
# Below the usual ephemeral range (32768-60999), so outgoing connections made meanwhile cannot
# take a port between choosing it and binding it; the bind test catches anything else.
PORT_RANGE = (20000, 32767)


class PortInUse(OSError):
    """A port the caller asked for is taken on 127.0.0.1."""


# ------------------------------------------------------------------------ ports
def bind(port: int) -> Optional[socket.socket]:
    """A socket bound to 127.0.0.1:``port``, or None when the port is taken.

    SO_REUSEADDR as Go's and Python's servers set it: TIME_WAIT leftovers do not block, a
    bound or listening socket does."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((HOST, port))
    except OSError:
        s.close()
        return None
    return s


def port_is_free(port: int) -> bool:
    s = bind(port)
    if s is None:
        return False
    s.close()
    return True


def check_port_free(port: int, what: str, flag: str = "--port") -> None:
    """Raise PortInUse naming ``what`` and the fix; port 0 (any free port) always passes."""
    if port and not port_is_free(port):
        raise PortInUse(f"port {port} on {HOST} ({what}) is already in use: stop whatever listens there "
                        f"or pick another with {flag} PORT")


def free_port() -> int:
    """A port that is free on 127.0.0.1 right now (from PORT_RANGE)."""
    lo, hi = PORT_RANGE
    for p in random.sample(range(lo, hi), hi - lo):
        if port_is_free(p):
            return p
    raise PortInUse(f"no free port on {HOST} in {lo}-{hi}")


# ------------------------------------------------------------------------ processes
def set_pdeathsig() -> None:
    """``preexec_fn``: the kernel SIGKILLs the child when the thread that forked it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: atexit still covers normal interpreter exits
        pass


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def cmdline(pid: int) -> Optional[list]:
    """argv of ``pid`` from /proc, or None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None


def spawn(cmd: list, log, cwd, env: dict, kill_with_parent: bool = True, stdout=None) -> subprocess.Popen:
    """Start ``cmd`` in its own process group (so stopping reaches everything it forks), output to
    ``log`` (an open binary file) unless ``stdout`` is given, dying with its parent if asked."""
    return subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=stdout if stdout is not None else log, stderr=subprocess.STDOUT,
        cwd=cwd, env=env, start_new_session=True, preexec_fn=set_pdeathsig if kill_with_parent else None,
    )


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM ``proc``'s process group, wait up to ``grace`` s, then SIGKILL whatever is left."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    try:  # the whole group, also when the leader has already gone
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def stop_detached(pid: int, grace: float) -> bool:
    """SIGTERM the group of a process that is not our child, SIGKILL after ``grace`` s; wait until it
    is gone. False when it was not running."""
    if not pid_alive(pid):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    except PermissionError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        while pid_alive(pid):
            time.sleep(0.05)
    return True


def log_tail(path, since: int = 0, lines: int = 40) -> str:
    """The last ``lines`` lines of ``path`` after byte ``since`` (carriage returns as line breaks)."""
    try:
        with open(path, "rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"<cannot read log: {e}>"
    return "\n".join(text.replace("\r", "\n").splitlines()[-lines:])


class ChildOwner:
    """Base of the stand-ins: a context manager (``start()`` / ``stop()``) whose ``stop`` is
    registered with atexit while a child runs, once, and unregistered again."""

    _atexit_registered = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _stop_at_exit(self, on: bool) -> None:
        if on and not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        elif not on and self._atexit_registered:
            atexit.unregister(self.stop)
            self._atexit_registered = False

    def start(self):  # pragma: no cover - every subclass defines both
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover
        raise NotImplementedError


def wait_for_stop_signal(still_running: Callable[[], bool] = lambda: True, poll: float = 0.5) -> None:
    """Block until SIGINT/SIGTERM (Ctrl-C, ``kill``) or until ``still_running()`` turns False."""
    stop_requested = threading.Event()

    def on_signal(signum, frame):
        stop_requested.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop_requested.wait(poll):
        if not still_running():
            return


def read_pidfile(path: Path) -> Optional[int]:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
