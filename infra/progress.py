"""Progress on stderr and summary lines on stdout, the same way for every job.

On a terminal: tqdm bars that disappear when done, so the summary line starts on a clean line.
Anywhere else (a redirected log, CloudWatch, AWS Batch): no bar and no carriage returns, but one
plain line every ``COLDSTART_PROGRESS_SECONDS`` (default 30) and one when the work is done, e.g.
``embed shard 0/1: 1,200/3,600 user (33%) after 12 s, about 24 s left``. A redirected log used to
end with ``verify …:   0%|          | 0/11 … publish: version=…`` on one line.
``TQDM_DISABLE=1`` (the tests set it) silences both.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Optional

from tqdm import tqdm

PLAIN_EVERY_ENV = "COLDSTART_PROGRESS_SECONDS"


def _disabled() -> bool:
    return os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes")


def _plain_every() -> float:
    try:
        return max(float(os.environ.get(PLAIN_EVERY_ENV, "30")), 0.0)
    except ValueError:
        return 30.0


def on_terminal() -> bool:
    return sys.stderr.isatty()


def bar(total: int, desc: str, unit: str = "it", unit_scale: bool = False):
    """A progress counter with ``update(n)``, ``set_postfix(**kw)``, ``close()`` and ``with``."""
    if _disabled():
        return PlainProgress(total, desc, unit, unit_scale, every=None)
    if on_terminal():
        return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, file=sys.stderr,
                    dynamic_ncols=True, mininterval=0.5, leave=False)
    return PlainProgress(total, desc, unit, unit_scale, every=_plain_every())


class PlainProgress:
    """tqdm's interface, as log lines: one every ``every`` seconds and one at the end (None: silent)."""

    def __init__(self, total: Optional[int], desc: str, unit: str = "it", unit_scale: bool = False,
                 every: Optional[float] = 30.0):
        self.total, self.desc, self.unit, self.unit_scale, self.every = total, desc, unit, unit_scale, every
        self.n = 0
        self.postfix = ""
        self.started = self._last = time.monotonic()
        self._closed = False

    def _amount(self, n: float) -> str:
        return tqdm.format_sizeof(n, suffix=self.unit) if self.unit_scale else f"{n:,.0f} {self.unit}"

    def _line(self, done: bool) -> str:
        elapsed = time.monotonic() - self.started
        of = ""
        if self.total:
            of = f"/{self._amount(self.total)} ({100 * self.n / self.total:.0f}%)" if not self.unit_scale else \
                f" of {self._amount(self.total)} ({100 * self.n / self.total:.0f}%)"
        text = f"{self.desc}: {self._amount(self.n)}{of}"
        if done:
            text += f" in {elapsed:.1f} s"
        else:
            text += f" after {elapsed:.0f} s"
            if self.total and 0 < self.n < self.total:
                text += f", about {elapsed * (self.total - self.n) / self.n:.0f} s left"
        return text + (f"  {self.postfix}" if self.postfix else "")

    def _emit(self, done: bool) -> None:
        if self.every is not None:
            print(self._line(done), file=sys.stderr, flush=True)
            self._last = time.monotonic()

    def update(self, n: float = 1) -> None:
        self.n += n
        if self.every is not None and time.monotonic() - self._last >= self.every:
            self._emit(done=False)

    def set_postfix(self, **fields) -> None:
        self.postfix = " ".join(f"{k}={v}" for k, v in fields.items())

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self.n or self.total:  # nothing to do (e.g. every chunk already embedded): nothing to say
                self._emit(done=True)

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Steps:
    """A job made of named steps (export): a bar over the steps on a terminal, ``desc: [i/n] step``
    lines elsewhere."""

    def __init__(self, names, desc: str):
        self.names, self.desc = list(names), desc
        self.done = 0
        self._bar = tqdm(total=len(self.names), desc=desc, unit="step", file=sys.stderr, dynamic_ncols=True,
                         leave=False) if on_terminal() and not _disabled() else None

    def step(self, name: str) -> None:
        """Start step ``name`` (the previous one is done)."""
        if self._bar is not None:
            self._bar.update(self.done and 1)
            self._bar.set_postfix_str(name)
        else:
            print(f"{self.desc}: [{self.done + 1}/{len(self.names)}] {name}", file=sys.stderr, flush=True)
        self.done += 1

    def note(self, text: str) -> None:
        """A line of output that must not tear the bar."""
        (self._bar.write if self._bar is not None else print)(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(self._bar.total - self._bar.n)
            self._bar.close()


class Activity:
    """One long call that reports nothing itself (Annoy's build): on a terminal an elapsed-time bar
    ticking from a thread, elsewhere a plain line every ``COLDSTART_PROGRESS_SECONDS``; ``note``
    shows what has been measured so far."""

    def __init__(self, desc: str):
        self.desc = desc
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._bar = tqdm(total=None, desc=desc, unit="s", file=sys.stderr, dynamic_ncols=True, leave=False,
                         bar_format="{desc}: {elapsed}{postfix}") if on_terminal() and not _disabled() else None
        every = None if self._bar is not None or _disabled() else _plain_every()
        self._every = every
        self._latest = ""
        self._thread = threading.Thread(target=self._tick, daemon=True, name="progress-activity")

    def __enter__(self) -> "Activity":
        self._thread.start()
        return self

    def _tick(self) -> None:
        interval = 0.5 if self._bar is not None else (self._every or 0)
        while not self._stop.wait(interval or 3600):
            if self._bar is not None:
                self._bar.refresh()
            elif self._every:
                print(f"{self.desc}: still working after {time.monotonic() - self.started:.0f} s"
                      + (f" (last: {self._latest})" if self._latest else ""), file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        self._latest = text.strip()
        if self._bar is not None:
            self._bar.set_postfix_str(self._latest)
            self._bar.write(text)
        else:
            print(text, flush=True)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        if self._bar is not None:
            self._bar.close()


def summary(job: str, **fields) -> None:
    """One machine-greppable line at the end of a job: ``job: key=value …``."""
    parts = " ".join(f"{k}={v}" for k, v in fields.items())
    print(f"{job}: {parts}", flush=True)
