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
from .base import Candidate, Recognizer, is_ip_or_version

# The first character is consumed by a character class (CPython's re then skips ahead quickly),
# the rest of each keyword is checked with a lookbehind on it.
_KEYWORD_RE = re.compile(
    "[微薇威卫嶶徽维胃魏Vv绿加Ww\U0001F6F0\U0001F33F\U0001F49A]"
    "(?:"
    "(?<=微)(?:[ ]?信号?|❤|心|芯|(?=[A-Za-z]))"
    "|(?<=[薇威嶶徽维胃魏])[ ]?信"
    "|(?<=卫)星"
    "|(?<=绿)(?:泡泡|色软件|色app|色APP|色聊天软件)"
    "|(?<=加)微(?![ ]?信)"
    "|(?<=[\U0001F6F0\U0001F33F\U0001F49A])"
    "|(?<=[Ww])(?<![A-Za-z].)(?:[Ee][Cc][Hh][Aa][Tt](?:[ ]?[Ii][Dd])?|[Ee][Ii][ ]?[Xx][Ii][Nn]|[ ]?[Xx])"
    "|(?<=[Vv])(?<![A-Za-z0-9].)(?:[ ]?信|[ ]?[Xx]|❤|)"
    ")"
)
# Separators and filler words between the keyword and the id ("微信号码：", "微信（同名）：", "微信搜索 ",
# "微信/QQ：", "微信【...】", "微信: @..."), bounded.
_SEP_RE = re.compile(
    r"(?:\([^()0-9A-Za-z]{1,4}\)|[ :=\-~>【\[(「“\"'《<@]|号码?|码|是|为|账号|(?:ID|id|Id)(?=[ :=])|→|👉|➡|搜索?|添加|加|联系|私聊|同名"
    r"|\([^()0-9A-Za-z]{1,4}\)|/(?:QQ|qq|扣扣|电话|手机)(?:号)?){0,8}"
)
# A WeChat id: a letter and 5-29 more (people also write dots); longer tokens are not ids.
_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{4,29}[A-Za-z0-9_-](?![A-Za-z0-9_-])")
_SPELLED_RE = re.compile(r"[A-Za-z](?:[ -][A-Za-z0-9_]){5,29}(?![A-Za-z0-9_])")
_WXID_RE = re.compile(r"[Ww](?<![A-Za-z_-].)[Xx][Ii][Dd]_[A-Za-z0-9_-]{4,30}(?![A-Za-z0-9_-])")
_TRAILING_RE = re.compile(
    r"[A-Za-z](?<![A-Za-z0-9_-].)[A-Za-z0-9_-]{5,29}[ ]?[(（](?:绿色软件|绿泡泡|微信号?|vx|VX|wx|WX|V信|薇信)(?:同号)?[)）]"
)
_WEAK_NEEDS_DIGIT = frozenset(["\U0001F6F0", "\U0001F6F0\uFE0F", "\U0001F33F", "\U0001F49A", "卫星", "微"])
# a second id after the first: "QQ/微信：1093847265 / LuckyStar_07"
_ALT_RE = re.compile(r"[ ]*(?:/|或者?|\|)[ ]*")


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
                if run is not None and text[p] != "0" and not is_ip_or_version(text, run):
                    end, digits = run.end, sum(e - s for s, e in run.groups)
                    if not 5 <= digits <= 15:
                        # "微信号 13172 0851-72360495": the id, then a landline
                        end, digits = run.groups[0][1], run.groups[0][1] - run.groups[0][0]
                    if 5 <= digits <= 15:
                        out.append(Candidate(at, end, self.entity, self.score))
                        self._alternative(text, end, out)
                continue
            idm = _ID_RE.match(text, at)
            if idm is not None and idm.group(0).endswith("."):
                idm = None
            spelled = _SPELLED_RE.match(text, at) if idm is None or (idm.end() - at) < 4 else None
            if spelled is not None and (spelled.end() - at) >= 11:
                idm = spelled
            if idm is None:
                continue
            value = idm.group(0)
            if text[idm.start() - 1:idm.start()] == "[" and text[idm.end():idm.end() + 1] == "]" and value.isupper():
                continue  # a placeholder of an earlier pass ("微信:[WECHAT]"), not an id
            kw = m.group(0)
            ascii_glued = glued and kw[-1:].isascii() and kw[-1:].isalpha()
            if (kw in _WEAK_NEEDS_DIGIT or ascii_glued) and not any(c.isdigit() or c == "_" for c in value):
                continue
            if ascii_glued and kw in ("v", "V") and text[m.start() - 1:m.start()] not in ("加", "+", "➕") \
                    and "_" not in value and "-" not in value:
                continue  # a bare V glued to a word ("Visa4367") is no keyword; "Vswiftie_jj" is
            start = at
            if ascii_glued:
                # "加vxiaoyu_0618": mask the keyword's letters with the id
                start = m.start()
                while start < kw_end and not text[start].isascii():
                    start += 1
            # no veto check: the keyword itself is the label ("客服微信：kefu_01" is a WeChat id)
            out.append(Candidate(start, idm.end(), self.entity, self.score))
            self._alternative(text, idm.end(), out)
        low = nt.lower
        if "wxid_" in low:
            for m in _WXID_RE.finditer(text):
                out.append(Candidate(m.start(), m.end(), self.entity, self.score))
        if "(" in text:
            for m in _TRAILING_RE.finditer(text):
                out.append(Candidate(m.start(), text.index("(", m.start()) if "(" in m.group(0) else m.end(),
                                     self.entity, self.score))
        return out

    def _alternative(self, text: str, end: int, out: List[Candidate]) -> None:
        alt = _ALT_RE.match(text, end)
        if alt is not None and alt.end() > end:
            idm = _ID_RE.match(text, alt.end())
            if idm is not None and any(c.isdigit() or c == "_" for c in idm.group(0)):
                out.append(Candidate(idm.start(), idm.end(), self.entity, self.score))
