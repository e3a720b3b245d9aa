#!/usr/bin/env python3
"""Deterministic generator for the coldstart demo population: sign-up bios that talk like users.

Writes six JSON-lines files (UTF-8, one object per line, ``ensure_ascii=False``):

* ``users.jsonl``       -- active users ``{"user_id", "text", "tags"}`` (the kNN index side and the
                           teacher's training data); ``tags`` is ``[]`` for users who state no interest
* ``heldout.jsonl``     -- new-user texts ``{"id", "text", "tags"}`` built only from *held-out*
                           entity/phrase families, disjoint from every ``users.jsonl`` text
* ``calibration.jsonl`` -- the same for a third, also disjoint, set of families: the split a
                           confidence calibrator is fitted on (never used for training)
* ``samples.jsonl``     -- a few showcase new-user inputs with the expected top tag
* ``written.jsonl``     -- the written lexicons' training lines as labelled texts (clauses with their
  tag, no-interest texts with none), for the no-signal detector
* ``signal.jsonl``      -- the no-signal detector's own written texts (``lexicons/signal/``), labelled the
  same way; never part of the population

What a bio carries (why: real sign-ups name things rather than categories, see issue 14):
named entities (teams, athletes, stars, shows, films, games, apps, brands, dishes, places, funds,
stocks, exams, schools), occupations and life stages that imply an interest, slang, English and
pinyin mixed in, traditional characters, homophone typos, negated interests (not in ``tags``),
one to three interests, long bios padded with neutral sentences, and ~9% of users with no
interest at all (greetings, gibberish, digits, neutral statements, personal details, questions,
pure negation). Vocabulary comes from the plain-text lexicons in ``data/lexicons/`` (hand-written
``<tag>.txt`` and ``neutral.txt``; ``derived/`` made by ``data/lexicons/build_derived.py`` from
CC-CEDICT, jieba, OpenCC and pypinyin); this script only reads them, with the standard library,
so the same arguments always give byte-identical files (checked by ``tests/test_demo_data.py``).

    python data/generate.py                      # rewrite data/*.jsonl with the defaults
    python data/generate.py --out /tmp/x --users 5000 --seed 7

Importable: ``TAGS``, ``category_names()``, ``load_families()``, ``family_split()``,
``phrase_split()``, ``generate()``, ``write()``, ``id_check_digit()``, ``luhn_check_digit()``.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import random
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

DEFAULT_USERS = 20000
DEFAULT_HELDOUT = 600
DEFAULT_CALIBRATION = 1500
DEFAULT_SEED = 20261127
DEFAULT_OUT = Path(__file__).resolve().parent
LEXICONS = Path(__file__).resolve().parent / "lexicons"

sys.path.insert(0, str(DEFAULT_OUT.parent))  # run as a script (python data/generate.py): the repo root
from infra.char_vocab import gb2312_level1  # noqa: E402  the common characters, shared with the vocab

#: The interest tags, in canonical order (output tag lists follow this order).
TAGS: List[str] = ["体育", "科技", "娱乐", "教育", "旅游", "美食", "财经", "游戏", "汽车", "时尚", "健康", "母婴"]
TAG_FILES: Dict[str, str] = {
    "体育": "sports", "科技": "tech", "娱乐": "entertainment", "教育": "education", "旅游": "travel",
    "美食": "food", "财经": "finance", "游戏": "games", "汽车": "cars", "时尚": "fashion", "健康": "health",
    "母婴": "parenting",
}


def category_names() -> List[str]:
    """The tag names, in canonical order (a copy of ``TAGS``)."""
    return list(TAGS)


# --------------------------------------------------------------------------------------
# Lexicons: families of aliases (one line of a lexicon file), grouped by tag and kind
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Family:
    tag: str
    kind: str          # decides the sentence frames: act, topic, person, team, title, brand, place, dish, job, ...
    aliases: Tuple[str, ...]
    source: str        # the lexicon file it came from

    @property
    def key(self) -> str:
        return "%s/%s/%s" % (self.tag, self.kind, self.aliases[0])


#: How often each kind is drawn for a mention (entities dominate: that is what users name).
KIND_WEIGHTS: Dict[str, float] = {
    "act": 3.0, "topic": 2.0, "person": 2.5, "team": 2.0, "title": 3.0, "brand": 2.5, "place": 3.5,
    "dish": 3.0, "job": 1.2, "stage": 0.8, "slang": 1.0, "item": 1.5, "clause": 2.5,
}
#: Kinds that are whole clauses (used verbatim). ``clause``: the written clauses of
#: ``lexicons/written/clauses.tsv`` (implicit habits, named things, jargon; see data/README.md).
VERBATIM = {"stage", "slang", "clause"}
WRITTEN = LEXICONS / "written"


def _read_sections(path: Path) -> Dict[str, List[Tuple[str, ...]]]:
    sections: Dict[str, List[Tuple[str, ...]]] = {}
    kind = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            kind = line[1:-1]
            sections.setdefault(kind, [])
            continue
        if kind is None:
            raise ValueError("%s: entry before any [kind] header: %r" % (path, line))
        aliases = tuple(a.strip() for a in line.split("|") if a.strip())
        if aliases:
            sections[kind].append(aliases)
    return sections


def _read_list(path: Path) -> List[str]:
    return [w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip()]


def load_families(lexicons: Path = LEXICONS) -> Tuple[List[Family], Dict[str, List[Tuple[str, ...]]]]:
    """(interest families in a fixed order, the negation phrases per tag).

    An alias belongs to one family only: a later duplicate (any tag) is dropped, so a text's
    label never depends on which list a word was read from. Hand-written lexicons come first,
    then CC-CEDICT items and people.
    """
    families: List[Family] = []
    negations: Dict[str, List[Tuple[str, ...]]] = {t: [] for t in TAGS}
    seen: Set[str] = set()

    def add(tag: str, kind: str, aliases: Sequence[str], source: str) -> None:
        fresh = tuple(a for a in aliases if _norm(a) not in seen)
        if not fresh:
            return
        seen.update(_norm(a) for a in fresh)
        families.append(Family(tag, kind, fresh, source))

    for tag in TAGS:
        name = TAG_FILES[tag] + ".txt"
        for kind, rows in _read_sections(lexicons / name).items():
            if kind == "neg":
                negations[tag].extend(rows)
                continue
            if kind not in KIND_WEIGHTS:
                raise ValueError("%s: unknown kind [%s]" % (name, kind))
            for aliases in rows:
                add(tag, kind, aliases, name)
    for tag, clause in read_written_clauses(lexicons / "written" / "clauses.tsv"):
        add(tag, "clause", (clause,), "written/clauses.tsv")
    for tag in TAGS:
        for prefix, kind in (("cedict_people_", "person"), ("cedict_", "item")):
            path = lexicons / "derived" / (prefix + TAG_FILES[tag] + ".txt")
            if path.is_file():
                for word in _read_list(path):
                    add(tag, kind, (word,), "derived/" + path.name)
    return families, negations


def read_written_clauses(path: Path) -> List[Tuple[str, str]]:
    """(tag, clause) rows of a ``<tag>\t<clause>`` file; a missing file is empty."""
    if not path.is_file():
        return []
    rows = []
    for line in _read_list(path):
        if line.startswith("#"):
            continue
        tag, clause = line.split("\t")
        if tag not in TAG_FILES:
            raise ValueError("%s: unknown tag %r" % (path, tag))
        rows.append((tag, clause.strip()))
    return rows


def read_written_neutral(path: Path) -> Tuple[List[str], List[str]]:
    """(for active users, for new-user splits): the written no-interest texts, every fifth line kept
    for the held-out and calibration splits so their no-interest texts are not training texts."""
    if not path.is_file():
        return [], []
    lines = [line for line in _read_list(path) if not line.startswith("#")]
    return ([t for i, t in enumerate(lines) if i % 5 != 4], [t for i, t in enumerate(lines) if i % 5 == 4])


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


# --------------------------------------------------------------------------------------
# Neutral material, noise resources (data/lexicons/neutral.txt and derived/)
# --------------------------------------------------------------------------------------
class Resources:
    def __init__(self, lexicons: Path = LEXICONS):
        neutral = _read_sections(lexicons / "neutral.txt")
        self.jobs = [a for row in neutral["job"] for a in row]
        self.cities = [a for row in neutral["city"] for a in row]
        self.sentences = [row for row in neutral["sentence"]]
        self.hard = [row[0] for row in neutral["hard"]]
        self.greetings = [a for row in neutral["greeting"] for a in row]
        self.english = [a for row in neutral["english"] for a in row]
        self.written_train, self.written_new = read_written_neutral(lexicons / "written" / "neutral.txt")
        self.s2t: Dict[str, str] = {}
        for line in _read_list(lexicons / "derived" / "s2t.txt"):
            s, t = line.split("\t")
            self.s2t[s] = t
        self.pinyin: Dict[str, str] = {}
        for line in _read_list(lexicons / "derived" / "pinyin.txt"):
            c, p = line.split("\t")
            self.pinyin[c] = p
        common = set(gb2312_level1())
        by_sound: Dict[str, List[str]] = {}
        for c in sorted(common):
            if c in self.pinyin:
                by_sound.setdefault(self.pinyin[c], []).append(c)
        self.homophones = {c: [o for o in by_sound[self.pinyin[c]] if o != c]
                           for c in sorted(common) if c in self.pinyin and len(by_sound[self.pinyin[c]]) > 1}
        self.common = sorted(common)

    def vocabulary(self) -> List[str]:
        """Every neutral string that may appear in any text (for the split's leak rule)."""
        return self.jobs + self.cities + [a for row in self.sentences for a in row] + self.hard + self.greetings


# --------------------------------------------------------------------------------------
# Sentence frames per kind ({x} = the alias); (tag, kind) overrides the kind's default
# --------------------------------------------------------------------------------------
ACT_FRAMES = [
    "我喜欢{x}", "平时爱{x}", "业余时间{x}", "周末常常{x}", "最近迷上了{x}", "一有空就{x}", "每天都要{x}",
    "坚持{x}{n}年了", "下班后喜欢{x}", "没事就{x}", "最大的爱好是{x}", "热衷于{x}", "经常{x}", "超爱{x}",
    "特别喜欢{x}", "从小就爱{x}", "想找人一起{x}", "求一起{x}的搭子", "爱好：{x}", "兴趣是{x}", "爱{x}",
    "沉迷{x}无法自拔", "{x}是我的快乐源泉", "每周{x}两三次", "这几年一直在{x}", "最近开始{x}了",
    "打算今年好好{x}", "周末基本都在{x}", "除了上班就是{x}", "偶尔{x}", "喜欢{x}，一发不可收拾",
    "工作之余{x}", "{x}{n}年，乐此不疲", "放假就{x}", "有时间就会{x}", "闲下来就{x}", "每天晚上{x}",
    "日常{x}", "不{x}浑身难受", "天天{x}", "又开始{x}了", "周末约人{x}", "跟朋友一起{x}",
]
TOPIC_FRAMES = [
    "喜欢{x}", "关注{x}", "对{x}很感兴趣", "{x}爱好者", "{x}迷", "{x}发烧友", "痴迷{x}", "平时关注{x}",
    "热爱{x}", "最近沉迷{x}", "入坑{x}{n}年", "研究{x}很多年了", "聊{x}可以聊一整天", "关于{x}的都感兴趣",
    "喜欢一切和{x}有关的东西", "每天刷{x}相关的内容", "{x}重度爱好者", "{x}老粉", "{x}是我的精神食粮",
    "对{x}有点研究", "{x}相关的都爱看", "最近在研究{x}", "爱好{x}", "{x}控", "着迷于{x}", "{x}狂热分子",
]
PERSON_FRAMES = [
    "{x}的粉丝", "{x}铁粉", "喜欢{x}", "{x}是我偶像", "追{x}好多年", "{x}死忠粉", "{x}yyds", "最喜欢{x}",
    "永远支持{x}", "粉了{x}{n}年", "为{x}疯狂", "{x}的每场都看", "心里只有{x}", "{x}太强了", "偶像是{x}",
]
FRAMES: Dict[Tuple[str, str], List[str]] = {
    ("体育", "team"): ["{x}球迷", "支持{x}", "{x}死忠", "每场{x}的比赛都看", "{x}铁粉", "主队是{x}", "{x}加油",
                      "老{x}球迷了", "看{x}的比赛长大", "{x}永远的神", "为{x}熬夜看球", "{x}球迷一枚"],
    ("娱乐", "person"): PERSON_FRAMES + ["为{x}打call", "{x}的演唱会每场都去", "单推{x}", "{x}唯粉", "喜欢听{x}的歌",
                                       "{x}的剧都看过"],
    ("游戏", "person"): ["{x}粉丝", "喜欢看{x}的比赛", "{x}加油", "支持{x}", "{x}yyds", "看{x}直播", "{x}铁粉"],
    ("娱乐", "title"): ["追《{x}》", "最近在看《{x}》", "二刷《{x}》", "《{x}》太好看了", "刚看完{x}", "{x}看了三遍",
                       "最爱的是{x}", "安利《{x}》", "在追{x}", "{x}入坑", "喜欢{x}", "《{x}》粉", "{x}看哭了",
                       "重温{x}", "最近追{x}上头了"],
    ("游戏", "title"): ["玩{x}", "{x}玩家", "{x}老玩家", "{x}上分中", "在玩{x}", "{x}满级了", "{x}玩了{n}年",
                       "沉迷{x}", "每天上线{x}", "{x}{n}级", "{x}国服", "{x}萌新", "求{x}固玩", "喜欢{x}",
                       "{x}启动！", "{x}肝到凌晨", "在{x}里当大佬", "{x}开黑"],
    ("科技", "brand"): ["{x}用户", "用{x}", "{x}忠实用户", "关注{x}", "刚入手{x}", "在等{x}新品", "{x}的发布会必看",
                       "喜欢研究{x}", "{x}全家桶", "{x}的东西都想买"],
    ("汽车", "brand"): ["开{x}", "{x}车主", "想买{x}", "刚提了{x}", "{x}真香", "在看{x}", "纠结要不要买{x}",
                       "开{x}{n}年了", "梦想车是{x}", "{x}车友", "最近试驾了{x}", "喜欢{x}的设计"],
    ("时尚", "brand"): ["种草{x}", "{x}爱用者", "最近在用{x}", "爱买{x}", "{x}真的好看", "收了{x}", "{x}粉",
                       "囤了好多{x}", "{x}回购无数次", "梦中情包是{x}", "{x}新品必买", "最爱{x}"],
    ("美食", "brand"): ["常去{x}", "{x}爱好者", "一周三次{x}", "最爱{x}", "{x}常客", "{x}的新品都会试",
                       "经常吃{x}", "{x}会员"],
    ("财经", "brand"): ["持有{x}", "买了{x}", "重仓{x}", "定投{x}", "关注{x}", "{x}套牢了", "研究{x}",
                       "{x}拿了{n}年", "加仓{x}", "看好{x}"],
    ("教育", "brand"): ["目标{x}", "想考{x}", "冲{x}", "梦校是{x}", "每天打卡{x}", "在用{x}学习", "备考{x}",
                       "想去{x}读研"],
    ("母婴", "brand"): ["给宝宝用{x}", "娃喝{x}", "{x}用着不错", "娃爱看{x}", "囤了{x}", "给娃买{x}"],
    ("旅游", "place"): ["去过{x}", "想去{x}", "下个月去{x}", "刚从{x}回来", "打卡{x}", "{x}自由行", "{x}三日游",
                       "去了三次{x}", "梦想是去{x}", "计划去{x}", "在{x}玩了一周", "最喜欢的地方是{x}", "下一站{x}",
                       "{x}之旅", "国庆去{x}", "一个人去了{x}", "带着相机去{x}", "攒钱去{x}"],
    ("美食", "dish"): ["爱吃{x}", "最爱{x}", "会做{x}", "{x}yyds", "为了一口{x}可以排队两小时", "每周都要吃{x}",
                      "{x}爱好者", "无{x}不欢", "自己在家做{x}", "{x}真的好吃", "馋{x}了", "{x}吃不腻",
                      "到处找好吃的{x}", "拿手菜是{x}"],
}
JOB_FRAMES = ["{x}一枚", "我是{x}", "职业：{x}", "{x}", "做{x}{n}年了", "一名{x}", "{age}后{x}", "在{city}做{x}",
              "{x}，{city}人", "本职{x}", "{x}打工人"]
PLACE_DEFAULT = FRAMES[("旅游", "place")]
ITEM_FRAMES = TOPIC_FRAMES + ["喜欢{x}", "关注{x}", "对{x}感兴趣", "最近对{x}着迷"]

NEG_FRAMES_ACT = ["不爱{x}", "从不{x}", "不会{x}", "讨厌{x}", "不喜欢{x}"]
NEG_FRAMES_TOPIC = ["对{x}没兴趣", "不喜欢{x}", "{x}什么的不感兴趣", "不懂{x}", "对{x}无感", "{x}一点都不懂"]
NEG_JOIN = ["{neg}，{pos}", "{neg}，但是{pos}", "虽然{neg}，但{pos}", "{pos}，不过{neg}", "{pos}，{neg}",
            "{neg}，平时就{pos}", "{neg}，只是{pos}"]

EDU_GOALS: List[Tuple[str, int]] = [
    ("编程知识", 4), ("英语", 2), ("数学知识", 1), ("专业知识", 2), ("历史知识", 1), ("心理学知识", 1),
]
EDU_GOAL_TEMPLATES: List[str] = ["想多学点{g}", "打算好好学{g}", "希望多积累点{g}", "给自己定个目标多学{g}"]

TAG_ENGLISH: Dict[str, List[str]] = {
    "体育": ["basketball", "football", "running", "workout", "sports", "game day", "ball is life"],
    "科技": ["coding", "tech", "geek", "developer", "AI", "gadgets", "hello world"],
    "娱乐": ["movies", "music", "K-pop", "binge watching", "fangirl", "concert"],
    "教育": ["study", "exam", "IELTS", "learning", "bookworm", "study hard"],
    "旅游": ["travel", "wanderlust", "road trip", "backpacker", "explore"],
    "美食": ["foodie", "coffee", "cooking", "yummy", "brunch"],
    "财经": ["investing", "stocks", "finance", "money", "FIRE"],
    "游戏": ["gamer", "gaming", "GG", "noob", "carry", "AFK"],
    "汽车": ["car guy", "driving", "petrolhead", "EV", "road"],
    "时尚": ["OOTD", "fashion", "makeup", "skincare", "style"],
    "健康": ["healthy", "yoga", "wellness", "fitness", "self care"],
    "母婴": ["mom life", "new mom", "baby", "dad life", "family"],
}
TAG_EMOJI: Dict[str, List[str]] = {
    "体育": ["⚽", "🏀", "🏸", "🏃", "🏊"], "科技": ["💻", "📱", "🤖", "⌨️"], "娱乐": ["🎬", "🎵", "🎤", "📺"],
    "教育": ["📚", "✏️", "🎓"], "旅游": ["✈️", "🏔️", "🏖️", "🧳"], "美食": ["🍜", "🍲", "🍰", "☕"],
    "财经": ["📈", "💰", "📉"], "游戏": ["🎮", "🕹️"], "汽车": ["🚗", "🏎️", "🚙"], "时尚": ["👗", "💄", "👠", "💅"],
    "健康": ["🧘", "🥗", "💪"], "母婴": ["👶", "🍼", "🧸"],
}
EMOJI: List[str] = ["😄", "😊", "✨", "🔥", "👍", "❤️", "🙌", "🌟", "😎", "🤣", "🥰", "🙏", "😂", "💤", "🌈"]
SLANG_GENERIC = ["yyds", "绝绝子", "真的会谢", "hhh", "哈哈哈", "xswl", "u1s1", "awsl", "emmm", "笑死", "无语子",
                 "救命", "谁懂啊", "家人们", "冲冲冲", "nb", "牛", "绝了", "狠狠爱了", "6"]
PINYIN_CHUNKS = ["wo", "hen", "xi huan", "ai", "zui jin", "ping shi", "zhou mo", "hai xing", "haha", "mei shi",
                 "jiu shi", "te bie", "zhen de"]
FILLERS: List[str] = [
    "求同好", "欢迎交流", "希望认识志同道合的朋友", "生活需要仪式感", "慢慢来比较快", "人生苦短", "保持热爱", "随缘",
    "多多关照", "一起加油", "开心最重要", "请多指教", "欢迎私聊", "有同好吗", "交个朋友吧", "互关", "佛系青年",
    "奔波在生活的路上", "努力搬砖中", "做一个快乐的人", "热爱生活",
]
SEPARATORS: List[Tuple[str, int]] = [("，", 12), ("。", 4), ("！", 1), ("~", 1), (" ", 2), ("；", 1), ("、", 1),
                                     ("\n", 1), (",", 1), ("｜", 1), ("/", 1)]
ENDINGS: List[Tuple[str, int]] = [("", 8), ("。", 4), ("！", 2), ("~", 1), ("!!", 1), ("…", 1), ("～", 1), ("。。。", 1)]

TAG_WEIGHTS: Dict[str, float] = {
    "体育": 1.1, "科技": 1.0, "娱乐": 1.2, "教育": 1.0, "旅游": 1.0, "美食": 1.1,
    "财经": 0.85, "游戏": 1.0, "汽车": 0.8, "时尚": 0.85, "健康": 0.9, "母婴": 0.75,
}
RELATED: List[Tuple[str, str]] = [("体育", "健康"), ("科技", "教育"), ("科技", "游戏"), ("旅游", "美食"),
                                  ("娱乐", "时尚"), ("母婴", "健康"), ("母婴", "教育"), ("财经", "汽车"),
                                  ("科技", "汽车"), ("游戏", "娱乐"), ("旅游", "体育"), ("美食", "健康"),
                                  ("科技", "财经"), ("娱乐", "旅游"), ("体育", "娱乐")]

#: Showcase inputs; the families they use are forced into training.
SAMPLES: List[Dict[str, object]] = [
    {"text": "我平时喜欢踢足球和看NBA比赛", "expect_top": "体育"},
    {"text": "最近在准备考研，想多学点编程知识", "expect_top": "教育"},
    {"text": "我喜欢看科幻电影和打篮球", "expect_top": None, "accept": ["娱乐", "体育"]},
    {"text": "产品经理，喜欢徒步和摄影，联系我13812345678", "expect_top": "旅游"},
    {"text": "最近在研究基金定投，偶尔炒股", "expect_top": "财经"},
    {"text": "周末喜欢带娃去亲子乐园", "expect_top": "母婴"},
    {"text": "喜欢探店，最爱吃火锅", "expect_top": "美食"},
]

NO_INTEREST_RATE = 0.14
WRITTEN_EMPTY_RATE = 0.7  # of the no-interest texts: one of lexicons/written/neutral.txt (4,595 lines since session 9)
NEGATION_RATE = 0.14
LONG_BIO_RATE = 0.15
HELDOUT_FRACTION = 0.12
CALIBRATION_FRACTION = 0.08
USER_PII_RATE = 0.07
HELDOUT_PII_RATE = 0.03
MAX_LEN = 220

# --------------------------------------------------------------------------------------
# Fake personal data (for the PII-masking work).  All numbers are random and synthetic.
# --------------------------------------------------------------------------------------
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"
AREA_CODES = ["110101", "110105", "310104", "310115", "440106", "440305", "320102", "330106",
              "510104", "420102", "610113", "500103", "120101", "370202", "350203", "430102"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "157", "158", "159", "166", "177", "180", "181", "186", "187",
                   "188", "189", "191", "198", "199"]
CARD_PREFIXES = ["622202", "622848", "621700", "621483", "622588", "621226", "622700", "621661"]
MAIL_NAMES = ["zhang", "li.wei", "xiaoming", "wang_fang", "chen", "liuyang", "huang", "zhao.lei",
              "zhou", "sunny", "tom", "amy", "lucky", "kevin", "yuki"]
MAIL_DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "foxmail.com", "sina.com"]
PII_TEMPLATES: Dict[str, List[str]] = {
    "phone": ["联系我{v}", "电话{v}", "手机：{v}", "微信同号 {v}", "商务合作请打{v}", "tel: {v}"],
    "email": ["邮箱{v}", "email: {v}", "有事发邮件{v}", "邮箱：{v}"],
    "id": ["身份证号{v}", "身份证：{v}", "我的证件号是{v}"],
    "card": ["卡号{v}", "银行卡{v}", "转账请打到{v}"],
}
PII_KINDS: List[Tuple[str, int]] = [("phone", 50), ("email", 25), ("id", 15), ("card", 10)]



def id_check_digit(first17: str) -> str:
    """GB 11643 check character for the first 17 digits of a resident ID number."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK[total % 11]


def id_is_valid(number: str) -> bool:
    """True if ``number`` is 18 chars with a valid birth date and check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        birth = _dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not (1900 <= birth.year <= 2100):
        return False
    return number[17].upper() == id_check_digit(number[:17])


def luhn_check_digit(partial: str) -> str:
    """Luhn check digit to append to ``partial``."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_is_valid(number: str) -> bool:
    return len(number) >= 2 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def _fake_id(rng: random.Random) -> str:
    start = _dt.date(1960, 1, 1).toordinal()
    end = _dt.date(2005, 12, 31).toordinal()
    birth = _dt.date.fromordinal(rng.randint(start, end))
    first17 = rng.choice(AREA_CODES) + birth.strftime("%Y%m%d") + "%03d" % rng.randint(1, 999)
    return first17 + id_check_digit(first17)


def _fake_phone(rng: random.Random) -> str:
    num = rng.choice(MOBILE_PREFIXES) + "".join(str(rng.randint(0, 9)) for _ in range(8))
    style = rng.randrange(5)
    if style == 0:
        return "%s-%s-%s" % (num[:3], num[3:7], num[7:])
    if style == 1:
        return "+86 %s %s %s" % (num[:3], num[3:7], num[7:])
    if style == 2:
        return "+86-" + num
    return num


def _fake_email(rng: random.Random) -> str:
    domain = rng.choice(MAIL_DOMAINS)
    if domain == "qq.com" and rng.random() < 0.6:
        local = str(rng.randint(10_000_000, 2_999_999_999))
    else:
        local = rng.choice(MAIL_NAMES) + (str(rng.randint(1, 2024)) if rng.random() < 0.7 else "")
    return "%s@%s" % (local, domain)


def _fake_card(rng: random.Random) -> str:
    length = rng.choice([16, 19])
    body = rng.choice(CARD_PREFIXES)
    body += "".join(str(rng.randint(0, 9)) for _ in range(length - 1 - len(body)))
    num = body + luhn_check_digit(body)
    if length == 16 and rng.random() < 0.4:
        return " ".join(num[i:i + 4] for i in range(0, 16, 4))
    return num


_PII_MAKERS = {"phone": _fake_phone, "email": _fake_email, "id": _fake_id, "card": _fake_card}




# --------------------------------------------------------------------------------------
# Family split: train / heldout / calibration, disjoint by construction
# --------------------------------------------------------------------------------------
def _forced_train(families: List[Family], extra_vocab: Sequence[str]) -> Set[str]:
    """Families that must stay in training: used by a showcase sample, or with an alias that is
    short ASCII (too easy to meet by accident inside other words), or that occurs inside another
    family's alias or a neutral/frame string -- otherwise a held-out alias would leak into
    users.jsonl through an innocent text."""
    samples = [_norm(str(s["text"])) for s in SAMPLES]
    frames = [f for fs in FRAMES.values() for f in fs] + ACT_FRAMES + TOPIC_FRAMES + PERSON_FRAMES + JOB_FRAMES
    frames += FILLERS + SLANG_GENERIC + [w for ws in TAG_ENGLISH.values() for w in ws]
    frames += [t.format(g=g) for t in EDU_GOAL_TEMPLATES for g, _ in EDU_GOALS]
    pool: Set[str] = set()
    for v in list(extra_vocab) + frames:
        pool.update(_substrings(_norm(v)))
    owners: Dict[str, Set[str]] = {}  # substring of some alias -> the families whose alias contains it
    for f in families:
        if f.kind == "clause":  # written clauses never hold a family back from the split: the leak
            continue            # guard rejects a clause naming a held-out alias when it is drawn
        for a in f.aliases:
            for s in _substrings(_norm(a)):
                owners.setdefault(s, set()).add(f.key)
    forced: Set[str] = set()
    for f in families:
        for a in (_norm(x) for x in f.aliases):
            if (len(a) < 2 or (a.isascii() and len(a) <= 3) or any(a in s for s in samples) or a in pool
                    or owners.get(a, set()) - {f.key}):
                forced.add(f.key)
                break
    return forced


def _substrings(text: str) -> Set[str]:
    return {text[i:j] for i in range(len(text)) for j in range(i + 1, len(text) + 1)}


def family_split(seed: int = DEFAULT_SEED, families: Optional[List[Family]] = None,
                 resources: Optional[Resources] = None) -> Dict[str, List[Family]]:
    """Deterministic {"train", "heldout", "calibration"} lists of families.

    Per (tag, kind), the families not forced into training are shuffled with the seed;
    HELDOUT_FRACTION of the group goes to heldout, CALIBRATION_FRACTION to calibration.
    Verbatim clauses (stages, slang) stay in training: they are shared phrasing, not entities.
    """
    if families is None:
        families = load_families()[0]
    resources = resources or Resources()
    forced = _forced_train(families, resources.vocabulary())
    groups: Dict[Tuple[str, str], List[Family]] = {}
    for f in families:
        groups.setdefault((f.tag, f.kind), []).append(f)
    split: Dict[str, List[Family]] = {"train": [], "heldout": [], "calibration": []}
    for gi, (key, members) in enumerate(sorted(groups.items())):
        free = [f for f in members if f.key not in forced and f.kind not in VERBATIM]
        rng = random.Random("%d/%s/%s" % (seed, key[0], key[1]))
        rng.shuffle(free)
        n_held = int(round(HELDOUT_FRACTION * len(members)))
        n_cal = int(round(CALIBRATION_FRACTION * len(members)))
        held = {f.key for f in free[:n_held]}
        cal = {f.key for f in free[n_held:n_held + n_cal]}
        for f in members:
            split["heldout" if f.key in held else "calibration" if f.key in cal else "train"].append(f)
    return split


def phrase_split(seed: int = DEFAULT_SEED) -> Tuple[Dict[str, List[str]], Dict[str, List[str]]]:
    """(train, heldout) aliases per tag: the flat view of ``family_split``."""
    split = family_split(seed)
    out = []
    for name in ("train", "heldout"):
        per_tag: Dict[str, List[str]] = {t: [] for t in TAGS}
        for f in split[name]:
            per_tag[f.tag].extend(f.aliases)
        out.append(per_tag)
    return out[0], out[1]


# --------------------------------------------------------------------------------------
# Text composition
# --------------------------------------------------------------------------------------
def _wchoice(rng: random.Random, items: Sequence[Tuple[object, float]]):
    total = sum(w for _, w in items)
    x = rng.random() * total
    acc = 0.0
    for item, w in items:
        acc += w
        if x < acc:
            return item
    return items[-1][0]


_FW = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}


def _to_fullwidth(text: str) -> str:
    return "".join(_FW.get(c, c) for c in text)


def _pick_tags(rng: random.Random) -> List[str]:
    r = rng.random()
    n = 1 if r < 0.6 else (2 if r < 0.9 else 3)
    tags = [_wchoice(rng, [(t, TAG_WEIGHTS[t]) for t in TAGS])]
    while len(tags) < n:
        if rng.random() < 0.4:
            pairs = [p for p in RELATED if (p[0] in tags) != (p[1] in tags)]
            if pairs:
                a, b = rng.choice(pairs)
                tags.append(b if a in tags else a)
                continue
        tags.append(_wchoice(rng, [(t, TAG_WEIGHTS[t]) for t in TAGS if t not in tags]))
    return tags


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


class Composer:
    """Builds texts from one split's families; the noise is shared by every split."""

    def __init__(self, families: List[Family], negations: Dict[str, List[Tuple[str, ...]]], res: Resources,
                 pii_rate: float, edu_goals: bool, written: Sequence[str] = ()):
        self.res = res
        self.written = list(written)  # written no-interest texts this split may use
        self.pii_rate = pii_rate
        self.edu_goals = edu_goals
        self.negations = negations
        self.by_tag: Dict[str, Dict[str, List[Family]]] = {t: {} for t in TAGS}
        for f in families:
            self.by_tag[f.tag].setdefault(f.kind, []).append(f)
        self.kind_weights = {t: [(k, KIND_WEIGHTS[k]) for k in sorted(kinds)] for t, kinds in self.by_tag.items()}
        self.neg_families = {t: [f for k in ("act", "topic") for f in self.by_tag[t].get(k, [])] for t in TAGS}

    # -- one interest mention -------------------------------------------------------
    def mention(self, rng: random.Random, tag: str) -> str:
        kind = _wchoice(rng, self.kind_weights[tag])
        fam = rng.choice(self.by_tag[tag][kind])
        alias = rng.choice(fam.aliases)
        if kind in VERBATIM:
            return alias
        if kind == "act":
            frames = ACT_FRAMES
        elif kind == "job":
            frames = JOB_FRAMES
        elif kind == "item":
            frames = ITEM_FRAMES
        else:
            frames = FRAMES.get((tag, kind)) or (PERSON_FRAMES if kind in ("person", "team") else
                                                 PLACE_DEFAULT if kind == "place" else TOPIC_FRAMES)
        return self._fill(rng, rng.choice(frames), alias)

    def _fill(self, rng: random.Random, frame: str, x: str) -> str:
        return frame.format(x=x, n=rng.choice(["两", "三", "五", "十", "2", "3", "6", "8", "10"]),
                            age=rng.choice(["80", "85", "90", "95", "00", "05"]), city=rng.choice(self.res.cities))

    def negation(self, rng: random.Random, tag: str) -> str:
        if self.negations[tag] and rng.random() < 0.6:
            return rng.choice(rng.choice(self.negations[tag]))
        fam = rng.choice(self.neg_families[tag])
        frames = NEG_FRAMES_ACT if fam.kind == "act" else NEG_FRAMES_TOPIC
        return rng.choice(frames).format(x=rng.choice(fam.aliases))

    def neutral(self, rng: random.Random) -> str:
        if self.written and rng.random() < 0.3:
            return rng.choice(self.written)
        r = rng.random()
        if r < 0.45:
            s = rng.choice(rng.choice(self.res.sentences))
            return s.format(city=rng.choice(self.res.cities), city2=rng.choice(self.res.cities))
        if r < 0.75:
            return rng.choice(self.res.hard)
        if r < 0.9:
            return rng.choice(FILLERS)
        return rng.choice(self.res.greetings)

    def bio(self, rng: random.Random) -> str:
        job, city = rng.choice(self.res.jobs), rng.choice(self.res.cities)
        return rng.choice(["{job}，{city}人", "{city}{job}", "坐标{city}", "{age}后{job}", "在{city}工作的{job}",
                           "{job}一枚", "{job}，常驻{city}", "我是{job}", "{city}人"]).format(
            job=job, city=city, age=rng.choice(["80", "85", "90", "95", "00"]))

    # -- whole texts ------------------------------------------------------------------
    def compose(self, rng: random.Random, tags: List[str]) -> str:
        per_tag = {1: (1, 3), 2: (1, 2), 3: (1, 1)}[len(tags)]
        parts = []
        for tag in tags:
            for _ in range(rng.randint(*per_tag)):
                parts.append(self.mention(rng, tag))
        if self.edu_goals and "教育" in tags and rng.random() < 0.25:
            parts.append(rng.choice(EDU_GOAL_TEMPLATES).format(g=_wchoice(rng, EDU_GOALS)))
        if len(parts) > 1 and rng.random() < 0.5:
            rng.shuffle(parts)
        if rng.random() < NEGATION_RATE:
            neg_tag = rng.choice([t for t in TAGS if t not in tags])
            i = rng.randrange(len(parts))
            parts[i] = rng.choice(NEG_JOIN).format(neg=self.negation(rng, neg_tag), pos=parts[i])
        if rng.random() < 0.3:
            parts.insert(0, self.bio(rng))
        n_neutral = rng.randint(3, 6) if rng.random() < LONG_BIO_RATE else (1 if rng.random() < 0.2 else 0)
        for _ in range(n_neutral):
            parts.insert(rng.randrange(len(parts) + 1), self.neutral(rng))
        if rng.random() < 0.15:
            parts.append(rng.choice(FILLERS))
        text = self._join(rng, parts)
        return self._noise(rng, text, tags)

    def compose_empty(self, rng: random.Random) -> str:
        """A text that states no interest (tags: [])."""
        res = self.res
        if self.written and rng.random() < WRITTEN_EMPTY_RATE:
            parts = [rng.choice(self.written) for _ in range(1 if rng.random() < 0.8 else 2)]
            return self._noise(rng, self._join(rng, parts) if len(parts) > 1 else parts[0], [])
        r = rng.random()
        if r < 0.14:
            text = rng.choice(res.greetings)
            if rng.random() < 0.3:
                text += rng.choice(["，", "！", "~", " ", "。"]) + self.neutral(rng)
        elif r < 0.27:
            text = self._gibberish(rng)
        elif r < 0.34:
            text = self._digits(rng)
        elif r < 0.55:
            text = self._join(rng, [self.neutral(rng) for _ in range(rng.randint(1, 3))])
        elif r < 0.65:
            text = self._join(rng, [self._personal(rng) for _ in range(rng.randint(1, 3))])
        elif r < 0.71:
            text = rng.choice(rng.choice(res.sentences[-40:]))  # fillers, questions, mottos
        elif r < 0.81:
            negs = [self.negation(rng, t) for t in rng.sample(TAGS, rng.randint(1, 3))]
            lead = rng.choice(["", "", "没什么爱好，", "什么都不感兴趣，", "没啥兴趣爱好，"])
            text = lead + self._join(rng, negs) if len(negs) > 1 or lead else negs[0]
        elif r < 0.85:
            text = "".join(rng.choice(EMOJI + [e for es in TAG_EMOJI.values() for e in es])
                           for _ in range(rng.randint(1, 4)))
        elif r < 0.89:
            text = rng.choice(res.english)
        else:
            text = self._join(rng, [self.bio(rng) if rng.random() < 0.5 else self.neutral(rng),
                                    self._personal(rng) if rng.random() < 0.5 else rng.choice(res.hard)])
        return self._noise(rng, text, [])

    def _join(self, rng: random.Random, parts: List[str]) -> str:
        text = parts[0]
        for p in parts[1:]:
            text += _wchoice(rng, SEPARATORS) + p
        return text + _wchoice(rng, ENDINGS)

    def _gibberish(self, rng: random.Random) -> str:
        r = rng.random()
        rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"]
        if r < 0.3:
            row = rng.choice(rows)
            i = rng.randrange(len(row) - 3)
            return row[i:i + rng.randint(4, len(row) - i)]
        if r < 0.55:
            letters = "abcdefghijklmnopqrstuvwxyz"
            words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 6))) for _ in range(rng.randint(1, 3))]
            return " ".join(words)
        if r < 0.7:
            ch = rng.choice(["啊", "哈", "嗯", "哦", "呃", "6", "a", "。", "？", "1"])
            return ch * rng.randint(3, 10)
        if r < 0.9:
            return "".join(rng.choice(self.res.common) for _ in range(rng.randint(2, 7)))
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789_") for _ in range(rng.randint(4, 12)))

    def _digits(self, rng: random.Random) -> str:
        r = rng.random()
        if r < 0.4:
            return "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9)))
        if r < 0.7:
            return rng.choice(["！", "。", "？", "…", "~", ".", "?", "!", "-", "*", "+"]) * rng.randint(1, 6)
        return rng.choice(["123", "666", "888", "111", "000", "520", "1314"]) + rng.choice(["", "！", "。", "~"])

    def _personal(self, rng: random.Random) -> str:
        return rng.choice([
            "年龄%d" % rng.randint(16, 60), "%d岁" % rng.randint(16, 60), "身高%d" % rng.randint(150, 190),
            "身高%dcm" % rng.randint(150, 190), "体重%dkg" % rng.randint(40, 90), "%d年生" % rng.randint(1965, 2008),
            "男", "女", "性别男", "性别女", "%s人" % rng.choice(self.res.cities), "老家%s" % rng.choice(self.res.cities),
            "联系方式见主页", "电话%s" % _fake_phone(rng), "邮箱%s" % _fake_email(rng), "微信同号",
            "QQ %d" % rng.randint(10_000_000, 999_999_999), "学历本科", "%s座" % rng.choice("白羊金牛双子巨蟹狮子处女天秤天蝎射手摩羯水瓶双鱼"),
        ])

    def _noise(self, rng: random.Random, text: str, tags: List[str]) -> str:
        res = self.res
        if rng.random() < 0.06:  # pinyin for one CJK word
            runs = [i for i in range(len(text) - 1) if _is_cjk(text[i]) and _is_cjk(text[i + 1])]
            if runs:
                i = rng.choice(runs)
                n = 2 if rng.random() < 0.7 else 3
                chunk = text[i:i + n]
                if all(c in res.pinyin for c in chunk):
                    py = [res.pinyin[c] for c in chunk]
                    text = text[:i] + (" ".join(py) if rng.random() < 0.4 else "".join(py)) + text[i + n:]
        if rng.random() < 0.03:
            text = rng.choice(PINYIN_CHUNKS) + " " + text
        if rng.random() < 0.1:  # homophone typo
            spots = [i for i, c in enumerate(text) if c in res.homophones]
            if spots:
                i = rng.choice(spots)
                text = text[:i] + rng.choice(res.homophones[text[i]]) + text[i + 1:]
        if rng.random() < 0.08:
            text += rng.choice(["，", " ", "！"]) + rng.choice(SLANG_GENERIC)
        if tags and rng.random() < 0.07:
            text += rng.choice([" ", "，", " #"]) + rng.choice(TAG_ENGLISH[rng.choice(tags)])
        elif rng.random() < 0.03:
            text += " " + rng.choice(self.res.english)
        if rng.random() < 0.15:
            pool = EMOJI + (TAG_EMOJI[rng.choice(tags)] if tags else [])
            text += "".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.07:  # traditional characters
            text = "".join(res.s2t.get(c, c) for c in text)
        if rng.random() < 0.03:
            text = _to_fullwidth(text)
        if rng.random() < self.pii_rate:
            for _ in range(2 if rng.random() < 0.2 else 1):
                kind = _wchoice(rng, PII_KINDS)
                snippet = rng.choice(PII_TEMPLATES[kind]).format(v=_PII_MAKERS[kind](rng))
                text = (text.rstrip("。！~!…～") + "，" + snippet) if rng.random() < 0.8 else snippet + "。" + text
        return text[:MAX_LEN]


def _ordered(tags: Iterable[str]) -> List[str]:
    s = set(tags)
    return [t for t in TAGS if t in s]


class _LeakGuard:
    """Rejects a text that contains any alias of the families it must not use."""

    def __init__(self, families: Iterable[Family]):
        self.aliases = {_norm(a) for f in families for a in f.aliases}
        self.max_len = max((len(a) for a in self.aliases), default=0)

    def leaks(self, text: str) -> Optional[str]:
        t = _norm(text)
        for i in range(len(t)):
            for n in range(2, min(self.max_len, len(t) - i) + 1):
                if t[i:i + n] in self.aliases:
                    return t[i:i + n]
        return None


def _population(rng: random.Random, composer: Composer, n: int, guard: _LeakGuard, seen: Set[str],
                prefix: str, width: int, id_key: str) -> List[dict]:
    out: List[dict] = []
    while len(out) < n:
        if rng.random() < NO_INTEREST_RATE:
            tags: List[str] = []
            text = composer.compose_empty(rng)
        else:
            tags = _pick_tags(rng)
            text = composer.compose(rng, tags)
        if not text.strip() or text in seen or guard.leaks(text):
            continue
        seen.add(text)
        out.append({id_key: "%s%0*d" % (prefix, width, len(out) + 1), "text": text, "tags": _ordered(tags)})
    return out


def generate(n_users: int = DEFAULT_USERS, n_heldout: int = DEFAULT_HELDOUT, seed: int = DEFAULT_SEED,
             n_calibration: int = DEFAULT_CALIBRATION) -> Tuple[List[dict], List[dict], List[dict], List[dict]]:
    """Return (users, heldout, calibration, samples) records; a pure function of the arguments."""
    families, negations = load_families()
    res = Resources()
    split = family_split(seed, families, res)
    seen = {str(s["text"]) for s in SAMPLES}
    others = {name: [f for k, fs in split.items() if k != name for f in fs] for name in split}
    users = _population(random.Random(seed), Composer(split["train"], negations, res, USER_PII_RATE, True,
                                                      res.written_train), n_users,
                        _LeakGuard(others["train"]), seen, "u", 6, "user_id")
    held = _population(random.Random(seed + 1),
                       Composer(split["heldout"], negations, res, HELDOUT_PII_RATE, False, res.written_new),
                       n_heldout, _LeakGuard(split["calibration"]), seen, "h", 4, "id")
    cal = _population(random.Random(seed + 2),
                      Composer(split["calibration"], negations, res, HELDOUT_PII_RATE, False, res.written_new),
                      n_calibration, _LeakGuard(split["heldout"]), seen, "c", 4, "id")
    return users, held, cal, [dict(s) for s in SAMPLES]


def _held_back(seed: int) -> Tuple["Resources", "_LeakGuard"]:
    """(the resources, a guard against every alias of the held-out and calibration families) for the labelled
    training lines: a line naming such an alias is left out, by the same leak check the users pass."""
    families, _ = load_families()
    res = Resources()
    split = family_split(seed, families, res)
    return res, _LeakGuard([f for k, fs in split.items() if k != "train" for f in fs])


def written_training_rows(seed: int = DEFAULT_SEED,
                          held_back: Optional[Tuple["Resources", "_LeakGuard"]] = None) -> List[dict]:
    """The written lexicons as labelled training texts (``written.jsonl``): every written clause with its tag
    and every written no-interest text kept for the users (four in five; the fifth belong to the held-out
    and calibration splits), verbatim. A clause naming an alias of a held-out or calibration family is left
    out, by the same leak check the users pass. The no-signal detector trains on them (infra/demo.yaml,
    ``signal_data``): in the users each clause appears once at most, many not at all. ``held_back``: ``_held_back``'s
    answer, when the caller has it already."""
    res, guard = held_back or _held_back(seed)
    rows: List[dict] = []
    for tag, clause in read_written_clauses(LEXICONS / "written" / "clauses.tsv"):
        if not guard.leaks(clause):
            rows.append({"id": "w%05d" % (len(rows) + 1), "text": clause, "tags": [tag]})
    for text in res.written_train:
        rows.append({"id": "w%05d" % (len(rows) + 1), "text": text, "tags": []})
    return rows


def signal_training_rows(seed: int = DEFAULT_SEED, users: Sequence[dict] = (),
                         held_back: Optional[Tuple["Resources", "_LeakGuard"]] = None) -> List[dict]:
    """The no-signal detector's own training texts (``signal.jsonl``): ``lexicons/signal/`` (written in session 10
    by four writers given a plain brief, data/README.md), labelled, verbatim, never part of the population: the
    encoder does not see them. A text naming an alias of a held-out or calibration family is left out, as for
    ``written.jsonl``, and so is one that happens to equal a bio of ``users`` (a short one: "果粉")."""
    _, guard = held_back or _held_back(seed)
    taken = {_norm(u["text"]) for u in users}
    rows: List[dict] = []
    for tag, text in read_written_clauses(LEXICONS / "signal" / "clauses.tsv"):
        if not guard.leaks(text) and _norm(text) not in taken:
            rows.append({"id": "s%05d" % (len(rows) + 1), "text": text, "tags": [tag]})
    neutral = LEXICONS / "signal" / "neutral.txt"
    for text in (_read_list(neutral) if neutral.is_file() else []):
        if not text.startswith("#") and not guard.leaks(text) and _norm(text) not in taken:
            rows.append({"id": "s%05d" % (len(rows) + 1), "text": text.strip(), "tags": []})
    return rows


def _write_jsonl(path: Path, records: List[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write(out: Path, n_users: int = DEFAULT_USERS, n_heldout: int = DEFAULT_HELDOUT, seed: int = DEFAULT_SEED,
          n_calibration: int = DEFAULT_CALIBRATION) -> Dict[str, int]:
    """Generate and write the six files into ``out``; return per-tag user counts (and "none")."""
    users, held, cal, samples = generate(n_users, n_heldout, seed, n_calibration)
    out.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / "users.jsonl", users)
    _write_jsonl(out / "heldout.jsonl", held)
    _write_jsonl(out / "calibration.jsonl", cal)
    _write_jsonl(out / "samples.jsonl", samples)
    held_back = _held_back(seed)
    _write_jsonl(out / "written.jsonl", written_training_rows(seed, held_back))
    _write_jsonl(out / "signal.jsonl", signal_training_rows(seed, users, held_back))
    counts = {t: 0 for t in TAGS}
    counts["none"] = 0
    for u in users:
        for t in u["tags"] or ["none"]:
            counts[t] += 1
    return counts


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the synthetic coldstart demo population "
                                             "(users.jsonl, heldout.jsonl, calibration.jsonl, samples.jsonl, written.jsonl, "
                                             "signal.jsonl).")
    ap.add_argument("--users", type=int, default=DEFAULT_USERS, help="number of active users (default %(default)s)")
    ap.add_argument("--heldout", type=int, default=DEFAULT_HELDOUT, help="held-out new-user texts (default %(default)s)")
    ap.add_argument("--calibration", type=int, default=DEFAULT_CALIBRATION,
                    help="calibration-split texts (default %(default)s)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: the data/ folder)")
    args = ap.parse_args(argv)
    if args.users < 1 or args.heldout < 0 or args.calibration < 0:
        ap.error("--users must be >= 1, --heldout and --calibration >= 0")
    counts = write(args.out, args.users, args.heldout, args.seed, args.calibration)
    print("wrote %d users, %d heldout, %d calibration, %d samples to %s; users per tag: %s" % (
        args.users, args.heldout, args.calibration, len(SAMPLES), args.out,
        " ".join("%s=%d" % (t, c) for t, c in counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
