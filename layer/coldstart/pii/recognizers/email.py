"""E-mail addresses (EMAIL -> ``[EMAIL]``).

``local@domain.tld`` and the ways people write it so that bots (and maskers) miss it:

* ``@`` written ``＠`` (NFKC), doubled (``yuanbao@@163.com``), with spaces around it, or as
  ``[at]`` ``(at)`` ``{at}`` ``[AT]``, `` at `` / `` AT ``, ``#``, 艾特, 圈a;
* the dot written ``。`` ``．`` ``(dot)`` ``[dot]`` `` dot `` 点 (or ``#`` after a ``#`` at);
* a well-known provider with its dot missing or no TLD at all (``zhangsan@163com``, ``邮箱：zhangsan@qq``);
* Chinese local parts and domains (李明@公司.中国, 王小二@杭州某某科技.com).

The domain is parsed label by label (no nested regex quantifiers: bounded time on any input).
With a plain ``@`` any alphabetic TLD counts, as before; with an obfuscated at-sign the TLD must be
a known one (com, cn, net, org, edu ... 中国, 公司) so "look at this dot" is not an address.
Not addresses: ``@人民日报`` (a handle: no dot and TLD), ``a@b`` in code.
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

from ..normalizer import NormalizedText
from .base import Candidate, Recognizer, search_at

# The at-sign and its disguises. The pattern starts with the marker itself (so CPython's re can skip
# ahead); up to two spaces around it are taken in Python.
_AT_RE = re.compile(
    r"(?P<at>@{1,2})"
    r"|(?P<ob>[\[({【<「][ ]?(?:at|AT|At|艾特|@)[ ]?[\])}】>」]|艾特|圈[aA]|小老鼠|#"
    r"|(?<=[A-Za-z0-9])[\[({【<「][aA][\])}】>」](?=[A-Za-z0-9]))"  # "(a)" only glued on both sides
    r"|[ ]+(?P<word>at|AT)(?=[ ]+[A-Za-z0-9])"
)
# What every match of _AT_RE starts with (base.search_at: a search from the top costs ~19 us for a
# 200-character bio, since its alternatives start with groups; from these characters, a few).
_AT_START_RE = re.compile("[@\\[({【<「艾圈小# ]")
_LABEL_RE = re.compile(r"[A-Za-z0-9-]{1,63}|[\u4e00-\u9fff]{1,20}")  # ASCII or Chinese, never mixed
_ASCII_LABEL_RE = re.compile(r"[A-Za-z0-9-]{1,63}")  # after an obfuscated at-sign: "gmail点com" is two labels
_PLAIN_DOT_RE = re.compile(r"[ ]?[.。][ ]?")
_OB_DOT_RE = re.compile(
    r"[ ]{0,2}(?:[.。]|[\[({【<「][ ]?(?:dot|DOT|Dot|点|\.)[ ]?[\])}】>」]|点|#)[ ]{0,2}|[ ]+(?:dot|DOT|Dot)[ ]+"
)
_TLD_LETTERS_RE = re.compile(r"[A-Za-z]{2,}")
# ":owner/repo" after the host: only then is "x@host:..." a git remote ("a@qq.com:wxid_abc" is a mailbox
# and a WeChat id; masking the id first must not turn the mailbox into one on a second pass)
_GIT_REMOTE_PATH_RE = re.compile(r":[A-Za-z0-9_.~-]+/")
# one character at a time against scrapers: "l i u x i n 8 8 @ q q . c o m"
_SPACED_RE = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z0-9._-] ){2,40}@(?: [A-Za-z0-9-]){1,40} \.(?: [A-Za-z0-9-]){0,40}"
                        r"(?: \.(?: [A-Za-z]){2,10})*(?: [A-Za-z]){0,10}")
KNOWN_TLDS = frozenset(
    "com cn net org edu gov io me cc co info top xyz uk jp hk tw us de fr biz vip club site online tech ai "
    "mo sg kr au ca ru in eu tv app dev ink wang shop".split()
)
_TLDS_LONGEST_FIRST = tuple(sorted(KNOWN_TLDS, key=len, reverse=True))
CJK_TLDS = ("中国", "公司", "网络", "在线", "中文网", "集团", "网址", "商城", "企业", "信息")
# "(at", "( at", "(a)" ... with each kind of bracket: the bracketed at-signs, for the cheap test in analyze()
_BRACKET_AT = tuple(b + w for b, c in ("()", "[]", "{}", "【】", "<>", "「」") for w in ("at", " at", "a" + c))
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
# Words a Chinese local part never starts with (they are the sentence around it).
_CJK_LOCAL_STOP = "是为到发至给用和或邮箱址"


class EmailRecognizer(Recognizer):
    entity = "EMAIL"
    name = "email"
    context = ("邮箱", "email", "e-mail", "mail", "邮件", "简历")
    use_veto = False  # an address is an address whatever word comes before it
    score = 1.0

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        text = nt.text
        low = nt.lower
        if "@" not in text and "#" not in text and "艾特" not in text and "圈a" not in low and "小老鼠" not in text \
                and " at " not in low and not any(n in low for n in _BRACKET_AT):
            return []
        out: List[Candidate] = []
        floor = 0
        pos = 0
        while True:
            m = search_at(_AT_START_RE, _AT_RE, text, pos)
            if m is None:
                break
            pos = m.end()
            obfuscated = m.group("at") is None
            at_start, at_end = m.span()
            if m.group("word") is not None:
                if at_start == 0 or text[at_start - 1] not in _LOCAL_CHARS:
                    continue  # "look at ..." : " at " must follow an address-like word
            else:
                at_start = _skip_spaces_back(text, at_start, floor)
                at_end = _skip_spaces(text, at_end)
            local_start = self._local_start(text, at_start, floor, obfuscated)
            if local_start is None:
                continue
            if m.group("word") is not None:
                local_start = _spaced_local_start(text, local_start, floor)
            cjk_local = _has_cjk(text[local_start:at_start])
            if m.group("word") is not None:
                at_end = _skip_spaces(text, at_end)
            end = self._domain_end(text, at_end, obfuscated, obfuscated or cjk_local)
            if end is None and not cjk_local and at_start - local_start >= 3:
                end = _provider_end(text, at_end)  # "zhangsan@163com", "zhangsan@163点com", "邮箱：zhangsan@qq"
            if end is None:
                continue
            if not obfuscated and _GIT_REMOTE_PATH_RE.match(text, end):
                continue  # git@github.com:user/repo is a remote, not a mailbox (an "[at]" never is one)
            out.append(Candidate(local_start, end, self.entity, self.score))
            floor = end
            pos = end
        if "@" in text and " @ " in text or "@ " in text:
            for m in _SPACED_RE.finditer(text):
                out.append(Candidate(m.start(), m.end(), self.entity, self.score))
        return out

    @staticmethod
    def _local_start(text: str, at: int, floor: int, obfuscated: bool) -> Optional[int]:
        i = at
        while i > floor and text[i - 1] in _LOCAL_CHARS and at - i < 64:
            i -= 1
            # "abc点def艾特...": a written-out dot inside an obfuscated local part
            if obfuscated and i - 1 > floor and text[i - 1] == "点" and text[i - 2] in _LOCAL_CHARS:
                i -= 1
        if i < at:
            local = text[i:at]
            if obfuscated and (len(local) < 2 or not any(c.isalnum() for c in local)):
                return None
            return i
        if obfuscated:
            return None
        # a Chinese local part: up to 6 CJK characters, not the words of the sentence around it
        j = at
        while j > floor and "\u4e00" <= text[j - 1] <= "\u9fff" and at - j < 6:
            if text[j - 1] in _CJK_LOCAL_STOP:
                break
            j -= 1
        if text[j:at].startswith(("邮箱", "箱")):
            j += 2 if text[j:at].startswith("邮箱") else 1
        return j if j < at else None

    @staticmethod
    def _domain_end(text: str, start: int, obfuscated: bool, strict: bool) -> Optional[int]:
        """End of the domain after the at-sign, or None (no dot and TLD)."""
        dot_re = _OB_DOT_RE if obfuscated else _PLAIN_DOT_RE
        label_re = _ASCII_LABEL_RE if obfuscated else _LABEL_RE
        labels: List[Tuple[int, int]] = []
        pos = start
        for _ in range(12):
            lm = label_re.match(text, pos)
            if lm is None:
                break
            labels.append(lm.span())
            label = lm.group(0)
            dm = dot_re.match(text, lm.end())
            if dm is None or dm.end() >= len(text):
                break
            dot = dm.group(0).strip()
            nxt = label_re.match(text, dm.end())
            if nxt is None:
                break
            if _has_cjk(label) and dot != ".":
                break  # a Chinese label is followed by a real dot (公司.中国), else it is the sentence
            if dot == "。" and not obfuscated:
                # "qq。com" is a dot; "qq.com。手机..." ends at com
                if _tld_prefix(nxt.group(0), strict=True):
                    labels.append(nxt.span())
                break
            pos = dm.end()
        if len(labels) < 2:
            return None  # "@abc" with no dot is no address (a handle, code)
        # the TLD: the last label after a dot, cut at its letters ("or3a" -> "or"), else an earlier one
        for k in range(len(labels) - 1, 0, -1):
            s, e = labels[k]
            tld = _tld_prefix(text[s:e], strict=strict)
            if tld:
                return s + tld
        return None


# A well-known mail provider after the at-sign, its dot missing or written 点, or no TLD at all.
_PROVIDER_RE = re.compile(
    r"(?:qq|QQ|163|126|sina|sohu|foxmail|139|189|yeah|gmail|outlook|hotmail|aliyun|icloud|yahoo)"
    r"(?:[ ]?(?:点|\.|。)?[ ]?(?:com|COM|cn|net)(?:\.cn)?)?(?![A-Za-z0-9.@_-]|\[[A-Z_]+\])"
)  # (nor a placeholder of an earlier pass: the digits or letters it replaced continued the name, "a@qq8345678")


def _provider_end(text: str, start: int) -> Optional[int]:
    m = _PROVIDER_RE.match(text, start)
    return m.end() if m is not None else None


def _skip_spaces(text: str, i: int, limit: int = 2) -> int:
    j = i
    while j < len(text) and j - i < limit and text[j] == " ":
        j += 1
    return j


def _skip_spaces_back(text: str, i: int, floor: int, limit: int = 2) -> int:
    j = i
    while j > floor and i - j < limit and text[j - 1] == " ":
        j -= 1
    return j


_NOT_LOCAL_WORDS = frozenset("me my is to or and email mail e-mail contact write send at me: mailto".split())


def _spaced_local_start(text: str, start: int, floor: int) -> int:
    """"📮xiao mo at qq dot com": with a written-out "at", the local part may be two or three words, when
    nothing but the start of the text, a non-ASCII character or a label colon comes before them."""
    i = start
    for _ in range(2):
        if i - 1 <= floor or text[i - 1] != " ":
            break
        j = i - 1
        while j > floor and text[j - 1].isascii() and text[j - 1].isalnum():
            j -= 1
        if j == i - 1 or text[j:i - 1].lower() in _NOT_LOCAL_WORDS:
            break
        i = j
    if i < start and (i == floor or not text[i - 1].isascii() or text[i - 1] in ":"):
        return i
    return start


def _has_cjk(s: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in s)


def _tld_prefix(label: str, strict: bool) -> int:
    if label.startswith(CJK_TLDS):
        for cjk in CJK_TLDS:
            if label.startswith(cjk):
                return len(cjk)
    m = _TLD_LETTERS_RE.match(label)
    if m is None:
        return 0
    letters = m.group(0)
    if strict:
        low = letters.lower()
        if low in KNOWN_TLDS:
            return len(letters)
        for tld in _TLDS_LONGEST_FIRST:  # "comcn" is not a TLD, "com" is
            if low.startswith(tld) and not label[len(tld):len(tld) + 1].isascii():
                return len(tld)
        return 0
    # plain '@': any run of letters, but stop before CJK glued to it ("com是我们的")
    return len(letters)
