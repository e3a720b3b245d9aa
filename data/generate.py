#!/usr/bin/env python3
"""Deterministic generator for the coldstart demo population.

Writes three JSON-lines files (UTF-8, one object per line, ``ensure_ascii=False``):

* ``users.jsonl``   -- active users ``{"user_id", "text", "tags"}`` (the kNN index side)
* ``heldout.jsonl`` -- new-user texts ``{"id", "text", "tags"}`` whose interest phrases are
                       *phrase-disjoint* from every text in ``users.jsonl``
* ``samples.jsonl`` -- a few showcase new-user inputs with the expected top tag

Everything is synthetic and comes from ``random.Random`` with a fixed seed, so the
same arguments always give byte-identical files (checked by ``tests/test_demo_data.py``).
Only the standard library is used.  Importable: ``TAGS``, ``category_names()``,
``phrase_split()``, ``generate()``, ``id_check_digit()``, ``luhn_check_digit()``.

    python data/generate.py                      # rewrite data/*.jsonl with the defaults
    python data/generate.py --out /tmp/x --users 5000 --seed 7
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import random
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

DEFAULT_USERS = 3600
DEFAULT_HELDOUT = 480
DEFAULT_SEED = 20261127
DEFAULT_OUT = Path(__file__).resolve().parent

#: The interest tags, in canonical order (output tag lists follow this order).
TAGS: List[str] = ["体育", "科技", "娱乐", "教育", "旅游", "美食", "财经", "游戏", "汽车", "时尚", "健康", "母婴"]


def category_names() -> List[str]:
    """The tag names, in canonical order (a copy of ``TAGS``)."""
    return list(TAGS)


# --------------------------------------------------------------------------------------
# Interest phrases.  Each category has >= 40 distinct verb phrases; ~25% of each list goes
# to the held-out set (see phrase_split).  A phrase may carry a sampling weight as
# (phrase, weight); the default weight is 1.
# --------------------------------------------------------------------------------------
PHRASES: Dict[str, List[object]] = {
    "体育": [
        ("踢足球", 3), ("打篮球", 3), ("看NBA比赛", 3), ("跑马拉松", 2), "游泳", ("打羽毛球", 2),
        "打乒乓球", "打网球", "看世界杯", "看英超", "看CBA", "骑公路车", "练拳击", "打排球",
        "滑雪", "攀岩", "冲浪", "打高尔夫", "看F1赛车", "练跆拳道", "打台球", "跳绳", "夜跑",
        "晨跑", "踢五人制", "看欧冠", "看中超", "玩滑板", "练散打", "打棒球", "练击剑",
        "划皮划艇", "练田径", "打壁球", "看奥运会", "练柔道", "玩飞盘", "练体操", "打冰球",
        "练短跑", "支持皇马", "追湖人队", "玩匹克球", "看斯诺克", "骑山地车", "练跳水", "踢毽子",
    ],
    "科技": [
        ("写代码", 2), ("研究人工智能", 2), ("玩数码产品", 2), "折腾树莓派", "关注芯片行业",
        ("看科技新闻", 2), "研究大模型", "搞开源项目", "学Python", "玩机械键盘", "组装电脑",
        "刷机", "研究区块链", "玩无人机", "关注新能源技术", "研究量子计算", "逛GitHub",
        "看苹果发布会", "测评手机", "玩智能家居", "折腾NAS", "研究机器学习", "写技术博客",
        "学前端开发", "搞嵌入式", "玩Arduino", "关注航天发射", "看极客视频", "研究网络安全",
        "打CTF比赛", "玩3D打印", "研究Linux", "参加黑客松", "研究云计算", "玩VR设备",
        "研究算法", "刷LeetCode", "搞机器人", "研究5G通信", "用ChatGPT", "玩单片机",
        "研究操作系统", "折腾软路由", "关注SpaceX", "学Rust语言", "拆解电子产品", "钻研编程技术",
    ],
    "娱乐": [
        ("看科幻电影", 3), ("追剧", 3), ("看综艺节目", 2), ("追星", 2), "听演唱会", "看脱口秀",
        "刷短视频", "听流行音乐", "看动漫", "看漫威电影", "追韩剧", "看美剧", "听相声",
        "看话剧", "去KTV唱歌", "看音乐剧", "去音乐节", "看悬疑片", "看喜剧片", "听播客",
        "看B站UP主", "追日剧", "看选秀节目", "追网络小说", "看恐怖片", "听摇滚乐",
        "看电影首映", "追偶像团体", "看周星驰电影", "听周杰伦", "看宫崎骏动画", "看漫画",
        "看直播", "玩剧本杀", "看古装剧", "看Live House演出", "听说唱", "看豆瓣高分电影",
        "追国漫", "看纪录片", "看舞台剧", "追港剧", "看春晚", "听古典乐", "看奥斯卡颁奖",
        "刷抖音", "看小品", "看电视剧", "看真人秀", "听有声书",
    ],
    "教育": [
        ("准备考研", 6), ("考研复习", 4), ("备考公务员", 3), ("学英语", 2), ("背单词", 2),
        "考雅思", "考托福", ("学编程", 4), ("上编程课", 3), "读书学习", "上网课",
        "考教师资格证", "学高数", ("做考研真题", 3), "读研究生", "学日语", "练书法", "学法语",
        ("考四六级", 2), ("准备高考", 2), "学心理学", "听公开课", "刷慕课", "考证", "自学考试",
        "学历史", "背古诗词", "学物理", "做学术研究", "写论文", "参加读书会", "学经济学",
        "学韩语", "练口语", "考注册会计师", "学画画", "学钢琴", "学西班牙语", "准备留学申请",
        "考在职研究生", "学德语", "学习哲学", "考法考", "参加辩论赛", "考CFA", "上夜校",
        "学数据分析", ("备考期末考试", 2), "泡图书馆", "做家教", "学写作",
    ],
    "旅游": [
        ("徒步", 3), ("摄影", 3), ("自驾游", 2), "背包旅行", "去西藏", "去海边看海", "露营",
        "爬山", "去日本旅行", "逛古镇", "坐邮轮", "住特色民宿", "去云南大理", "看北极光",
        "环游世界", "去欧洲旅行", "考潜水证", "登雪山", "穷游", "逛博物馆", "去泰国度假",
        "坐绿皮火车旅行", "打卡网红景点", "去草原骑马", "拍星空", "去沙漠看日落", "做旅游攻略",
        "去海岛度假", "逛古城", "走川藏线", "看樱花", "去冰岛", "去敦煌", "游三峡",
        "去桂林山水", "收集景区门票", "看日出", "去丽江", "逛迪士尼", "去新西兰", "徒步穿越",
        "骑行318", "看红叶", "去土耳其坐热气球", "去青海湖", "去张家界", "住青旅", "去长白山",
        "环岛骑行",
    ],
    "美食": [
        ("探店", 3), ("做饭", 2), ("烘焙", 2), ("吃火锅", 3), "吃烧烤", "做甜点", "喝咖啡",
        "品茶", "吃日料", "吃川菜", "研究菜谱", "煲汤", "吃小龙虾", "做蛋糕", "喝精酿啤酒",
        "品红酒", "吃麻辣烫", "做面包", "逛菜市场", "吃早茶", "吃湘菜", "拍美食vlog", "吃西餐",
        "做寿司", "吃螺蛳粉", "吃路边摊", "做家常菜", "吃海鲜", "喝奶茶", "手冲咖啡",
        "吃自助餐", "吃韩式烤肉", "做披萨", "包饺子", "吃粤菜", "吃甜品", "找苍蝇馆子",
        "吃牛排", "做卤味", "学做西点", "吃东北菜", "吃烤鸭", "吃臭豆腐", "吃兰州拉面",
        "泡茶馆", "吃泰国菜", "吃串串", "调鸡尾酒", "吃夜宵", "逛夜市",
    ],
    "财经": [
        ("炒股", 3), ("买基金", 2), ("基金定投", 3), ("研究股票", 2), ("理财", 2), "看财经新闻",
        "研究宏观经济", "买国债", "投资黄金", "研究比特币", "看财报", "价值投资", "做量化交易",
        "买理财产品", "研究房地产", "记账", "存钱", "研究保险", "看巴菲特", "炒美股", "炒港股",
        "研究期货", "买可转债", "关注A股", "读投资书籍", "研究外汇", "做副业赚钱", "研究创业",
        "研究分红股", "看K线图", "买指数基金", "研究税务筹划", "关注央行政策", "研究ETF",
        "打新股", "研究REITs", "关注美联储", "研究债券", "做财务规划", "研究私募",
        "看经济学人", "研究消费趋势", "买银行理财", "关注汇率", "研究上市公司", "参加投资沙龙",
        "看雪球", "玩模拟炒股", "研究养老金",
    ],
    "游戏": [
        ("打游戏", 3), ("玩王者荣耀", 3), ("玩原神", 2), "玩LOL", "打CSGO", "玩Switch",
        "玩主机游戏", "玩Steam", "玩吃鸡", "玩我的世界", "玩塞尔达", "打电竞", "看电竞比赛",
        "玩桌游", "玩狼人杀", "玩独立游戏", "玩魔兽世界", "玩Dota2", "玩和平精英", "玩PS5",
        "玩手游", "玩二次元手游", "玩宝可梦", "玩黑神话悟空", "玩艾尔登法环", "玩星露谷",
        "玩三国杀", "玩炉石传说", "玩守望先锋", "玩GTA", "玩赛车游戏", "玩怪物猎人", "玩动森",
        "玩大富翁", "玩崩坏星穹铁道", "看游戏直播", "玩VR游戏", "下围棋", "下象棋", "玩FIFA",
        "玩2K", "玩光遇", "玩金铲铲", "速通游戏", "玩街机", "玩RPG游戏", "打副本", "玩蛋仔派对",
    ],
    "汽车": [
        ("改装车", 2), ("研究新能源汽车", 3), ("看汽车评测", 2), "玩越野", "逛车展", "开特斯拉",
        "自己洗车打蜡", "洗车", "玩卡丁车", "跑赛道日", "研究发动机", "看汽车杂志", "学车",
        "考驾照", "修车", "保养汽车", "玩房车露营", "研究混动技术", "玩摩托车", "骑机车",
        "收集车模", "看二手车", "研究充电桩", "开SUV", "试驾新车", "研究汽车改装", "玩老爷车",
        "关注比亚迪", "开手动挡", "看拉力赛", "研究汽车音响", "贴车衣", "研究轮胎", "看懂车帝",
        "研究自动驾驶", "玩漂移", "开皮卡", "研究汽车底盘", "研究电池续航", "研究车载系统",
        "开敞篷车", "玩遥控车", "参加车友会", "研究德系车", "研究日系车", "研究豪车",
    ],
    "时尚": [
        ("穿搭", 3), ("化妆", 2), ("逛街买衣服", 2), "买包包", "研究护肤", "美甲", "看时装周",
        "收集口红", "买香水", "研究潮牌", "买球鞋", "研究发型", "玩汉服", "玩lolita", "买珠宝",
        "研究复古穿搭", "逛vintage店", "研究配色", "拍穿搭照", "看时尚杂志", "研究奢侈品",
        "做手工饰品", "画眼线", "研究彩妆", "逛买手店", "买设计师品牌", "玩JK制服",
        "研究日系穿搭", "收集腕表", "戴首饰", "研究美妆教程", "关注明星同款", "逛淘宝",
        "研究面料", "染头发", "烫发", "研究香氛", "学服装设计", "做模特", "收集耳环",
        "研究胶囊衣橱", "关注快时尚", "逛ZARA", "穿小众品牌", "研究韩系妆容", "玩cosplay",
        "穿西装", "搭配帽子", "改造旧衣服", "研究男士理容",
    ],
    "健康": [
        ("健身", 3), ("练瑜伽", 2), ("养生", 2), ("减肥", 2), "吃轻食", "早睡早起", "冥想",
        "练普拉提", "控糖", "泡脚", "喝养生茶", "做体检", "研究营养学", "练八段锦", "打太极拳",
        "控制体重", "做拉伸", "针灸", "中医调理", "戒烟", "坚持散步", "研究睡眠", "护肝",
        "补充维生素", "练核心力量", "做康复训练", "保护颈椎", "练腹肌", "研究心理健康",
        "做艾灸", "低脂饮食", "喝蛋白粉", "健走", "练呼吸法", "按摩推拿", "测血压", "研究减脂",
        "跳健身操", "吃素", "练站桩", "护眼", "拔罐", "做正念练习", "研究中药", "戒糖",
        "跳广场舞", "喝温水", "练气功",
    ],
    "母婴": [
        ("带娃", 3), ("育儿", 3), ("备孕", 2), "辅食", "早教", "亲子游", "给宝宝做辅食",
        "研究奶粉", "选婴儿车", "读绘本", "陪孩子玩", "孕期瑜伽", "产后恢复", "母乳喂养",
        "研究育儿经验", "买童装", "带孩子去游乐园", "亲子阅读", "宝宝睡眠训练", "研究儿童教育",
        "陪娃学钢琴", "给娃报兴趣班", "逛母婴店", "研究纸尿裤", "做胎教", ("带娃去亲子乐园", 2),
        "晒娃", "记录宝宝成长", "研究儿童安全座椅", "买玩具", "带娃露营", "做亲子手工",
        "学习科学育儿", "研究辅食添加", "准备待产包", "带二胎", "参加妈妈群", "研究孕期营养",
        "陪孩子写作业", "宝宝游泳", "讲睡前故事", "研究疫苗", "给宝宝拍照", "研究儿童心理",
        "带娃上早教课", "准备幼升小", "做月子", "哄睡", "带娃旅行",
    ],
}

#: Deliberately multi-label phrases: only used (always in training) by users holding both tags.
BRIDGES: Dict[Tuple[str, str], List[str]] = {
    ("体育", "健康"): ["去健身房撸铁", "练HIIT燃脂"],
    ("科技", "教育"): ["学人工智能课程", "刷编程题"],
    ("科技", "游戏"): ["自己装游戏电脑"],
    ("旅游", "美食"): ["去各地探店", "吃当地小吃"],
    ("娱乐", "时尚"): ["模仿明星穿搭"],
    ("母婴", "健康"): ["产后健身"],
    ("母婴", "教育"): ["给孩子辅导作业"],
    ("财经", "汽车"): ["研究车企财报"],
    ("科技", "汽车"): ["研究智能座舱"],
    ("游戏", "娱乐"): ["看游戏改编动画"],
    ("旅游", "体育"): ["徒步登山"],
    ("美食", "健康"): ["做减脂餐"],
}

#: Phrases used by the showcase samples; forced into the training split.
SAMPLES: List[Dict[str, object]] = [
    {"text": "我平时喜欢踢足球和看NBA比赛", "expect_top": "体育"},
    {"text": "最近在准备考研，想多学点编程知识", "expect_top": "教育"},
    {"text": "我喜欢看科幻电影和打篮球", "expect_top": None, "accept": ["娱乐", "体育"]},
    {"text": "产品经理，喜欢徒步和摄影，联系我13812345678", "expect_top": "旅游"},
    {"text": "最近在研究基金定投，偶尔炒股", "expect_top": "财经"},
    {"text": "周末喜欢带娃去亲子乐园", "expect_top": "母婴"},
    {"text": "喜欢探店，最爱吃火锅", "expect_top": "美食"},
]
SAMPLE_PHRASES: List[str] = [
    "踢足球", "看NBA比赛", "准备考研", "考研复习", "学编程", "上编程课", "看科幻电影", "打篮球",
    "徒步", "摄影", "基金定投", "炒股", "带娃去亲子乐园", "探店", "吃火锅",
]

# 教育 learning goals ("想多学点编程知识") and the rarer 科技 variant -- training only.
EDU_GOALS: List[Tuple[str, int]] = [
    ("编程知识", 4), ("英语", 2), ("数学知识", 1), ("专业知识", 2), ("历史知识", 1), ("心理学知识", 1),
]
EDU_GOAL_TEMPLATES: List[str] = ["想多学点{g}", "打算好好学{g}", "希望多积累点{g}", "给自己定个目标多学{g}"]
TECH_GOAL_TEMPLATES: List[str] = ["喜欢分享编程知识", "偶尔写写编程知识笔记"]

# --------------------------------------------------------------------------------------
# Sentence templates, bios and fillers (shared by users and held-out texts).
# --------------------------------------------------------------------------------------
TEMPLATES_1: List[str] = [
    "我喜欢{a}", "平时爱{a}", "业余时间最大的爱好是{a}", "关注{a}很多年了", "最近迷上了{a}",
    "一有空就{a}", "周末常常{a}", "特别热爱{a}", "对{a}很感兴趣", "{a}是我的日常",
    "每天都要{a}", "坚持{a}3年了", "朋友都知道我爱{a}", "下班后喜欢{a}", "最大的快乐就是{a}",
    "入坑{a}好久了", "偶尔{a}", "热衷于{a}", "没事就{a}", "想找人一起{a}", "最近在{a}",
    "从小就爱{a}", "{a}爱好者", "我的爱好：{a}",
]
TEMPLATES_2: List[str] = [
    "我喜欢{a}和{b}", "平时爱{a}，周末常常{b}", "喜欢{a}，也喜欢{b}", "{a}、{b}都是我的爱好",
    "除了{a}，还喜欢{b}", "爱好是{a}和{b}", "工作之余{a}，偶尔{b}", "最近在{a}，顺便{b}",
    "既爱{a}又爱{b}", "一边{a}一边{b}", "我平时喜欢{a}和{b}", "喜欢{a}，最爱{b}",
]
BIO_TEMPLATES: List[str] = [
    "{job}，{city}人", "{city}{job}", "坐标{city}", "{age}后{job}", "在{city}工作的{job}",
    "{job}一枚", "{job}，常驻{city}", "我是{job}",
]
JOBS: List[str] = [
    "程序员", "产品经理", "设计师", "大学生", "研究生", "高中老师", "会计", "销售", "医生",
    "护士", "律师", "公务员", "自由职业者", "全职妈妈", "退休教师", "工程师", "运营", "HR",
    "外企白领", "创业者", "公司职员", "小学老师", "宝妈", "餐厅老板",
]
CITIES: List[str] = [
    "北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "重庆", "长沙",
    "苏州", "天津", "青岛", "厦门", "昆明", "沈阳", "郑州", "合肥", "大连", "哈尔滨", "福州",
]
AGES: List[str] = ["80", "85", "90", "95", "00"]
FILLERS: List[str] = [
    "求同好", "欢迎交流", "希望认识志同道合的朋友", "生活需要仪式感", "慢慢来比较快", "人生苦短",
    "保持热爱", "随缘", "多多关照", "一起加油", "开心最重要", "请多指教",
]
ENGLISH: List[str] = ["enjoy life", "nice to meet you", "let's go", "so fun", "forever young",
                      "stay hungry", "weekend vibes", "yyds", "hello", "btw"]
EMOJI: List[str] = ["😄", "😊", "✨", "🔥", "👍", "❤️", "🙌", "🌟", "😎"]
TAG_EMOJI: Dict[str, str] = {
    "体育": "⚽", "科技": "💻", "娱乐": "🎬", "教育": "📚", "旅游": "✈️", "美食": "🍜",
    "财经": "📈", "游戏": "🎮", "汽车": "🚗", "时尚": "👗", "健康": "🧘", "母婴": "👶",
}
SEPARATORS: List[Tuple[str, int]] = [("，", 10), ("。", 3), ("！", 1), ("~", 1), (" ", 1), ("；", 1)]
ENDINGS: List[Tuple[str, int]] = [("", 6), ("。", 4), ("！", 2), ("~", 1), ("!!", 1), ("…", 1), ("～", 1)]

# Tag-frequency weights and pairs that co-occur more often than chance.
TAG_WEIGHTS: Dict[str, float] = {
    "体育": 1.1, "科技": 1.0, "娱乐": 1.2, "教育": 1.0, "旅游": 1.0, "美食": 1.1,
    "财经": 0.8, "游戏": 1.0, "汽车": 0.7, "时尚": 0.8, "健康": 0.9, "母婴": 0.6,
}
RELATED: List[Tuple[str, str]] = sorted(BRIDGES) + [("科技", "财经"), ("娱乐", "旅游"), ("体育", "娱乐")]

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

USER_PII_RATE = 0.08
HELDOUT_PII_RATE = 0.03
HELDOUT_FRACTION = 0.25
MIN_LEN, MAX_LEN = 8, 80


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
# Phrase split
# --------------------------------------------------------------------------------------
def _phrase_weights() -> Dict[str, Dict[str, int]]:
    out: Dict[str, Dict[str, int]] = {}
    for tag in TAGS:
        weights: Dict[str, int] = {}
        for item in PHRASES[tag]:
            phrase, w = item if isinstance(item, tuple) else (item, 1)
            if phrase in weights:
                raise ValueError("duplicate phrase %r in %s" % (phrase, tag))
            weights[phrase] = w
        out[tag] = weights
    return out


def _shared_vocabulary() -> List[str]:
    """Every non-phrase string that may appear in a users.jsonl text."""
    vocab: List[str] = []
    vocab += TEMPLATES_1 + TEMPLATES_2 + BIO_TEMPLATES + JOBS + CITIES + FILLERS + ENGLISH
    vocab += [t.format(g=g) for t in EDU_GOAL_TEMPLATES for g, _ in EDU_GOALS] + TECH_GOAL_TEMPLATES
    vocab += [p for phrases in BRIDGES.values() for p in phrases]
    vocab += [t for ts in PII_TEMPLATES.values() for t in ts]
    return vocab


def phrase_split(seed: int = DEFAULT_SEED) -> Tuple[Dict[str, List[str]], Dict[str, List[str]]]:
    """Deterministic (train, heldout) phrase lists per tag.

    A phrase is forced into train when it is a sample phrase, or a substring of another
    phrase (any category) or of any template/filler/bio/bridge string -- otherwise it would
    leak into users.jsonl.  Of the rest, ~25% per category (shuffled with the seed) go to
    heldout.  Bridge phrases and 教育 learning goals are always training-only.
    """
    weights = _phrase_weights()
    all_phrases = [p for tag in TAGS for p in weights[tag]]
    if len(set(all_phrases)) != len(all_phrases):
        raise ValueError("a phrase is listed under two categories; use BRIDGES for that")
    vocab = _shared_vocabulary()
    train: Dict[str, List[str]] = {}
    heldout: Dict[str, List[str]] = {}
    for ti, tag in enumerate(TAGS):
        phrases = list(weights[tag])
        forced = [
            p for p in phrases
            if p in SAMPLE_PHRASES
            or any(p != q and p in q for q in all_phrases)
            or any(p in v for v in vocab)
        ]
        free = [p for p in phrases if p not in forced]
        rng = random.Random(seed * 1009 + ti)
        rng.shuffle(free)
        n_held = min(len(free), int(round(HELDOUT_FRACTION * len(phrases))))
        held = set(free[:n_held])
        # keep the source order inside each split (stable, readable)
        train[tag] = [p for p in phrases if p not in held]
        heldout[tag] = [p for p in phrases if p in held]
    return train, heldout


# --------------------------------------------------------------------------------------
# Text composition
# --------------------------------------------------------------------------------------
def _wchoice(rng: random.Random, items: Sequence[Tuple[str, float]]) -> str:
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
    n = 1 if r < 0.55 else (2 if r < 0.90 else 3)
    tags = [_wchoice(rng, [(t, TAG_WEIGHTS[t]) for t in TAGS])]
    while len(tags) < n:
        if rng.random() < 0.5:
            pairs = [p for p in RELATED if (p[0] in tags) != (p[1] in tags)]
            if pairs:
                a, b = rng.choice(pairs)
                tags.append(b if a in tags else a)
                continue
        cand = [(t, TAG_WEIGHTS[t]) for t in TAGS if t not in tags]
        tags.append(_wchoice(rng, cand))
    return tags


class _Composer:
    def __init__(self, pools: Dict[str, List[Tuple[str, float]]], training: bool, pii_rate: float):
        self.pools = pools
        self.training = training
        self.pii_rate = pii_rate

    def _phrases(self, rng: random.Random, tags: List[str]) -> List[str]:
        per_tag = {1: (1, 3), 2: (1, 2), 3: (1, 1)}[len(tags)]
        chosen: List[str] = []
        for tag in tags:
            k = rng.randint(*per_tag)
            for _ in range(k):
                for _try in range(5):
                    p = _wchoice(rng, self.pools[tag])
                    if p not in chosen:
                        chosen.append(p)
                        break
        if self.training and len(tags) > 1:
            for pair in sorted(BRIDGES):
                if pair[0] in tags and pair[1] in tags and rng.random() < 0.3:
                    chosen[rng.randrange(len(chosen))] = rng.choice(BRIDGES[pair])
        if len(chosen) > 1 and rng.random() < 0.5:
            rng.shuffle(chosen)
        return chosen

    def _sentences(self, rng: random.Random, phrases: List[str]) -> List[str]:
        out: List[str] = []
        i = 0
        while i < len(phrases):
            if i + 1 < len(phrases) and rng.random() < 0.6:
                out.append(rng.choice(TEMPLATES_2).format(a=phrases[i], b=phrases[i + 1]))
                i += 2
            else:
                out.append(rng.choice(TEMPLATES_1).format(a=phrases[i]))
                i += 1
        return out

    def compose(self, rng: random.Random, tags: List[str]) -> str:
        for _attempt in range(100):
            parts = self._sentences(rng, self._phrases(rng, tags))
            if self.training and "教育" in tags and rng.random() < 0.45:
                goal = _wchoice(rng, EDU_GOALS)
                parts.append(rng.choice(EDU_GOAL_TEMPLATES).format(g=goal))
            if self.training and "科技" in tags and rng.random() < 0.08:
                parts.append(rng.choice(TECH_GOAL_TEMPLATES))
            if rng.random() < 0.35:
                bio = rng.choice(BIO_TEMPLATES).format(
                    job=rng.choice(JOBS), city=rng.choice(CITIES), age=rng.choice(AGES))
                parts.insert(0, bio)
            if rng.random() < 0.25:
                parts.append(rng.choice(FILLERS))
            if rng.random() < 0.06:
                parts.append(rng.choice(ENGLISH))
            text = parts[0]
            for p in parts[1:]:
                text += _wchoice(rng, SEPARATORS) + p
            text += _wchoice(rng, ENDINGS)
            if rng.random() < 0.12:
                text += rng.choice(EMOJI) if rng.random() < 0.5 else TAG_EMOJI[tags[0]]
            if rng.random() < 0.04:
                text = _to_fullwidth(text)
            if rng.random() < self.pii_rate:
                n_items = 2 if rng.random() < 0.2 else 1
                for _ in range(n_items):
                    kind = _wchoice(rng, PII_KINDS)
                    snippet = rng.choice(PII_TEMPLATES[kind]).format(v=_PII_MAKERS[kind](rng))
                    if rng.random() < 0.8:
                        text = text.rstrip("。！~!…～") + "，" + snippet
                    else:
                        text = snippet + "。" + text
            if MIN_LEN <= len(text) <= MAX_LEN:
                return text
        raise RuntimeError("could not compose a text of %d..%d chars for %r" % (MIN_LEN, MAX_LEN, tags))


def _pools(split: Dict[str, List[str]]) -> Dict[str, List[Tuple[str, float]]]:
    weights = _phrase_weights()
    return {tag: [(p, float(weights[tag][p])) for p in split[tag]] for tag in TAGS}


def _ordered(tags: Iterable[str]) -> List[str]:
    s = set(tags)
    return [t for t in TAGS if t in s]


def generate(n_users: int = DEFAULT_USERS, n_heldout: int = DEFAULT_HELDOUT,
             seed: int = DEFAULT_SEED) -> Tuple[List[dict], List[dict], List[dict]]:
    """Return (users, heldout, samples) records; pure function of the arguments."""
    train, held = phrase_split(seed)
    sample_texts = {str(s["text"]) for s in SAMPLES}

    users: List[dict] = []
    seen = set(sample_texts)
    rng = random.Random(seed)
    composer = _Composer(_pools(train), training=True, pii_rate=USER_PII_RATE)
    while len(users) < n_users:
        tags = _pick_tags(rng)
        text = composer.compose(rng, tags)
        if text in seen:
            continue
        seen.add(text)
        users.append({"user_id": "u%06d" % (len(users) + 1), "text": text, "tags": _ordered(tags)})

    held_records: List[dict] = []
    hrng = random.Random(seed + 1)
    hcomposer = _Composer(_pools(held), training=False, pii_rate=HELDOUT_PII_RATE)
    while len(held_records) < n_heldout:
        tags = _pick_tags(hrng)
        text = hcomposer.compose(hrng, tags)
        if text in seen:
            continue
        seen.add(text)
        held_records.append({"id": "h%04d" % (len(held_records) + 1), "text": text, "tags": _ordered(tags)})

    # Phrase-disjointness is a hard guarantee, not a hope: fail loudly if a held-out
    # phrase ever shows up inside a training text (e.g. across a template boundary).
    held_phrases = [p for tag in TAGS for p in held[tag]]
    for u in users:
        for p in held_phrases:
            if p in u["text"]:
                raise AssertionError("held-out phrase %r leaked into %s: %r" % (p, u["user_id"], u["text"]))

    samples = [dict(s) for s in SAMPLES]
    return users, held_records, samples


def _write_jsonl(path: Path, records: List[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write(out: Path, n_users: int = DEFAULT_USERS, n_heldout: int = DEFAULT_HELDOUT,
          seed: int = DEFAULT_SEED) -> Dict[str, int]:
    """Generate and write the three files into ``out``; return per-tag user counts."""
    users, held, samples = generate(n_users, n_heldout, seed)
    out.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / "users.jsonl", users)
    _write_jsonl(out / "heldout.jsonl", held)
    _write_jsonl(out / "samples.jsonl", samples)
    counts = {t: 0 for t in TAGS}
    for u in users:
        for t in u["tags"]:
            counts[t] += 1
    return counts


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the synthetic coldstart demo population "
                                             "(users.jsonl, heldout.jsonl, samples.jsonl).")
    ap.add_argument("--users", type=int, default=DEFAULT_USERS, help="number of active users (default %(default)s)")
    ap.add_argument("--heldout", type=int, default=DEFAULT_HELDOUT, help="number of held-out new-user texts (default %(default)s)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: the data/ folder)")
    args = ap.parse_args(argv)
    if args.users < 1 or args.heldout < 0:
        ap.error("--users must be >= 1 and --heldout >= 0")
    counts = write(args.out, args.users, args.heldout, args.seed)
    print("wrote %d users, %d heldout, %d samples to %s; users per tag: %s" % (
        args.users, args.heldout, len(SAMPLES), args.out,
        " ".join("%s=%d" % (t, counts[t]) for t in TAGS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
