"""Bank card numbers (BANK_CARD -> ``[BANK_CARD]``).

16-19 digits with an issuer's first digit (2 Mastercard 2-series, 3 JCB/Amex, 4 Visa,
5 Mastercard, 6 UnionPay/Discover, 9 domestic) or 15-digit American Express (34/37), passing the
Luhn check, read from the digit runs: 4-4-4-4(-3), Amex 4-6-5, 6-13, one digit at a time, dots,
full-width and Chinese numerals ("六二一六 六一三九 ..."). A valid ID number wins over a card (the
engine prefers the ID's higher score). Luhn passes one random number in ten, so order and invoice
numbers are held back by the veto words in front of them (订单号, 发票 ...).
"""
from __future__ import annotations

from typing import Optional, Tuple

from ..checksums import luhn_valid
from ..normalizer import NormalizedText
from .base import DigitRecognizer

_FIRST = frozenset("234569")


class BankCardRecognizer(DigitRecognizer):
    entity = "BANK_CARD"
    name = "bank_card"
    context = ("卡号", "银行卡", "储蓄卡", "信用卡", "借记卡", "工资卡", "收款账号", "card")
    lengths = (15, 16, 17, 18, 19)
    score = 0.85

    def validate_digits(self, digits: str) -> bool:
        n = len(digits)
        if n == 15:
            return digits[:2] in ("34", "37") and luhn_valid(digits)
        return digits[0] in _FIRST and luhn_valid(digits)

    def extend(self, nt: NormalizedText, start: int, end: int, digits: str) -> Optional[Tuple[int, int]]:
        if len(digits) == 17 and nt.text[end:end + 1] in ("X", "x"):
            return None  # 17 digits and an X: an ID number's shape (one that failed its check)
        return start, end
