"""What masking returns: text and counts, never the values; and the positions the engine found."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, NamedTuple


@dataclass(frozen=True)
class MaskResult:
    """Masked text plus per-type counts (never the values)."""

    text: str
    counts: Dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __repr__(self) -> str:  # no text at all, masked or not
        return "MaskResult(len=%d, counts=%r)" % (len(self.text), self.counts)


class Finding(NamedTuple):
    """One masked span: positions in the caller's text, the type and the score. No value."""

    start: int
    end: int
    entity: str
    score: float
