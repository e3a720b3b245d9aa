"""Check digits and shape rules the recognizers validate candidates with (standard library only).

A checksum is what keeps precision when patterns get generous: a random 18-digit string passes the
GB 11643 check character 1 time in 11 (and a real birth date and province code far less often), a
random 16-19 digit string passes Luhn 1 time in 10. The hard negatives that remain (an order number
that passes Luhn by chance) are left to veto context words (订单号, 发票 ...; see ``context.py``).
"""
from __future__ import annotations

import re
from datetime import date
from operator import mul as _mul

__all__ = [
    "id_card_valid",
    "luhn_valid",
    "hk_id_valid",
    "tw_id_valid",
    "mobile_valid",
    "PROVINCE_CODES",
]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS_ZERO = 48 * sum(_ID_WEIGHTS)  # contribution of ord("0") per position
_ID_CHECK = "10X98765432"
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
_MIN_BIRTH = date(1900, 1, 1)
_IMPORT_DAY = date.today()  # dates up to here need no date.today() call
_LUHN_DOUBLE = bytes.maketrans(b"0123456789", b"0246813579")  # 2d, minus 9 if > 9
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}\Z")


def _is_digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


def _birth_ok(y: int, m: int, d: int) -> bool:
    try:
        born = date(y, m, d)
    except ValueError:
        return False
    if born < _MIN_BIRTH:
        return False
    return born <= _IMPORT_DAY or born <= date.today()


def id_card_valid(s: str) -> bool:
    """True for a plausible mainland Resident ID number.

    18 chars: 17 ASCII digits + check char (0-9, X or x) that matches the GB 11643-1999 mod-11
    checksum, province code in the real set, birth date YYYYMMDD a real date in 1900-01-01..today.
    15 digits (legacy): province code + birth date 19YYMMDD (positions 7-12).
    Anything else (including separators) -> False.
    """
    if not isinstance(s, str):
        return False
    n = len(s)
    if n == 18:
        body = s[:17]
        if not _is_digits(body) or body[:2] not in PROVINCE_CODES:
            return False
        if not _birth_ok(int(body[6:10]), int(body[10:12]), int(body[12:14])):
            return False
        total = sum(map(_mul, body.encode("ascii"), _ID_WEIGHTS)) - _ID_WEIGHTS_ZERO
        return _ID_CHECK[total % 11] == s[17].upper()
    if n == 15:
        if not _is_digits(s) or s[:2] not in PROVINCE_CODES:
            return False
        return _birth_ok(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))
    return False


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) checksum over a non-empty string of ASCII digits."""
    if not isinstance(digits, str) or not digits or not _is_digits(digits):
        return False
    b = digits.encode("ascii")
    # From the right: odd positions as-is, even positions doubled (digit sum).
    total = sum(b[-1::-2]) + sum(b[-2::-2].translate(_LUHN_DOUBLE)) - 48 * len(b)
    return total % 10 == 0


def mobile_valid(digits: str) -> bool:
    """Mainland mobile: 11 digits, 1 then 3-9 (every prefix 13x-19x that carriers have issued)."""
    return _MOBILE_RE.match(digits) is not None


def hk_id_valid(letters: str, digits: str, check: str) -> bool:
    """Hong Kong Identity Card: 1-2 letters + 6 digits + check (0-9 or A), weights 9..2 mod 11."""
    if not (1 <= len(letters) <= 2 and letters.isalpha() and letters.isascii() and len(digits) == 6
            and _is_digits(digits) and len(check) == 1):
        return False
    letters = letters.upper().rjust(2)
    values = [36 if c == " " else ord(c) - 55 for c in letters] + [int(d) for d in digits]
    total = sum(v * w for v, w in zip(values, (9, 8, 7, 6, 5, 4, 3, 2)))
    expected = (11 - total % 11) % 11
    return ("A" if expected == 10 else str(expected)) == check.upper()


_TW_LETTER = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36)))


def tw_id_valid(s: str) -> bool:
    """Taiwan National ID: a letter, 1 or 2 (sex), 8 digits; weighted sum mod 10 == 0."""
    if len(s) != 10 or s[0].upper() not in _TW_LETTER or s[1] not in "12" or not _is_digits(s[1:]):
        return False
    n = _TW_LETTER[s[0].upper()]
    values = [n // 10, n % 10] + [int(d) for d in s[1:]]
    return sum(v * w for v, w in zip(values, (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1))) % 10 == 0
