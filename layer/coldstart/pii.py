"""Mask personal data (PII) in Chinese-language text before anything else sees it.

Hot serving path: standard library only, regexes compiled once at import.

Usage::

    from coldstart.pii import mask_pii
    r = mask_pii("电话13812345678，邮箱abc@example.com")
    r.text    # '电话[PHONE],邮箱[EMAIL]'
    r.counts  # {'EMAIL': 1, 'PHONE': 1}   (types and counts only, never values)

NFKC
    ``mask_pii`` first applies NFKC (``coldstart.text.nfkc``: same result as
    ``unicodedata.normalize("NFKC", text)``, faster on CJK text) and returns
    the *masked normalised* text.  This catches full-width input such as
    ``１３８１２３４５６７８`` or ``abc＠example.com``.  NFKC also turns full-width
    punctuation into ASCII (``，`` -> ``,``); the service normalises with NFKC
    anyway, so this is intended.  For best recall call
    ``mask_pii(coldstart.text.normalize_text(raw))`` (which additionally removes
    zero-width/format characters and collapses whitespace) and truncate only
    *after* masking, so a number is never cut in half before it is detected.

Types (``counts`` keys) and placeholders (see ``PLACEHOLDERS``)
    EMAIL     -> [EMAIL]      local@domain.tld, ASCII (after NFKC, so ＠ works).
    WECHAT    -> [WECHAT]     after a keyword 微信 / 微信号 / 薇信 / V信 / vx / wx /
                              WeChat / weixin (case-insensitive), optional
                              separators (space, ``:``, ``=``, 是, 为, 号, 号码,
                              账号, ``ID``), then an id: a mobile number (any
                              format below), a 6-20 char id ``[A-Za-z][A-Za-z0-9_-]{5,19}``,
                              or a 5-11 digit QQ-style number (QQ numbers can
                              log in to WeChat; covers "QQ/微信：12345678").  The
                              keyword is kept: ``微信：[WECHAT]``.  A bare
                              ``wxid_xxxx`` is masked too (also right after
                              digits: ``12345678wxid_abcd``).  ASCII keywords must
                              not be glued to other ASCII letters.
    QQ        -> [QQ]         after QQ / qq / 扣扣 + the same separators (so also
                              QQ号, QQ号码是), a 5-11 digit number not starting with 0.
    ID_CARD   -> [ID]         Resident ID: 18 chars (17 digits + check 0-9/X/x)
                              with a valid GB 11643-1999 check digit, a real birth
                              date 1900-01-01..today and a real province code; or a
                              15-digit legacy ID (birth 19YYMMDD + province code).
                              Plain, or grouped 6-8-4 with space/dash.
    BANK_CARD -> [BANK_CARD]  16-19 digits, contiguous or grouped in 4s with
                              space/dash (4-4-4-4[-1..3]), first digit in
                              2,3,4,5,6,9 (Mastercard 2-series, Amex/JCB, Visa,
                              Mastercard, UnionPay 62/Discover, legacy domestic
                              9xxx cards), Luhn-valid.  A valid ID wins for
                              18-digit strings; an 18-digit string failing the ID
                              check but passing Luhn is a BANK_CARD.  Also 15
                              contiguous digits starting 34/37 (American Express),
                              Luhn-valid, when they are not a valid legacy ID.
    PHONE     -> [PHONE]      Mainland mobile 1[3-9]x + 8 digits, 3-4-4 grouping
                              with optional space/dash/dot/en- or em-dash
                              separators, optional prefix ``+86`` / ``0086`` /
                              ``86`` / ``(+86)`` followed by an optional space or
                              dash.
    LANDLINE  -> [PHONE]      Area code ``0[1-9]\\d{1,2}`` (optionally in
                              parentheses) + optional space/dash + 7-8 digit local
                              number (also grouped 3-4 / 4-4), optional extension
                              (``-123``, ``转123``, ``ext123``, ``x123``, ``#123``).
                              Also the international form ``+86`` / ``0086`` +
                              area code without its 0 (+86 21 5874 4046).
                              Examples: 010-12345678, (021)87654321,
                              0755 1234 5678, 0571-8888888转123, 010—65529988.
                              Landlines share the ``[PHONE]`` placeholder (same
                              meaning for the model) but are counted separately.
                              Not covered: 400/800 service numbers.

    All digit patterns use digit lookarounds: nothing is detected inside a
    longer digit run, but digits glued to Chinese characters are
    ("电话13812345678找我").  Look-alikes failing the checksum/date/province checks
    are left alone.

Known ambiguity: when a 4-4-4-4 grouped number fails the ID/Luhn checks, a
part of it that reads on its own as a phone/landline ("6222 0212 3456 7895"
-> "6222 [PHONE]") is still masked; over-masking is the safe direction.

Order (no double masking; placeholders contain no digits or ``@``):
    EMAIL, WECHAT, QQ, ID_CARD/BANK_CARD, PHONE, LANDLINE.

Nothing here logs; ``MaskResult`` never holds original values and its repr
omits even the masked text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from operator import mul as _mul
from types import MappingProxyType
from typing import Dict, List, Mapping, Optional, Pattern, Tuple

from .text import nfkc

__all__ = [
    "MaskResult",
    "PII_TYPES",
    "PLACEHOLDERS",
    "id_card_valid",
    "luhn_valid",
    "mask_pii",
]

PII_TYPES = ("EMAIL", "WECHAT", "QQ", "ID_CARD", "BANK_CARD", "PHONE", "LANDLINE")

PLACEHOLDERS: Mapping[str, str] = MappingProxyType(
    {
        "PHONE": "[PHONE]",
        "LANDLINE": "[PHONE]",
        "ID_CARD": "[ID]",
        "BANK_CARD": "[BANK_CARD]",
        "EMAIL": "[EMAIL]",
        "QQ": "[QQ]",
        "WECHAT": "[WECHAT]",
    }
)


@dataclass(frozen=True)
class MaskResult:
    """Masked text plus per-type counts (never the values)."""

    text: str
    counts: Dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __repr__(self) -> str:  # no text at all, masked or not
        return "MaskResult(len=%d, counts=%r)" % (len(self.text), self.counts)


# --------------------------------------------------------------------------
# Validators
# --------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS_ZERO = 48 * sum(_ID_WEIGHTS)  # contribution of ord("0") per position
_ID_CHECK = "10X98765432"
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
_MIN_BIRTH = date(1900, 1, 1)
_IMPORT_DAY = date.today()  # dates up to here need no date.today() call
_LUHN_DOUBLE = bytes.maketrans(b"0123456789", b"0246813579")  # 2d, minus 9 if > 9


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

    18 chars: 17 ASCII digits + check char (0-9, X or x) that matches the
    GB 11643-1999 mod-11 checksum, province code in the real set, birth date
    YYYYMMDD a real date in 1900-01-01..today.
    15 digits (legacy): province code + birth date 19YYMMDD (positions 7-12).
    Anything else (including separators) -> False.
    """
    if not isinstance(s, str):
        return False
    n = len(s)
    if n == 18:
        body = s[:17]
        if not _is_digits(body) or body[:2] not in _PROVINCES:
            return False
        if not _birth_ok(int(body[6:10]), int(body[10:12]), int(body[12:14])):
            return False
        total = sum(map(_mul, body.encode("ascii"), _ID_WEIGHTS)) - _ID_WEIGHTS_ZERO
        return _ID_CHECK[total % 11] == s[17].upper()
    if n == 15:
        if not _is_digits(s) or s[:2] not in _PROVINCES:
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


# --------------------------------------------------------------------------
# Patterns (compiled once)
# --------------------------------------------------------------------------

# Performance note: CPython's ``re`` only skips ahead quickly when a pattern
# starts with a literal or a character class.  So no pattern below starts with
# a lookbehind; "not preceded by a digit/letter" is written as: consume the
# first character, then a 2-wide negative lookbehind over (previous, first).

# Rest of a mobile number after its leading "1".
# Separators: space, dash, dot (138.1234.5678) and the en/em dashes NFKC leaves alone.
_NUM_SEP = "[ .\\-\u2013\u2014]"
_MOBILE_TAIL = r"[3-9][0-9](?:" + _NUM_SEP + r"?[0-9]{4}){2}(?![0-9])"
# Mobile with optional country prefix, no leading context check (used after a
# WeChat keyword, where the preceding character is never a digit).
_MOBILE_ANY = r"(?:(?:\+|00)86[ -]?|\(\+?86\)[ -]?|86[ -]?)?1" + _MOBILE_TAIL

_PHONE_RE = re.compile(
    r"\+86[ -]?1" + _MOBILE_TAIL
    + r"|\(\+?86\)[ -]?1" + _MOBILE_TAIL
    + r"|0(?<![0-9]{2})086[ -]?1" + _MOBILE_TAIL
    + r"|8(?<![0-9]{2})6[ -]?1" + _MOBILE_TAIL
    + r"|1(?<![0-9]{2})" + _MOBILE_TAIL,
    re.ASCII,
)

_LANDLINE_TAIL = (
    r"[ \-\u2013\u2014]?(?:[0-9]{7,8}|[0-9]{3,4}[ \-\u2013\u2014][0-9]{4})"
    r"(?:[ ]?(?:-|转|[Ee][Xx][Tt]\.?|[Xx]|#)[ ]?[0-9]{1,6})?"
    r"(?![0-9])"
)
_LANDLINE_RE = re.compile(
    r"\(0[1-9][0-9]{1,2}\)" + _LANDLINE_TAIL
    + r"|0(?<![0-9]{2})[1-9][0-9]{1,2}" + _LANDLINE_TAIL
    # international form: the country code replaces the area code's leading 0 (+86 21 5874 4046);
    # runs after _PHONE_RE, so a +86 mobile is already masked
    + r"|\+86[ -]?\(?[1-9][0-9]{1,2}\)?" + _LANDLINE_TAIL
    + r"|0(?<![0-9]{2})086[ -]?[1-9][0-9]{1,2}" + _LANDLINE_TAIL,
    re.ASCII,
)

# Candidates for ID cards / bank cards; validated in code.
_LONG_RE = re.compile(
    r"[0-9](?<![0-9]{2})(?:"
    r"[0-9]{3}(?:[ -][0-9]{4}){3}(?:[ -][0-9]{1,3})?"  # card grouped 4-4-4-4[-n]
    r"|[0-9]{5}[ -][0-9]{8}[ -][0-9]{3}[0-9Xx]"  # ID grouped 6-8-4
    r"|[0-9]{16}[Xx]"  # ID ending in X
    r"|[0-9]{14,18}"  # 15-19 contiguous digits
    r")(?![0-9])",
    re.ASCII,
)

_EMAIL_CH = r"[A-Za-z0-9._%+-]"
_EMAIL_DOMAIN = r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_EMAIL_RE = re.compile(
    _EMAIL_CH + r"(?<!" + _EMAIL_CH + r"{2})" + _EMAIL_CH + r"*" + _EMAIL_DOMAIN,
    re.ASCII,
)
# An address glued to the end of the previous one ("a@b.or3c@d.com": the TLD stops at "or").
# _EMAIL_RE cannot start there (its left context is an address character), and a second pass
# over the masked text could (fuzz finding: masking was not complete), so it is tried explicitly.
_EMAIL_GLUED_RE = re.compile(_EMAIL_CH + r"+" + _EMAIL_DOMAIN, re.ASCII)

# Separators between a QQ/WeChat keyword and the id (bounded).
_SEP = r"(?:[ \t:=]|是|为|号码?|账号|[Ii][Dd](?=[ \t:=])){0,6}"

_WECHAT_RE = re.compile(
    r"(?P<kw>[微薇VvWw](?:"
    r"(?<=[微薇])信"
    r"|(?<=[Vv])(?<![A-Za-z].)(?:信|[Xx](?![A-Za-z]))"
    r"|(?<=[Ww])(?<![A-Za-z].)(?:[Xx]|[Ee][Cc][Hh][Aa][Tt]|[Ee][Ii][Xx][Ii][Nn])(?![A-Za-z])"
    r"))"
    r"(?P<sep>" + _SEP + r")"
    r"(?:" + _MOBILE_ANY
    + r"|[1-9][0-9]{4,10}(?![0-9])"
    r"|[A-Za-z][A-Za-z0-9_-]{5,19}(?![A-Za-z0-9_-]))",
    re.ASCII,
)
# A digit may precede "wxid_" (fuzz finding: in "QQ号:12345678wxid_abc123" the id was left
# alone, then masking the QQ number in front exposed it, so the output was not free of PII).
_WXID_RE = re.compile(
    r"[Ww](?<![A-Za-z_-].)[Xx][Ii][Dd]_[A-Za-z0-9_-]{4,30}(?![A-Za-z0-9_-])",
    re.ASCII,
)

_QQ_RE = re.compile(
    r"(?P<kw>[Qq扣](?:(?<=[Qq])(?<![A-Za-z].)[Qq](?![A-Za-z])|(?<=扣)扣))"
    r"(?P<sep>" + _SEP + r")"
    r"[1-9][0-9]{4,10}(?![0-9])",
    re.ASCII,
)

_HAS_DIGIT_RE = re.compile(r"[0-9]")
_RUN4_RE = re.compile(r"[0-9]{4}")  # every ID/bank card candidate has one
_BANK_FIRST = frozenset("234569")

_P_EMAIL = PLACEHOLDERS["EMAIL"]
_P_WECHAT = PLACEHOLDERS["WECHAT"]
_P_QQ = PLACEHOLDERS["QQ"]
_P_ID = PLACEHOLDERS["ID_CARD"]
_P_BANK = PLACEHOLDERS["BANK_CARD"]
_P_PHONE = PLACEHOLDERS["PHONE"]
_P_LANDLINE = PLACEHOLDERS["LANDLINE"]


def _classify_long(raw: str) -> Optional[Tuple[str, str]]:
    digits = raw.replace(" ", "").replace("-", "")
    n = len(digits)
    if (n == 18 or n == 15) and id_card_valid(digits):
        return "ID_CARD", _P_ID
    if 16 <= n <= 19 and digits[0] in _BANK_FIRST and luhn_valid(digits):
        return "BANK_CARD", _P_BANK
    if n == 15 and digits[:2] in ("34", "37") and luhn_valid(digits):  # American Express
        return "BANK_CARD", _P_BANK
    return None


def _sub_simple(rx: Pattern[str], text: str, kind: str, placeholder: str, counts: Dict[str, int]) -> str:
    new, n = rx.subn(placeholder, text)
    if n:
        counts[kind] = counts.get(kind, 0) + n
    return new


def _sub_email(text: str, counts: Dict[str, int]) -> str:
    parts: List[str] = []
    pos = 0
    n = 0
    m = _EMAIL_RE.search(text)
    while m is not None:
        parts.append(text[pos : m.start()])
        parts.append(_P_EMAIL)
        pos = m.end()
        n += 1
        m = _EMAIL_GLUED_RE.match(text, pos) or _EMAIL_RE.search(text, pos)
    if not n:
        return text
    parts.append(text[pos:])
    counts["EMAIL"] = counts.get("EMAIL", 0) + n
    return "".join(parts)


def _sub_keyword(rx: Pattern[str], text: str, kind: str, placeholder: str, counts: Dict[str, int]) -> str:
    parts: List[str] = []
    pos = 0
    n = 0
    for m in rx.finditer(text):
        parts.append(text[pos : m.start()])
        parts.append(m.group("kw"))  # keep keyword + separators, mask the id
        parts.append(m.group("sep"))
        parts.append(placeholder)
        pos = m.end()
        n += 1
    if not n:
        return text
    parts.append(text[pos:])
    counts[kind] = counts.get(kind, 0) + n
    return "".join(parts)


def _sub_long(text: str, counts: Dict[str, int]) -> str:
    parts: List[str] = []
    pos = 0
    for m in _LONG_RE.finditer(text):
        hit = _classify_long(m.group(0))
        if hit is None:
            continue  # look-alike: leave it alone
        kind, placeholder = hit
        parts.append(text[pos : m.start()])
        parts.append(placeholder)
        pos = m.end()
        counts[kind] = counts.get(kind, 0) + 1
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def mask_pii(text: str) -> MaskResult:
    """NFKC-normalise ``text`` and replace PII with typed placeholders.

    Returns the masked *normalised* text and per-type counts.  See the module
    docstring for the supported formats.

    Invisible characters inside a number (zero-width space, soft hyphen, BOM,
    bidi marks, other Cc/Cf characters) would hide it from the patterns, and a
    later ``normalize_text`` would remove them and expose the digits (fuzz
    finding: ``prepare_text("电话138\u200b1234\u200b5678")`` kept the number).
    So when the text holds such characters, the masked text is cleaned with
    ``normalize_text`` and masked again; if that finds more, the cleaned,
    masked text is returned (whitespace collapsed, controls removed).
    """
    result = _mask_nfkc(nfkc(text))
    if result.text.isprintable():  # no Cc/Cf/Cs and no whitespace other than " ": nothing hidden
        return result
    from .text import normalize_text

    cleaned = normalize_text(result.text)
    if cleaned == result.text:
        return result
    again = _mask_nfkc(cleaned)
    if not again.counts:
        return result
    counts = dict(result.counts)
    for kind, n in again.counts.items():
        counts[kind] = counts.get(kind, 0) + n
    return MaskResult(again.text, counts)


def _mask_nfkc(t: str) -> MaskResult:
    """The patterns, in order, over NFKC text."""
    counts: Dict[str, int] = {}
    if not t:
        return MaskResult(t, counts)
    if "@" in t:
        t = _sub_email(t, counts)
    lower = t.lower()
    if (
        "微信" in t
        or "薇信" in t
        or "wx" in lower
        or "vx" in lower
        or "v信" in lower
        or "wechat" in lower
        or "weixin" in lower
    ):
        t = _sub_keyword(_WECHAT_RE, t, "WECHAT", _P_WECHAT, counts)
        if "wxid_" in lower:
            t = _sub_simple(_WXID_RE, t, "WECHAT", _P_WECHAT, counts)
    if _HAS_DIGIT_RE.search(t) is not None:
        if "qq" in lower or "扣扣" in t:
            t = _sub_keyword(_QQ_RE, t, "QQ", _P_QQ, counts)
        if _RUN4_RE.search(t) is not None:
            t = _sub_long(t, counts)
        t = _sub_simple(_PHONE_RE, t, "PHONE", _P_PHONE, counts)
        t = _sub_simple(_LANDLINE_RE, t, "LANDLINE", _P_LANDLINE, counts)
    return MaskResult(t, counts)
