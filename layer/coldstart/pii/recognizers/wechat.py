"""WeChat ids (WECHAT -> ``[WECHAT]``) after a WeChat keyword, or in the ``wxid_`` form.

Keywords: 微信(号) and its evasions 薇信 威信 卫星 嶶信 徽信 维信 V信 微❤ v❤, vx / v x / wx / w x /
wei xin / weixin / WeChat, v after 加 / + / ➕ (or before a colon), 加微, 绿泡泡, 绿色软件, and the
emoji 🛰 🌿 💚. Then separators (space : = 是 为 号 ID ...), then the id:

* a WeChat id: a letter + 5-19 of letters, digits, ``_`` ``-``;
* the same written one character at a time ("h e l l o _ m i a o", "l-i-n-g-l-i-n-g-1-2");
* a mobile number or QQ-style number used as the id (digit runs, any grouping).

``wxid_...`` is masked anywhere. An id followed by (绿色软件) / (微信) / (vx) counts too. Lower scores: an
id-shaped token (letters with digits, ``_`` or ``-``) with a WeChat keyword elsewhere in its sentence
("微信我一般不加陌生人……写清楚来意，qingqing_0501", "Rainbow_Chen ←这是微信"), or right after a contact
verb with no keyword at all ("有事加我 Zhao_xx1997", "私我或者 dd Mia-wang-88", "戳 xiaomao_chuo 私聊"), near an
evasive keyword only this rule knows ("加那个绿色的软件吧，号是momo_lan88", "(微)" after the id, 喂鑫, 加胃), or a
lower-case id with an underscore standing as a clause of its own ("店主林强，jiaju_lin_hz，电话…": people leave the
keyword out; not after 公众号 / 群 or code words such as 变量, 字段). The keyword
stays in the text (``微信:[WECHAT]``) unless it is glued to the id ("加vxiaoyu_0618": where the
keyword ends and the id begins is ambiguous, so the letters of the keyword are masked with it).
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

from ..normalizer import DigitRun, NormalizedText
from .base import (LOOSE_GAP, LOOSE_GAP_COLON, Candidate, Recognizer, any_between, finditer_at, is_ip_or_version,
                   keyword_ends_near, keyword_nearby, overlaps, skip_remark)

# The first character is consumed by a character class (CPython's re then skips ahead quickly),
# the rest of each keyword is checked with a lookbehind on it.
_KEYWORD_RE = re.compile(
    "[微薇威卫嶶徽维胃魏Vv绿加Ww\U0001F6F0\U0001F33F\U0001F49A\U0001F7E2]"
    "(?:"
    "(?<=[微薇威嶶徽])(?:[ \\-.·_*]?[信芯心][号號]?|[❤♥💕⭐★]|(?<![微])[ ]?[xX](?![A-Za-z0-9])|(?=[A-Za-z])|(?=[ ]?[:=])|(?<=[薇嶶徽])(?=[ ][A-Za-z0-9])|(?<=[加+➕][微威])(?=[ ][A-Za-z0-9]))"
    "|(?<=[维胃魏])[ ]?信"
    "|(?<=卫)星"
    "|(?<=绿)(?:色?泡泡|色软件|色app|色APP|色聊天软件)"
    "|(?<=加)微(?![ ]?信)"
    "|(?<=[\U0001F6F0\U0001F33F\U0001F49A\U0001F7E2])"
    "|(?<=[Ww])(?<![A-Za-z].)(?:[Ee][Cc][Hh][Aa][Tt](?:[ ]?[Ii][Dd])?|[Ee][Ii][ ]?(?:[Xx][Ii][Nn]|信)(?:[ ]?[Hh][Aa][Oo](?![A-Za-z]))?|[ ]?[Xx])"
    "|(?<=[Vv])(?<![A-Za-z0-9].)(?:[ ]?[信芯心]|[ .\-·]?[Xx]\.?|[❤♥💕⭐★]|)"
    ")"
)
# Separators and filler words between the keyword and the id ("微信号码：", "微信（同名）：", "微信搜索 ",
# "微信/QQ：", "微信【...】", "微信: @..."), bounded.
_SEP_RE = re.compile(
    r"(?:\((?![^()]{0,3}群)[^()0-9A-Za-z]{1,4}\)|[ :=\-~>【】\[\]()「」『』“”\"'《》<@+➕]|[号號]码?|號碼|码|是|为|账号|(?:ID|id|Id)(?=[ :=])|→|👉|➡"
    r"|(?<=[ ])(?:is|IS|Is)(?=[ ])"
    r"|搜索?|添加|加我?|联系我?|找我|私聊|私信|私我|聊|我|同名|同号|同手机号?|同电话|的话|直接"
    r"|\((?![^()]{0,3}群)[^()0-9A-Za-z]{1,4}\)|/(?:QQ|qq|扣扣|电话|手机)(?:号)?){0,8}"
)
# A WeChat id: a letter and 5-29 more (people also write dots); longer tokens are not ids.
_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{4,29}[A-Za-z0-9_-](?![A-Za-z0-9_-])")
_SPELLED_RE = re.compile(r"[A-Za-z](?:[ -][A-Za-z0-9_]){5,29}(?![A-Za-z0-9_])")
# (it may end with a digit where another wxid_ starts, which may start after a digit: "wxid_abc3693649912wxid_abc0755…"
# would otherwise come free one id per masking pass, past the engine's bound; not after a letter, so "wxid_awxid_a…"
# stays one unreadable token in every pass)
_WXID_RE = re.compile(r"[Ww](?<![A-Za-z_-].)[Xx][Ii][Dd]_[A-Za-z0-9_-]{4,30}(?![A-Za-z0-9_-])"
                      r"|[Ww](?<![A-Za-z_-].)[Xx][Ii][Dd]_[A-Za-z0-9_-]{3,29}?[0-9](?=[Ww][Xx][Ii][Dd]_)")
_TRAILING_RE = re.compile(
    r"[A-Za-z](?<![A-Za-z0-9_-].)[A-Za-z0-9_-]{5,29}[ ]?[(（](?:绿色软件|绿泡泡|微信号?|微|vx|VX|Vx|wx|WX|V信|v信|薇信|威信|V|v"
    r"|WeChat|wechat|Wechat)(?:同号)?[)）]"
)
# The keyword after the id: "mango_tree9是我的微信", "mango_tree9 这个是vx", "mango_tree9←vx" (the id needs a digit,
# an underscore or a dash: "Coco是我的微信名" names a nickname).
_KEYWORD_AFTER_RE = re.compile(
    r"[A-Za-z](?<![A-Za-z0-9_-].)[A-Za-z0-9_-]{5,19}(?=[ ]?(?:(?:这个|这)?是我?的?|就是我?的?|[←👈]|<-+)[ ]?"
    r"(?:微信|vx|VX|Vx|wx|WX|V信|v信|薇信|威信|WeChat|wechat)(?!名|昵称|群|公众号))"
)
# Keywords that are a single character or an emoji: the id after them needs a digit or an underscore.
_WEAK_NEEDS_DIGIT = frozenset(["\U0001F6F0", "\U0001F33F", "\U0001F49A", "\U0001F7E2", "卫星", "微", "薇", "威", "嶶", "徽"])
# a second id after the first: "QQ/微信：1093847265 / LuckyStar_07", "xiaolu_wh（大号）xiaolu_wh02"
_ALT_RE = re.compile(r"[ ]*(?:/|或者?|\||\([^()]{1,6}\))[ ]*")
# An id written with words or odd marks between its parts, to be put back by the reader:
# "sun杠xiao杠mei", "tong下划线hua下划线2008", "lan*lan*1997", "xuan➖yi➖1995", "xiao下划线yu二零零零".
_JOINER = "(?:下划线|下滑线|底线|横杠|横线|中划线|减号|杠|[*➖_\\-·.])"
_OBFUSCATED_RE = re.compile(
    "[A-Za-z][A-Za-z0-9]*(?:" + _JOINER + "[A-Za-z0-9零一二三四五六七八九〇]+){1,6}(?![A-Za-z0-9_-])"
)
_WORD_JOINER_RE = re.compile("下划线|下滑线|底线|横杠|横线|中划线|减号|杠|[*➖]|[零一二三四五六七八九〇]")
# An id written in space-separated parts: "liu fang 1987（中间没空格）", "lili 0826 sh".
_PARTS_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?: [A-Za-z0-9]+){1,3}(?![A-Za-z0-9_-])")
_NO_SPACE_NOTE_RE = re.compile(r"[ ]?\([^()]{0,6}(?:空格|连起来|连写)")
# Looser: an id later in the keyword's clause ("微信和QQ都是 coco_li88", "vx白天不看 coco_li88"), after a keyword of
# two or more characters, within a few characters, with no group / public-account word in between.
_CLAUSE_BREAK = frozenset(",，。；;!！?？|｜\n")
_LOOSE_VETO_RE = re.compile("群|公众号|服务号|订阅号|视频号|小程序|频道|支付|读书|运动|步数|钱包|零钱|红包|转账|余额|官方|搜一搜|版本")
# a number with a unit after it is an amount, a count or a year ("微信运动 ... 10000步"), not an id
_UNIT_AFTER_RE = re.compile("[ ]?(?:元|块|岁|年|月|日|天|分|万|个|人|次|步|斤|米|级|K|k|w|W)")
# below a mobile (0.8) and a landline (0.75): a loose find never relabels a number another recognizer names
_LOOSE_SCORE = 0.72
# An id-shaped token anywhere: a letter, then letters, digits, _ or -; not part of an e-mail, a URL, a
# handle (@..., #...), a file name or a placeholder of an earlier pass ("[BANK_CARD]").
_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9_@#./:\\\[-])[A-Za-z][A-Za-z0-9_-]{5,19}(?![A-Za-z0-9_@\]-]|\.[A-Za-z0-9])")
# Spellings the main keyword pattern does not know, looked for only near an id-shaped token: "那个绿色的软件",
# "(微)" after the id, sound-alikes (喂鑫, 加胃), "微x信", a bare "W:".
_EVASIVE_KEYWORDS = r"(?<=[(（])微(?=[)）])|绿色的?(?:软件|app|APP|App)|喂鑫|胃信|(?<=加)胃|微[xX]信|(?<![A-Za-z0-9])[Ww](?=[ ]?:)"
_NEAR_KEYWORD_RE = re.compile(
    r"微(?:信|我)|(?<=加)微|(?<=我的)薇|薇信|威信|卫星|嶶信|[Vv][ ]?信|绿泡泡|" + _EVASIVE_KEYWORDS +
    r"|(?<![A-Za-z0-9])(?:[Vv][Xx]|[Ww][Xx]|[Ww]e[Cc]hat|[Ww]eixin|[Vv])(?![A-Za-z0-9])"
)
_NEAR_KEYWORD_START_RE = re.compile("[微薇威卫嶶Vv绿喂胃Ww]")
# (a placeholder of an earlier pass between keyword and id vetoes too: it shortened the distance the first pass
# measured, so without the veto a second pass finds what the first left: "d_abc123 QQ号:[QQ] ~V", where the V
# was 15 characters on before the QQ number was masked; "$" and a bare "…E]": the window may cut it, "…号:[Q", and
# what it replaced may have held a veto word itself: "联系Swww喽,栠联系SY_5678" vetoes by its "www", "联系[NAME]喽,…" must)
_NEAR_VETO_RE = re.compile(_LOOSE_VETO_RE.pattern + "|服务号|订阅号|官网|网址|http|www|型号|订单|编号|UID|uid|游戏|[Ss]team|[Bb]站"
                           "|抖音|微博|小红书|邮箱|[Gg]it[Hh]ub|ins|IG|推特|油管|\\[[A-Z_]*(?:\\]|$)|[A-Z_]\\]")
# Contact verbs right before an id ("有事加我 Zhao_xx1997", "dd Mia-wang-88", "微我 xinda_wuliu88", "戳 xiaomao_chuo").
_VERB_BEFORE_RE = re.compile(r"(?:加我|加|[Dd][Dd]我?|滴滴我?|私我|私聊|私信|戳我?|微我|找我|联系我?|→|👉|➡)[ :]*\Z")
_VERB_START_RE = re.compile("[加Dd滴私戳微找联→👉➡]")
_VERB_RE = re.compile(r"(?:加|[Dd][Dd]|滴滴|私|戳|微我|找我|联系|→|👉|➡)我?[ :]*")
_NEARBY_SCORE = 0.65
_CODE_TALK_RE = re.compile("变量|字段|函数|参数|代码|文件名?|表名|类名|方法名|用户名|命名|路径|目录|分支")
_STANDALONE_ID_RE = re.compile(
    r"(?:^|(?<=[,，。；;!！?？|｜ ]))([a-z][a-z0-9]+(?:_[a-z0-9]+)+)(?=$|[,，。；;!！?？|｜ (])"
)
_DASHED_WORDS = frozenset("e-mail wi-fi t-shirt k-pop x-ray hip-hop e-sports check-in walk-in co-founder "
                          "self-made one-piece a-level x-men spider-man".split())
_QQ_GLUED_RE = re.compile(r"(?:[Qq]{1,2}|[Qq]号)[0-9]+\Z")  # "QQ1937462058": the QQ recognizer's number
# Another account of a user who already named a WeChat keyword: "新号xiaobai_new2024", "小号：..."
_ACCOUNT_RE = re.compile(r"(?:大号|小号|新号|旧号|备用号|副号)(?:是|为|[ :=])*")


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
        first_keyword = -1
        for m in _KEYWORD_RE.finditer(text):
            if text[m.start() - 1:m.start()] == "[" and text[m.end():m.end() + 1] == "]":
                continue  # a placeholder of an earlier pass ("[WECHAT]"), not a keyword
            if text[m.end():m.end() + 1] == "_" and m.group(0)[-1:].isascii() or text[m.start() - 2:m.start()] == "官方":
                continue  # part of an identifier ("wx_group_2023"), or an official account (官方微信)
            if first_keyword < 0:
                first_keyword = m.start()
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
                end = _digit_id_end(text, runs.get(p))
                if end is not None:
                    start = at - 1 if text[at - 1:at] == "+" else at  # "+86 138 ...": the sign too
                    out.append(Candidate(start, end, self.entity, self.score))
                    self._alternative(text, end, out)
                continue
            found = _id_at(text, at)
            if found is None:
                kw = m.group(0)
                if len(kw) >= 2 and kw not in _WEAK_NEEDS_DIGIT and text[m.start() - 2:m.start()] != "企业":
                    self._later_in_clause(nt, kw_end, out)
                continue
            end, value, disguised = found
            if text[at - 1:at] == "[" and text[end:end + 1] == "]" and value.isupper():
                continue  # a placeholder of an earlier pass ("微信:[WECHAT]"), not an id
            kw = m.group(0)
            ascii_glued = glued and kw[-1:].isascii() and kw[-1:].isalpha()
            if (kw in _WEAK_NEEDS_DIGIT or ascii_glued) and not disguised \
                    and not any(c.isdigit() or c == "_" or c == "-" and ascii_glued for c in value):
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
            out.append(Candidate(start, end, self.entity, self.score))
            self._alternative(text, end, out)
        if first_keyword >= 0 and "号" in text:
            self._other_accounts(nt, first_keyword, out)
        low = nt.lower
        if "wxid_" in low:
            for m in _WXID_RE.finditer(text):
                out.append(Candidate(m.start(), m.end(), self.entity, self.score))
        if first_keyword >= 0:
            for m in _KEYWORD_AFTER_RE.finditer(text, 0, len(text)):
                if any(c.isdigit() or c in "_-" for c in m.group(0)):
                    out.append(Candidate(m.start(), m.end(), self.entity, 0.9))
        if "(" in text:
            for m in _TRAILING_RE.finditer(text):
                out.append(Candidate(m.start(), text.index("(", m.start()) if "(" in m.group(0) else m.end(),
                                     self.entity, self.score))
        self._nearby(nt, out)
        if "_" in text:
            self._standalone_ids(nt, out)
        return out

    def _standalone_ids(self, nt: NormalizedText, out: List[Candidate]) -> None:
        """A lower-case id with an underscore standing as a clause of its own, with no keyword at all
        ("店主鞠伟，danche_peijian_jw，电话…"): people leave the keyword out because everyone knows what it
        is. Not after a public-account or group word (公众号 itcast_cn), not a model number (upper case)."""
        text = nt.text
        for m in _STANDALONE_ID_RE.finditer(text):
            start, end = m.span(1)
            if overlaps(out, start, end) or _NEAR_VETO_RE.search(text, max(0, start - 10), start) is not None \
                    or _CODE_TALK_RE.search(text, max(0, start - 8), start) is not None \
                    or self.vetoed(nt, start):
                continue
            out.append(Candidate(start, end, self.entity, _NEARBY_SCORE))

    def _nearby(self, nt: NormalizedText, out: List[Candidate]) -> None:
        """Id-shaped tokens the rules above left, with a WeChat keyword elsewhere in their sentence or a
        contact verb right before them. The ends of the very keywords keyword_nearby reads (evasive ones
        included: "那个绿色的软件", "(微)") are the cheap first test (keyword_ends_near); keyword_nearby then
        checks the sentence, the distance and the veto words. (The first test once used analyze()'s keyword
        list: whether a bare "V" counted then hung on how far another keyword stood, which masking changes.)"""
        text = nt.text
        verbs = keywords = None  # read once, at the first token that could be an id (most texts have none)
        for m in _TOKEN_RE.finditer(text):
            start, end = m.span()
            token = m.group(0)
            if not any(c.isdigit() or c in "_-" for c in token) or sum(c.isalpha() for c in token) < 2 \
                    or token.lower() in _DASHED_WORDS or _QQ_GLUED_RE.match(token) is not None \
                    or overlaps(out, start, end):
                continue
            if keywords is None:
                verbs = [m.end() for m in finditer_at(_VERB_START_RE, _VERB_RE, text)]
                keywords = [m.end() for m in finditer_at(_NEAR_KEYWORD_START_RE, _NEAR_KEYWORD_RE, text)]
                if not keywords and not verbs:
                    return
            verb = any_between(verbs, start - 6, start)
            if not verb and not keyword_ends_near(keywords, start, end) or self.vetoed(nt, start):
                continue
            if verb and _VERB_BEFORE_RE.search(text, max(0, start - 6), start) is not None \
                    and _NEAR_VETO_RE.search(text, max(0, start - 8), start) is None \
                    or keywords and keyword_nearby(text, start, end, _NEAR_KEYWORD_RE, _NEAR_VETO_RE):
                out.append(Candidate(start, end, self.entity, _NEARBY_SCORE))

    def _later_in_clause(self, nt: NormalizedText, at: int, out: List[Candidate]) -> None:
        text = nt.text
        kw_end = p = at
        while p < len(text) and p - at < 2 and text[p] in " ,，|｜":
            p += 1  # "微信，mango_tree9", "vx｜mango_tree9": a break right after the keyword is a separator
        p = at = skip_remark(text, p)
        crossed = False
        while p < len(text) and p - at < LOOSE_GAP_COLON and not (text[p].isascii() and text[p].isalnum()):
            if text[p] in _CLAUSE_BREAK:
                # one comma after a short remark: "微信的话，mango_tree9", "vx偶尔看，mango_tree9"
                if crossed or text[p] not in ",，" or p - at > 5:
                    break
                crossed = True
            p += 1
        if p >= len(text) or not (text[p].isascii() and text[p].isalnum()) or _LOOSE_VETO_RE.search(text, kw_end, p) \
                or "[" in text[at:p]:
            return
        if text[p - 1:p].isascii() and text[p - 1:p].isalpha():
            return
        if p - at > LOOSE_GAP and text[p - 2:p].rstrip()[-1:] != ":":
            return  # a longer remark only before a label colon ("是我名字的拼音加上生日：zhangsan0612")
        if text[p].isdigit():
            runs = {run.start: run for run in nt.digit_runs()}
            end = _digit_id_end(text, runs.get(p))
            if end is not None and _UNIT_AFTER_RE.match(text, end) is None:
                out.append(Candidate(p, end, self.entity, _LOOSE_SCORE))
            return
        found = _id_at(text, p)
        # not parts with spaces here ("不用微信，QQ 20481632" is another keyword and its number)
        if found is not None and " " not in found[1] and (found[2] or any(c.isdigit() or c == "_" for c in found[1])):
            out.append(Candidate(p, found[0], self.entity, _LOOSE_SCORE))

    def _other_accounts(self, nt: NormalizedText, after: int, out: List[Candidate]) -> None:
        """"微信号被封了 新号xiaobai_new2024": an id after an account word, once a keyword was named."""
        text = nt.text
        for m in _ACCOUNT_RE.finditer(text, after):
            at = m.end()
            if at < len(text) and text[at].isdigit():
                runs = {run.start: run for run in nt.digit_runs()}
                end = _digit_id_end(text, runs.get(at))
                if end is not None:
                    out.append(Candidate(at, end, self.entity, 0.9))
                continue
            found = _id_at(text, at)
            if found is not None and (found[2] or any(c.isdigit() or c == "_" for c in found[1])):
                out.append(Candidate(at, found[0], self.entity, 0.9))

    def _alternative(self, text: str, end: int, out: List[Candidate]) -> None:
        alt = _ALT_RE.match(text, end)
        if alt is not None and alt.end() > end:
            idm = _ID_RE.match(text, alt.end())
            if idm is not None and any(c.isdigit() or c == "_" for c in idm.group(0)):
                out.append(Candidate(idm.start(), idm.end(), self.entity, self.score))


def _digit_id_end(text: str, run: Optional[DigitRun]) -> Optional[int]:
    """End of a mobile or QQ-style number used as an id (5-15 digits), or None."""
    if run is None or text[run.start] == "0" or is_ip_or_version(text, run):
        return None
    end, digits = run.end, sum(e - s for s, e in run.groups)
    if not 5 <= digits <= 15:
        # "微信号 13172 0851-72360495": the id, then a landline
        end, digits = run.groups[0][1], run.groups[0][1] - run.groups[0][0]
    return end if 5 <= digits <= 15 else None


def _id_at(text: str, at: int) -> Optional[Tuple[int, str, bool]]:
    """(end, value, disguised) of the id that starts at ``at``, or None.

    The plain form (``_ID_RE``), one character at a time ("k e k e 2 0 2 2"), with words or marks
    between its parts ("sun杠xiao杠mei": disguised), or in space-separated parts when the writer says
    the spaces are not part of it, or one part has digits ("liu fang 1987（中间没空格）").
    """
    idm = _ID_RE.match(text, at)
    if idm is not None and idm.group(0).endswith("."):
        idm = None
    best = (idm.end(), idm.group(0), False) if idm is not None else None
    if best is None or best[0] - at < 4:
        spelled = _SPELLED_RE.match(text, at)
        if spelled is not None and spelled.end() - at >= 11:
            best = (spelled.end(), spelled.group(0), False)
    ob = _OBFUSCATED_RE.match(text, at)
    if ob is not None and (best is None or ob.end() > best[0]) and _WORD_JOINER_RE.search(ob.group(0)) is not None:
        best = (ob.end(), ob.group(0), True)
    if best is None or best[0] - at < 6:
        parts = _PARTS_RE.match(text, at)
        if parts is not None and len(parts.group(0).replace(" ", "")) >= 6 and (
                _NO_SPACE_NOTE_RE.match(text, parts.end()) is not None or any(c.isdigit() for c in parts.group(0))):
            best = (parts.end(), parts.group(0), True)
    return best
