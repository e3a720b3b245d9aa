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
            "真实姓名", "中文名", "中文名字", "叫我", "称呼我", "小名", "乳名", "网名", "我系", "名叫", "就叫"),
    STRONG: ("本人", "联系人", "收件人", "收货人", "寄件人", "收款人", "户名", "开户名", "持卡人", "车主", "户主",
             "家长", "家属", "房东", "业主", "法人", "负责人", "经办人", "署名", "老公", "老婆", "爱人", "妻子",
             "丈夫", "我妈", "我爸", "我妈叫", "我爸叫", "儿子", "女儿", "孩子叫", "宝宝叫", "我姐", "我哥", "我妹",
             "我弟", "紧急联系人", "英文名", "签名", "姓名拼音", "拼音", "开户人", "介绍人", "推荐人", "监护人", "申请人",
             "报名人", "委托人", "担保人", "联络人", "对接人", "受益人", "患者", "学员"),
    WEAK: ("找", "联系", "我是", "来自", "转告", "交给", "代收", "报名", "会计", "店长", "站长", "老板", "老板娘",
           "经理", "主管", "组长", "班长", "队长", "阿姨", "师傅", "司机", "网格员", "员", "部", "中文", "叫",
           "同学", "同事", "朋友", "邻居", "外婆", "奶奶", "爷爷", "外公", "是我", "信息", "的", "自己", "助理",
           "秘书", "经纪人", "代理人", "同桌", "室友", "班主任", "主任", "校长", "院长", "医生", "律师", "导游", "教练",
           "客户", "表哥", "表姐", "表弟", "表妹", "堂哥", "堂姐", "舅舅", "姑姑", "叔叔", "阿姨", "咨询", "——", "—",
           "落款", "称呼", "实习生", "新人", "学生", "by", "By"),
}
_STRENGTH = {w: level for level, words in _CONTEXTS.items() for w in words}
_SEP = r"(?:[ ]?[:=][ ]?|[ ]?(?:是|为|叫)[ ]?|[ ])?"
# Only intro words may introduce a name without a known surname; every other context word must be
# followed by a surname's first character (a lookahead: most "的" / "找" never reach Python code).
_INTRO_RE = re.compile(
    "(?P<w>" + "|".join(re.escape(w) for w in sorted(_CONTEXTS[INTRO], key=len, reverse=True)) + ")" + _SEP
)
_NAME_START_CLASS = "[" + "".join(sorted(set(SURNAMES) | {w[0] for w in COMPOUND_SURNAMES})) + "]"
_CLAUSE_END = r"(?=$|[，,。；;！!？?|｜/、()（）【】\[\] ~～])"
# A short clause that starts with a surname: "，吕志强，", "司马云飞｜..." (at the start: _FIRST_CLAUSE_RE).
_CLAUSE_RE = re.compile(
    r"[，,。；;！!？?|｜/、()（）【】\[\] ~～:](?=" + _NAME_START_CLASS + r")(?P<c>[\u4e00-\u9fff]{2,4})" + _CLAUSE_END
)
_FIRST_CLAUSE_RE = re.compile(r"(?=" + _NAME_START_CLASS + r")(?P<c>[\u4e00-\u9fff]{2,4})" + _CLAUSE_END)
_CONTEXT_RE = re.compile(
    "(?P<w>" + "|".join(re.escape(w) for w in sorted(_STRENGTH, key=len, reverse=True) if _STRENGTH[w] != INTRO)
    + ")" + _SEP + "(?=" + _NAME_START_CLASS + "|扎西|卓玛|次仁|多吉|央金|格桑|旦增|尼玛|达瓦|娜仁|乌兰|买买|阿依|古丽|艾力|阿不)"
)
# Characters that end a name (particles, verbs, titles, words that follow a name in a sentence).
_STOP = frozenset("的了是在和与及或也都就还又很今昨来去到从住做当喜想要会能说叫姓岁男女啊呀吧呢哦哈嘛"
                  "哥姐弟妹爸妈们这那有没不我你他她它请加电手微扣邮号已目收打负帮给让被把将对向往为所而且但却"
                  "即便因此故则后里外内间")
# Characters that may stand right before a name the right-context rule finds ("说是贾云鹏的同学").
_LEFT_OF_NAME = frozenset("是叫说找和与及给让被把将对向为的了在从到我你他她班级校区市县人长员任师理书总")
# Titles after a surname: 王先生, 张老师, 刘女士 (a surname with a title is not a name).
_TITLES = ("先生", "女士", "小姐", "老师", "师傅", "医生", "大夫", "律师", "经理", "总监", "老板", "同学", "阿姨",
           "叔叔", "大哥", "大姐", "姐姐", "哥哥", "教授", "主任", "院长", "校长", "书记", "局长", "处长", "科长",
           "总", "工", "哥", "姐", "某", "氏", "姓")
_TITLE_RE = re.compile("|".join(sorted(_TITLES, key=len, reverse=True)))
# How non-Han names start (Tibetan, Mongolian, Uyghur ...): they have no surname from the table.
_MINORITY_STARTS = frozenset(
    "扎西 卓玛 次仁 多吉 央金 格桑 旦增 尼玛 达瓦 拉姆 平措 措姆 顿珠 益西 索朗 洛桑 才让 德吉 白玛 仁增 "
    "巴特 娜仁 乌兰 其其 图雅 斯琴 额尔 阿拉 苏日 宝音 那日 朝鲁 布和 哈斯 吉日 萨仁 "
    "买买 阿依 古丽 热依 艾力 阿不 吐尔 努尔 帕提 迪丽 依明 艾合 阿布 热合 玉素 肉孜 库尔 再努 米热".split()
)
# Clause boundaries around a name that stands alone.
_BOUNDARY = frozenset("，,。；;！!？?|｜/、()（）【】[] \n~～:：\"“”'")
_WEAK_BOUNDARY_ONLY = frozenset(["的", "员", "部", "信息", "中文", "叫", "——", "—"])  # name must end at a boundary

_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_UPPER_RE = re.compile(r"[A-Z]")
_DOT_NAME_RE = re.compile(r"[\u4e00-\u9fff]{2,8}·[\u4e00-\u9fff]{2,8}(?:·[\u4e00-\u9fff]{2,8})?")
# Words that follow a name ("孔令浩的家长", "汪卫东老师", "孟凡宇收"); the character before must be CJK.
# Words that follow a name ("孔令浩的家长", "汪卫东老师", "孟凡宇收", "李娜是我妈", "王芳的电话"). Each
# regex starts with literal words, so CPython's re skips ahead quickly; the character before the
# match must be CJK (checked in Python).
_RIGHT_RE = re.compile(
    "家长|妈妈|爸爸|同学|朋友|老公|老婆|哥哥|姐姐|弟弟|妹妹|儿子|女儿|问候|本人"
    "|是我的?(?:妈|爸|老公|老婆|爱人|女儿|儿子|哥|姐|弟|妹|同学|朋友|室友|同事|老板|舅|姑|叔|姨|名字)"
    "|的(?:电话|手机|微信|QQ|qq|邮箱|号码|联系方式|身份证)"
    "|(?:老师|先生|女士|医生|律师|经理|师傅|阿姨)(?![\u4e00-\u9fff]{2})"
    "|收(?![\u4e00-\u9fff])|来报到|敬上|在此"
)
_GENDER_RE = re.compile("[，,][ ]?[男女](?=[，,。;； ]|$|[0-9])")  # "李娜，女，28岁"
_PHONE_WORDS = ("电话", "手机", "微信", "tel", "Tel", "TEL")
_EN_NAME_RE = re.compile(
    r"[A-Z](?<![A-Za-z].)(?:[a-z]+(?:[ ][A-Z][a-z]+){0,2}|[A-Z]+(?:[ ][A-Z]{2,}){1,2})(?![A-Za-z])"
)
_EN_CONTEXT_RE = re.compile(
    r"(?:(?<![A-Za-z])(?:I'm|I am|my name is|My name is|this is|This is|ask for|Ask for|call me|Call me|by|By)[ ]|"
    r"(?:我叫|英文名字?|姓名拼音|拼音|联系人?|本人|姓名|名字|我是|叫我|称呼我?|签名|署名|—)[ ]?[:]?[ ]?|"
    r"(?:Mr|Ms|Mrs|Miss|Dr)\.?[ ]|(?:name|Name|NAME|Contact|contact)[ ]?[:][ ]?)\Z"
)
_EN_NOT_NAMES = frozenset(
    "a an the from in at not so very here currently working also just now still Chinese English American "
    "Designer Engineer Developer Student Teacher Programmer PM Product Manager Doctor Nurse Lawyer Sales Boss "
    "Male Female Single Married Happy Hello Hi Thanks Thank Sorry Please Welcome Yes No OK Ok The This That "
    "And But Or If When WeChat Wechat Email QQ Tel Phone Mobile Add Contact Call Base Beijing Shanghai "
    "Shenzhen Guangzhou Hangzhou Chengdu Office Room No UI UX IT HR CEO CTO CFO PS Mr Ms Mrs Miss Dr".split()
)
PINYIN_SURNAMES = frozenset(
    "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie song "
    "tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai du ye cheng su wei lv lu ding ren "
    "shen yao jin shi jia xia fu fang bai zou meng xiong qin qiu yin xue yan duan lei hou long tao gu "
    "mao hao gong shao wan qian kong tan mo dai kang qiao lai ou ouyang situ sima zhuge yue cui "
    "chow chan wong lee cheung leung ng ho lau lam tsang kwok".split()
)


def _before_phone(text: str, start: int) -> int:
    """Where a name would end before the phone number at ``start`` ("伍思琪 157...", "张伟电话:138..."), or -1."""
    i = start
    while i > 0 and text[i - 1] in "+(":
        i -= 1
    j = i
    while j > 0 and i - j < 3 and text[j - 1] in " :":
        j -= 1
    for word in _PHONE_WORDS:
        if text.startswith(word, j - len(word)):
            k = j - len(word)
            while k > 0 and j - len(word) - k < 3 and text[k - 1] in " :":
                k -= 1
            return k
    return j if j < i else -1  # a separator is needed: "常度110000..." is not a name


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
            for rx in (_INTRO_RE, _CONTEXT_RE):
                for m in rx.finditer(text):
                    word = m.group("w")
                    strength = _STRENGTH[word]
                    if word == "叫" and (m.start() == 0 or text[m.start() - 1] in _BOUNDARY
                                        or text[m.start() - 1] in "我名就都也他她"):
                        strength = STRONG  # "我姓王，叫王一博": the user's own name
                    span = self._after_context(text, m.end(), strength, word)
                    if span is not None:
                        out.append(Candidate(span[0], span[1], self.entity, self.score))
            if "·" in text:
                for m in _DOT_NAME_RE.finditer(text):
                    if m.group(0) in PUBLIC_FIGURES or any(c in _STOP for c in m.group(0)):
                        continue  # 哈利·波特; "看了三遍哈利·波特" is a sentence, not a name
                    if _at_boundary(text, m.end()) and (m.start() == 0 or text[m.start() - 1] in _BOUNDARY):
                        out.append(Candidate(m.start(), m.end(), self.entity, self.score))
            out.extend(self._right_context_names(nt))
            out.extend(self._standalone_names(text))
        if has_upper:
            out.extend(self._english_names(text))
        return out

    # ---------------------------------------------------------------------------- Chinese names

    def _after_context(self, text: str, at: int, strength: int, word: str) -> Optional[Tuple[int, int]]:
        if at >= len(text) or not _is_cjk(text[at]):
            return None
        if strength >= STRONG and "·" in text[at:at + 9]:
            dm = _DOT_NAME_RE.match(text, at)
            if dm is not None and dm.group(0) not in PUBLIC_FIGURES:
                return dm.span()  # 买买提·艾力
        if text[at:at + 2] in _MINORITY_STARTS:
            end = at + 2
            while end < len(text) and end - at < 6 and _is_cjk(text[end]) and text[end] not in _STOP:
                end += 1
            dm = _DOT_NAME_RE.match(text, at) if "·" in text[at:at + 9] else None
            if dm is not None:
                return dm.span()
            return (at, end) if _at_boundary(text, end) else None
        sl = _surname_len(text, at)
        end = at + sl
        limit = min(len(text), end + 2)
        while end < limit and _is_cjk(text[end]) and text[end] not in _STOP:
            if end > at + sl and _TITLE_RE.match(text, end) is not None:
                break  # 汪卫东老师: the title is not part of the name
            end += 1
        if sl == 0:
            # a given name alone (我叫小红), or a surname the table lacks (名字叫庹家宝): intro words only
            name = text[at:end]
            if strength != INTRO or not 2 <= len(name) <= 3 or not _at_boundary(text, end):
                return None
            if text[at] in _STOP or _not_a_name(name):
                return None
            return at, end
        if end == at + sl or _TITLE_RE.match(text, at + sl) is not None:
            return None  # a surname alone, or with a title: 刘女士, 王先生
        name = text[at:end]
        if sl == 1 and (name[:2] in PLACE_NAMES or name[:3] in PLACE_NAMES):
            return None  # 杭州 is a city (濮阳明 keeps its compound surname)
        if name in COMMON_WORDS or name[:2] in COMMON_WORDS:
            return None
        if strength == WEAK:
            if name in PUBLIC_FIGURES:
                return None  # "我是周杰伦的粉丝"; after 姓名 / 本人 a famous name is the user's own (姓名李娜)
            if not _common_given(text[at + sl:end]):
                return None
            if word in _WEAK_BOUNDARY_ONLY and not _at_boundary(text, end):
                return None
        return at, end

    def _right_context_names(self, nt: NormalizedText) -> List[Candidate]:
        text = nt.text
        ends = []  # (end of the name, whether the words after it say it is a private person)
        for rx in (_RIGHT_RE, _GENDER_RE):
            for m in rx.finditer(text):
                end = m.start()
                if end > 1 and text[end - 1] in "的(":
                    end -= 1  # 孔令浩的家长, 王芳(本人)
                if end > 0 and _is_cjk(text[end - 1]):
                    private = m.group(0)[:1] in "是,，的"  # 李娜，女 / 李娜是我妈 / 王芳的电话
                    ends.append((end, private))
        for run in nt.digit_runs():
            if run.end - run.start >= 7 and run.start > 1:
                end = _before_phone(text, run.start)
                if end > 0 and _is_cjk(text[end - 1]):
                    ends.append((end, True))
        out = []
        for end, private in ends:
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
                if start > 0 and _is_cjk(text[start - 1]) and text[start - 1] not in _LEFT_OF_NAME:
                    continue
                if start > 0 and not _is_cjk(text[start - 1]) and text[start - 1] not in _BOUNDARY:
                    continue
                if not _common_given(cand[sl:]) or _TITLE_RE.match(cand, sl) is not None:
                    continue
                if (cand in PUBLIC_FIGURES and not private) or _not_a_name(cand) and cand not in PUBLIC_FIGURES:
                    continue
                out.append(Candidate(start, end, self.entity, self.score - 0.05))
                break
        return out

    def _standalone_names(self, text: str) -> List[Candidate]:
        out = []
        first = _FIRST_CLAUSE_RE.match(text)
        for m in ([first] if first else []) + list(_CLAUSE_RE.finditer(text)):
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
            if _TITLE_RE.match(cand, sl) is not None:
                continue  # 王先生, 张老师
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
            if _EN_CONTEXT_RE.search(text, max(0, s - 14), s) is not None:
                out.append(Candidate(s, e, self.entity, self.score))
            elif len(words) == 2 and words[-1].lower() in PINYIN_SURNAMES and (s == 0 or text[s - 1] in _BOUNDARY) \
                    and _at_boundary(text, e):
                out.append(Candidate(s, e, self.entity, self.score - 0.05))  # "Alex Chen，陈亚历，..."
        return out
