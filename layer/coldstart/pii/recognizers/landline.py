"""Fixed-line numbers with an area code (LANDLINE, masked as ``[PHONE]``).

Area code ``0`` + 2 digits (010, 020-029) or 3 digits (0311 ... 0999), then a 7-8 digit local
number not starting with 0, in any grouping and separator the digit runs allow ("0755 1234 5678",
"(021)87654321", "0574.8732.0091", "０２１－６２８７４４１０", Chinese numerals). International form:
``+86`` / ``0086`` / ``86`` + the area code without its 0 ("+86 21 6234 5567", "0086-10-8456 7720").
Extensions are part of the span: a last digit group after a dash ("010-12345678-8001") or a
keyword (转, 分机, ext, x, #) and 1-6 digits. Service numbers (400/800, 95588, 10086, 12306) have no
area code and are left alone; veto words (发票代码 ...) apply.
"""
from __future__ import annotations

import re
from ..normalizer import NormalizedText
from .base import DigitRecognizer
from .phone import extend_prefix

_EXT_RE = re.compile(r"[ ]{0,2}(?:转|分机号?|ext\.?|EXT\.?|Ext\.?|x|X|#|-|—)[ ]{0,2}[:：]?[ ]?[0-9]{1,6}(?![0-9])")


def landline_valid(d: str) -> bool:
    n = len(d)
    if d.startswith("0086"):
        return _intl_valid(d[4:])
    if d.startswith("86"):
        return _intl_valid(d[2:])
    if n < 10 or n > 12 or d[0] != "0" or d[1] == "0":
        return False
    if d[1] in "12":                    # 010, 020-029: 3-digit area, 8-digit local (7 in a few places)
        if d[1] == "1" and d[2] != "0":
            return False
        return n in (10, 11) and d[3] != "0"
    return n in (11, 12) and d[4] != "0"  # 0311 ... 0999: 4-digit area, 7-8 digit local


def _intl_valid(rest: str) -> bool:
    return bool(rest) and rest[0] != "0" and landline_valid("0" + rest) and len(rest) >= 9


class LandlineRecognizer(DigitRecognizer):
    entity = "LANDLINE"
    name = "landline"
    context = ("座机", "固话", "办公电话", "公司电话", "家里电话", "电话", "tel", "fax", "传真")
    lengths = tuple(range(10, 23))
    score = 0.75

    def validate_digits(self, digits: str) -> bool:
        return landline_valid(digits)

    def accepts(self, run, r) -> bool:
        if landline_valid(r.digits):
            return True
        # the last group may be an extension: "010-12345678-8001"
        i, j = r.first, r.stop
        last = run.groups[j - 1]
        size = last[1] - last[0]
        return j - i >= 2 and size <= 6 and landline_valid(r.digits[:-size]) and run.seps[j - 2].strip() in ("-", "\u2014")

    def extend(self, nt: NormalizedText, start: int, end: int, digits: str):
        m = _EXT_RE.match(nt.text, end)
        if m is not None:
            end = m.end()
        return extend_prefix(nt.text, start, digits.startswith(("86", "0086"))), end
