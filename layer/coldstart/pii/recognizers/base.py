"""What every recognizer is (Presidio style): patterns, context words, ``validate_result``.

A recognizer looks at the analysis view (``coldstart.pii.normalizer.NormalizedText``) and returns
``Candidate`` spans in *view* coordinates with a score; the engine maps them back to the input,
resolves overlaps (higher score first, then the longer span) and masks. Recognizers never see
each other's results and never log.

Three shapes cover all classes:

* ``PatternRecognizer``: compiled regexes (one ``Pattern`` each: name, regex, score), optional
  ``validate_result`` on the matched text, optional veto context (``context.vetoed``);
* ``DigitRecognizer``: numbers read from the shared digit runs (``NormalizedText.digit_runs``),
  so "138 1234 5678", "138/1234/5678", "1 3 8 1 2 ...", "一三八..." and "138\\u200b1234..." are the
  same number. It proposes every range of whole digit groups whose digits pass ``validate_digits``
  (a checksum where one exists), under the group rules in ``group_ranges``;
* keyword recognizers (QQ, WeChat) and the context-driven ones (names, addresses) implement
  ``analyze`` themselves on top of the same helpers.

Cost: every recognizer runs on every text, so each is written to give up early. The digit runs and their
group ranges are computed once per text and shared (``number_ranges``); patterns that CPython's re cannot
skip ahead in (it does only for a leading class or literal alternatives) get a cheap test first (a
character every match contains) or are tried only where a match can start (``search_at``). Measured with
``bench/pii.py --corpora old --no-presidio`` (1,000 200-character bios dense with numbers): masking p50 / p99
0.60 / 1.27 ms thread CPU before this was done, ~0.47 / ~0.85 ms after, same machine, same run; the
third round's rules (the nearby keyword tests below) brought p99 back to ~0.95 ms.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from typing import Iterator, List, NamedTuple, Optional, Sequence, Tuple

from ..context import vetoed
from ..normalizer import DigitRun, NormalizedText

__all__ = ["Candidate", "Pattern", "Range", "Recognizer", "PatternRecognizer", "DigitRecognizer", "group_ranges",
           "number_ranges", "run_ranges", "search_at", "finditer_at"]


class Candidate(NamedTuple):
    start: int      # view coordinates, end exclusive
    end: int
    entity: str
    score: float


class Pattern(NamedTuple):
    name: str
    regex: "re.Pattern[str]"
    score: float


def search_at(starts: "re.Pattern[str]", pattern: "re.Pattern[str]", text: str, pos: int = 0) -> Optional["re.Match[str]"]:
    """``pattern.search(text, pos)``, tried only where ``starts`` matches.

    ``starts`` is a one-character class that every match of ``pattern`` begins with. CPython's re skips
    ahead to such a character by itself only when a pattern starts with a class or with literal
    alternatives; one that starts with a group of words followed by more alternatives (an address's
    compound word, then a building *or* a room chain) is tried at every position: ~60 us for a
    200-character bio, against a few here. Lookbehinds still see the text before each start.
    """
    while True:
        s = starts.search(text, pos)
        if s is None:
            return None
        m = pattern.match(text, s.start())
        if m is not None:
            return m
        pos = s.start() + 1


def finditer_at(starts: "re.Pattern[str]", pattern: "re.Pattern[str]", text: str) -> Iterator["re.Match[str]"]:
    """``pattern.finditer(text)`` through ``search_at`` (for patterns that never match the empty string)."""
    pos = 0
    while True:
        m = search_at(starts, pattern, text, pos)
        if m is None:
            return
        yield m
        pos = m.end()


class Recognizer:
    """Base class: one PII class (``entity``) per recognizer."""

    entity = ""
    name = ""
    #: Words that make the class likely right before a candidate (documentation and subclasses' use).
    context: Tuple[str, ...] = ()
    #: Apply the shared veto words (订单号, 发票 ...) before each candidate.
    use_veto = True
    veto_window = 16

    def analyze(self, nt: NormalizedText) -> List[Candidate]:  # pragma: no cover - abstract
        raise NotImplementedError

    def validate_result(self, value: str) -> bool:
        """Final check on the candidate text (view form); True keeps it."""
        return True

    def vetoed(self, nt: NormalizedText, start: int) -> bool:
        return self.use_veto and vetoed(nt.text, start, self.veto_window)

    def __repr__(self) -> str:
        return "<%s %s>" % (type(self).__name__, self.entity)


class PatternRecognizer(Recognizer):
    """Regex patterns; each match is validated and checked against the veto context."""

    patterns: Sequence[Pattern] = ()
    #: Cheap substring test: skip the regexes when none of these occurs in the lower-cased view.
    needles: Tuple[str, ...] = ()

    def applies(self, nt: NormalizedText) -> bool:
        if not self.needles:
            return True
        low = nt.lower
        return any(n in low for n in self.needles)

    def span_of(self, m: "re.Match[str]") -> Tuple[int, int]:
        """The part of the match that is the value (the group ``v`` if the pattern has one)."""
        if "v" in m.re.groupindex and m.group("v") is not None:
            return m.span("v")
        return m.span()

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        if not self.applies(nt):
            return []
        out = []
        for pattern in self.patterns:
            for m in pattern.regex.finditer(nt.text):
                s, e = self.span_of(m)
                if e <= s or not self.validate_result(nt.text[s:e]):
                    continue
                if self.vetoed(nt, m.start()):
                    continue
                out.append(Candidate(s, e, self.entity, pattern.score))
        return out


# ------------------------------------------------------------------------------------ digit runs

MAX_DIGITS = 24  # longest number any digit recognizer reads (0086 + area + local + extension)
MIN_DIGITS = 10  # shortest (a landline: 0 + 2-digit area + 7 digits); QQ/WeChat read runs directly
# Units after a number that make it a quantity ("24小时", "3年", "50元"), not the end of an identifier.
_UNIT_CHARS = frozenset("小点岁年月日号元块分秒个次天周楼层斤米人位件条台万千百克名期届级")  # longest number any digit recognizer reads (0086 + area + local + extension)


class Range(NamedTuple):
    start: int      # view positions of the first and past the last digit
    end: int
    digits: str
    first: int      # first group, end group (exclusive)
    stop: int


def group_ranges(text: str, run: DigitRun, lengths: Sequence[int]) -> Iterator[Range]:
    """Every range of whole groups of ``run`` that may be one number, with ``len(digits) in lengths``.

    The whole run always qualifies. A part of a run qualifies only when it does not look like a
    piece of one longer number: it is a single group ("2023-10-01 13812345678"), or the
    separators at its edges differ from the ones inside it ("138-1234-5678 / 159-8765-4321"), or
    the group across the edge is long and the ones inside short ("185 4652 1225 23334320100611685X").
    So a 4-4-4-4 card that fails Luhn is not re-read as a landline from its second group on
    ("6222 0212 3456 7895"). Chinese numerals glued to the outside of Arabic digits may be a word
    ("13812345678一起"): ranges are offered with and without them (``DigitRun.soft_*``).
    The ranges of a run are computed once and shared by all digit recognizers (``run_ranges``).
    """
    for r in run_ranges(text, run):
        if len(r.digits) in lengths:
            yield r


def run_ranges(text: str, run: DigitRun) -> List[Range]:
    """Every range of ``run`` that may be one number, whatever its length (see ``group_ranges``);
    computed once per run and kept on it."""
    ranges = run.ranges
    if ranges is None:
        ranges = run.ranges = _all_ranges(text, run)
    return ranges


def _all_ranges(text: str, run: DigitRun) -> List[Range]:
    groups = run.groups
    if len(groups) == 1:  # one contiguous number (the common case)
        s, e = groups[0]
        out = [Range(s, e, text[s:e], 0, 1)] if MIN_DIGITS <= e - s <= MAX_DIGITS else []
        if run.soft_start or run.soft_end:
            s2, e2 = s + run.soft_start, e - run.soft_end
            if MIN_DIGITS <= e2 - s2:
                out.append(Range(s2, e2, text[s2:e2], 0, 1))
        return out
    n = len(groups)
    sizes = [e - s for s, e in groups]
    # a short last group glued to a word is a quantity, not part of the number ("0434 24小时")
    quantity_tail = n > 1 and sizes[-1] <= 4 and text[run.end:run.end + 1] in _UNIT_CHARS
    seps = [sep.strip() for sep in run.seps]
    if len(set(seps)) == 1 and max(sizes) <= 5:
        # One separator throughout and no group longer than 5 digits ("138-1234-5678", "6222 0212 3456
        # 7895", "1 3 8 1 2 ..."): every part of the run has an edge whose separator is the one inside it
        # and no long group across it, so only the whole run qualifies, and a mobile before a quantity.
        # (The same pairs the general loop below finds, without judging every one: ~8 us a run.)
        total = sum(sizes)
        pairs = [(0, n - 1, 11)] if quantity_tail and total - sizes[-1] == 11 else []
        if MIN_DIGITS <= total <= MAX_DIGITS:
            pairs.append((0, n, total))
    else:
        pairs = _separable_pairs(sizes, seps, n, quantity_tail)
    run_digits = "".join([text[s:e] for s, e in groups])  # groups i..j-1: run_digits[offset[i]:offset[j]]
    offset = [0]
    for size in sizes:
        offset.append(offset[-1] + size)
    out = []
    for i, j, total in pairs:
        start, end = groups[i][0], groups[j - 1][1]
        out.append(Range(start, end, run_digits[offset[i]:offset[j]], i, j))
        # without the Chinese numerals glued to the outside ("...5678一起")
        soft_start = run.soft_start if i == 0 else 0
        soft_end = run.soft_end if j == n else 0
        if (soft_start or soft_end) and total - soft_start - soft_end >= MIN_DIGITS:
            s2, e2 = start + soft_start, end - soft_end
            digits = "".join(text[max(s, s2):min(e, e2)] for s, e in groups[i:j] if min(e, e2) > max(s, s2))
            out.append(Range(s2, e2, digits, i, j))
    return out


def _separable_pairs(sizes: List[int], seps: List[str], n: int, quantity_tail: bool) -> List[Tuple[int, int, int]]:
    """(first group, end group, digit count) of every range of groups that may be one number."""
    pairs = []
    for i in range(n):
        total = 0
        inner = set()     # the separators inside groups i..j-1 and their longest group, kept up to date as j
        longest = 0       # grows (a number written one digit at a time has ~100 ranges to judge)
        for j in range(i + 1, n + 1):
            size = sizes[j - 1]
            total += size
            if total > MAX_DIGITS:
                break
            if j - i > 1:
                inner.add(seps[j - 2])
            if size > longest:
                longest = size
            if total < MIN_DIGITS:
                continue
            if not (i == 0 and j == n) and not _separable(sizes, seps, inner, longest, i, j, n) \
                    and not (quantity_tail and i == 0 and j == n - 1 and total == 11):
                continue  # (the quantity rule only frees a mobile number: a card passes Luhn by chance)
            pairs.append((i, j, total))
    return pairs


def _separable(sizes: List[int], seps: List[str], inner: set, longest_inside: int, i: int, j: int, n: int) -> bool:
    """Whether groups i..j-1 may be a number of their own (see ``group_ranges``). ``seps``: the separators
    between the groups, stripped of spaces; ``inner``: those inside the range; ``longest_inside``: its
    longest group."""
    if j - i == 1:
        return True
    for edge, across in ((i - 1, i - 1), (j - 1, j)):
        if edge < 0 or across >= n or edge >= n - 1:
            continue
        if seps[edge] not in inner:
            continue  # a different separator: "138-1234-5678 / 159-..."
        if sizes[across] >= 6 and longest_inside <= 5:
            continue  # a long group of another number: "185 4652 1225 23334320100611685X"
        return False
    return True


def is_ip_or_version(text: str, run: DigitRun) -> bool:
    """192.168.1.10, v2.3.1, V1.0.23.1128: dotted groups are never personal numbers."""
    if not run.seps or any(sep != "." for sep in run.seps):
        return False
    if run.start > 0 and text[run.start - 1] in "vV":
        return True
    return len(run.groups) == 4 and all(e - s <= 3 for s, e in run.groups)


_LETTER_BEFORE_RE = re.compile(r"[A-Za-z]+\Z")
# Letters glued to the front of a number that still introduce personal data ("Tel13812345678").
_OK_LETTERS = frozenset("tel phone mobile mob cell call no num id qq q vx wx v x wechat weixin m t p ph "
                        "fax hp contact whatsapp line visa jcb master mastercard amex unionpay card cn "
                        # pinyin and its initials for the labels (身份证 sfz, 电话 dh, 手机 sj, 卡号 kh ...)
                        "sfz sfzh shenfenzheng dh dianhua sj shouji kh kahao yhk zh zhanghao hm haoma lxfs".split())


def glued_code_prefix(text: str, start: int) -> bool:
    """True when ASCII letters glued to the number make it a code (SF1234..., JDVA1858...).

    Letters that follow a dot or an at-sign are the end of an address ("...@mail.or13812345678"), not
    a code: the number after them is read (else masking the address would expose it to a second pass).
    """
    if start == 0 or not text[start - 1].isascii() or not text[start - 1].isalpha():
        return False
    m = _LETTER_BEFORE_RE.search(text, max(0, start - 12), start)
    letters = m.group(0) if m else ""
    if m is not None and m.start() > 0 and text[m.start() - 1] in ".@":
        return False
    return letters.lower() not in _OK_LETTERS


def number_ranges(nt: NormalizedText) -> List[Tuple[DigitRun, List[Range]]]:
    """(run, its ranges) for every digit run that may hold a number (not an IP address or a version, at
    least one range): computed once per text and shared by the digit recognizers, which then only
    filter by digit count (four recognizers each re-reading every run cost ~40 us per bio)."""
    numbers = nt.numbers
    if numbers is None:
        text = nt.text
        numbers = []
        for run in nt.digit_runs():
            if is_ip_or_version(text, run):
                continue
            ranges = run_ranges(text, run)
            if ranges:
                numbers.append((run, ranges))
        nt.numbers = numbers
    return numbers


class DigitRecognizer(Recognizer):
    """Numbers read from digit runs; subclasses give the digit counts and ``validate_digits``."""

    lengths: Tuple[int, ...] = ()
    score = 0.5

    _lengths: frozenset = frozenset()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._lengths = frozenset(cls.lengths)  # (set membership for the digit-count test)

    def validate_digits(self, digits: str) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def accepts(self, run, r) -> bool:
        """Whether the digits of group range ``r`` of digit ``run`` are this recognizer's value."""
        return self.validate_digits(r.digits)

    def extend(self, nt: NormalizedText, start: int, end: int, digits: str) -> Optional[Tuple[int, int]]:
        """Adjust the span (a prefix sign, an ID's X, an extension); None drops the candidate."""
        return start, end

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        text = nt.text
        lengths = self._lengths
        out = []
        for run, ranges in number_ranges(nt):
            for r in ranges:
                digits = r.digits
                if len(digits) not in lengths or not self.accepts(run, r):
                    continue
                span = self.extend(nt, r.start, r.end, digits)
                if span is None:
                    continue
                if glued_code_prefix(text, span[0]) or self.vetoed(nt, span[0]):
                    continue
                out.append(Candidate(span[0], span[1], self.entity, self.score))
        return out


_REMARK_RE = re.compile(r"[ ]?(?:\([^()0-9A-Za-z]{1,20}\)|【[^【】0-9A-Za-z]{1,20}】)[ ]?:?[ ]?")
#: how far a loose look-ahead reads for an id; longer when a label colon stands right before it
LOOSE_GAP, LOOSE_GAP_COLON = 10, 18


def skip_remark(text: str, at: int) -> int:
    """After a contact keyword, a remark in brackets before the value ("QQ（晚上在线，白天上班）：2837...",
    "vx（加的时候请备注）mango_9"): where the value may start; ``at`` when there is none."""
    m = _REMARK_RE.match(text, at)
    return m.end() if m is not None else at


# ---------------------------------------------------------------------------- a keyword nearby
SENTENCE_END = frozenset("。!！\n")  # not "?": "想要我微信？guess_me_77"
# How far a keyword may be from the value it introduces: ending this many characters before it, or
# starting this many after it (recognizers test positions against these before calling keyword_nearby).
NEARBY_BEFORE, NEARBY_AFTER = 36, 14


def keyword_nearby(text: str, start: int, end: int, keyword_re: "re.Pattern[str]", veto_re: "re.Pattern[str]",
                   before: int = NEARBY_BEFORE, after: int = NEARBY_AFTER) -> bool:
    """True when ``keyword_re`` matches in the same sentence as ``text[start:end]``: ending at most
    ``before`` characters before it, or starting at most ``after`` characters after it, with no veto
    word (a group, a platform, an order ...) between the keyword and the value, the keyword's own
    follower included ("QQ群", "微信公众号"). For values whose introduction is not right before them
    ("我Q号就是生日加一串数😂 1998061273", "Rainbow_Chen ←这是微信 不是QQ").

    The keywords are matched in the whole text and then kept by position, never in a text cut at the
    window's edges: a lookahead at a cut edge sees nothing, so "Q22 3234" read as a bare "Q" (no keyword
    in the whole text, where the callers' first test, ``keyword_ends_near``, looks), and whether the rule
    ran then hung on how far another keyword stood (atheris: masking moved it, a second pass found more)."""
    lo = start
    while lo > 0 and start - lo < before and text[lo - 1] not in SENTENCE_END:
        lo -= 1
    for m in keyword_re.finditer(text, lo):
        if m.start() >= start:
            break
        if m.end() <= start and veto_re.search(text, m.start(), start) is None:
            return True
    hi = end
    while hi < len(text) and hi - end < after and text[hi] not in SENTENCE_END:
        hi += 1
    for m in keyword_re.finditer(text, end):
        if m.start() >= hi:
            break
        if veto_re.search(text, end, min(len(text), m.end() + 3)) is None:
            return True
    return False


def any_between(sorted_positions: Sequence[int], lo: int, hi: int) -> bool:
    """True when one of ``sorted_positions`` lies in [lo, hi] (a bisection: these checks run per number)."""
    i = bisect_left(sorted_positions, lo)
    return i < len(sorted_positions) and sorted_positions[i] <= hi


def keyword_ends_near(keyword_ends: Sequence[int], start: int, end: int) -> bool:
    """The cheap first test of ``keyword_nearby`` on positions already known: a keyword ending within
    NEARBY_BEFORE characters before ``start`` or NEARBY_AFTER (plus the keyword's own length) after ``end``."""
    return any_between(keyword_ends, start - NEARBY_BEFORE, start) \
        or any_between(keyword_ends, end + 1, end + NEARBY_AFTER + 6)


def overlaps(candidates: Sequence[Candidate], start: int, end: int) -> bool:
    return any(c.start < end and start < c.end for c in candidates)
