"""Progress bars and summary lines on stderr/stdout, the same way for every job."""
from __future__ import annotations

import sys

from tqdm import tqdm


def bar(total: int, desc: str, unit: str = "it", **kw):
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.5, leave=False, **kw)


def summary(job: str, **fields) -> None:
    """One machine-greppable line at the end of a job: ``job: key=value …``."""
    parts = " ".join(f"{k}={v}" for k, v in fields.items())
    print(f"{job}: {parts}", flush=True)
