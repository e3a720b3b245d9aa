"""Valid personal data to plant inside fuzzed inputs, built independently of coldstart.pii.

Each ``Planted`` carries the text as it is written into the input (``written``) and the
values that must never come back out of the system (``secrets``): the written form and its
bare digits. Generators take plain integers so that both hypothesis (``strategies``) and
atheris (bytes from the fuzzer) can drive them. The forms follow tests/test_pii.py, plus the formats of
issue 12 that need no context word (Chinese-numeral mobiles, obfuscated e-mail, passports, plates).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Tuple

from tests.pii_reference import PROVINCES, id_check_char, luhn_ok

KINDS = ("PHONE", "ID_CARD", "BANK_CARD", "EMAIL", "PHONE_CN", "EMAIL_OBFUSCATED", "PASSPORT", "LICENSE_PLATE")
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


_CN_DIGITS = ("零一二三四五六七八九", "零壹贰叁肆伍陆柒捌玖", "洞幺二三四五六拐八勾")
_AT = ("[at]", "(at)", "{at}", " at ", "艾特", "#", "圈a")
_DOT = (".", " dot ", "点", "(dot)", "。")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def phone_cn(n: int, style: int = 0) -> Planted:
    """A mobile written in Chinese numerals (lower case, capitals or 洞幺拐勾), 3-4-4 grouped or not."""
    digits = "1%d%d%08d" % (3 + n % 7, (n // 7) % 10, (n // 70) % 10 ** 8)
    table = _CN_DIGITS[style % 3]
    written = "".join(table[int(d)] for d in digits)
    if (style // 3) % 2:
        written = written[:3] + " " + written[3:7] + " " + written[7:]
    return Planted("PHONE", written, (written, digits))


def email_obfuscated(n: int, style: int = 0) -> Planted:
    """local [at] domain dot tld, with the at-sign and the dot written out (the ways people hide them)."""
    local = "".join(_LETTERS[(n // 26 ** i) % 26] for i in range(3 + n % 5)) + str(n % 97)
    domain = ("qq", "163", "126", "gmail", "sina", "foxmail")[(n // 5) % 6]
    at = _AT[style % len(_AT)]
    dot = _DOT[(style // len(_AT)) % len(_DOT)] if at not in (" at ",) else (" dot ", ".")[style % 2]
    written = local + at + domain + dot + ("com", "cn", "net")[(n // 3) % 3]
    return Planted("EMAIL", written, (written,))


def passport(n: int, style: int = 0) -> Planted:
    """A Chinese passport number: E + 8 digits, E + letter + 7 digits, or G + 8 digits."""
    body = "%08d" % ((n * 2654435761) % 10 ** 8)
    written = ("E" + body, "E" + _PLATE_LETTERS[n % len(_PLATE_LETTERS)] + body[1:], "G" + body)[style % 3]
    return Planted("PASSPORT", written, (written,))


def license_plate(n: int, style: int = 0) -> Planted:
    """Province + letter + 5 characters (at least 3 digits), with or without a middle dot / space."""
    serial = "%03d" % (n % 1000) + "".join(_PLATE_LETTERS[(n // 26 ** i) % 24] if (style + i) % 2 else str((n // 10 ** i) % 10)
                                           for i in range(1, 3))
    written = _PROVINCES[n % len(_PROVINCES)] + _PLATE_LETTERS[(n // 7) % 24] + ("", "·", " ")[style % 3] + serial
    return Planted("LICENSE_PLATE", written, (written,))


GENERATORS = {"PHONE": phone, "ID_CARD": id_card, "BANK_CARD": bank_card, "EMAIL": email, "PHONE_CN": phone_cn,
              "EMAIL_OBFUSCATED": email_obfuscated, "PASSPORT": passport, "LICENSE_PLATE": license_plate}


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
