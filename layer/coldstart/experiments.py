"""A/B experiments: deterministic assignment of users to variants, and exposure logging.

Configuration (``COLDSTART_EXPERIMENT``, via ``ServingSettings.experiment``) is JSON::

    {"name": "semantic-vs-keyword", "variants": {"semantic": 0.5, "keyword": 0.5}}

Shares must be positive and sum to 1 (±1e-6). The first variant listed is the control.

Assignment
    u = int(sha256(f"{name}:{user_id}")[:16 hex], 16) / 2**64, in [0, 1); the variant is the
    first whose cumulative share exceeds u. Pure function of (experiment, user_id): the same
    user gets the same variant on every Lambda cold start, every kiosk, every process, and the
    analysis (``python -m infra simulate-events``) uses the very same function. Renaming the
    experiment reshuffles everyone (a new experiment), changing shares moves only the users
    near the boundaries.

Requests without a user_id cannot be assigned stably: they get the control variant and
``assigned: false``, and they are *not* logged as exposures (they cannot be joined to
outcomes and would only dilute the control).

Exposure event (logger ``coldstart.experiments``, INFO, the fields in ``extra`` and as JSON
in the message) carries no personal data: ``user_key`` = sha256(user_id)[:16], never the id.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from .errors import ColdstartError

log = logging.getLogger("coldstart.experiments")
if log.level == logging.NOTSET:
    log.setLevel(logging.INFO)  # exposures are data, not debug chatter: emitted even under a WARNING root

EXPOSURE_EVENT = "exposure"


class ExperimentError(ColdstartError):
    """The experiment configuration is invalid."""


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: Tuple[Tuple[str, float], ...]  # (variant, share) in configured order; first = control

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ExperimentError("experiment name must be a non-empty string")
        if not self.variants:
            raise ExperimentError(f"experiment {self.name}: no variants")
        names = [v for v, _ in self.variants]
        if len(set(names)) != len(names):
            raise ExperimentError(f"experiment {self.name}: duplicate variant names")
        for v, share in self.variants:
            if not isinstance(share, (int, float)) or not 0.0 < float(share) <= 1.0:
                raise ExperimentError(f"experiment {self.name}: share of {v!r} must be in (0, 1]")
        total = sum(float(s) for _, s in self.variants)
        if abs(total - 1.0) > 1e-6:
            raise ExperimentError(f"experiment {self.name}: shares sum to {total:g}, not 1")

    @property
    def control(self) -> str:
        return self.variants[0][0]

    @property
    def shares(self) -> Dict[str, float]:
        return {v: float(s) for v, s in self.variants}

    @classmethod
    def from_dict(cls, data: Any) -> "Experiment":
        if not isinstance(data, dict) or not isinstance(data.get("variants"), dict):
            raise ExperimentError('experiment must be {"name": ..., "variants": {variant: share, ...}}')
        return cls(str(data.get("name") or ""), tuple((str(k), v) for k, v in data["variants"].items()))

    @classmethod
    def parse(cls, raw: Optional[str]) -> Optional["Experiment"]:
        """``COLDSTART_EXPERIMENT`` → Experiment, or None when unset/empty."""
        if raw is None or not str(raw).strip():
            return None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ExperimentError(f"COLDSTART_EXPERIMENT is not valid JSON: {exc.msg}") from None
        return cls.from_dict(data)


def bucket(experiment: str, user_id: str) -> float:
    """sha256(f"{experiment}:{user_id}") → a uniform number in [0, 1)."""
    digest = hashlib.sha256(f"{experiment}:{user_id}".encode("utf-8")).hexdigest()
    return int(digest[:16], 16) / float(1 << 64)


def assign(experiment: Experiment, user_id: str) -> str:
    u = bucket(experiment.name, user_id)
    acc = 0.0
    for variant, share in experiment.variants:
        acc += float(share)
        if u < acc:
            return variant
    return experiment.variants[-1][0]  # float rounding at the top end


def user_key(user_id: str) -> str:
    """A pseudonymous join key for exposure and outcome events (never the raw id)."""
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:16]


def exposure_event(experiment: Experiment, variant: str, user_id: str, ts: Optional[float] = None) -> Dict[str, Any]:
    return {"event": EXPOSURE_EVENT, "experiment": experiment.name, "variant": variant,
            "user_key": user_key(user_id), "ts": round(time.time() if ts is None else ts, 3)}


def resolve(experiment: Optional[Experiment], user_id: Optional[str]) -> Optional[Dict[str, Any]]:
    """The response's ``experiment`` block, logging the exposure; None without an experiment."""
    if experiment is None:
        return None
    if not user_id:
        return {"name": experiment.name, "variant": experiment.control, "assigned": False}
    variant = assign(experiment, user_id)
    event = exposure_event(experiment, variant, user_id)
    log.info(json.dumps(event, separators=(",", ":")), extra=event)
    return {"name": experiment.name, "variant": variant, "assigned": True}
