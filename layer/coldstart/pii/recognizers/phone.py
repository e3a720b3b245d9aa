"""Mainland mobile numbers (PHONE -> ``[PHONE]``).

11 digits ``1[3-9]x xxxx xxxx`` read from the digit runs of the analysis view, so any grouping
(3-4-4, 4-4-3, 3-3-5, 2-4-5, one digit at a time), any separator (space - . / _ ~ — ·), full-width,
circled or other Unicode digits, Chinese numerals (一三八, 幺三八) and invisible characters inside
the number are the same number. Optional country code ``+86`` / ``0086`` / ``86`` / ``(+86)``: the
sign and the parenthesis are masked with it. Not inside a longer digit run ("编号913812345678" is
not a phone), not after a code-like letter prefix ("JDVA18589676494"), not after a veto word
(订单号, 工号 ...). There is no checksum: the prefix rule and the veto context carry precision.
"""
from __future__ import annotations

from typing import Optional, Tuple

from ..checksums import mobile_valid
from ..normalizer import NormalizedText
from .base import DigitRecognizer


class PhoneRecognizer(DigitRecognizer):
    entity = "PHONE"
    name = "phone"
    context = ("电话", "手机", "手机号", "联系方式", "tel", "mobile", "call", "打我")
    lengths = (11, 13, 15)
    score = 0.8

    def validate_digits(self, digits: str) -> bool:
        n = len(digits)
        if n == 13:
            return digits.startswith("86") and mobile_valid(digits[2:])
        if n == 15:
            return digits.startswith("0086") and mobile_valid(digits[4:])
        return n == 11 and mobile_valid(digits)

    def extend(self, nt: NormalizedText, start: int, end: int, digits: str) -> Optional[Tuple[int, int]]:
        return extend_prefix(nt.text, start, len(digits) > 11), end


def extend_prefix(text: str, start: int, has_country_code: bool) -> int:
    """Take in a '+' before a country code and a '(' opening the number: "(+86)...", "+86 ...", "(021)..."."""
    if has_country_code and start > 0 and text[start - 1] == "+":
        start -= 1
    if start > 0 and text[start - 1] == "(":
        start -= 1
    return start
