"""WeChat ids (WECHAT -> ``[WECHAT]``) after a WeChat keyword, or in the ``wxid_`` form.

Keywords: 微信(号) and its evasions 薇信 威信 卫星 嶶信 徽信 维信 V信 微❤ v❤, vx / v x / wx / w x /
wei xin / weixin / WeChat, v after 加 / + / ➕ (or before a colon), 加微, 绿泡泡, 绿色软件, and the
emoji 🛰 🌿 💚. Then separators (space : = 是 为 号 ID ...), then the id:

* a WeChat id: a letter + 5-19 of letters, digits, ``_`` ``-``;
* the same written one character at a time ("h e l l o _ m i a o", "l-i-n-g-l-i-n-g-1-2");
* a mobile number or QQ-style number used as the id (digit runs, any grouping).

``wxid_...`` is masked anywhere. An id followed by (绿色软件) / (微信) / (vx) counts too. The keyword
stays in the text (``微信:[WECHAT]``) unless it is glued to the id ("加vxiaoyu_0618": where the
keyword ends and the id begins is ambiguous, so the letters of the keyword are masked with it).
"""
from __future__ import annotations

import re
from typing import List

from ..normalizer import NormalizedText
from .base import Candidate, Recognizer

_KEYWORDS = (
    r"微信号?|薇信|威信|卫星|嶶信|徽信|维信|微❤|微心|V信|v信|绿泡泡|绿色软件|绿色app|绿色APP|加微(?!信)|"
    r"\U0001F6F0\uFE0F?|\U0001F33F|\U0001F49A|"
    r"(?<![A-Za-z])(?:[Ww][Ee][Cc][Hh][Aa][Tt](?:[ ]?[Ii][Dd])?|[Ww][Ee][Ii][ ]?[Xx][Ii][Nn]|[Vv][ ]?[Xx]|[Ww][ ]?[Xx]|[Vv]❤)|"
    r"(?:(?<=[加+➕])|(?<![A-Za-z]))[Vv](?=[ ]?[:：])|(?<=[加+➕])[Vv]"
)
_KEYWORD_RE = re.compile(_KEYWORDS)
_SEP_RE = re.compile(r"(?:[ :=\-~>]|号码?|是|为|账号|(?:ID|id|Id)(?=[ :=])|→|👉){0,6}")
_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{5,19}(?![A-Za-z0-9_-])")
_SPELLED_RE = re.compile(r"[A-Za-z](?:[ -][A-Za-z0-9_]){5,29}(?![A-Za-z0-9_])")
_WXID_RE = re.compile(r"[Ww](?<![A-Za-z_-].)[Xx][Ii][Dd]_[A-Za-z0-9_-]{4,30}(?![A-Za-z0-9_-])")
_TRAILING_RE = re.compile(
    r"(?<![A-Za-z0-9_-])([A-Za-z][A-Za-z0-9_-]{5,19})[ ]?[(（](?:绿色软件|微信|vx|VX|wx|WX|V信|薇信)[)）]"
)
_WEAK_NEEDS_DIGIT = frozenset(["\U0001F6F0", "\U0001F6F0\uFE0F", "\U0001F33F", "\U0001F49A", "卫星"])


class WeChatRecognizer(Recognizer):
    entity = "WECHAT"
    name = "wechat"
    context = ("微信", "微信号", "vx", "wx", "WeChat", "加V")
    score = 0.95
    veto_window = 8

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        text = nt.text
        out: List[Candidate] = []
        runs = None
        for m in _KEYWORD_RE.finditer(text):
            kw_end = m.end()
            sep = _SEP_RE.match(text, kw_end)
            at = sep.end()
            glued = at == kw_end
            # a digit id: mobile or QQ-style number ("+86 138 ...", "(+86)138..." too)
            p = at
            while p < len(text) and p - at < 2 and text[p] in "+(":
                p += 1
            if p < len(text) and text[p].isdigit():
                if runs is None:
                    runs = {run.start: run for run in nt.digit_runs()}
                run = runs.get(p)
                if run is not None and text[p] != "0" and not self.vetoed(nt, m.start()):
                    end, digits = run.end, sum(e - s for s, e in run.groups)
                    if not 5 <= digits <= 15:
                        # "微信号 13172 0851-72360495": the id, then a landline
                        end, digits = run.groups[0][1], run.groups[0][1] - run.groups[0][0]
                    if 5 <= digits <= 15:
                        out.append(Candidate(at, end, self.entity, self.score))
                continue
            idm = _ID_RE.match(text, at)
            spelled = _SPELLED_RE.match(text, at) if idm is None or (idm.end() - at) < 4 else None
            if spelled is not None and (spelled.end() - at) >= 11:
                idm = spelled
            if idm is None:
                continue
            value = idm.group(0)
            ascii_glued = glued and m.group(0)[-1:].isascii() and m.group(0)[-1:].isalpha()
            if (m.group(0) in _WEAK_NEEDS_DIGIT or ascii_glued) and not any(c.isdigit() or c == "_" for c in value):
                continue
            start = at
            if ascii_glued:
                # "加vxiaoyu_0618": mask the keyword's letters with the id
                start = m.start()
                while start < kw_end and not text[start].isascii():
                    start += 1
            if self.vetoed(nt, m.start()):
                continue
            out.append(Candidate(start, idm.end(), self.entity, self.score))
        low = nt.lower
        if "wxid_" in low:
            for m in _WXID_RE.finditer(text):
                out.append(Candidate(m.start(), m.end(), self.entity, self.score))
        if "(" in text:
            for m in _TRAILING_RE.finditer(text):
                out.append(Candidate(m.start(1), m.end(1), self.entity, self.score))
        return out
