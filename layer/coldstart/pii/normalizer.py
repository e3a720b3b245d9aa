"""The analysis view of a text: what the recognizers read, with a map back to the caller's text.

People hide digits from naive patterns, mostly without meaning to: full-width or circled digits
(１３８, ①③⑧), digits in Chinese (一三八, 幺 for 1, 洞 for 0, capitals 壹贰叁), a zero-width space or a
soft hyphen pasted from a chat app, "138/1234/5678". Recognizers should not each learn every spelling,
so the text is normalised once, before any of them runs:

* NFKC per character (full-width letters, digits and ``＠``; ``①`` -> ``1``; ``⑴`` -> ``(1)``);
* other Unicode digits (Arabic-Indic ``٣``, Devanagari ``३``, dingbat ``❶`` ...) -> ASCII digits;
* control and format characters (Cc/Cf: zero-width space/joiner, BOM, soft hyphen, bidi marks)
  are dropped; other whitespace (tabs, newlines, ideographic space) becomes a space;
* Chinese numerals become ASCII digits *inside digit runs only*: a run of at least 5 digit
  characters (Arabic or Chinese, separators allowed between them), so "一三八 一二三四 五六七八" and
  "3303811982零八一八0889" are numbers while "一起", "三五个" and "二〇二三年" stay text. The
  ambiguous characters (两 么 拐 勾 洞) count only when glued to other numerals.

Separators between digits (space, ``- . / _ ~ — – · ( )``) are *kept*: the digit-run tokenizer
(``digit_runs``) reads them as group boundaries, which is what tells "138 1234 5678 / 0755 1234567"
(two numbers) from one long number.

Every view character remembers which character of the input it came from (``to_raw``), so a
match in the view masks the *original* characters: the zero-width spaces inside a number, the
Chinese numerals, the full-width digits — never a normalised copy.

Cost: only characters outside printable ASCII and the CJK block are looked at (common full-width
punctuation with ``str.replace``), so text that needs no map gets none; measured ~16 µs thread CPU for a
200-character bio on the (loaded) development machine, against ~30 µs for one ``str.translate`` over it.
The digit runs (``digit_runs``, on first use) cost another ~30 µs for a bio dense with numbers.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Dict, List, Optional, Tuple

__all__ = ["NormalizedText", "DigitRun", "normalize", "CN_DIGITS"]

# Chinese numerals that stand for one digit (lower case, financial capitals, traditional forms,
# and the radio/colloquial 幺 洞 拐 勾 么 两).
CN_DIGITS: Dict[str, str] = {
    "零": "0", "〇": "0", "○": "0", "洞": "0",
    "一": "1", "壹": "1", "幺": "1", "么": "1",
    "二": "2", "贰": "2", "貳": "2", "两": "2", "兩": "2",
    "三": "3", "叁": "3", "參": "3", "叄": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6", "陸": "6",
    "七": "7", "柒": "7", "拐": "7",
    "八": "8", "捌": "8",
    "九": "9", "玖": "9", "勾": "9",
}
# Only inside a run of numerals (never alone next to Arabic digits): common words otherwise.
_AMBIGUOUS = frozenset("两兩么拐勾洞伍陆陸")  # 伍 and 陆 are also surnames (伍思琪, 陆毅)
_CN_CLASS = "".join(CN_DIGITS)

# Separators allowed between the digit groups of one number (NFKC already made full-width ones ASCII).
SEP_CHARS = " -./_~\u2013\u2014\u00b7\u2010\u2011\u2012\u2015\u30fb\u2212()"
_SEP = "[" + re.escape(SEP_CHARS) + "]"
# A separator between two groups: spaces and at most two punctuation marks ("138 - 1234", "(021) 8765").
_GROUP_SEP = r"(?:[ ]*[-./_~\u2013\u2014\u00b7\u2010\u2011\u2012\u2015\u30fb\u2212()]{1,2}[ ]*|[ ]+)"

_CN_RUN_RE = re.compile(
    "[0-9" + _CN_CLASS + "]+(?:" + _GROUP_SEP + "[0-9" + _CN_CLASS + "]+)*"
)
_CN_ANY_RE = re.compile("[" + _CN_CLASS + "]")
# Two digit characters next to each other (a separator allowed) of which one is a Chinese numeral:
# only then can a digit run hold Chinese numerals (most texts have none: "一起", "三个" stay words).
# Written from the numeral (then a digit character after it, or a digit before it), so that the pattern
# starts with one class and CPython's re skips ahead to numerals: ~11 -> ~2 us for a 200-character bio.
_CN_PAIR_RE = re.compile(
    "[" + _CN_CLASS + "](?:[ \\-./_~]?[0-9" + _CN_CLASS + "]|(?<=[0-9].)|(?<=[0-9][ \\-./_~].))"
)
# (``[0-9][0-9]*`` rather than ``[0-9]+``: a leading class lets CPython's re skip to the digits.)
_DIGIT_RUN_RE = re.compile(r"[0-9][0-9]*(?:" + _GROUP_SEP + r"[0-9]+)*")
_GROUP_RE = re.compile(r"[0-9]+")

_category = unicodedata.category
_nfkc = unicodedata.normalize
_digit = unicodedata.digit

# The view is made with one ``str.translate``: every character that becomes exactly one character
# (full-width forms, other digits, whitespace) is mapped in place, so positions do not move and no
# map is needed. Characters that are dropped or become several map to this sentinel, and only then
# is a position map built (rare: zero-width spaces, circled (1), ligatures).
_SENTINEL = "\uffff"


def _view_of_char(ch: str) -> str:
    """What one input character becomes in the view ('' = dropped)."""
    if ch.isspace():
        return " "
    cat = _category(ch)
    if cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Me") or "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":
        return ""  # invisible: zero-width, bidi, BOM, soft hyphen, variation selectors, keycap marks
    out = _nfkc("NFKC", ch)
    if any(not c.isascii() and _digit(c, None) is not None for c in out):
        out = "".join(str(_digit(c)) if not c.isascii() and _digit(c, None) is not None else c for c in out)
    if any(c.isspace() for c in out):
        out = "".join(" " if c.isspace() else c for c in out)
    return out


class _ViewTable(dict):
    """str.translate table filled on first use of each character (dict lookups stay in C)."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        if cp < 0x80:
            v = ch if (ch.isprintable() or ch == " ") else (" " if ch.isspace() else _SENTINEL)
        elif 0x4E00 <= cp <= 0x9FFF:
            v = ch
        else:
            view = _view_of_char(ch)
            v = view if len(view) == 1 and view != _SENTINEL else _SENTINEL
        if len(self) < 65536:
            self[cp] = v
        return v


_TABLE = _ViewTable()
# Characters that may change, apart from the common full-width punctuation handled with str.replace
# and characters that NFKC leaves alone anyway (CJK punctuation, most emoji and symbols).
_SPECIAL_RE = re.compile(
    "[^\x20-\x7e\u4e00-\u9fff\u3001\u3002\u3008-\u3011\u2018\u2019\u201c\u201d\u2014\u00b7"
    "\u2600-\u2775\u2794-\u27bf\U0001F300-\U0001F5FF\U0001F680-\U0001FAFF]+"
)
_COMMON_FULLWIDTH = tuple((chr(c), chr(c - 0xFEE0)) for c in map(ord, "，：；！？（）～＋－＠"))


class DigitRun:
    """A maximal run of digit groups separated by number separators, in view coordinates."""

    __slots__ = ("start", "end", "groups", "seps", "ranges", "soft_start", "soft_end")

    def __init__(self, start: int, end: int, groups: List[Tuple[int, int]], seps: List[str]):
        self.start = start
        self.end = end
        self.groups = groups      # (start, end) of each group of digits
        self.seps = seps          # separator text between group i and i+1
        self.ranges = None        # cache of recognizers.base.group_ranges
        self.soft_start = 0       # Chinese numerals glued to the front of Arabic digits ("一13812345678")
        self.soft_end = 0         # ... to the back ("13812345678一起"): maybe a word, not a digit

    def __repr__(self) -> str:  # positions only
        return "DigitRun(%d, %d, groups=%d)" % (self.start, self.end, len(self.groups))


class NormalizedText:
    """The analysis view of ``raw`` and the map from view positions back to ``raw`` positions."""

    __slots__ = ("raw", "text", "_to_raw", "_runs", "_lower", "soft", "numbers")

    def __init__(self, raw: str, text: str, to_raw: Optional[List[int]], soft: Optional[set] = None):
        self.raw = raw
        self.text = text
        self._to_raw = to_raw     # None: the view is the input itself
        self._runs: Optional[List[DigitRun]] = None
        self._lower: Optional[str] = None
        self.soft = soft or ()    # view positions of edge Chinese numerals glued to Arabic digits
        self.numbers = None       # cache of recognizers.base.number_ranges (shared by the digit recognizers)

    @property
    def lower(self) -> str:
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    def raw_span(self, start: int, end: int) -> Tuple[int, int]:
        """The input characters behind view[start:end] (every one of them)."""
        m = self._to_raw
        if m is None:
            return start, end
        if end <= start:
            pos = m[start] if start < len(m) else len(self.raw)
            return pos, pos
        # characters dropped right after the span (a keycap's U+FE0F U+20E3) belong to it
        stop = m[end] if end < len(m) else len(self.raw)
        return m[start], max(m[end - 1] + 1, stop)

    def digit_runs(self) -> List[DigitRun]:
        """Digit runs of the view, computed once and shared by the digit recognizers."""
        if self._runs is None:
            runs = []
            text = self.text
            for m in _DIGIT_RUN_RE.finditer(text):
                s, e = m.span()
                if e - s < 5:
                    continue  # fewer than 5 digits: no recognizer reads it (ages, years, room numbers)
                if m.group().isdigit():
                    groups, seps = [(s, e)], []
                else:
                    groups = [g.span() for g in _GROUP_RE.finditer(text, s, e)]
                    seps = [text[groups[i][1]:groups[i + 1][0]] for i in range(len(groups) - 1)]
                run = DigitRun(s, e, groups, seps)
                if self.soft:
                    k = s
                    while k < e and k in self.soft:
                        k += 1
                    run.soft_start = k - s
                    k = e
                    while k > s and k - 1 in self.soft:
                        k -= 1
                    run.soft_end = e - k
                runs.append(run)
            self._runs = runs
        return self._runs


def _cn_digits(text: str, out: List[str], soft: set) -> bool:
    """Replace Chinese numerals inside digit runs (in ``out``, one char per char); True if any.

    Numerals glued to the outside of Arabic digits ("13812345678一起", but also "37010220060914931四")
    are converted and recorded in ``soft``: the digit recognizers try the run with and without them.
    """
    changed = False
    for m in _CN_RUN_RE.finditer(text):
        s, e = m.span()
        chunk = text[s:e]
        if _CN_ANY_RE.search(chunk) is None:
            continue
        if sum(1 for c in chunk if c.isdigit() or c in CN_DIGITS) < 5:
            continue
        converted = []
        for i in range(s, e):
            c = text[i]
            if c not in CN_DIGITS:
                continue
            if c in _AMBIGUOUS:
                prev = text[i - 1] if i > s else ""
                nxt = text[i + 1] if i + 1 < e else ""
                # glued to another Chinese numeral (not only to Arabic digits / separators)
                if not ((prev in CN_DIGITS) or (nxt in CN_DIGITS)):
                    continue
            out[i] = CN_DIGITS[c]
            converted.append(i)
            changed = True
        if converted and any(c.isdigit() for c in chunk):
            _mark_soft_edges(text, s, e, soft)
    return changed


def _mark_soft_edges(text: str, s: int, e: int, soft: set) -> None:
    """Chinese numerals at either edge of a run with Arabic digits, and the separators between them
    ("QQ 2609913374 二次元": the 二 may be a word)."""
    k = s
    while k < e and text[k] in CN_DIGITS:
        k += 1
    j = k
    while s < j < e and text[j] in SEP_CHARS:
        j += 1
    if s < k and j < e and text[j].isdigit():
        soft.update(range(s, j))
    k = e
    while k > s and text[k - 1] in CN_DIGITS:
        k -= 1
    j = k
    while s < j < e and text[j - 1] in SEP_CHARS:
        j -= 1
    if k < e and j > s and text[j - 1].isdigit():
        soft.update(range(j, e))


def _translate_run(m: "re.Match[str]") -> str:
    return m.group().translate(_TABLE)


def normalize(raw: str) -> NormalizedText:
    """The analysis view of ``raw`` (see the module docstring)."""
    # Only characters outside printable ASCII and the CJK block can change: translate just those
    # (a whole-string str.translate costs ~0.15 us per character, most of them CJK).
    text = raw
    for fw, hw in _COMMON_FULLWIDTH:
        if fw in text:
            text = text.replace(fw, hw)
    if _SPECIAL_RE.search(text) is not None:
        text = _SPECIAL_RE.sub(_translate_run, text)
    to_raw: Optional[List[int]] = None
    if _SENTINEL in text:
        pieces: List[str] = []
        to_raw = []
        pos = 0
        i = text.find(_SENTINEL)
        while i >= 0:
            if i > pos:
                pieces.append(text[pos:i])
                to_raw.extend(range(pos, i))
            v = _view_of_char(raw[i])
            if v:
                pieces.append(v)
                to_raw.extend([i] * len(v))
            pos = i + 1
            i = text.find(_SENTINEL, pos)
        if pos < len(text):
            pieces.append(text[pos:])
            to_raw.extend(range(pos, len(text)))
        text = "".join(pieces)
    soft: set = set()
    if _CN_ANY_RE.search(text) is not None and _CN_PAIR_RE.search(text) is not None:
        chars = list(text)
        if _cn_digits(text, chars, soft):
            text = "".join(chars)
    return NormalizedText(raw, text, to_raw, soft)
