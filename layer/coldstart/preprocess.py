"""The one way text is prepared before any model sees it: mask personal data, then normalise.

Used identically by the batch embedder (active users) and by serving (new users), so the
teacher's index and the student's queries see the same kind of text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple

from .pii import mask_pii
from .text import normalize_text

PREPROCESS_VERSION = "mask+nfkc-v5"  # recorded in manifests; bump when the output changes (v2-v5: issue 12 masker rounds)


def prepare_text(text: str, max_chars: Optional[int] = None) -> Tuple[str, Dict[str, int]]:
    """Return (masked, normalised text; counts of masked items by type). Never the values."""
    masked = mask_pii(text)
    return normalize_text(masked.text, max_chars=max_chars), dict(masked.counts)


# Sign-up form fields are joined after the free text, in this order (others follow, sorted).
FIELD_ORDER = ("bio", "occupation", "education", "interests", "school", "city")


@dataclass(frozen=True)
class MaskedInput:
    """A request's text and form fields after masking: the only form the rest of a request, the
    profile store and the kiosk outbox ever see. Never holds a raw value."""

    text: str                      # the free text, masked and normalised
    fields: Dict[str, str]         # each form field masked and normalised on its own
    composed: str                  # text + fields joined (what the model encodes)
    counts: Dict[str, int]         # masked items by type, over text and fields

    def __repr__(self) -> str:
        return f"MaskedInput(chars={len(self.composed)}, fields={len(self.fields)}, counts={self.counts})"


def compose_text(text: str, fields: Optional[Mapping[str, str]] = None) -> str:
    parts = [text] if text else []
    if fields:
        names = [n for n in FIELD_ORDER if n in fields] + sorted(n for n in fields if n not in FIELD_ORDER)
        parts.extend(fields[n] for n in names if fields[n])
    return "。".join(p.strip() for p in parts if p and p.strip())


def mask_input(text: str, fields: Optional[Mapping[str, str]] = None,
               max_chars: Optional[int] = None) -> MaskedInput:
    """Mask the free text and each field separately (so a stored profile can merge fields later
    without the raw text), then compose them. Masking masked text changes nothing."""
    counts: Dict[str, int] = {}
    masked_text, c = prepare_text(text, max_chars=max_chars)
    _add(counts, c)
    masked_fields: Dict[str, str] = {}
    for name, value in (fields or {}).items():
        masked, c = prepare_text(value, max_chars=max_chars)
        masked_fields[name] = masked
        _add(counts, c)
    composed = normalize_text(compose_text(masked_text, masked_fields), max_chars=max_chars)
    return MaskedInput(masked_text, masked_fields, composed, counts)


def _add(total: Dict[str, int], more: Mapping[str, int]) -> None:
    for kind, n in more.items():
        total[kind] = total.get(kind, 0) + n
