"""Valid personal data to plant inside fuzzed inputs, built independently of coldstart.pii.

Each ``Planted`` carries the text as it is written into the input (``written``) and the
values that must never come back out of the system (``secrets``): the written form and its
bare digits. Generators take plain integers so that both hypothesis (``strategies``) and
atheris (bytes from the fuzzer) can drive them. The forms follow tests/test_pii.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Tuple

from tests.pii_reference import PROVINCES, id_check_char, luhn_ok

KINDS = ("PHONE", "ID_CARD", "BANK_CARD", "EMAIL")
_PHONE_PREFIXES = ("", "+86", "+86 ", "+86-", "0086", "86 ", "(+86)")
_SEPS = ("", " ", "-")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Before and after a planted value: characters that cannot glue to it (no digits, letters, @, '.').
LEFT = "，电话"
RIGHT = "。"


@dataclass(frozen=True)
class Planted:
    kind: str
    written: str                # as it appears in the input
    secrets: Tuple[str, ...]    # none of these may appear in any output or log line

    def framed(self) -> str:
        return LEFT + self.written + RIGHT


def id_valid(s: str) -> bool:
    if len(s) != 18 or not s[:17].isdigit() or s[:2] not in PROVINCES:
        return False
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today() and id_check_char(s[:17]) == s[17].upper()


def phone(n: int, style: int = 0) -> Planted:
    """A mainland mobile (1[3-9]x + 8 digits) in one of the accepted written forms."""
    digits = "1%d%d%08d" % (3 + n % 7, (n // 7) % 10, (n // 70) % 10 ** 8)
    prefix = _PHONE_PREFIXES[style % len(_PHONE_PREFIXES)]
    sep = _SEPS[(style // len(_PHONE_PREFIXES)) % len(_SEPS)]
    written = prefix + digits[:3] + sep + digits[3:7] + sep + digits[7:]
    return Planted("PHONE", written, tuple(dict.fromkeys((written, digits))))


def id_card(n: int, style: int = 0) -> Planted:
    """A Resident ID with a valid check char, real province and birth date (1900..today)."""
    days = (date.today() - date(1900, 1, 1)).days
    born = date(1900, 1, 1) + timedelta(days=n % (days + 1))
    body = "%s%04d%s%03d" % (PROVINCES[(n // 7) % len(PROVINCES)], (n // 300) % 10000, born.strftime("%Y%m%d"),
                             (n // 3) % 1000)
    value = body + id_check_char(body)
    if style % 2 and value.endswith("X"):
        value = value[:-1] + "x"
    assert id_valid(value)
    return Planted("ID_CARD", value, (value, body))


def bank_card(n: int, style: int = 0) -> Planted:
    """16-19 digits, first digit in 2/3/4/5/6/9, Luhn-valid, not a valid ID; optionally grouped in 4s."""
    length = 16 + n % 4
    first = "234569"[(n // 4) % 6]
    body = first + ("%018d" % ((n * 2654435761) % 10 ** 18))[: length - 2]
    digits = next(body + d for d in "0123456789" if luhn_ok(body + d))
    if id_valid(digits):  # would be masked as [ID], still masked; keep the kind honest
        return id_card(n, style)
    sep = _SEPS[style % 3]
    written = sep.join(digits[i:i + 4] for i in range(0, len(digits), 4)) if sep else digits
    return Planted("BANK_CARD", written, tuple(dict.fromkeys((written, digits))))


def email(n: int, style: int = 0) -> Planted:
    def word(x: int, size: int) -> str:
        return "".join(_LETTERS[(x // 26 ** i) % 26] for i in range(size))

    local = word(n, 3 + n % 6) + ("", ".", "_", "+", "-")[style % 5] + str(n % 997)
    value = "%s@%s.%s" % (local, word(n // 7, 4 + n % 5), ("com", "cn", "net", "com.cn", "org")[(n // 3) % 5])
    if style % 7 == 6:
        value = value.upper()
    return Planted("EMAIL", value, (value,))


GENERATORS = {"PHONE": phone, "ID_CARD": id_card, "BANK_CARD": bank_card, "EMAIL": email}


def make(kind_index: int, n: int, style: int = 0) -> Planted:
    return GENERATORS[KINDS[kind_index % len(KINDS)]](abs(n), abs(style))


def leaked(planted, *outputs: str):
    """The first secret of any planted value found in any of the outputs, else None."""
    for p in planted:
        for secret in p.secrets:
            for out in outputs:
                if secret in out:
                    return secret
    return None
