"""Personal names (PERSON_NAME -> ``[NAME]``): context rules plus a surname table.

A Chinese name is a surname (``lexicon.names.SURNAMES``, or a compound one: 欧阳 司马 诸葛 ...) and one
or two given-name characters. It is only looked for where a bio introduces a person, in four ways:

* after a context word (``_CONTEXTS``), which has one of three strengths:
  - *intro* (我叫, 姓名, 名字是, 真名, 中文名, 叫我 ...): the name may lack a known surname (我叫小红,
    名字叫庹家宝) and may be a minority name with a middle dot (买买提·艾力);
  - *strong* (本人, 联系人, 收件人, 户名, 车主, 家长, 房东, 老公 ...): a known surname is needed;
  - *weak* (找, 联系, 我是, 来自, job titles such as 会计 / 店长 / 站长, "X的" ...): a known surname and
    common given-name characters (``GIVEN_CHARS``), and not a common word (安静, 周末, 高中 ...);
* right before a word that follows names (… 的家长, … 老师, … 收) or a phone or ID number (伍思琪 157...,
  glued: 岳红伟137..., after a city: 武汉刘晶晶 4201...);
* right after a noun for its bearer (小学语文老师尹红梅，, 退休工人程德贵，: three characters after any word ending
  in 师 员 者 人 工 长 手 官 ...; two as well after a listed role word: 群主马丽, 奶爸石浩, 运营孙菲菲);
* as a clause of its own ("信息：傅丽娟，", "，吕志强，", a bio starting "司马云飞｜"; two characters only as a
  field, after a greeting, or between commas in a bio that carries contact data: "，喻晨，QQ…");
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
            "真实姓名", "中文名", "中文名字", "叫我", "称呼我", "我系", "名叫", "就叫",
            "大名", "本名", "全名", "吾名", "俺叫", "名为", "真实名字"),
    STRONG: ("本人", "联系人", "收件人", "收货人", "寄件人", "收款人", "户名", "开户名", "持卡人", "车主", "户主",
             "家长", "家属", "房东", "业主", "法人", "负责人", "经办人", "署名", "老公", "老婆", "爱人", "妻子",
             "丈夫", "我妈", "我爸", "我妈叫", "我爸叫", "儿子", "女儿", "孩子叫", "宝宝叫", "我姐", "我哥", "我妹",
             "我弟", "紧急联系人", "英文名", "签名", "姓名拼音", "拼音", "开户人", "介绍人", "推荐人", "监护人", "申请人",
             "报名人", "委托人", "担保人", "联络人", "对接人", "受益人", "患者", "学员", "主理人", "店主", "创始人",
             "他爸", "他妈", "孩子爸", "孩子妈", "媳妇", "对象", "男朋友", "女朋友", "新娘", "新郎"),
    WEAK: ("找", "找我", "联系", "联系我", "我是", "我", "来自", "转告", "交给", "代收", "报名", "会计", "店长", "站长", "老板", "老板娘",
           "经理", "主管", "组长", "班长", "队长", "阿姨", "师傅", "司机", "网格员", "员", "部", "中文", "叫",
           "同学", "同事", "朋友", "邻居", "是我", "信息", "的", "自己", "助理",
           "秘书", "经纪人", "代理人", "同桌", "室友", "班主任", "主任", "校长", "院长", "医生", "律师", "导游", "教练",
           "客户", "表哥", "表姐", "表弟", "表妹", "堂哥", "堂姐", "舅舅", "姑姑", "叔叔", "阿姨", "咨询", "——", "—",
           "落款", "称呼", "实习生", "新人", "学生", "by", "By", "俺是", "认识", "中介", "师傅",
           # occupations people put before their own name ("设计师王梓涵，"; not 主播 / 博主 / 作者: "喜欢的主播是X"
           # names a public figure)
           "设计师", "工程师", "程序员", "摄影师", "化妆师", "美甲师", "营养师", "咨询师", "培训师", "护士",
           "销售", "客服", "顾问", "讲师", "翻译", "宝妈", "宝爸",
           "这里是", "母亲", "父亲", "奶奶是", "姐姐", "哥哥", "弟弟", "妹妹", "我们是",
           # kin and band / club roles right before a name ("我婆婆万桂香", "老二李沐阳", "两个娃贾一诺",
           # "闺蜜葛欣然", "主唱季明轩", "私教龙浩宇", "学生会主席 滕子骞"): weak, so "妈妈包饺子" stays
           "婆婆", "公公", "岳父", "岳母", "丈母娘", "老丈人", "闺蜜", "发小", "老大", "老二", "老三", "大宝",
           "二宝", "个娃", "俩娃", "娃叫", "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "爸爸", "妈妈", "老爸", "老妈",
           "主唱", "吉他", "吉他手", "鼓手", "贝斯", "贝斯手", "键盘手", "私教", "主席", "会长", "社长", "队员",
           "团长", "领队", "搭档", "合伙人", "徒弟", "师父"),
}
_STRENGTH = {w: level for level, words in _CONTEXTS.items() for w in words}
_SEP = r"(?:[ ]?[:=][ ]?|[ ]?(?:是|为|叫)[ ]?|[ ])?"
# Only intro words may introduce a name without a known surname; every other context word must be
# followed by a surname's first character (a lookahead: most "的" / "找" never reach Python code).
_INTRO_RE = re.compile(
    "(?P<w>" + "|".join(re.escape(w) for w in sorted(_CONTEXTS[INTRO], key=len, reverse=True)) + ")" + _SEP
)
_NAME_STARTS = frozenset(SURNAMES) | {w[0] for w in COMPOUND_SURNAMES}
_NAME_START_CLASS = "[" + "".join(sorted(_NAME_STARTS)) + "]"
# Emoji and pictographs (☀-➿, 🀀-🫿) end a clause as punctuation does ("🌸林晓雯🌸 | 厦门").
_EMOJI = "\u2600-\u27bf\U0001f000-\U0001faff"
_CLAUSE_END = r"(?=$|[，,。；;！!？?|｜/、()（）【】\[\] ~～「」『』" + _EMOJI + "])"
# A short clause that starts with a surname: "，吕志强，", "司马云飞｜..." (at the start: _FIRST_CLAUSE_RE).
_CLAUSE_RE = re.compile(
    r"[，,。；;！!？?|｜/、()（）【】\[\] ~～:「『" + _EMOJI + "](?=" + _NAME_START_CLASS
    + r")(?P<c>[\u4e00-\u9fff]{2,4})" + _CLAUSE_END
)
# What may stand before a two-character name clause in a bio with contact data (emoji: _is_emoji).
_CLAUSE_SEPARATORS = frozenset(",，。!！?？")
_EMOJI_RE = re.compile("[" + _EMOJI + "]")
_MINORITY_CLAUSE_RE = re.compile(r"[\u4e00-\u9fff]{4,6}" + _CLAUSE_END)
_FIRST_CLAUSE_RE = re.compile(r"(?=" + _NAME_START_CLASS + r")(?P<c>[\u4e00-\u9fff]{2,4})" + _CLAUSE_END)
_CONTEXT_RE = re.compile(
    "(?P<w>" + "|".join(re.escape(w) for w in sorted(_STRENGTH, key=len, reverse=True) if _STRENGTH[w] != INTRO)
    + ")" + _SEP + "(?=" + _NAME_START_CLASS + "|扎西|卓玛|次仁|多吉|央金|格桑|旦增|尼玛|达瓦|娜仁|乌兰|买买|阿依|古丽|艾力|阿不)"
)
# Characters that end a name (particles, verbs, titles, words that follow a name in a sentence).
_STOP = frozenset("的了是在和与及或也都就还又很今昨来去到从住做当喜想要会能说叫姓岁男女啊呀吧呢哦哈嘛"
                  "哥姐弟妹爸妈们这那有没不我你他她它请加电手微扣邮号已目收打负帮给让被把将对向往为所而且但却"
                  "即便因此故则后里外内间")
# An English name (first and family name) as the clause right before: the Chinese name after it is the same person's.
_EN_NAME_BEFORE_RE = re.compile(r"(?<![A-Za-z])[A-Z][a-z]+[ ][A-Z][a-z]+[ ]?[，,/|｜(]\Z")
# Function words that never end a name, even alone in their clause ("我叫周的" is no name).
_PARTICLES = frozenset("的了是在和与及或也都就还又很吧呢啊呀哦嘛哈们我你他她它这那")
# Characters that may stand right before a name the right-context rule finds ("说是贾云鹏的同学").
_LEFT_OF_NAME = frozenset("是叫说找和与及给让被把将对向为的了在从到我你他她班级校区市县人长员任师理书总")
# Titles after a surname: 王先生, 张老师, 刘女士 (a surname with a title is not a name).
_TITLES = ("先生", "女士", "小姐", "老师", "师傅", "医生", "大夫", "律师", "经理", "总监", "老板", "同学", "阿姨",
           "叔叔", "大哥", "大姐", "姐姐", "哥哥", "教授", "主任", "院长", "校长", "书记", "局长", "处长", "科长",
           "总", "工", "哥", "姐", "某", "氏", "姓")
_TITLE_RE = re.compile("|".join(sorted(_TITLES, key=len, reverse=True)))
_TITLE_STARTS = frozenset(t[0] for t in _TITLES)  # a set test before the regex (~3 times per context word)
# How non-Han names start (Tibetan, Mongolian, Uyghur ...): they have no surname from the table.
_MINORITY_STARTS = frozenset(
    "扎西 卓玛 次仁 多吉 央金 格桑 旦增 尼玛 达瓦 拉姆 平措 措姆 顿珠 益西 索朗 洛桑 才让 德吉 白玛 仁增 "
    "巴特 娜仁 乌兰 其其 图雅 斯琴 额尔 阿拉 苏日 宝音 那日 朝鲁 布和 哈斯 吉日 萨仁 "
    "买买 阿依 古丽 热依 艾力 阿不 吐尔 努尔 帕提 迪丽 依明 艾合 阿布 热合 玉素 肉孜 库尔 再努 米热".split()
)
# Clause boundaries around a name that stands alone.
_BOUNDARY = frozenset("，,。；;！!？?|｜/、()（）【】[] \n~～:：\"“”'「」『』")
_WEAK_BOUNDARY_ONLY = frozenset(["的", "员", "部", "信息", "中文", "叫", "——", "—", "我"])  # name must end at a boundary

# A name written with a space between its characters ("我叫李 娜，", "我是王 建 军"): after a context word.
_SPACED_NAME_RE = re.compile(r"[\u4e00-\u9fff](?: [\u4e00-\u9fff]){1,2}(?=$|[，,。；;！!？?|｜/、() ~～:])")
_SPACED_COMPOUND_RE = re.compile(r"[\u4e00-\u9fff]{2} [\u4e00-\u9fff]{1,2}(?=$|[，,。；;！!？?|｜/、() ~～:])")
# Ethnic-group introductions name a person without a Han surname: "彝族小伙吉克曲布", "藏族姑娘卓玛".
_ETHNIC_INTRO_RE = re.compile(
    r"[\u4e00-\u9fff]{1,3}族(?P<w>小伙子?|姑娘|小姑娘|妹子|女孩|男孩|汉子|小哥|大叔|阿姨|大姐)"
)
# A bio opening with a name and then an age, a gender or a job ("赵磊，32岁", "孙浩 28 健身教练", "蒋大勇 川菜厨师").
_OPENING_RE = re.compile(
    r"(?P<n>[\u4e00-\u9fff]{2,3})(?:[，,][ ]?(?:[1-9][0-9](?:岁|[，, ]|$)|[男女](?:[，, ]|$)|1[3-9][0-9]|[1-9][0-9]{5}"
    r"|[\u4e00-\u9fff]{1,3}族|[\u4e00-\u9fff]{0,3}(?:师|员|生|手|工|厨|医|护士|教练|骑手|老板)(?:[ ，,]|$))"
    r"|(?<=[\u4e00-\u9fff]{3})[:](?=.*(?:[0-9]{5}|@))"
    r"|[ ](?:[1-9][0-9](?:岁|[ ，,]|$)|[\u4e00-\u9fff]{0,3}(?:师|员|生|手|工|家|长|厨|医|护士|教练|骑手|老板|设计|销售)(?:[ ，,]|$)))"
)
# A name right after a noun for a person that describes its bearer ("小学语文老师尹红梅，", "退休工人程德贵，",
# "篮球少年郝嘉豪，", "厂长沈卫东138...", "孙女王诗涵帮我…"). Two ways: a three-character full name after any
# word ending in a character that ends such nouns (师 员 者 人 工 ...: 讲师, 志愿者, 军人, 铲屎官), or a two-character
# one after a role word of the list (奶爸石浩, 群主马丽: "亲子乐园", "王者荣耀" must stay). The name must be a plain full
# name (surname table, common given characters, not a word) and end its clause or stand before a particle.
_ROLE_ENDS = "师员者人工长手官友粉伙妹娘姐哥爷姨舅伴孙客姆洁台农记编教勤"
_ROLE_WORDS = (
    "奶爸", "宝妈", "群主", "老粉", "铁粉", "插画师", "画师", "妹子", "妹儿", "小伙", "姑娘", "老伴", "孙女", "孙子",
    "外孙", "大姐", "大哥", "二姐", "二哥", "二姨", "大姨", "小姨", "舅舅", "姑妈", "姨妈", "保姆", "保洁", "园长", "厂长",
    "租客", "领导", "领舞", "少年", "青年", "达人", "爱好者", "志愿者", "主人", "研究生", "毕业生", "留学生", "大学生",
    "学长", "学姐", "学弟", "学妹", "师兄", "师姐", "师弟", "师妹", "老乡", "姐妹", "兄弟", "闺女", "侄子", "侄女",
    "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷",
    # jobs in a team or an office ("运营孙菲菲，", "设计苏沐、", "乙方邱梓涵，")
    "助理", "策划", "法务", "美工", "运营", "设计", "文案", "主编", "乙方", "甲方", "前台", "财务", "出纳", "人事",
    "行政", "房主", "摊主", "果农", "书记", "裁缝", "村官", "村长", "店员",
    "老师", "教练", "导游", "作家", "小哥", "老兵", "老铁", "学徒", "体育生", "失主", "崽儿",
)
_AFTER_ROLE_NAME_CHARS = "在也帮做的是就都还又和说让给带教开负"  # what may follow such a name in a sentence
_AFTER_ROLE_NAME = frozenset(_AFTER_ROLE_NAME_CHARS)
# One scan for the last character of a role (a character class: CPython skips ahead to it) followed by a surname
# and a place where a name can end, then Python checks.
_ROLE_THEN_NAME_RE = re.compile(
    "[" + "".join(sorted(set(_ROLE_ENDS) | {w[-1] for w in _ROLE_WORDS})) + "](?=" + _NAME_START_CLASS
    + "[\u4e00-\u9fff]{1,3}(?:[^\u4e00-\u9fff]|$|[" + _AFTER_ROLE_NAME_CHARS + "]))"
)
_ROLE_WORD_SET = frozenset(_ROLE_WORDS)
# Contact data in a bio: a two-character clause between commas there is a contact's name ("，石磊，微信…").
_CONTACT_DATA_RE = re.compile(
    r"[0-9]{5}|@|微|[vVwW][xX]|[qQ]{2}|[qQ][:0-9]|扣|企鹅|[vV]信|[vV]\)|WeChat|wechat|绿泡泡"
    r"|[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9]"  # an id-shaped token ("vruanming_bj")
)
_GLUED_NUMBER_RE = re.compile(r"1[3-9][0-9]{9}\Z|[1-9][0-9]{16,17}\Z")  # a mobile, an ID number
_NOT_GIVEN_LAST = frozenset("年月日天号岁点分学")  # "二手车两年", "师范大学": a count or a word, not a name

# A name signed at the end of the bio after a dash, a tilde or a dot ("谢谢关注～陶然", "写于深夜 · 鲍鸿", "署个名 庞博").
_SIGNATURE_RE = re.compile(r"(?:[～~·•—\-]+|署个?名|落款)[ ]?(?P<n>[\u4e00-\u9fff]{2,3})[。.!！~～ ]*\Z")
_NICKNAME_CALLERS_RE = re.compile(r"(?:都|大家|们|可以|就|直接)\Z")
# "小名叫豆豆", "网名叫小鱼干", "微信名叫安安妈", "昵称是…": a nickname, not a name
_NICKNAME_WORD_RE = re.compile(r"(?:(?:小|网|昵|花|艺|笔|信|戏|号|乳)名|昵称)\Z")
# A second name after 和 / 与 / 、 ("贾一诺和贾一航").
_AND_NAME_RE = re.compile(r"(?:[和与跟及、]|或者?|或是)[ ]?(?P<n>[\u4e00-\u9fff]{2,4})")
# Words that may follow a given name an intro word introduced ("叫我小雨就好", "叫我阿杰吧").
_NAME_FOLLOWER_RE = re.compile("就好|就行|就可以|即可|好了|吧|哦|呀|啊|哈|啦|嘛|~")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_UPPER_RE = re.compile(r"[A-Z]")
_DOTS = "·•・‧∙"
_DOT_RE = re.compile("[" + _DOTS + "]")
# Characters that end the part of a transliterated name next to a middle dot ("伊犁的努尔兰·叶尔江"):
# the function words of a sentence, not the syllables names are written with (不, 都 in 阿不都, 那 in 那日苏).
_DOT_STOP = frozenset("的了是在和与及或也就还又很我你他她它这们吧呢啊呀哦嘛说看喜欢想要会能去到从叫姓岁男女和跟给被把将对向往为")
# Syllables transliterated names are written with: a dotted name needs two of them ("摄影·旅行" is a list).
_TRANSLIT = frozenset(
    "阿艾爱安奥巴拜贝比别波布查达丹德迪蒂多厄尔法菲弗甫盖戈格古哈海汉赫胡吉加贾杰卡开凯坎柯科克库拉莱兰朗勒雷"
    "黎里丽利莉力列林琳卢鲁伦罗洛玛马买迈麦曼米敏莫姆穆纳娜奈尼努诺帕佩皮普齐奇琪乔热瑞萨塞桑森沙莎舍什斯苏"
    "索塔泰汤特提图托瓦万威维沃乌西希夏谢辛亚雅耶伊依尤约扎泽詹孜木汗江提亚孜买合曼古则丁拜依布那仁巴雅图"
    "措玛拉姆嘎珍卓扎次旺平顿央金格桑旦增尼达瓦才让白仓日苏宝音朝鲁额"
)
# Words that follow a name ("孔令浩的家长", "汪卫东老师", "孟凡宇收", "李娜是我妈", "王芳的电话"). Every
# alternative starts with a literal character, so CPython's re skips ahead to those characters (one
# alternative in a group of its own, "(?:老师|先生...)", made it try every position: 15 us per bio, now 3);
# the character before the match must be CJK (checked in Python).
_RIGHT_RE = re.compile(
    "家长|妈妈|爸爸|同学|朋友|老公|老婆|哥哥|姐姐|弟弟|妹妹|儿子|女儿|问候|本人"
    "|是我的?(?:妈|爸|老公|老婆|爱人|女儿|儿子|哥|姐|弟|妹|同学|朋友|室友|同事|老板|舅|姑|叔|姨|名字)"
    "|的(?:电话|手机|微信|QQ|qq|邮箱|号码|联系方式|身份证)"
    "|老师|先生|女士|医生|律师|经理|师傅|阿姨"
    "|收(?![\u4e00-\u9fff])|来报到|敬上|谨上|在此|就是我|的个人简介|的简介|的自我介绍|的主页"
    "|\\((?:真名|本名|实名)|是我的?(?:真名|本名|真实姓名)"
)
# Verbs that follow a name in a sentence: "同事张华介绍的",
# "朋友王明一起来的" (not 华介, 明一: the verb starts inside what would be a two-character given name).
_VERB_AFTER_NAME_RE = re.compile("介绍|推荐|告诉|一起|负责|同意|帮忙|陪我|带我|拉我|邀请|转发|分享")
# A greeting clause right before a two-character clause: "自我介绍一下，杨帆，90后", "大家好，林一，..."
_GREETING_BEFORE_RE = re.compile(
    r"(?:^|[，,。!！ ~～])(?:大家好|你们好|你好|您好|哈喽|嗨|hello|Hello|hi|Hi|HI|自我介绍一下|简单介绍一下|介绍一下自己"
    r"|自我介绍)[呀啊哈~～!！]*[，,。 :|｜]\Z"
)
# A name in brackets after a nickname or an English name: "Kevin（刘凯）", "助理小周（周芳）", "阿杰(杜杰)".
_NICKNAME_BEFORE_RE = re.compile("(?:小|阿|老)[\u4e00-\u9fff]\\Z")
_TITLE_WORDS = frozenset("老师 先生 女士 医生 律师 经理 师傅 阿姨".split())
_OWN_NAME_WORDS = ("(真名", "(本名", "(实名", "是我真名", "是我的真名", "是我本名", "是我的本名", "是我真实姓名",
                   "是我的真实姓名")
PUBLIC, PRIVATE, OWN = 0, 1, 2  # what the words after a name say about it
# A page about the person: a private name (a public figure has one too: "李白的简介" stays)
_PAGE_WORDS = frozenset(["的个人简介", "的简介", "的自我介绍", "的主页"])
_GENDER_RE = re.compile("[，,][ ]?[男女](?=[，,。;； ]|$|[0-9])")  # "李娜，女，28岁"
_NUMBER_WORDS = ("电话", "手机", "微信", "tel", "Tel", "TEL", "身份证", "身份证号", "身份证号码", "卡号")  # name, word, number
_EN_NAME_RE = re.compile(
    r"[A-Z](?<![A-Za-z].)(?:[a-z]+[ ][A-Z]{2,}(?![A-Za-z])|[A-Z]+[ ][A-Z][a-z]+(?![A-Za-z])"  # Tony ZHANG, ZHANG Tony
    r"|[a-z]+(?:[ ][A-Z][a-z]+){0,2}(?![A-Za-z])|[A-Z]+(?:[ ][A-Z]{2,}){1,2}(?![A-Za-z]))"
)
_FAN_AFTER_RE = re.compile("[ ]?的?(?:粉丝|铁粉|歌迷|影迷|球迷|书迷|演唱会|新歌|电影|小说)")
_EN_CONTEXT_RE = re.compile(
    r"(?:(?<![A-Za-z])(?:I'm|I am|my name is|My name is|this is|This is|ask for|Ask for|call me|Call me|by|By)[ ]|"
    r"(?:我叫|英文名字?|姓名拼音|拼音|联系人?|本人|姓名|名字|我是|叫我|称呼我?|签名|署名|全名|本名|大名|店主|主理人|老师|店长|—)[ ]?[:]?[ ]?|"
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
    while j > 0 and i - j < 3 and text[j - 1] in " :-~_":
        j -= 1
    if not text.endswith(_NUMBER_WORDS, 0, j):  # (the common case, in one call)
        return j if j < i else -1
    for word in _NUMBER_WORDS:
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


# A placeholder of an earlier pass ("[PHONE]", "[EMAIL]") stands where digits or letters stood. The name rules read
# the characters around a name (a clause end, a boundary, a letter glued to it), and its brackets would read as
# boundaries the value never was ("全合来711000@…" is no name clause, "全合来[EMAIL]" would be; "设计师东方a@b.cb" has
# no name, "设计师东方[EMAIL]" would): masking would not be a fixpoint (atheris). So the rules see every placeholder
# as a run of 乁 (U+4E41), a Han character that is no surname, given name, word or mark, and that neither ends nor
# starts a name: the weaker reading, so what the first pass left stays left. (Not ASCII letters: "联系Q[QQ]" would
# read as the Latin name "Qxxxx".)
_PLACEHOLDER_RE = re.compile(r"\[[A-Z_]+\]")
_FILLER = "\u4e41"


def _placeholders_as_filler(text: str) -> str:
    if "[" not in text:
        return text
    return _PLACEHOLDER_RE.sub(lambda m: _FILLER * len(m.group(0)), text)


def _at_boundary(text: str, i: int) -> bool:
    return i >= len(text) or text[i] in _BOUNDARY or not _is_cjk(text[i]) and not text[i].isalpha()


def _not_a_name(word: str) -> bool:
    return (word in PUBLIC_FIGURES or word in COMMON_WORDS or word[:2] in COMMON_WORDS
            or word[:2] in PLACE_NAMES or word[:3] in PLACE_NAMES
            or word in _STRENGTH or word[:2] in _STRENGTH)  # 班长, 拼音: the words that introduce names


def _nickname(text: str, at: int, span: Tuple[int, int]) -> bool:
    """"大家都叫我小胖", "朋友都叫我贝贝", "你可以叫我阿狸": what others call the user, a nickname
    (小X / 阿X / 老X or a doubled character), not the user's name."""
    name = text[span[0]:span[1]]
    return (len(name) == 2 and (name[0] in "小阿老" or name[0] == name[1])
            and _NICKNAME_CALLERS_RE.search(text, max(0, at - 4), at) is not None)


def _after_nickname_word(text: str, at: int) -> bool:
    """The context word at ``at`` follows a nickname word, or shares its 名 with one: "网名：夜雨声烦",
    "小名叫豆豆" (context word 名叫), "微信名叫安安妈"."""
    return _NICKNAME_WORD_RE.search(text, max(0, at - 3), at) is not None \
        or _NICKNAME_WORD_RE.search(text, max(0, at - 3), at + 1) is not None


def _plain_full_name(cand: str) -> bool:
    """A surname (table) and one or two common given-name characters, not a word, a place, a public figure
    or a surname with a title: what the rules without a context word accept (an opening, a signature,
    a second name after 和)."""
    sl = _surname_len(cand, 0)
    return (sl > 0 and 1 <= len(cand) - sl <= 2 and not _not_a_name(cand) and cand not in PUBLIC_FIGURES
            and _given_ok(cand[sl:]) and _TITLE_RE.match(cand, sl) is None)


def _has_contact_data(text: str) -> bool:
    """A phone, e-mail, QQ or WeChat id somewhere in the bio (digits may be spaced: "1 8 6 / 5 3 9 2 ...")."""
    return _CONTACT_DATA_RE.search(text) is not None or sum(c.isdigit() for c in text) >= 7


def _given_ok(given: str) -> bool:
    """Common given-name characters and no function word, but for the old 有 names (有才, 有福, 有德)."""
    if given[:1] == "有" and len(given) == 2:
        return given[1] in "才福德财为根田亮光林贵富"
    if given[-1:] == "来" and len(given) == 2:
        return given[0] in GIVEN_CHARS  # 福来, 春来, 喜来
    return _common_given(given) and not any(c in _STOP for c in given)


def _common_given(given: str) -> bool:
    return all(c in GIVEN_CHARS for c in given)


def _dotted_name_at(text: str, at: int) -> Optional[Tuple[int, int]]:
    """A dotted name that starts at ``at`` (after a context word), or None."""
    m = _DOT_RE.search(text, at, at + 9)
    if m is None:
        return None
    span = _dotted_name_around(text, m.start(), floor=at)
    return span if span is not None and span[0] == at else None


def _dotted_name_around(text: str, dot: int, floor: int = 0) -> Optional[Tuple[int, int]]:
    """The transliterated name around the middle dot at ``dot``: 2-6 characters on each side (a second dot
    allowed on the right), none a function word; not a public figure (哈利·波特, also at the end of a
    longer run: "看了三遍哈利·波特"), not places (北京·朝阳), written with transliteration syllables."""
    start = dot
    while start > floor and dot - start < 6 and _is_cjk(text[start - 1]) and text[start - 1] not in _DOT_STOP:
        start -= 1
    if dot - start < 2:
        return None
    end = dot + 1
    parts = 1
    while True:
        k = end
        while k < len(text) and k - end < 6 and _is_cjk(text[k]) and text[k] not in _DOT_STOP:
            k += 1
        if k - end < 2:
            return None
        end = k
        if parts < 3 and end + 1 < len(text) and text[end] in _DOTS and _is_cjk(text[end + 1]):
            end += 1
            parts += 1
            continue
        break
    if end < len(text) and _is_cjk(text[end]):
        return None  # the run goes on: a sentence, not a name
    name = _DOT_RE.sub("·", text[start:end])
    pieces = name.split("·")
    for i in range(len(name) - 2):
        if name[i:] in PUBLIC_FIGURES:
            return None
    if any(p in PLACE_NAMES or p[:2] in PLACE_NAMES or p in COMMON_WORDS for p in pieces):
        return None
    if sum(c in _TRANSLIT for c in name) < 2:
        return None
    return start, end


def _own_field(text: str, s: int, e: int) -> bool:
    """A two-character clause that is a field of its own: between pipes ("施洋｜152..."), or the
    signature after a contact value at the end of the text ("...，15370281946，姜雪")."""
    before = text[:s].rstrip()
    after = text[e:].lstrip()
    if (not before or before[-1] in "|/") and (after[:1] in ("|", "/") or (not after and before)):
        return True
    if before and after.strip("。.!！~～ ") == "" and (before[-1] in ",，" or before[-1].isdigit()):
        clause = before[:-1] if before[-1] in ",，" else before  # "...手机13910527368 马骏" too
        k = max(clause.rfind(c) for c in ",，。；;|") + 1
        tail = clause[k:]
        return "@" in tail or sum(c.isdigit() for c in tail) >= 7
    return False


class PersonNameRecognizer(Recognizer):
    entity = "PERSON_NAME"
    name = "person_name"
    context = tuple(_STRENGTH)
    use_veto = False
    score = 0.5

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        text = _placeholders_as_filler(nt.text)
        has_cjk = _CJK_RE.search(text) is not None
        has_upper = _UPPER_RE.search(text) is not None
        out: List[Candidate] = []
        if has_cjk:
            dots = _DOT_RE.search(text) is not None
            for rx in (_INTRO_RE, _CONTEXT_RE):
                for m in rx.finditer(text):
                    word = m.group("w")
                    strength = _STRENGTH[word]
                    if word == "我" and not (_at_boundary(text, m.end() + 2) or _at_boundary(text, m.end() + 3)):
                        continue  # 我 + a name must end its clause ("我尤慧，"): most 我 stop here
                    if word == "叫" and (m.start() == 0 or text[m.start() - 1] in _BOUNDARY
                                        or text[m.start() - 1] in "我名就都也他她爸妈爷奶公婆"):
                        strength = STRONG  # "我姓王，叫王一博": the user's own name
                    span = self._after_context(text, m.end(), strength, word, dots)
                    if span is not None and not (word == "叫我" and _nickname(text, m.start(), span)) \
                            and not _after_nickname_word(text, m.start()):
                        out.append(Candidate(span[0], span[1], self.entity, self.score))
            if "族" in text:
                for m in _ETHNIC_INTRO_RE.finditer(text):
                    span = self._given_name_only(text, m.end(), INTRO)  # non-Han names: no surname table
                    if span is not None:
                        out.append(Candidate(span[0], span[1], self.entity, self.score))
            if dots:
                out.extend(self._dotted_names(text))
            out.extend(self._right_context_names(nt, text))
            out.extend(self._standalone_names(text))
            out.extend(self._opening_name(text))
            out.extend(self._after_role_noun(text))
            out.extend(self._signature(text))
            out.extend(self._coordinated(text, out))
        if has_upper:
            out.extend(self._english_names(text))
        if text is not nt.text:  # the filler is never (part of) a name: "我系[QQ]" read 我系 + a four-character name
            out = [c for c in out if _FILLER not in text[c.start:c.end]]
        return out

    # ---------------------------------------------------------------------------- Chinese names

    def _after_context(self, text: str, at: int, strength: int, word: str, dots: bool) -> Optional[Tuple[int, int]]:
        """``dots``: whether ``text`` has a middle dot at all."""
        if at >= len(text) or not "\u4e00" <= text[at] <= "\u9fff":
            return None
        if dots and strength >= STRONG and _DOT_RE.search(text, at, at + 9) is not None:
            dm = _dotted_name_at(text, at)
            if dm is not None:
                return dm  # 买买提·艾力
        compound = text[at:at + 2] in COMPOUND_SURNAMES
        if compound and text[at + 2:at + 3] == " ":
            sm = _SPACED_COMPOUND_RE.match(text, at)  # 我叫欧阳 娜娜, 司徒 雷
            if sm is not None and _common_given(sm.group(0)[3:].replace(" ", "")):
                return sm.span()
        if text[at + 1:at + 2] == " ":
            sm = _SPACED_NAME_RE.match(text, at)  # 我叫李 娜
            if sm is not None and _surname_len(text, at) == 1 and _common_given(sm.group(0)[2:].replace(" ", "")):
                return sm.span()
        if text[at:at + 2] in _MINORITY_STARTS:
            end = at + 2
            # transliterated syllables, not the particles of a Han name (都 in 阿不都热合曼 is a syllable)
            while end < len(text) and end - at < 6 and _is_cjk(text[end]) and text[end] not in _DOT_STOP:
                end += 1
            return (at, end) if _at_boundary(text, end) else None
        sl = 2 if compound else 1 if text[at] in SURNAMES else 0  # (_surname_len, inline: ~4 calls a bio)
        if sl == 0:
            return self._given_name_only(text, at, strength)
        end = at + sl
        limit = min(len(text), end + 2)
        if text[end:end + 1] == "有" and _given_ok(text[end:end + 2]):
            limit = end  # 我叫田有福: 有 is a name character here (the check below accepts the two)
            end += 2
        while end < limit and "\u4e00" <= text[end] <= "\u9fff" and text[end] not in _STOP:
            if end > at + sl and text[end] in _TITLE_STARTS and _TITLE_RE.match(text, end) is not None:
                break  # 汪卫东老师: the title is not part of the name
            end += 1
        if end == at + sl and strength == INTRO and end < len(text) and _is_cjk(text[end]) \
                and text[end] not in _PARTICLES \
                and _at_boundary(text, end + 1) and _TITLE_RE.match(text, end) is None:
            end += 1  # "中文名李想，", "我叫王可。": a given name that is also a common word, alone in its clause
        if end == at + sl or text[at + sl] in _TITLE_STARTS and _TITLE_RE.match(text, at + sl) is not None:
            return None  # a surname alone, or with a title: 刘女士, 王先生
        if strength >= STRONG and sl == 1 and not _at_boundary(text, end):
            k = end
            while k < len(text) and k - at < 5 and _is_cjk(text[k]) and text[k] not in _DOT_STOP:
                k += 1
            if k - at >= 4 and _at_boundary(text, k) and sum(c in _TRANSLIT for c in text[at:k]) >= 2:
                return at, k  # "本人敖日格乐，", "我叫吉克阿依，": a non-Han name whose first syllable is a surname
        if end - at - sl == 2 and _VERB_AFTER_NAME_RE.match(text, end - 1):
            end -= 1  # "同事张华介绍的": a one-character given name, then a verb
        name = text[at:end]
        if sl == 1 and (name[:2] in PLACE_NAMES or name[:3] in PLACE_NAMES):
            return None  # 杭州 is a city (濮阳明 keeps its compound surname)
        if name in _STRENGTH or name[:2] in _STRENGTH:
            return None  # "找班长要": a word that introduces names is not one
        if name in COMMON_WORDS or name[:2] in COMMON_WORDS:
            # a name that is also a word (高兴, 江山) only right after an intro word, alone in its clause
            if strength != INTRO or not _at_boundary(text, end) or name in _STRENGTH:
                return None
        if strength == WEAK:
            if word == "我" and (text[at] in _STOP or len(name) - sl > 2):
                return None  # "我都爱", "我也是": an adverb after 我, not a surname
            if name in PUBLIC_FIGURES:
                return None  # "我是周杰伦的粉丝"; after 姓名 / 本人 a famous name is the user's own (姓名李娜)
            if not _given_ok(text[at + sl:end]):
                return None
            if word in _WEAK_BOUNDARY_ONLY and not _at_boundary(text, end):
                return None
        return at, end

    @staticmethod
    def _given_name_only(text: str, at: int, strength: int) -> Optional[Tuple[int, int]]:
        """After an intro word, a name without a known surname: a given name alone (我叫小红, 叫我小雨就好),
        a surname the table lacks (名字叫庹家宝), a non-Han name (我叫布仁巴雅尔: up to 5 characters, alone
        in its clause)."""
        if strength != INTRO or at >= len(text) or text[at] in _STOP or text[at] == "老":
            return None  # 叫我老吐: 老 + a character is a nickname, not a name
        end = at
        while end < len(text) and end - at < 5 and _is_cjk(text[end]) and text[end] not in _STOP:
            end += 1
        for stop in sorted({min(end, at + 3), end}, reverse=True):
            name = text[at:stop]
            if len(name) < 2 or _not_a_name(name):
                continue
            if _at_boundary(text, stop):
                return at, stop
            if stop - at <= 3 and _NAME_FOLLOWER_RE.match(text, stop) is not None \
                    and _common_given(name[1:] if name[0] in "小阿" else name):
                return at, stop  # 叫我小雨就好 (not 叫我大佬吧)
        return None

    def _dotted_names(self, text: str) -> List[Candidate]:
        """Transliterated names with a middle dot: 买买提·艾力, 古丽米拉·阿不力孜, "伊犁的努尔兰·叶尔江"."""
        out = []
        for m in _DOT_RE.finditer(text):
            span = _dotted_name_around(text, m.start())
            if span is not None and (not out or span[0] >= out[-1].end):
                out.append(Candidate(span[0], span[1], self.entity, self.score))
        return out

    def _right_context_names(self, nt: NormalizedText, text: str) -> List[Candidate]:
        ends = []  # (end of the name, how strongly the words after it say it is a private person)
        # (the gender pattern is tried at every comma: only when a text has 男 or 女)
        for rx in (_RIGHT_RE, _GENDER_RE) if "男" in text or "女" in text else (_RIGHT_RE,):
            for m in rx.finditer(text):
                end = m.start()
                if end > 1 and text[end - 1] in "的( ":
                    end -= 1  # 孔令浩的家长, 王芳(本人), 万婷 敬上
                if end > 0 and _is_cjk(text[end - 1]):
                    word = m.group(0)
                    private = OWN if word.startswith(_OWN_NAME_WORDS) else (
                        PRIVATE if word[:1] in "是,，的" and word not in _PAGE_WORDS else PUBLIC)  # 李娜，女 / 王芳的电话
                    title_then_words = word in _TITLE_WORDS and _is_cjk(text[m.end():m.end() + 1])
                    ends.append((end, private, title_then_words))
        glued = set()  # names written straight before a mobile number ("岳红伟13703862015"): full names only
        before_numbers = set()  # names before a phone or an ID number may follow a place ("武汉刘晶晶 4201...")
        for run in nt.digit_runs():
            if run.end - run.start >= 7 and run.start > 1:
                end = _before_phone(text, run.start)
                if end < 0 and _is_cjk(text[run.start - 1]) and _GLUED_NUMBER_RE.match(text, run.start, run.end):
                    end = run.start
                    glued.add(end)
                if end > 0 and _is_cjk(text[end - 1]):
                    ends.append((end, PRIVATE, False))
                    before_numbers.add(end)
        out = []
        for end, private, title_then_words in ends:
            for length in (3, 2, 4):
                start = end - length
                if start < 0 or text[start] not in _NAME_STARTS:
                    continue
                sl = _surname_len(text, start)
                if sl == 0 or not 1 <= length - sl <= 2:
                    continue
                cand = text[start:end]
                if not all("\u4e00" <= c <= "\u9fff" for c in cand) or any(c in _STOP for c in cand[sl:]):
                    continue
                left_boundary = start == 0 or text[start - 1] in _BOUNDARY
                if start > 0 and _is_cjk(text[start - 1]) and text[start - 1] not in _LEFT_OF_NAME and not (
                        end in before_numbers
                        and (text[start - 2:start] in PLACE_NAMES or text[start - 3:start] in PLACE_NAMES)):
                    continue  # (after a place only before a number: "武汉刘晶晶 420106...", "天津穆建新 身份证...")
                if start > 0 and not _is_cjk(text[start - 1]) and text[start - 1] not in _BOUNDARY:
                    continue
                if title_then_words and not (length - sl == 2 and left_boundary):
                    continue  # "冯玉兰医生坐诊": a full name at the start of its clause, not "说王医生好"
                if private != OWN and not _common_given(cand[sl:]) or _TITLE_RE.match(cand, sl) is not None:
                    continue
                if end in glued and (length - sl != 2 or not _plain_full_name(cand)):
                    continue
                if (cand in PUBLIC_FIGURES and private == PUBLIC) or _not_a_name(cand) and cand not in PUBLIC_FIGURES:
                    continue
                out.append(Candidate(start, end, self.entity, self.score - 0.05))
                break
        return out

    def _standalone_names(self, text: str) -> List[Candidate]:
        out = []
        if text[:2] in _MINORITY_STARTS:
            m = _MINORITY_CLAUSE_RE.match(text)  # "德吉卓嘎，藏族姑娘": a non-Han name opening the bio
            if m is not None and not _not_a_name(text[:m.end()]) \
                    and not any(text[:k] in PUBLIC_FIGURES for k in range(2, m.end())):  # "迪丽热巴好美"
                out.append(Candidate(0, m.end(), self.entity, self.score - 0.05))
        first = _FIRST_CLAUSE_RE.match(text)
        contact_post = None  # "围棋教学，石磊，微信…": a two-character clause in a bio with contact data (looked up once)
        for m in ([first] if first else []) + list(_CLAUSE_RE.finditer(text)):
            s, e = m.span("c")
            before = text[s - 1] if s > 0 else ""
            if before == " " and s > 1 and (text[s - 2] in _CLAUSE_SEPARATORS or _EMOJI_RE.match(text[s - 2])):
                before = text[s - 2]  # "💐 花蕾，": the space after an emoji
            cand = text[s:e]
            in_brackets = s > 1 and text[s - 1] == "(" and text[e:e + 1] == ")" and not _is_cjk(text[s - 2]) \
                or s > 1 and text[s - 1] == "(" and text[e:e + 1] == ")" and _NICKNAME_BEFORE_RE.search(text, 0, s - 1)
            if len(cand) == 2 and not (s > 0 and text[s - 1] == ":") and not _own_field(text, s, e) \
                    and not _GREETING_BEFORE_RE.search(text, 0, s) and not in_brackets \
                    and not ((before in _CLAUSE_SEPARATORS or _EMOJI_RE.match(before)) and text[e:e + 1] in (",", "，", "")
                             and _plain_full_name(cand)
                             and (contact_post if contact_post is not None
                                  else (contact_post := _has_contact_data(text)))):
                continue
            sl = _surname_len(text, s)
            if sl == 0 or not 1 <= len(cand) - sl <= 2:
                continue
            after_en = _EN_NAME_BEFORE_RE.search(text, max(0, s - 24), s) is not None  # "Alex Chen，陈亚历，"
            if _not_a_name(cand) or not (after_en and not any(c in _STOP for c in cand[sl:]) or _given_ok(cand[sl:])):
                continue
            if _TITLE_RE.match(cand, sl) is not None:
                continue  # 王先生, 张老师
            out.append(Candidate(s, e, self.entity, self.score - 0.05))
        return out

    def _opening_name(self, text: str) -> List[Candidate]:
        """A bio that opens with a name, then an age, a gender or a job: "赵磊，32岁，外卖骑手",
        "孙浩 28 健身教练", "👨‍🍳蒋大勇 川菜厨师 二十年"."""
        i = 0
        while i < len(text) and i < 4 and not _is_cjk(text[i]) and not text[i].isalnum():
            i += 1  # emoji, spaces and marks before it
        m = _OPENING_RE.match(text, i)
        if m is None:
            return []
        cand = m.group("n")
        if not _plain_full_name(cand):
            return []
        return [Candidate(i, i + len(cand), self.entity, self.score - 0.05)]

    def _after_role_noun(self, text: str) -> List[Candidate]:
        """A full name right after a noun for a person: "小学语文老师尹红梅，", "重庆妹儿谭晓琴，", "群主马丽，"."""
        out = []
        for m in _ROLE_THEN_NAME_RE.finditer(text):
            s = m.end()
            if text[s - 3:s] in _ROLE_WORD_SET or text[s - 2:s] in _ROLE_WORD_SET:
                min_given = 1  # after a listed role word: two or three characters
            elif text[s - 1] in _ROLE_ENDS and s > 1 and _is_cjk(text[s - 2]):
                min_given = 2  # after a role-like ending only: three characters
            else:
                continue
            sl = _surname_len(text, s)
            for given in (2, 1):
                e = s + sl + given
                if given < min_given or e > len(text) or text[e - 1] in _NOT_GIVEN_LAST:
                    continue
                if (_at_boundary(text, e) or text[e] in _AFTER_ROLE_NAME) and _plain_full_name(text[s:e]):
                    out.append(Candidate(s, e, self.entity, self.score - 0.05))
                    break
        return out

    def _signature(self, text: str) -> List[Candidate]:
        """A name signed at the end: "谢谢关注～陶然", "写于深夜 · 鲍鸿", "最后署个名 庞博"."""
        m = _SIGNATURE_RE.search(text, max(0, len(text) - 16))  # it ends the text: only its tail is read
        if m is None:
            return []
        s, e = m.span("n")
        if not _plain_full_name(text[s:e]):
            return []
        return [Candidate(s, e, self.entity, self.score - 0.05)]

    def _coordinated(self, text: str, found: List[Candidate]) -> List[Candidate]:
        """A second name joined to one already found: "两个娃贾一诺和贾一航", "我们是庄毅和谢雨晴"."""
        out = []
        for c in found:
            m = _AND_NAME_RE.match(text, c.end)
            if m is None:
                continue
            s, e = m.span("n")
            for stop in (e, e - 1):
                cand = text[s:stop]
                sl = _surname_len(cand, 0)
                if sl and 1 <= len(cand) - sl <= 2 and _at_boundary(text, stop) or sl and stop < e and \
                        text[stop] in _STOP:
                    if _plain_full_name(cand):
                        out.append(Candidate(s, stop, self.entity, c.score - 0.05))
                    break
        return out

    # ---------------------------------------------------------------------------- English names

    def _english_names(self, text: str) -> List[Candidate]:
        out = []
        for m in _EN_NAME_RE.finditer(text):
            words = m.group(0).split(" ")
            if words[0] in _EN_NOT_NAMES:
                continue
            s, e = m.span()
            if _FAN_AFTER_RE.match(text, e) is not None:
                continue  # "我是 Jack Ma 的粉丝": a public figure
            if _EN_CONTEXT_RE.search(text, max(0, s - 14), s) is not None:
                out.append(Candidate(s, e, self.entity, self.score))
            elif len(words) == 2 and words[-1].lower() in PINYIN_SURNAMES and words[-1][1:].islower() \
                    and (s == 0 or text[s - 1] in _BOUNDARY or _is_cjk(text[s - 1])) and _at_boundary(text, e):
                out.append(Candidate(s, e, self.entity, self.score - 0.05))  # "Alex Chen，陈亚历，..."
        return out
