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
in the message) carries no personal data: ``user_key`` is the user's keyed handle
(``coldstart.pseudonyms``: HMAC under the deployment's secret, then hashed), never the id nor an
unkeyed hash of it. The app joins its outcome events on the same handle (it holds the key).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from .outcome import Assignment
from .errors import ExperimentError  # noqa: F401  (raised here, defined with every other error)

if TYPE_CHECKING:
    from .pseudonyms import Pseudonymizer

log = logging.getLogger("coldstart.experiments")
if log.level == logging.NOTSET:
    log.setLevel(logging.INFO)  # exposures are data, not debug chatter: emitted even under a WARNING root

EXPOSURE_EVENT = "exposure"


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


def user_key(user_id: str, pseudonyms: "Pseudonymizer") -> str:
    """The join key of exposure and outcome events: the user's keyed handle (coldstart.pseudonyms),
    never the raw id nor an unkeyed hash of it (a phone number's sha256 is reversed by enumeration).
    The app's own outcome events use the same function with the same key."""
    return pseudonyms.handle(user_id)


def exposure_event(experiment: Experiment, variant: str, key: str, ts: Optional[float] = None) -> Dict[str, Any]:
    """``control`` names the experiment's first listed variant, so the A/B report needs no other
    source for it (``python -m infra ab-report``)."""
    return {"event": EXPOSURE_EVENT, "experiment": experiment.name, "variant": variant,
            "control": experiment.control, "user_key": key, "ts": round(time.time() if ts is None else ts, 3)}


def resolve(experiment: Optional[Experiment], user_id: Optional[str],
            pseudonyms: Optional["Pseudonymizer"] = None) -> Optional[Assignment]:
    """The request's arm, logging the exposure; None without an experiment. Without a pseudonym
    key no exposure is logged (there is no safe join key), and the service warns at start-up."""
    if experiment is None:
        return None
    if not user_id:
        return Assignment(experiment.name, experiment.control, False)
    variant = assign(experiment, user_id)
    if pseudonyms is not None:
        event = exposure_event(experiment, variant, user_key(user_id, pseudonyms))
        log.info(json.dumps(event, separators=(",", ":")), extra=event)
    return Assignment(experiment.name, variant, True)
