"""Identity card numbers (ID_CARD -> ``[ID]``).

Mainland Resident ID: 18 characters, 17 digits + a check character (0-9 or X/x) that must match
GB 11643-1999 (mod 11), a real province code and a real birth date (1900..today); or the 15-digit
legacy form (province + 19YYMMDD). Read from the digit runs, so 6-8-4, 3-3-4-4-4, 6-4-4-4,
4-4-4-4-2, spaced, full-width, Chinese-numeral ("3303811982零八一八0889") and zero-width-split forms
are the same number; a full-width Ｘ is NFKC'd to X.

Also, checksum-validated: Hong Kong (``K582613(6)``: 1-2 letters, 6 digits, check digit or A),
Taiwan (``F228374609``: letter, 1/2, 8 digits, weighted mod 10) and, by shape with its bracketed
check digit, Macau (``5183926(4)``: 1/5/7 + 6 digits).
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

from ..checksums import hk_id_valid, id_card_valid, tw_id_valid
from ..normalizer import NormalizedText
from .base import Candidate, DigitRecognizer

_HK_RE = re.compile(r"([A-Z](?<![A-Za-z0-9].)[A-Z]?)([0-9]{6})[ ]?\(([0-9A])\)")
_TW_RE = re.compile(r"[A-Z](?<![A-Za-z0-9].)[12][0-9]{8}(?![0-9])")
_UPPER_RE = re.compile("[A-Z]")
_MO_RE = re.compile(r"[157](?<![A-Za-z0-9].)[0-9]{6}[ ]?\([0-9]\)")


class IdCardRecognizer(DigitRecognizer):
    entity = "ID_CARD"
    name = "id_card"
    context = ("身份证", "身份证号", "证件号", "实名", "身份證", "ID")
    lengths = (15, 17, 18)
    score = 0.9

    def validate_digits(self, digits: str) -> bool:
        if len(digits) == 17:
            return True  # needs its X: checked in extend()
        return id_card_valid(digits)

    def extend(self, nt: NormalizedText, start: int, end: int, digits: str) -> Optional[Tuple[int, int]]:
        if len(digits) != 17:
            return start, end
        text = nt.text
        x = end
        while x < len(text) and x < end + 2 and text[x] == " ":  # "... 002 X"
            x += 1
        if x < len(text) and text[x] in "Xx" and id_card_valid(digits + "X"):
            if x + 1 < len(text) and (text[x + 1].isascii() and text[x + 1].isalnum()):
                return None
            return start, x + 1
        return None

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        out = super().analyze(nt)
        text = nt.text
        if _UPPER_RE.search(text) is not None:
            if "(" in text:  # (a Hong Kong number ends with its check digit in brackets)
                for m in _HK_RE.finditer(text):
                    if hk_id_valid(m.group(1), m.group(2), m.group(3)) and not self.vetoed(nt, m.start()):
                        out.append(Candidate(m.start(), m.end(), self.entity, self.score))
            for m in _TW_RE.finditer(text):
                if tw_id_valid(m.group(0)) and not self.vetoed(nt, m.start()):
                    out.append(Candidate(m.start(), m.end(), self.entity, self.score))
        if "(" in text:
            for m in _MO_RE.finditer(text):
                if not self.vetoed(nt, m.start()):
                    out.append(Candidate(m.start(), m.end(), self.entity, 0.6))
        return out
