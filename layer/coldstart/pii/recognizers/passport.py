"""Passport numbers (PASSPORT -> ``[PASSPORT]``).

Shape rules (no public checksum): Chinese ordinary passports ``E`` + 8 digits or ``E`` + letter
(not I/O) + 7 digits, older ``G`` + 8 digits: masked anywhere, since nothing else in a bio looks
like that (veto words such as 型号 / 编号 still apply). Other documents only after a passport word
(护照, passport, 护照号 ...) in the same clause: diplomatic/service/public ``D``/``S``/``P`` + 7-8 digits,
Hong Kong ``K``/``H`` + 8 digits, foreign forms of 1-2 letters + 6-9 digits, or 8-9 digits alone
(US). Separators and one-character-at-a-time spacing inside the number are allowed ("E-6172-9384",
"G4837 2615", "E J 5 6 2 8 1 9 3"); digits come from the normalised view (full-width, 七三九...).
"""
from __future__ import annotations

import re
from typing import List

from ..normalizer import NormalizedText
from .base import Candidate, Recognizer

_CANDIDATE_RE = re.compile(
    r"(?P<v>[A-Za-z](?<![A-Za-z0-9].)(?:[ -]?[A-Za-z])?(?:[ \-._]?[0-9]){6,9}"
    r"|[0-9](?<![A-Za-z0-9].)(?:[ \-]?[0-9]){7,8})"
    r"(?![A-Za-z0-9])"
)
_GATE_RE = re.compile(r"[EG][A-Z]?[ \-]?[0-9]")
_STRONG_RE = re.compile(r"E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8}\Z")
_WITH_CONTEXT_RE = re.compile(r"[A-Z]{1,2}[0-9]{6,9}|[0-9]{8,9}\Z")
# "PASSPORT" only when it is not the placeholder of an earlier pass ("[PASSPORT]"): masking must be complete.
_CONTEXT_RE = re.compile(
    "护照号码|护照号|护照|passport|Passport|PASSPORT(?!\\])|旅行证|travel document|通行证|回乡证|台胞证|travel permit"
)


# After a passport word, other countries' numbers mix letters and digits (German "C01X00T47"): 9 characters,
# letters and at least 3 digits, right after the word (a separator or 号/号码/是 allowed).
_MIXED_AFTER_CONTEXT_RE = re.compile(
    "(?:护照号码|护照号|护照|passport|Passport|PASSPORT)(?:[ ]?[:=是][ ]?|号码|[ ])?"
    r"(?P<v>[A-Z](?:[A-Z0-9]){8})(?![A-Za-z0-9])"
)


class PassportRecognizer(Recognizer):
    entity = "PASSPORT"
    name = "passport"
    context = ("护照", "护照号", "护照号码", "passport")
    score = 0.7

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        text = nt.text
        out: List[Candidate] = []
        if _GATE_RE.search(text) is None and _CONTEXT_RE.search(text) is None:
            return out
        for m in _CANDIDATE_RE.finditer(text):
            value = re.sub(r"[ \-._]", "", m.group("v"))
            strong = _STRONG_RE.fullmatch(value) is not None
            if not strong:
                if _WITH_CONTEXT_RE.fullmatch(value.upper()) is None:
                    continue
                if _CONTEXT_RE.search(text, max(0, m.start() - 24), m.start()) is None:
                    continue
            elif not value[0].isupper():
                continue
            if self.vetoed(nt, m.start()):
                continue
            out.append(Candidate(m.start("v"), m.end("v"), self.entity, self.score if strong else 0.65))
        for m in _MIXED_AFTER_CONTEXT_RE.finditer(text):
            value = m.group("v")
            if sum(c.isdigit() for c in value) >= 3 and not self.vetoed(nt, m.start("v")):
                out.append(Candidate(m.start("v"), m.end("v"), self.entity, 0.65))
        return out
