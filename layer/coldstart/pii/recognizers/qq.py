"""QQ numbers (QQ -> ``[QQ]``): 5-11 digits, not starting with 0, after a QQ keyword.

Keywords: QQ / qq / Q / q q / Q号 / 扣扣 / 扣 / 企鹅(号) / 小企鹅 / 球球 / 🐧, then separators
(space : = 是 为 号 号码 账号 ID ...), then the number, read from the digit runs (so "扣 3 0 5 8 1 9 2 7 4",
"Q号 3847 6192 05", "企鹅号：3 9 4 八 5 7 2 1 6", "扣扣号码473\\u200b829\\u200b156" are numbers). The keyword
stays in the text (``QQ号:[QQ]``). Not: QQ群 / 群号 (a group), QQ音乐, "Q3 2024" (a quarter: a bare Q
glued to its number needs 5 digits in the first group).
"""
from __future__ import annotations

import re
from typing import List

from ..normalizer import NormalizedText
from .base import Candidate, Recognizer

_KEYWORD_RE = re.compile(
    r"[Qq](?<![A-Za-z].)(?:[ ]?[Qq])?(?![A-Za-z])"
    r"|扣扣?|抠抠|叩叩|企鹅号?|小企鹅|球球|\U0001F427"
)
# after the keyword: separators and filler words, bounded
# Separators and filler words between the keyword and the number ("QQ（常用）：", "扣扣/QQ：", "QQ“...”").
_SEP_RE = re.compile(
    r"(?:\([^()0-9A-Za-z]{1,4}\)|[ :=\-~>【\[(「“\"'《<]|号码?|码|是|为|账号|(?:ID|id|Id)(?=[ :=])|→|👉|➡"
    r"|\([^()0-9]{1,4}\)|/(?:微信|QQ|qq|扣扣|vx|VX)?(?:同号)?|同号|小号|大号)*"
)
_WEAK = frozenset(["q", "Q"])
# "dd我 / 私我 / 加我 + digits": a QQ number by default (a mobile number there is a PHONE: lower score)
_DM_RE = re.compile(r"(?:dd|DD|私|滴滴|加|扣)我[ :]?(?=[1-9])")


class QQRecognizer(Recognizer):
    entity = "QQ"
    name = "qq"
    context = ("QQ", "qq", "扣扣", "企鹅号", "Q号")
    score = 0.95
    veto_window = 8

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        text = nt.text
        low = nt.lower
        if "q" not in low and "扣" not in text and "企鹅" not in text and "球球" not in text and "\U0001F427" not in text \
                and "我" not in text:
            return []
        runs = {run.start: run for run in nt.digit_runs()}
        if not runs:
            return []
        out = []
        for m in _KEYWORD_RE.finditer(text):
            sep = _SEP_RE.match(text, m.end())
            at = sep.end() if sep.end() - m.end() <= 12 else -1
            run = runs.get(at)
            if run is None:
                continue
            kw = m.group(0)
            first = run.groups[0]
            digits = "".join(text[s:e] for s, e in run.groups)
            end = run.end
            if run.soft_end and len(digits) - run.soft_end >= 5:
                digits, end = digits[:-run.soft_end], end - run.soft_end  # "QQ 12345678一起玩"
            if not 5 <= len(digits) <= 11:
                first_digits = text[first[0]:first[1]]
                if not 5 <= len(first_digits) <= 11:
                    continue
                digits, end = first_digits, first[1]
            if digits[0] == "0":
                continue
            if kw in _WEAK and at == m.end() and first[1] - first[0] < 5:
                continue  # "Q3 2024", "扣1"
            # no veto check: the keyword itself is the label ("快递小哥QQ 12345" is a QQ number)
            out.append(Candidate(run.start, end, self.entity, self.score))
        for m in _DM_RE.finditer(text):
            run = runs.get(m.end())
            if run is not None and len(run.groups) == 1 and 5 <= run.end - run.start <= 10 \
                    and not self.vetoed(nt, m.start()):
                out.append(Candidate(run.start, run.end, self.entity, 0.7))
        return out
