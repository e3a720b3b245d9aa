"""What one profile request produced, as types: the service returns an ``Outcome``; the API layer
(``coldstart.api.render_profile``) turns it into the JSON response once, at the edge.

Nothing here holds raw user text: ``masked_text`` is masked (it is what the kiosk outbox and the
profile store keep), and ``__repr__`` leaves it and the vector out of logs anyway.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .voting import Profile


@dataclass(frozen=True)
class Assignment:
    """The experiment arm a request was served from (``coldstart.experiments``)."""

    name: str
    variant: str
    assigned: bool  # False: no user id, so the control arm was served and no exposure logged


@dataclass(frozen=True)
class AvatarReport:
    """What was read from the avatar and what it changed (``coldstart.ocr``, ``coldstart.fusion``)."""

    available: bool                    # this runtime can read images at all
    used: bool                         # the image had words and they were fused in
    lines: List[str] = field(default_factory=list)   # masked OCR lines
    ms: float = 0.0
    pii_masked: Dict[str, int] = field(default_factory=dict)
    fusion: Optional[str] = None       # the fusion mode that ran (None: image not used / keyword arm)
    image_weight: Optional[float] = None
    text_only_top_tag: Optional[str] = None
    changed_top_tag: bool = False
    profile_shift: float = 0.0         # 0 same tag scores … 1 no tag in common

    def __repr__(self) -> str:  # masked lines still stay out of logs
        return f"AvatarReport(available={self.available}, used={self.used}, lines={len(self.lines)})"


@dataclass(frozen=True)
class Outcome:
    profile: Profile
    pii_masked: Dict[str, int]         # counts by type of what was masked in the typed text and fields
    cache: str                         # "hit" | "miss" (embedding cache)
    model_version: str
    index_version: str
    latency_ms: float
    experiment: Optional[Assignment] = None
    avatar: Optional[AvatarReport] = None
    stored: Optional[bool] = None      # None: storing was not asked for
    masked_text: str = field(default="", repr=False)   # typed (+ image) text after masking
    vector: Optional[Any] = field(default=None, repr=False)  # the student's vector (None: not encoded)

    def with_stored(self, stored: Optional[bool]) -> "Outcome":
        from dataclasses import replace

        return replace(self, stored=stored)
