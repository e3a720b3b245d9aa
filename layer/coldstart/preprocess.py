"""The one way text is prepared before any model sees it: mask personal data, then normalise.

Used identically by the batch embedder (active users) and by serving (new users), so the
teacher's index and the student's queries see the same kind of text.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from .pii import mask_pii
from .text import normalize_text

PREPROCESS_VERSION = "mask+nfkc-v2"  # recorded in manifests; bump when the output changes (v2: issue 12 masker)


def prepare_text(text: str, max_chars: Optional[int] = None) -> Tuple[str, Dict[str, int]]:
    """Return (masked, normalised text; counts of masked items by type). Never the values."""
    masked = mask_pii(text)
    return normalize_text(masked.text, max_chars=max_chars), dict(masked.counts)
