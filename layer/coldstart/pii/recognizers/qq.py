"""QQ numbers (QQ -> ``[QQ]``): 5-11 digits, not starting with 0, introduced as a QQ number.

How people introduce one (read from the digit runs, so "扣 3 0 5 8 1 9 2 7 4", "Q号 3847 6192 05",
"企鹅号：3 9 4 八 5 7 2 1 6", "扣扣号码473\\u200b829\\u200b156" are numbers):

* a keyword: QQ / qq / Q / q q / Q号 / 扣扣 / 扣 / 叩叩 / 抠抠 / 企鹅(号) / 小企鹅 / 鹅(号) / 球球 / 🐧, then
  separators and brackets (: = ➕ 【】 「」 ...), label words (号 号码 账号 ID 是 为 同号 ...) and the short
  verbs people put between the keyword and the number (找我 / 联系 / 加我 / 私我 / 我 ...: "扣扣找我：1462...",
  "QQ联系 2186...", "Q我2851..."), all in one clause;
* another account of a user who already named a QQ keyword: "大号是46625193", "新号：3560918274";
* a keyword *after* the number: "1639472085（QQ）", "「1639472085」←企鹅", "1288537460，跟我QQ号一样";
* "dd我 / 私我 / 加我 + digits" (a QQ number by default; a mobile number there is a PHONE: lower score);
* a number in the same sentence as a QQ keyword further away ("我Q号就是生日加一串数😂 1998061273",
  "有意者请联系：2915038476（QQ同微信）"), or after the words of QQ's friend-making culture without any
  keyword ("扩列 00后 ♀ 2739184650", "加好友 2946183750 验证写…", "好友位还有 🈳 1827364950"): lower scores;
* a 9-10 digit number standing alone with no keyword at all ("我叫令狐婷，山西人，2159843067"), unless a word
  before it names another kind of number (群号, 订单, 时间戳 / 登录, 热线, 护照 …), it is a date, a hotline
  (400 / 800), one digit repeated (slang: "6666666666") or a run (1234567890): a lower score still.

The keyword stays in the text (``QQ号:[QQ]``). Not: QQ群 / 群号 / Q裙 (a group), QQ音乐, "Q3 2024" (a quarter:
a bare Q glued to its number needs 5 digits in the first group), "鹅肝 12345" (鹅 alone only as a label).
"""
from __future__ import annotations

import re
from typing import List, Optional

from ..normalizer import DigitRun, NormalizedText
from .base import (LOOSE_GAP, LOOSE_GAP_COLON, Candidate, Recognizer, any_between, finditer_at, keyword_ends_near,
                   keyword_nearby, overlaps, skip_remark)

_KEYWORD_RE = re.compile(
    r"[Qq](?<![A-Za-z].)(?:[ ]?[Qq])?(?![A-Za-z])"
    r"|扣扣?|抠抠|叩叩|企[鹅鵝][号號]?|小企[鹅鵝]|球球|秋秋|\U0001F427"
    r"|[鹅鵝](?<![\u4e00-\u9fff].)(?=[号號]|[ ]?[:=])"  # 鹅号 / 鹅: as a label of its own (not 天鹅, 鹅肝)
)
# What a keyword starts with (base.finditer_at: the pattern's first alternatives start with classes, so
# CPython's re would try it at every position, ~7 us for a 200-character bio).
_KEYWORD_START_RE = re.compile("[Qq扣抠叩企小球秋\U0001F427鹅鵝]")
# Separators, brackets, label words and short verbs between the keyword and the number.
_SEP_RE = re.compile(
    r"(?:\((?![^()]{0,3}群)[^()0-9A-Za-z]{1,4}\)|[ :=\-~>【】\[\]()「」『』“”\"'《》<+➕]|\.(?=[ ]?[1-9])|[号號]码?|號碼|码|是|为|账号"
    r"|(?:ID|id|Id)(?=[ :=])|→|👉|➡"
    r"|/(?:微信|QQ|qq|扣扣|vx|VX|wx|WX|电话|手机|TEL|Tel|tel)?(?:号)?(?:同号)?|同号|小号|大号|常用|的话"
    r"|找我|找|联系我?|加我|私我|私聊|私信|滴滴我?|dd我?|DD我?|戳我?|敲我?|搜索?|添加|加|我)*"
)
_WEAK = frozenset(["q", "Q"])
# "dd我 / 私我 / 加我 + digits": a QQ number by default (a mobile number there is a PHONE: lower score)
_DM_RE = re.compile(r"(?:dd|DD|私|滴滴|加|扣)我[ :]?(?=[1-9])")
# Another account of the same user: "大号是46625193", "新号：3560918274" (after a QQ keyword in the text).
_ACCOUNT_RE = re.compile(r"(?:大号|小号|新号|旧号|备用号|副号|另一个号)(?:是|为|[ :=])*(?=[1-9])")
# The keyword after the number: "1639472085（QQ）", "「...」←企鹅", "...，跟我QQ号一样", "1639472085是我的QQ".
_AFTER_RE = re.compile(
    r"[」』】\])]?[ ]?(?:[(](?:QQ|qq|扣扣|企鹅|Q|q)号?[)]|(?:←|<-+|👈)[ ]?(?:QQ|qq|扣扣|企鹅|鹅)"
    r"|[,，]?(?:跟|和|同)我?的?(?:QQ|qq|扣扣)号?(?:一样|相同|一致)"
    r"|[ ]?(?:这个|这)?(?:就是|是)我?的?(?:QQ|qq|扣扣|企鹅)(?:号码?)?(?![群裙空音邮等会飞币]))"
)
_NEEDLES = ("q", "扣", "抠", "叩", "鹅", "鵝", "球球", "秋秋", "\U0001F427", "我", "号", "扩", "好友", "交友")
# A second number after the first: "QQ:12345678或87654321", "QQ 12345678 / 87654321 (小号)".
_ALT_RE = re.compile(r"[ ]*(?:/|或者?|\||、)[ ]*(?:小号|大号)?[ :]*(?=[1-9])")
_PLAIN_NUMBER_RE = re.compile(r"[1-9][0-9]{4,10}(?![0-9])")
# Looser: a number later in the keyword's clause ("QQ和微信都是1234567890", "扣扣白天不在线 1234567890"),
# after a two-character keyword, within a few characters, with no group / feature word in between.
_CLAUSE_BREAK = frozenset(",，。；;!！?？|｜\n")
_LOOSE_VETO_RE = re.compile("群|裙|频道|音乐|空间|飞车|等级|会员|邮箱|币|游戏|UID|uid|编号|订单|电话|手机|座机|tel|Tel|TEL"
                            "|钱包|余额|红包|转账|充值|积分|成长值|排名|分数|粉丝|好友|版本|更新|升级")
# a number with a unit after it is an amount, a count or a year ("QQ会员 ... 10000元"), not an id
_UNIT_AFTER_RE = re.compile("[ ]?(?:元|块|岁|年|月|日|天|分|万|个|人|次|斤|米|级|K|k|w|W)")
# below a mobile (0.8) and a landline (0.75): a loose find never relabels a number another recognizer names
_LOOSE_SCORE = 0.72
# A QQ keyword further away in the sentence (a bare Q only standing alone: "私我或者 Q 一下"; not the "QQ" of an
# earlier pass's placeholder "[QQ]").
_NEAR_KEYWORD_RE = re.compile(r"(?<![@.\[])(?:QQ|qq|Qq)|[Qq]号|扣扣|企[鹅鵝]号?|\U0001F427|(?<![A-Za-z0-9])[Qq](?![A-Za-z0-9&])")
_NEAR_KEYWORD_START_RE = re.compile("[Qq扣企\U0001F427]")
# (a digit between keyword and number, or a placeholder of an earlier pass standing where one was: masking a
# value must not lift the veto it set, or a second pass finds what the first left: "0210 信:wxid_abc123 QQ号…";
# "$": keyword_nearby reads a keyword after the number only 3 characters on, "123453 QQ号:[")
_NEAR_VETO_RE = re.compile(_LOOSE_VETO_RE.pattern + "|快递|单号|学号|工号|价格|验证码|生日|身高|体重|密码|房间|尾号"
                           "|消费|月薪|工资|RMB|rmb|¥|￥|金额|地址|纪念日|日期|[0-9]|\\[[A-Z_]*(?:\\]|$)")
# QQ's friend-making words: 扩列 ("expand my friend list"), 加好友, 好友申请, 好友位 ...
_FRIEND_RE = re.compile("扩列|加好友|好友申请|申请好友|好友位|交友请?加|求扩|互扩|可扩|来扩|(?<![\u4e00-\u9fff])扩(?![\u4e00-\u9fff])")
_FRIEND_START_RE = re.compile("[扩加好申交求互可来]")
_FRIEND_VETO_RE = re.compile("群|裙|微信|vx|VX|wx|WX|电话|手机|快递|单号|订单|价格|生日|验证码")
_NEARBY_SCORE = 0.65
# A bare number as a clause of its own (_bare_numbers): what may stand around it, and the words that say it is
# another kind of number.
_BARE_BEFORE = frozenset(",，。;；!！?？|｜ ~～")
_BARE_AFTER = frozenset(",，。;；!！?？|｜ ~～)）")
# (and a placeholder of an earlier pass, or its end when the 12-character window cuts it: the value it replaced
# may have held a veto word, "wxid_abc12叫 386095580", "…外环西路230号，宿舍自提，1386529047")
_BARE_VETO_RE = re.compile("群|裙|号|码|单|票|证|卡|账|户|编|ISBN|isbn|数字|价|元|¥|￥|[Ii][Dd]|UID|uid|订|快递|物流|股|基金"
                           "|时间|登录|热线|客服|序列|版本|电话|手机|座机|护照|[Pp]assport|PASSPORT|\\[[A-Z_]*\\]|[A-Z_]\\]")
# A placeholder of an earlier pass, then only what joins digit groups into one number (normalizer._GROUP_SEP): the
# number after it may be the tail of a longer one the placeholder took part of ("13812345678 … 1006086143" is one
# run of two groups, which the bare rule leaves; "[PHONE] … 1006086143" must be left too).
_AFTER_PLACEHOLDER_RE = re.compile(r"\[[A-Z_]+\](?:[ ]*[-./_~\u2013\u2014\u00b7\u2010\u2011\u2012\u2015\u30fb\u2212()]{1,2}[ ]*|[ ]+)\Z")
_DATE_PREFIX_RE = re.compile(r"(?:19[5-9][0-9]|20[0-4][0-9])(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
_DATE_RE = re.compile(r"(?:19|20)[0-9]{2}[ ]?[-年][ ]?[01]?[0-9][ ]?[-月][ ]?[0-3]?[0-9]")  # "2000-01-01" after a QQ number


class QQRecognizer(Recognizer):
    entity = "QQ"
    name = "qq"
    context = ("QQ", "qq", "扣扣", "企鹅号", "Q号", "鹅号")
    score = 0.95
    veto_window = 8

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        text = nt.text
        low = nt.lower
        runs = {run.start: run for run in nt.digit_runs()}
        if not runs:
            return []
        out: List[Candidate] = []
        if not any(n in low for n in _NEEDLES):
            self._bare_numbers(text, runs, out)  # no keyword can be there; a number standing alone still can
            return out
        keyword_seen = -1
        for m in finditer_at(_KEYWORD_START_RE, _KEYWORD_RE, text):
            if text[m.start() - 1:m.start()] == "[" and text[m.end():m.end() + 1] == "]":
                continue  # a placeholder of an earlier pass ("[QQ]"), not a keyword
            keyword_seen = m.start()
            sep = _SEP_RE.match(text, m.end())
            run = runs.get(sep.end()) if sep.end() - m.end() <= 12 else None
            if run is None:
                if len(m.group(0)) >= 2 and not _in_email_domain(text, m.start(), m.end()):
                    self._later_in_clause(text, m.end(), runs, out)
                continue
            span = self._number(text, run)
            if span is None:
                continue
            if m.group(0) in _WEAK and sep.end() == m.end() and run.groups[0][1] - run.groups[0][0] < 5:
                continue  # "Q3 2024", "扣1"
            # no veto check: the keyword itself is the label ("快递小哥QQ 12345" is a QQ number)
            out.append(Candidate(span[0], span[1], self.entity, self.score))
            alt = _ALT_RE.match(text, span[1])
            second = _PLAIN_NUMBER_RE.match(text, alt.end()) if alt is not None else None
            if second is not None and _UNIT_AFTER_RE.match(text, second.end()) is None:
                out.append(Candidate(second.start(), second.end(), self.entity, _LOOSE_SCORE))
        if keyword_seen >= 0 and "号" in text:
            for m in _ACCOUNT_RE.finditer(text, keyword_seen):
                run = runs.get(m.end())
                span = self._number(text, run) if run is not None else None
                if span is not None:
                    out.append(Candidate(span[0], span[1], self.entity, 0.9))
        if "q" in low or "扣" in text or "鹅" in text:  # every keyword _AFTER_RE reads has one
            for run in runs.values():
                after = _AFTER_RE.match(text, run.end)
                if after is not None and after.end() > run.end:
                    span = self._number(text, run)
                    if span is not None and not self.vetoed(nt, run.start):
                        out.append(Candidate(span[0], span[1], self.entity, 0.9))
        for m in _DM_RE.finditer(text):
            run = runs.get(m.end())
            if run is not None and len(run.groups) == 1 and 5 <= run.end - run.start <= 10 \
                    and not self.vetoed(nt, m.start()):
                out.append(Candidate(run.start, run.end, self.entity, 0.7))
        self._nearby(nt, runs, out)
        self._bare_numbers(text, runs, out)
        return out

    def _bare_numbers(self, text: str, runs: dict, out: List[Candidate]) -> None:
        """A 9-10 digit number standing as the last word of a bio or a clause of its own, with no keyword at
        all ("我叫令狐婷，山西人，2159843067"): how people leave a QQ number where everyone knows what it is.
        Not after a word that names another number (群号, 订单号, 学号, 密码, 发票, ISBN ...), not a date."""
        for run in runs.values():
            start, end = run.start, run.end
            if not 9 <= end - start <= 10 or len(run.groups) != 1 or text[start] == "0" \
                    or text.startswith(("400", "800"), start):  # hotlines
                continue
            if not (start == 0 or text[start - 1] in _BARE_BEFORE) or not (end == len(text) or text[end] in _BARE_AFTER):
                continue
            if _AFTER_PLACEHOLDER_RE.search(text, max(0, start - 64), start) is not None:
                continue
            if _DATE_PREFIX_RE.match(text, start) is not None or overlaps(out, start, end) \
                    or len(set(text[start:end])) == 1 or text[start:end] in "12345678909876543210":
                continue  # a date, "6666666666" (slang: "awesome"), "1234567890" (a placeholder)
            lo = start
            while lo > 0 and start - lo < 12 and text[lo - 1] not in "。!！?？\n":
                lo -= 1
            if _BARE_VETO_RE.search(text, lo, start) is None:
                out.append(Candidate(start, end, self.entity, _NEARBY_SCORE))

    def _nearby(self, nt: NormalizedText, runs: dict, out: List[Candidate]) -> None:
        """Numbers the rules above left, with a QQ keyword elsewhere in their sentence or after
        friend-making words. The ends of the very keywords keyword_nearby reads are the cheap first test
        (keyword_ends_near); keyword_nearby then checks the sentence, the distance and the veto words. (The
        first test once used the ends of analyze()'s keywords, another list: whether "ZQ号" counted then hung on
        how far an unrelated "QQ" stood, which masking changes, so a second pass found more.)"""
        text = nt.text
        keywords = [m.end() for m in finditer_at(_NEAR_KEYWORD_START_RE, _NEAR_KEYWORD_RE, text)]
        friends = [m.end() for m in finditer_at(_FRIEND_START_RE, _FRIEND_RE, text)] \
            if "扩" in text or "友" in text else []
        if not keywords and not friends:
            return
        for run in runs.values():
            if not keyword_ends_near(keywords, run.start, run.end) and not any_between(friends, run.start - 16, run.start):
                continue
            span = self._number(text, run)
            if span is None or overlaps(out, span[0], span[1]) or _UNIT_AFTER_RE.match(text, span[1]) is not None \
                    or text[span[1]:span[1] + 1] in (".", "-", "/") or text[run.start - 1:run.start] in ("-", "/", "."):
                continue
            digits = sum(e - s for s, e in run.groups)
            if digits < 6 or any(sep.strip() in (".", "/", ":") for sep in run.seps) \
                    or _DATE_RE.match(text, run.start, run.end) is not None or self.vetoed(nt, run.start):
                continue
            if keywords and keyword_nearby(text, span[0], span[1], _NEAR_KEYWORD_RE, _NEAR_VETO_RE) or friends and \
                    keyword_nearby(text, span[0], span[1], _FRIEND_RE, _FRIEND_VETO_RE, before=16, after=0):
                out.append(Candidate(span[0], span[1], self.entity, _NEARBY_SCORE))

    def _later_in_clause(self, text: str, at: int, runs: dict, out: List[Candidate]) -> None:
        kw_end = at
        p = at = skip_remark(text, at)
        crossed = False
        while p < len(text) and p - at < LOOSE_GAP_COLON and not text[p].isdigit():
            if text[p] in _CLAUSE_BREAK:
                # one comma after a short remark: "QQ的话，2837...", "QQ偶尔上，2837...", "QQ,2837..."
                if crossed or text[p] not in ",，" or p - at > 5:
                    break
                crossed = True
            p += 1
        run = runs.get(p)
        if run is None or _LOOSE_VETO_RE.search(text, kw_end, p) is not None or "[" in text[at:p]:
            return
        if p - at > LOOSE_GAP and text[p - 2:p].rstrip()[-1:] != ":":
            return  # a longer remark only before a label colon ("号码是我生日加幸运数字：2837...")
        span = self._number(text, run)
        if span is not None and _UNIT_AFTER_RE.match(text, span[1]) is None \
                and not (text[span[1]:span[1] + 1] == "." and text[span[1] + 1:span[1] + 2].isdigit()):
            out.append(Candidate(span[0], span[1], self.entity, _LOOSE_SCORE))

    @staticmethod
    def _number(text: str, run: DigitRun) -> Optional[tuple]:
        """(start, end) of the QQ number in ``run``: the whole run, or its first group; None if neither fits."""
        first = run.groups[0]
        digits = "".join(text[s:e] for s, e in run.groups)
        end = run.end
        if run.soft_end and len(digits) - run.soft_end >= 5:
            digits, end = digits[:-run.soft_end], end - run.soft_end  # "QQ 12345678一起玩"
        if not 5 <= len(digits) <= 11:
            first_digits = text[first[0]:first[1]]
            if not 5 <= len(first_digits) <= 11:
                return None
            digits, end = first_digits, first[1]
        if digits[0] == "0":
            return None
        return run.start, end


def _in_email_domain(text: str, start: int, end: int) -> bool:
    """"...@qq.com/电话：1502...": a qq inside an e-mail domain names no QQ number."""
    return text[start - 1:start] in ("@", ".") or text[end:end + 1] == "."
