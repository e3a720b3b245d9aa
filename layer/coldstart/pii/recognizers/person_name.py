"""Personal names (PERSON_NAME -> ``[NAME]``): context rules plus a surname table.

A Chinese name is a surname (``lexicon.names.SURNAMES``, or a compound one: 欧阳 司马 诸葛 ...) and one
or two given-name characters. It is only looked for where a bio introduces a person, in four ways:

* after a context word (``_CONTEXTS``), which has one of three strengths:
  - *intro* (我叫, 姓名, 名字是, 真名, 中文名, 叫我 ...): the name may lack a known surname (我叫小红,
    名字叫庹家宝) and may be a minority name with a middle dot (买买提·艾力);
  - *strong* (本人, 联系人, 收件人, 户名, 车主, 家长, 房东, 老公 ...): a known surname is needed;
  - *weak* (找, 联系, 我是, 来自, job titles such as 会计 / 店长 / 站长, "X的" ...): a known surname and
    common given-name characters (``GIVEN_CHARS``), and not a common word (安静, 周末, 高中 ...);
* right before a word that follows names (… 的家长, … 老师, … 收) or a phone number (伍思琪 157...);
* as a clause of its own ("信息：傅丽娟，", "，吕志强，", a bio starting "司马云飞｜");
* English names (Tony Zhang, FANG ZHIYUAN) after I'm / my name is / 英文名 / ask for, or as a clause
  of their own when the last word is a pinyin surname.

Never a name: a surname with a title (刘女士, 王先生, 张老师: the title stops the name), and public
figures named as interests (周杰伦, 姚明, 哈利·波特 ...: ``PUBLIC_FIGURES``).
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

from ..lexicon.names import COMMON_WORDS, COMPOUND_SURNAMES, GIVEN_CHARS, PUBLIC_FIGURES, SURNAMES
from ..lexicon.places import PLACE_NAMES
from ..normalizer import NormalizedText
from .base import Candidate, Recognizer

INTRO, STRONG, WEAK = 3, 2, 1

_CONTEXTS = {
    INTRO: ("我叫", "我的名字是", "我的名字叫", "名字是", "名字叫", "名字", "姓名", "本人姓名", "真名", "真名叫",
            "真实姓名", "中文名", "中文名字", "叫我", "称呼我", "小名", "乳名", "网名", "我系"),
    STRONG: ("本人", "联系人", "收件人", "收货人", "寄件人", "收款人", "户名", "开户名", "持卡人", "车主", "户主",
             "家长", "家属", "房东", "业主", "法人", "负责人", "经办人", "署名", "老公", "老婆", "爱人", "妻子",
             "丈夫", "我妈", "我爸", "我妈叫", "我爸叫", "儿子", "女儿", "孩子叫", "宝宝叫", "我姐", "我哥", "我妹",
             "我弟", "紧急联系人", "英文名", "签名", "姓名拼音", "拼音"),
    WEAK: ("找", "联系", "我是", "来自", "转告", "交给", "代收", "报名", "会计", "店长", "站长", "老板", "老板娘",
           "经理", "主管", "组长", "班长", "队长", "阿姨", "师傅", "司机", "网格员", "员", "部", "中文", "叫",
           "同学", "同事", "朋友", "邻居", "外婆", "奶奶", "爷爷", "外公", "是我", "信息", "的"),
}
_STRENGTH = {w: level for level, words in _CONTEXTS.items() for w in words}
_CONTEXT_RE = re.compile(
    "(?P<w>" + "|".join(re.escape(w) for w in sorted(_STRENGTH, key=len, reverse=True)) + ")"
    r"(?:[ ]?[:=][ ]?|[ ]?(?:是|为|叫)[ ]?|[ ])?"
)
# Characters that end a name (particles, verbs, titles, words that follow a name in a sentence).
_STOP = frozenset("的了是在和与及或也都就还又很今明昨来去到从住做当喜爱想要会能可说叫姓岁男女先老同家啊呀吧呢哦哈嘛"
                  "哥姐弟妹爸妈总工经主律医护教博硕学生人们这那有没不我你他她它请加电手微扣邮号已正目现收发打"
                  "负代帮给让被把将于对向往为以之其所而且但却若如即便因此故则然后前上下里外中内间")
# Clause boundaries around a name that stands alone.
_BOUNDARY = frozenset("，,。；;！!？?|｜/、()（）【】[] \n~～:：\"“”'")
_WEAK_BOUNDARY_ONLY = frozenset(["的", "员", "部", "信息", "中文", "叫"])  # name must end at a boundary

_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_UPPER_RE = re.compile(r"[A-Z]")
_DOT_NAME_RE = re.compile(r"[\u4e00-\u9fff]{2,6}·[\u4e00-\u9fff]{2,6}(?:·[\u4e00-\u9fff]{2,6})?")
_RIGHT_RE = re.compile(
    r"(?<=[\u4e00-\u9fff])(?:"
    r"的?(?:家长|妈妈|爸爸|同学|朋友|老公|老婆|哥哥|姐姐|弟弟|妹妹|儿子|女儿|问候)"
    r"|(?:老师|先生|女士|医生|律师|经理|师傅|阿姨|同学)(?![\u4e00-\u9fff]{2})"
    r"|收(?![\u4e00-\u9fff])"
    r"|(?:[ ]?[:]?[ ]?(?:电话|手机|微信|tel|Tel)|[ ]?[:]|[ ])[ ]?[:]?[ ]?[+(]?[0-9][0-9 .\-]{6,}"
    r")"
)
_CLAUSE_RE = re.compile(
    r"(?:^|(?<=[，,。；;！!？?|｜/、()（）【】\[\] ~～:]))(?P<c>[\u4e00-\u9fff]{2,4})"
    r"(?=$|[，,。；;！!？?|｜/、()（）【】\[\] ~～])"
)
_EN_NAME_RE = re.compile(r"(?:[A-Z][a-z]+(?:[ ][A-Z][a-z]+){0,2}|[A-Z]{2,}(?:[ ][A-Z]{2,}){1,2})(?![A-Za-z])")
_EN_CONTEXT_RE = re.compile(
    r"(?:(?<![A-Za-z])(?:I'm|I am|my name is|My name is|this is|This is|ask for|Ask for|call me|Call me)|"
    r"我叫|英文名字?|姓名拼音|拼音|联系|name[ ]?[:]|Name[ ]?[:])[ ]?[:]?[ ]?\Z"
)
_EN_NOT_NAMES = frozenset(
    "a an the from in at not so very here currently working also just now still Chinese English American "
    "Designer Engineer Developer Student Teacher Programmer PM Product Manager Doctor Nurse Lawyer Sales Boss "
    "Male Female Single Married Happy Hello Hi Thanks Thank Sorry Please Welcome Yes No OK Ok The This That "
    "And But Or If When WeChat Wechat Email QQ Tel Phone Mobile Add Contact Call Base Beijing Shanghai "
    "Shenzhen Guangzhou Hangzhou Chengdu Office Room No UI UX IT HR CEO CTO CFO PS".split()
)
PINYIN_SURNAMES = frozenset(
    "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie song "
    "tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai du ye cheng su wei lv lu ding ren "
    "shen yao jin shi jia xia fu fang bai zou meng xiong qin qiu yin xue yan duan lei hou long tao gu "
    "mao hao gong shao wan qian kong tan mo dai kang qiao lai ou ouyang situ sima zhuge yue cui "
    "chow chan wong lee cheung leung ng ho lau lam tsang kwok".split()
)


def _surname_len(text: str, i: int) -> int:
    if text[i:i + 2] in COMPOUND_SURNAMES:
        return 2
    return 1 if text[i:i + 1] in SURNAMES else 0


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _at_boundary(text: str, i: int) -> bool:
    return i >= len(text) or text[i] in _BOUNDARY or not _is_cjk(text[i]) and not text[i].isalpha()


def _not_a_name(word: str) -> bool:
    return (word in PUBLIC_FIGURES or word in COMMON_WORDS or word[:2] in COMMON_WORDS
            or word[:2] in PLACE_NAMES or word[:3] in PLACE_NAMES)


def _common_given(given: str) -> bool:
    return all(c in GIVEN_CHARS for c in given)


class PersonNameRecognizer(Recognizer):
    entity = "PERSON_NAME"
    name = "person_name"
    context = tuple(_STRENGTH)
    use_veto = False
    score = 0.5

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        text = nt.text
        has_cjk = _CJK_RE.search(text) is not None
        has_upper = _UPPER_RE.search(text) is not None
        out: List[Candidate] = []
        if has_cjk:
            for m in _CONTEXT_RE.finditer(text):
                word = m.group("w")
                strength = _STRENGTH[word]
                span = self._after_context(text, m.end(), strength, word)
                if span is not None:
                    out.append(Candidate(span[0], span[1], self.entity, self.score))
            if "·" in text:
                for m in _DOT_NAME_RE.finditer(text):
                    if m.group(0) in PUBLIC_FIGURES:
                        continue
                    if _at_boundary(text, m.end()) and (m.start() == 0 or text[m.start() - 1] in _BOUNDARY):
                        out.append(Candidate(m.start(), m.end(), self.entity, self.score))
            out.extend(self._right_context_names(text))
            out.extend(self._standalone_names(text))
        if has_upper:
            out.extend(self._english_names(text))
        return out

    # ---------------------------------------------------------------------------- Chinese names

    def _after_context(self, text: str, at: int, strength: int, word: str) -> Optional[Tuple[int, int]]:
        if at >= len(text) or not _is_cjk(text[at]):
            return None
        if strength == INTRO:
            dm = _DOT_NAME_RE.match(text, at)
            if dm is not None and dm.group(0) not in PUBLIC_FIGURES:
                return dm.span()
        sl = _surname_len(text, at)
        end = at + sl
        while end < len(text) and end - (at + sl) < 2 and _is_cjk(text[end]) and text[end] not in _STOP:
            end += 1
        given = text[at + sl:end]
        name = text[at:end]
        if sl == 0:
            # a given name alone (我叫小红), or a surname the table lacks (名字叫庹家宝): intro words only
            if strength != INTRO or not 2 <= len(name) <= 3 or not _at_boundary(text, end):
                return None
            if text[at] in _STOP or _not_a_name(name):
                return None
            return at, end
        if not given:
            return None
        if name in PUBLIC_FIGURES or name[:2] in PLACE_NAMES or name[:3] in PLACE_NAMES:
            return None
        if strength == WEAK:
            if not _common_given(given) or name in COMMON_WORDS or name[:2] in COMMON_WORDS:
                return None
            if word in _WEAK_BOUNDARY_ONLY and not _at_boundary(text, end):
                return None
        elif name in COMMON_WORDS:
            return None
        return at, end

    def _right_context_names(self, text: str) -> List[Candidate]:
        out = []
        for m in _RIGHT_RE.finditer(text):
            end = m.start()
            for length in (3, 2, 4):
                start = end - length
                if start < 0:
                    continue
                sl = _surname_len(text, start)
                if sl == 0 or not 1 <= length - sl <= 2:
                    continue
                cand = text[start:end]
                if not all(_is_cjk(c) for c in cand) or any(c in _STOP for c in cand[sl:]):
                    continue
                if start > 0 and _is_cjk(text[start - 1]) and text[start - 1] not in _STOP \
                        and text[start - 1] not in "班级校区市县人说":
                    continue
                if start > 0 and not _is_cjk(text[start - 1]) and text[start - 1] not in _BOUNDARY:
                    continue
                if not _common_given(cand[sl:]) or _not_a_name(cand):
                    continue
                out.append(Candidate(start, end, self.entity, self.score - 0.05))
                break
        return out

    def _standalone_names(self, text: str) -> List[Candidate]:
        out = []
        for m in _CLAUSE_RE.finditer(text):
            s, e = m.span("c")
            cand = text[s:e]
            after_colon = s > 0 and text[s - 1] == ":"
            if len(cand) == 2 and not after_colon:
                continue
            sl = _surname_len(text, s)
            if sl == 0 or not 1 <= len(cand) - sl <= 2:
                continue
            if _not_a_name(cand) or not _common_given(cand[sl:]) or any(c in _STOP for c in cand[sl:]):
                continue
            out.append(Candidate(s, e, self.entity, self.score - 0.05))
        return out

    # ---------------------------------------------------------------------------- English names

    def _english_names(self, text: str) -> List[Candidate]:
        out = []
        for m in _EN_NAME_RE.finditer(text):
            words = m.group(0).split(" ")
            if words[0] in _EN_NOT_NAMES:
                continue
            s, e = m.span()
            if s > 0 and (text[s - 1].isalnum() and text[s - 1].isascii()):
                continue
            if _EN_CONTEXT_RE.search(text, max(0, s - 16), s) is not None:
                out.append(Candidate(s, e, self.entity, self.score))
                continue
            alone = (s == 0 or text[s - 1] in _BOUNDARY) and _at_boundary(text, e)
            if len(words) >= 2 and words[-1].lower() in PINYIN_SURNAMES and alone:
                out.append(Candidate(s, e, self.entity, self.score - 0.05))
        return out
