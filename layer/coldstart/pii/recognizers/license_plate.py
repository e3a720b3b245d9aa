"""Chinese vehicle licence plates (LICENSE_PLATE -> ``[PLATE]``).

A province abbreviation (京 津 沪 渝 冀 豫 云 辽 黑 湘 皖 鲁 新 苏 浙 赣 鄂 桂 甘 晋 蒙 陕 吉 闽 贵 粤 青 藏 川 宁 琼),
a letter (not I or O; upper or lower case), an optional ``·`` / space / dash, then 5 characters
(letters not I/O, digits; at least 2 digits, at most 3 letters) or a new-energy 6 (D/F + 5, or
5 digits + D/F). Spaces between the characters are allowed ("冀A 9 K 2 7 3"); full-width forms are
NFKC'd. Must not be glued to more letters or digits on the right ("京ICP备..." has I: not a plate).
"""
from __future__ import annotations

import re
from typing import List

from ..normalizer import NormalizedText
from .base import Candidate, Recognizer

PROVINCE_CHARS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_RE = re.compile(
    "[" + PROVINCE_CHARS + "][ ]?[·•・.\\-]?[ ]?[A-HJ-NP-Za-hj-np-z][ ]?[·•・.\\-]?[ ]?"
    r"(?:[A-HJ-NP-Z0-9][ ]?){4,5}[A-HJ-NP-Z0-9](?![A-Za-z0-9])"
)
_NEW_ENERGY_RE = re.compile(r"[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF]\Z")


def serial_valid(serial: str) -> bool:
    if len(serial) == 6:
        return _NEW_ENERGY_RE.fullmatch(serial) is not None
    digits = sum(c.isdigit() for c in serial)
    return len(serial) == 5 and digits >= 2


class LicensePlateRecognizer(Recognizer):
    entity = "LICENSE_PLATE"
    name = "license_plate"
    context = ("车牌", "车牌号", "车牌号码", "车主", "plate")
    score = 0.7

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        text = nt.text
        out = []
        for m in _PLATE_RE.finditer(text):
            raw = m.group(0)
            serial = re.sub(r"[ ·•・.\-]", "", raw[1:])[1:]  # separators anywhere, then skip the letter
            if not serial_valid(serial):
                continue
            if self.vetoed(nt, m.start()):
                continue
            out.append(Candidate(m.start(), m.end(), self.entity, self.score))
        return out
