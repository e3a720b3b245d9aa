"""The masking engine: normalise once, run the configured recognizers, resolve overlaps, mask.

    engine = MaskingEngine(MaskerConfig())
    engine.analyze(text)  # [Finding(start, end, entity, score)]: positions in ``text``, no values
    engine.mask(text)     # MaskResult(masked NFKC text, counts by type)

Overlaps: candidates are taken by score (checksum-validated classes first: e-mail 1.0, WeChat/QQ
with their keyword 0.95, ID 0.9, card 0.85, mobile 0.8, landline 0.75, passport/plate 0.7, address
0.6, name 0.5), then by length. A lower candidate that overlaps a taken one keeps only the parts
outside it, so no character any recognizer claimed is left in the text.

Output text: the input NFKC-normalised (full-width letters and punctuation become ASCII, as the
service always did) with every finding replaced by its placeholder; the span replaced is the
*original* characters, including the zero-width characters, Chinese numerals and separators inside
the number. Unmasked text keeps its invisible characters (``coldstart.text.normalize_text`` removes
them later); the view the recognizers read had already removed them, so nothing new appears.
"""
from __future__ import annotations

import re
from operator import itemgetter
from typing import Dict, List, Sequence, Tuple

from ..text import nfkc
from .config import MaskerConfig
from .normalizer import CN_DIGITS, SEP_CHARS, normalize
from .recognizers import REGISTRY, Candidate, Recognizer
from .result import Finding, MaskResult

__all__ = ["MaskingEngine"]



class MaskingEngine:
    def __init__(self, config: MaskerConfig = MaskerConfig()):
        self.config = config
        self.recognizers: List[Recognizer] = [REGISTRY[name]() for name in config.recognizers]
        self.placeholders = dict(config.placeholders)

    def analyze(self, text: str) -> List[Finding]:
        """Non-overlapping findings, in text order, with positions in ``text``."""
        return self._analyze(text)[0]

    def _analyze(self, text: str) -> Tuple[List[Finding], bool]:
        """(findings, whether a finding touches digits or letters its placeholder may set free)."""
        if not text:
            return [], False
        nt = normalize(text)
        candidates: List[Candidate] = []
        for recognizer in self.recognizers:
            candidates.extend(recognizer.analyze(nt))
        if not candidates:
            return [], False
        out = []
        kept: List[Candidate] = []
        view = nt.text
        for c in _resolve(candidates, view):
            s, e = nt.raw_span(c.start, c.end)
            if e > s:
                out.append(Finding(s, e, c.entity, c.score))
                kept.append(c)
        return out, _needs_second_pass(view, kept)

    def mask(self, text: str) -> MaskResult:
        result, recheck = self._mask_once(text)
        # A placeholder changes what its neighbours look like: digits that followed an address's
        # letters are no longer glued to a code, a digit run cut by an id joins up. When a finding
        # touches digits or letters (only separators between), mask the result again (at most four
        # times more: each pass must find something new) so that masking is complete: mask_pii(r.text)
        # finds nothing. Rare in real text (5 of the latency bench's 1,000 bios take one more pass).
        for _ in range(4):
            if not recheck:
                break
            again, recheck = self._mask_once(result.text)
            if not again.counts:
                break
            counts = dict(result.counts)
            for entity, n in again.counts.items():
                counts[entity] = counts.get(entity, 0) + n
            result = MaskResult(again.text, counts)
        return result

    def _mask_once(self, text: str) -> Tuple[MaskResult, bool]:
        findings, recheck = self._analyze(text)
        if not findings:
            return MaskResult(nfkc(text), {}), False
        parts: List[str] = []
        counts: Dict[str, int] = {}
        pos = 0
        for f in findings:
            if f.start > pos:
                parts.append(nfkc(text[pos:f.start]))
            parts.append(self.placeholders[f.entity])
            counts[f.entity] = counts.get(f.entity, 0) + 1
            pos = f.end
        if pos < len(text):
            parts.append(nfkc(text[pos:]))
        return MaskResult("".join(parts), counts), recheck


_START, _START_END = itemgetter(0), itemgetter(0, 1)  # Candidate.start, (Candidate.start, Candidate.end)
# A digit (or Chinese numeral) within 3 separators of a span, or an ASCII letter or digit glued to it
# (two anchored regex calls instead of a loop over the characters: every finding of a text is checked).
_DIGITISH = "[0-9" + "".join(CN_DIGITS) + "]"
_SEPARATOR = "[" + re.escape(SEP_CHARS) + "]"
_TOUCH_BEFORE_RE = re.compile("(?:[A-Za-z0-9]|" + _DIGITISH + _SEPARATOR + "{0,3})\\Z")
_TOUCH_AFTER_RE = re.compile("[A-Za-z0-9]|" + _SEPARATOR + "{0,3}" + _DIGITISH)


# A Chinese name's placeholder frees nothing: digit readers see "[NAME]" and the Han characters it replaced
# alike (neither is an ASCII letter or digit glued to a number). On the latency bench's 1,000 bios 80 texts took
# a second pass, none found anything in it, and they were 47 of the 50 slowest.
_ASCII_ALNUM_RE = re.compile("[A-Za-z0-9]")


def _needs_second_pass(view: str, kept: Sequence[Candidate]) -> bool:
    """Whether masking ``kept`` may set free something a second pass would find: a finding touches digits or
    letters (_touches_digits) that no other finding covers ("[PHONE]。[BANK_CARD]" frees nothing), and it is
    not a Chinese name (its placeholder and its Han characters look alike to the digit readers)."""
    touching = [c for c in kept if _touches_digits(view, c.start, c.end)
                and not (c.entity == "PERSON_NAME" and _ASCII_ALNUM_RE.search(view, c.start, c.end) is None)]
    if not touching:
        return False
    chars = list(view)
    for c in kept:
        start = c.start
        if c.entity == "QQ":
            while start > 0 and c.start - start < 2 and view[start - 1] in "Qq":
                start -= 1  # "加我QQ1234567": the keyword glued to its own number frees nothing either,
            if start < c.start and _ID_PART_BEFORE_RE.search(view, max(0, start - 2), start) is not None:
                start = c.start  # unless letters or digits before it (a space between) may take "QQ" as an id's part
                #                 ("wxi 123 QQ755-12345678": once the number is masked, "wxi 123 QQ" reads as an id)
        chars[start:c.end] = "\x00" * (c.end - start)  # what the other findings cover reads as nothing
    blanked = "".join(chars)
    return any(_touches_digits(blanked, c.start, c.end) for c in touching)


_ID_PART_BEFORE_RE = re.compile(r"[A-Za-z0-9][ ]?\Z")


def _touches_digits(view: str, start: int, end: int) -> bool:
    """A digit (or Chinese numeral) within 3 separators of the span, or an ASCII letter/digit glued to it."""
    return _TOUCH_BEFORE_RE.search(view, max(0, start - 4), start) is not None \
        or _TOUCH_AFTER_RE.match(view, end) is not None


def _resolve(candidates: Sequence[Candidate], text: str) -> List[Candidate]:
    """Greedy by (score, length); lower candidates keep their parts outside the taken spans
    (a part with fewer than 2 letters or digits is dropped: a separator between two numbers, a
    Chinese numeral glued to one, "企鹅号1685427390 零基础"'s 零 read as the 11th digit of a mobile). Only clusters of overlapping candidates need it."""
    ordered = sorted(candidates, key=_START_END)
    out: List[Candidate] = []
    cluster: List[Candidate] = []
    cluster_end = -1
    for c in ordered:
        if cluster and c.start >= cluster_end:
            out.extend(cluster if len(cluster) == 1 else _resolve_cluster(cluster, text))
            cluster = []
        cluster.append(c)
        cluster_end = max(cluster_end, c.end) if len(cluster) > 1 else c.end
    if cluster:
        out.extend(cluster if len(cluster) == 1 else _resolve_cluster(cluster, text))
    return out


def _resolve_cluster(candidates: Sequence[Candidate], text: str) -> List[Candidate]:
    taken: List[Candidate] = []
    for c in sorted(candidates, key=lambda c: (-c.score, -(c.end - c.start), c.start)):
        pieces = [(c.start, c.end)]
        for t in taken:
            nxt = []
            for s, e in pieces:
                if e <= t.start or s >= t.end:
                    nxt.append((s, e))
                    continue
                if s < t.start:
                    nxt.append((s, t.start))
                if e > t.end:
                    nxt.append((t.end, e))
            pieces = nxt
            if not pieces:
                break
        for s, e in pieces:
            if (s, e) == (c.start, c.end) or sum(ch.isalnum() for ch in text[s:e]) >= 2:
                taken.append(Candidate(s, e, c.entity, c.score))
    taken.sort(key=_START)
    return taken
