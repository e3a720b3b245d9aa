#!/usr/bin/env python3
"""Labelled PII corpus for measuring coldstart's masker (``bench/pii.py``, ``tests/test_pii_corpus.py``).

Deterministic: ``generate(n, seed)`` uses one ``random.Random(seed)``, standard library only, so the
same arguments give the same corpus on every run and every Python >= 3.9. Everything is made up;
numbers that look like real IDs/cards are generated with the published check-digit rules.

Each record is a dict::

    {"id": "p00042", "kind": "PHONE", "text": "你好,我叫李静,手机号+86 138-1234-5678,平时喜欢打篮球。",
     "spans": [{"start": 10, "end": 27, "type": "PHONE", "also": [], "format": "+86 dashes"}],
     "near_misses": [{"start": ..., "end": ..., "kind": "date"}]}

* ``spans``: the personal data in ``text`` (character offsets, end exclusive). ``type`` is one of
  ``TYPES``; ``also`` lists other types that are an equally right answer (a WeChat id that is a
  mobile number is also a PHONE; a QQ-mail address is an EMAIL either way). The keyword before a
  QQ/WeChat id ("微信:") is *not* part of the span, only the id is.
* ``near_misses``: look-alikes that are **not** personal data and should be left alone: order
  numbers, tracking numbers, dates, amounts, postal and verification codes, and invalid-checksum
  look-alikes (IDs with a wrong check character, an impossible birth date or an unknown province
  code; 16/19-digit card numbers failing Luhn; 11-digit numbers that are not mobile numbers).
  Each has a ``kind``; ``chance_valid`` is true when a random look-alike happens to pass a
  checksum the masker relies on (e.g. an 18-digit order number that passes Luhn by chance): no
  pattern-based masker can tell those apart, so the bench reports them separately.
* ``kind``: what the string was built around (a type, ``MIXED`` for two or more PII values,
  ``NEAR_MISS``, or ``CLEAN`` for plain sentences with no number at all).

Texts are built only from characters that NFKC maps to exactly one character (full-width digits,
``＠``, ``，`` and ``：`` included: they become ASCII), so offsets stay valid on the NFKC-normalised text
that ``coldstart.pii.mask_pii`` returns.

    python data/pii_corpus.py --out build/pii_corpus.jsonl      # write it (default 6000 strings)
    python data/pii_corpus.py --stats                           # counts by kind/type/format
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import random
import sys
import unicodedata
from collections import Counter
from typing import Callable, Dict, List, Optional, Tuple

DEFAULT_SEED = 20261127
DEFAULT_SIZE = 6000

TYPES = ("PHONE", "LANDLINE", "ID_CARD", "BANK_CARD", "EMAIL", "QQ", "WECHAT")

# ------------------------------------------------------------------ check digits (independent of coldstart)

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PROVINCES = (
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83"
).split()
NOT_PROVINCES = ("00", "10", "19", "20", "38", "49", "55", "66", "72", "80", "90", "99")


def id_check_char(body17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS)) % 11]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_complete(partial: str) -> str:
    for d in "0123456789":
        if luhn_ok(partial + d):
            return partial + d
    raise AssertionError("unreachable")


def _date_ok(y: int, m: int, d: int) -> bool:
    try:
        born = _dt.date(y, m, d)
    except ValueError:
        return False
    return _dt.date(1900, 1, 1) <= born <= _dt.date.today()


def id18_valid(s: str) -> bool:
    """The rule the corpus labels by: province code, real birth date, GB 11643 check character."""
    return (len(s) == 18 and s[:17].isdigit() and s[:2] in PROVINCES
            and _date_ok(int(s[6:10]), int(s[10:12]), int(s[12:14])) and id_check_char(s[:17]) == s[17].upper())


def id15_valid(s: str) -> bool:
    return len(s) == 15 and s.isdigit() and s[:2] in PROVINCES and _date_ok(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))


def card_like_valid(digits: str) -> bool:
    """What a Luhn-based card detector accepts: 16-19 digits with a card-network first digit, or a
    15-digit American Express number (34/37), passing Luhn."""
    network = (16 <= len(digits) <= 19 and digits[0] in "234569") or (len(digits) == 15 and digits[:2] in ("34", "37"))
    return digits.isdigit() and network and luhn_ok(digits)


# ------------------------------------------------------------------ vocabulary

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ("伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 浩然 子涵 梓萱 一诺 欣怡 "
         "宇轩 思远 雨桐 佳怡 俊杰 晨曦 嘉怡 子轩 若曦 天佑 诗涵 博文 雅婷 志强 海燕 建华 晓东 小红 文博").split()
CITIES = "北京 上海 广州 深圳 杭州 成都 武汉 南京 西安 重庆 天津 苏州 长沙 郑州 青岛 厦门 昆明 大连 合肥 济南".split()
JOBS = "程序员 设计师 教师 护士 医生 会计 销售 产品经理 大学生 研究生 律师 厨师 司机 自由职业者 公务员 摄影师 运营 工程师".split()
HOBBIES = ("打篮球 踢足球 看科幻电影 跑步 游泳 弹吉他 做饭 烘焙 旅游 拍照 看动漫 打游戏 追剧 读书 写代码 爬山 瑜伽 "
           "健身 钓鱼 露营 逛街 养猫 养狗 听音乐 画画 下围棋 打羽毛球 骑行 滑雪 看NBA 玩桌游 学日语 炒股 看综艺 "
           "研究美食 喝咖啡 收集手办 看纪录片").split()
DOMAINS = ("qq.com 163.com 126.com sina.com sohu.com gmail.com outlook.com hotmail.com foxmail.com yeah.net "
           "139.com aliyun.com 189.cn vip.qq.com example.com mail.example.cn pku.edu.cn zju.edu.cn "
           "company.com.cn hk.example.org").split()
WORDS = ("sky lucky star moon sun happy cat dog tiger panda coco lily lucy jack tom amy kevin leo ivy yoyo "
         "xiaoming dawei xiaohong zhangsan lisi wangwu cherry angel rain snow wind summer winter").split()
MOBILE_PREFIXES = ("130 131 132 133 134 135 136 137 138 139 145 147 149 150 151 152 153 155 156 157 158 159 "
                   "162 165 166 167 170 171 172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 "
                   "190 191 192 193 195 196 197 198 199").split()
AREA_CODES = ("010 020 021 022 023 024 025 027 028 029 0311 0351 0371 0411 0431 0451 0471 0512 0531 0532 "
              "0551 0571 0574 0591 0592 0731 0755 0757 0769 0771 0791 0851 0871 0898 0931 0991").split()
# Issuer prefixes (first digits) of cards seen in China: UnionPay 62, Visa 4, Mastercard 51-55/2221-2720,
# JCB 35; plus 9-series domestic cards.
CARD_PREFIXES = ("622202 622848 621700 622588 621483 622700 623668 621226 625965 628888 436742 427020 "
                 "403391 524047 518905 552599 356833 222300 955880 955990").split()


class Corpus:
    def __init__(self, seed: int):
        self.r = random.Random(seed)

    # -------------------------------------------------- small helpers
    def pick(self, seq):
        return seq[self.r.randrange(len(seq))]

    def digits(self, n: int, first: str = "0123456789") -> str:
        return self.pick(first) + "".join(self.pick("0123456789") for _ in range(n - 1))

    def name(self) -> str:
        return self.pick(SURNAMES) + self.pick(GIVEN)

    def birth(self, lo: int = 1950, hi: int = 2010) -> _dt.date:
        start = _dt.date(lo, 1, 1).toordinal()
        return _dt.date.fromordinal(start + self.r.randrange(_dt.date(hi, 12, 31).toordinal() - start))

    # -------------------------------------------------- PII values: (surface string, format label, extra)
    def mobile(self) -> Tuple[str, str]:
        n = self.pick(MOBILE_PREFIXES) + self.digits(8)
        a, b, c = n[:3], n[3:7], n[7:]
        fmt = self.pick(["plain"] * 6 + ["spaces", "dashes", "+86", "+86 space", "+86 dashes", "+86-", "0086",
                                         "0086 space", "(+86)", "86 space", "fullwidth", "+86 spaces"])
        surface = {
            "plain": n, "spaces": f"{a} {b} {c}", "dashes": f"{a}-{b}-{c}", "+86": "+86" + n,
            "+86 space": "+86 " + n, "+86 dashes": f"+86 {a}-{b}-{c}", "+86-": "+86-" + n, "0086": "0086" + n,
            "0086 space": "0086 " + n, "(+86)": "(+86)" + n, "86 space": "86 " + n,
            "fullwidth": n.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
            "+86 spaces": f"+86 {a} {b} {c}",
        }[fmt]
        return surface, fmt

    def landline(self) -> Tuple[str, str]:
        area = self.pick(AREA_CODES)
        local = self.digits(8 if len(area) == 3 else self.pick([7, 8]), "2345678")
        fmt = self.pick(["dash", "dash", "dash", "paren", "space", "plain", "grouped", "ext 转", "ext -", "+86 intl"])
        if fmt == "+86 intl":  # international form: country code, area code without its trunk 0
            s = f"+86{self.pick([' ', '-'])}{area[1:]}{self.pick([' ', '-'])}{local}"
        elif fmt == "dash":
            s = f"{area}-{local}"
        elif fmt == "paren":
            s = f"({area}){local}"
        elif fmt == "space":
            s = f"{area} {local}"
        elif fmt == "plain":
            s = area + local
        elif fmt == "grouped":
            s = f"{area} {local[:-4]} {local[-4:]}"
        elif fmt == "ext 转":
            s = f"{area}-{local}转{self.digits(self.pick([3, 4]), '123456789')}"
        else:
            s = f"{area}-{local}-{self.digits(3, '123456789')}"
        return s, fmt

    def id_card(self) -> Tuple[str, str]:
        born = self.birth()
        kind = self.pick(["18"] * 8 + ["18 grouped", "15"])
        if kind == "15":
            born = self.birth(1930, 1999)
            s = self.pick(PROVINCES) + self.digits(4) + born.strftime("%y%m%d") + self.digits(3)
            assert id15_valid(s)
            return s, "15-digit"
        body = self.pick(PROVINCES) + self.digits(4) + born.strftime("%Y%m%d") + self.digits(3)
        s = body + id_check_char(body)
        if s.endswith("X") and self.r.random() < 0.3:
            s = s[:-1] + "x"
        assert id18_valid(s)
        if self.r.random() < 0.04:
            return s.translate(str.maketrans("0123456789Xx", "０１２３４５６７８９ＸＸ")), "18 fullwidth"
        if kind == "18 grouped":
            sep = self.pick([" ", "-"])
            return f"{s[:6]}{sep}{s[6:14]}{sep}{s[14:]}", "18 grouped"
        return s, "18 ends X" if s[-1] in "Xx" else "18"

    def bank_card(self) -> Tuple[str, str]:
        length = self.pick([16, 16, 16, 19, 19, 17, 18])
        prefix = self.pick(CARD_PREFIXES)
        if prefix.startswith(("4", "5", "2", "35")):
            length = 16
        partial = prefix + self.digits(length - len(prefix) - 1)
        n = luhn_complete(partial)
        if len(n) == 18 and id18_valid(n):  # would be an ID by every rule: draw again
            return self.bank_card()
        fmt = self.pick(["plain", "plain", "spaces", "dashes"])
        if fmt == "plain":
            return n, f"{length} plain"
        sep = " " if fmt == "spaces" else "-"
        return sep.join(n[i:i + 4] for i in range(0, len(n), 4)), f"{length} {fmt}"

    def email(self) -> Tuple[str, str]:
        fmt = self.pick(["word", "word.digits", "digits@qq", "first.last", "plus", "upper", "fullwidth @", "underscore"])
        domain = self.pick(DOMAINS)
        if fmt == "digits@qq":
            local, domain = self.digits(self.r.randint(6, 10), "123456789"), "qq.com"
        elif fmt == "word.digits":
            local = f"{self.pick(WORDS)}.{self.digits(self.r.randint(2, 4))}"
        elif fmt == "first.last":
            local = f"{self.pick(WORDS)}.{self.pick(WORDS)}"
        elif fmt == "plus":
            local = f"{self.pick(WORDS)}+{self.pick(['signup', 'app', 'news'])}"
        elif fmt == "underscore":
            local = f"{self.pick(WORDS)}_{self.digits(4)}"
        else:
            local = self.pick(WORDS) + self.digits(self.r.randint(0, 3)) if self.r.random() < 0.7 else self.pick(WORDS)
        s = f"{local}@{domain}"
        if fmt == "upper":
            s = s.upper() if self.r.random() < 0.5 else s[0].upper() + s[1:]
        if fmt == "fullwidth @":
            s = s.replace("@", "＠")
        return s, fmt

    def qq_number(self) -> str:
        return self.digits(self.r.randint(5, 11), "123456789")

    def wechat_id(self) -> Tuple[str, str, List[str]]:
        fmt = self.pick(["letters", "letters", "letters_digits", "wxid_", "mobile", "qq-style digits"])
        if fmt == "letters":
            s = self.pick("abcdefghijklmnopqrstuvwxyz") + "".join(
                self.pick("abcdefghijklmnopqrstuvwxyz0123456789_-") for _ in range(self.r.randint(5, 15)))
        elif fmt == "letters_digits":
            s = self.pick(WORDS) + self.pick(["_", "-", ""]) + self.digits(self.r.randint(3, 6))
            if len(s) < 6:
                s += "666"
        elif fmt == "wxid_":
            s = "wxid_" + "".join(self.pick("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(14))
        elif fmt == "mobile":
            s = self.pick(MOBILE_PREFIXES) + self.digits(8)
            if self.r.random() < 0.3:
                sep = self.pick([" ", "-"])
                return f"{s[:3]}{sep}{s[3:7]}{sep}{s[7:]}", "mobile grouped", ["PHONE"]
            return s, fmt, ["PHONE"]
        else:
            s = self.qq_number()
            return s, fmt, ["QQ"]
        return s, fmt, []

    # -------------------------------------------------- sentence pieces
    def hobby_clause(self) -> str:
        h = self.pick(HOBBIES)
        return self.pick([f"平时喜欢{h}", f"爱好是{h}", f"周末一般{h}", f"最近在学{h}", f"喜欢{h}和{self.pick(HOBBIES)}",
                          f"没事就{h}", f"特别喜欢{h}"])

    def intro(self) -> str:
        return self.pick([f"你好,我叫{self.name()}", f"我是{self.name()}", f"大家好,我是{self.pick(CITIES)}的{self.pick(JOBS)}",
                          f"{self.pick(CITIES)}人,{self.pick(JOBS)}", f"我叫{self.name()},在{self.pick(CITIES)}工作",
                          f"新人报到,{self.pick(JOBS)}一枚", f"{self.r.randint(18, 55)}岁,{self.pick(JOBS)}", ""])

    def lead(self, t: str) -> str:
        """Keyword phrase before a value of type t ('' = the value stands without a keyword)."""
        leads = {
            "PHONE": ["手机号", "手机:", "电话:", "联系电话 ", "手机号码是", "有事打我", "联系方式:", "我的手机是", "tel:",
                      "电话", "手机", "call me ", "号码 ", ""],
            "LANDLINE": ["座机:", "办公电话 ", "固话", "公司电话:", "家里电话是", "联系电话:", "电话 ", "Tel: ", ""],
            "ID_CARD": ["身份证号:", "身份证 ", "身份证号码是", "证件号:", "ID:", "身份证号码", "实名信息 ", ""],
            "BANK_CARD": ["银行卡号:", "卡号 ", "工资卡是", "收款账号:", "储蓄卡", "信用卡号 ", "银行卡", ""],
            "EMAIL": ["邮箱:", "邮箱 ", "email: ", "E-mail:", "我的邮箱是", "联系邮箱", "发简历到", ""],
        }[t]
        return self.pick(leads)

    def qq_lead(self) -> str:
        return self.pick(["QQ:", "QQ ", "qq号", "QQ号码是", "扣扣", "QQ号:", "加我QQ", "QQ=", "qq "])

    def wechat_lead(self) -> str:
        return self.pick(["微信:", "微信号 ", "微信", "vx:", "VX ", "wx:", "WeChat: ", "薇信", "V信", "加微信", "weixin ",
                          "微信号是"])

    # -------------------------------------------------- near-miss values: (surface, kind, chance_valid)
    def near_miss(self) -> Tuple[str, str, str, bool]:
        """(lead phrase, value, kind, chance_valid)."""
        kind = self.pick(["order", "order", "tracking", "date", "date", "amount", "amount", "code", "id_bad_check",
                          "id_bad_date", "id_bad_province", "id15_bad_date", "card_bad_luhn", "card_bad_luhn",
                          "not_mobile", "timestamp", "ip_version", "service_number"])
        if kind == "order":
            ts = self.birth(2023, 2026).strftime("%Y%m%d")
            n = ts + self.digits(self.pick([8, 9, 10, 11, 12]))
            v = self.pick([n, n, "DD" + n, "E" + n])
            lead = self.pick(["订单号:", "订单编号 ", "我的订单号是", "单号", "交易单号:", "流水号 "])
            return lead, v, kind, card_like_valid(n)
        if kind == "tracking":
            v = self.pick(["SF" + self.digits(13, "123456789"), "YT" + self.digits(13, "123456789"),
                           "JT" + self.digits(13, "123456789"), "78" + self.digits(10), "73" + self.digits(10),
                           "EA" + self.digits(9) + "CN", "JDVA" + self.digits(11)])
            return self.pick(["快递单号:", "运单号 ", "物流单号", "顺丰单号:", "快递 "]), v, kind, False
        if kind == "date":
            d = self.birth(1950, 2026)
            v = self.pick([d.strftime("%Y-%m-%d"), f"{d.year}年{d.month}月{d.day}日", d.strftime("%Y%m%d"),
                           d.strftime("%Y/%m/%d"), d.strftime("%Y.%m.%d"), d.strftime("%Y-%m-%d") + " 14:30:00"])
            return self.pick(["生日", "出生日期:", "注册时间 ", "入职日期", "毕业于", "纪念日 "]), v, kind, False
        if kind == "amount":
            v = self.pick([f"¥{self.r.randint(1, 99)},{self.r.randint(0, 999):03d}.00", f"{self.r.randint(100, 99999)}元",
                           f"{self.r.randint(5, 50)}000-{self.r.randint(51, 90)}000", f"{self.r.randint(1, 9999)}.{self.r.randint(0, 99):02d}",
                           f"{self.r.randint(10, 500)}万", f"RMB {self.r.randint(1000, 9999999)}"])
            return self.pick(["月薪", "预算", "消费了", "价格", "年收入", "花了"]), v, kind, False
        if kind == "code":
            v, lead = self.pick([
                (self.digits(6), "验证码 "), ("1" + self.digits(5), "邮编"), ("2" + self.digits(9), "学号"),
                (self.digits(4, "123456789"), "房间号"), ("A" + self.digits(5), "工号 "), (self.digits(8, "123456789"), "会员号:"),
                (self.digits(10, "123456789"), "用户ID "), (self.digits(12, "123456789"), "发票号码"),
            ])
            return lead, v, kind, False
        if kind == "id_bad_check":
            body = self.pick(PROVINCES) + self.digits(4) + self.birth().strftime("%Y%m%d") + self.digits(3)
            good = id_check_char(body)
            v = body + self.pick([c for c in "0123456789X" if c != good])
            return self.lead("ID_CARD"), v, kind, card_like_valid(v)
        if kind == "id_bad_date":
            y = self.r.randint(1950, 2010)
            m, d = self.pick([(13, self.r.randint(1, 28)), (0, self.r.randint(1, 28)), (2, 30), (4, 31),
                              (self.r.randint(1, 12), 32), (self.r.randint(1, 12), 0)])
            if self.r.random() < 0.2:
                y, m, d = self.r.randint(2031, 2099), self.r.randint(1, 12), self.r.randint(1, 28)
            body = self.pick(PROVINCES) + self.digits(4) + f"{y:04d}{m:02d}{d:02d}" + self.digits(3)
            v = body + id_check_char(body)
            return self.lead("ID_CARD"), v, kind, card_like_valid(v)
        if kind == "id_bad_province":
            body = self.pick(NOT_PROVINCES) + self.digits(4) + self.birth().strftime("%Y%m%d") + self.digits(3)
            v = body + id_check_char(body)
            return self.lead("ID_CARD"), v, kind, card_like_valid(v)
        if kind == "id15_bad_date":
            v = self.pick(PROVINCES) + self.digits(4) + f"{self.r.randint(0, 99):02d}{self.pick(['13', '00', '02'])}" + \
                f"{self.pick(['30', '31', '00', '32'])}" + self.digits(3)
            return self.lead("ID_CARD"), v, kind, id15_valid(v) or card_like_valid(v)
        if kind == "card_bad_luhn":
            length = self.pick([16, 16, 19])
            prefix = self.pick(CARD_PREFIXES)
            if prefix.startswith(("4", "5", "2", "35")):
                length = 16
            good = luhn_complete(prefix + self.digits(length - len(prefix) - 1))
            v = good[:-1] + self.pick([c for c in "0123456789" if c != good[-1]])
            if self.r.random() < 0.3:
                sep = self.pick([" ", "-"])
                return self.lead("BANK_CARD"), sep.join(v[i:i + 4] for i in range(0, len(v), 4)), kind, False
            return self.lead("BANK_CARD"), v, kind, False
        if kind == "not_mobile":
            v = self.pick(["10", "11", "12"]) + self.digits(9)
            if self.r.random() < 0.4:  # 10 or 12 digits with a mobile prefix
                v = self.pick(MOBILE_PREFIXES) + self.digits(self.pick([7, 9]))
            return self.pick(["编号", "序列号 ", "账号ID:", "工单号", "设备号 "]), v, kind, False
        if kind == "service_number":
            v = self.pick([f"400-{self.digits(3)}-{self.digits(4)}", f"400{self.digits(7)}", f"800-{self.digits(3)}-{self.digits(4)}",
                           f"95{self.digits(3)}", "12306", "10086", "12345"])
            return self.pick(["客服电话", "客服热线:", "有问题打", "热线 "]), v, kind, False
        if kind == "timestamp":
            v = str(self.r.randint(1_600_000_000, 1_800_000_000)) + self.pick(["", self.digits(3)])
            return self.pick(["时间戳 ", "ts=", "上次登录 "]), v, kind, False
        lead, v = self.pick([
            (self.pick(["IP ", "设备地址 "]), f"192.168.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"),
            (self.pick(["版本 ", "App版本"]), f"v{self.r.randint(1, 9)}.{self.r.randint(0, 20)}.{self.r.randint(0, 30)}"),
            (self.pick(["IP ", "内网地址 "]), f"10.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"),
        ])
        return lead, v, "ip_version", False

    # -------------------------------------------------- records
    def pii_piece(self, t: str):
        """(lead, value, type, also, format)."""
        if t == "PHONE":
            v, fmt = self.mobile()
            return self.lead(t), v, t, [], fmt
        if t == "LANDLINE":
            v, fmt = self.landline()
            return self.lead(t), v, t, [], fmt
        if t == "ID_CARD":
            v, fmt = self.id_card()
            return self.lead(t), v, t, [], fmt
        if t == "BANK_CARD":
            v, fmt = self.bank_card()
            return self.lead(t), v, t, [], fmt
        if t == "EMAIL":
            v, fmt = self.email()
            return self.lead(t), v, t, [], fmt
        if t == "QQ":
            if self.r.random() < 0.15:  # "QQ邮箱 123@qq.com" is an e-mail address either way
                v = f"{self.qq_number()}@qq.com"
                return self.pick(["QQ邮箱 ", "QQ邮箱:"]), v, "EMAIL", ["QQ"], "qq mail"
            return self.qq_lead(), self.qq_number(), t, [], "number"
        v, fmt, also = self.wechat_id()
        return self.wechat_lead(), v, "WECHAT", also, fmt

    def record(self, kind: str) -> Dict[str, object]:
        text = ""
        spans: List[Dict[str, object]] = []
        near: List[Dict[str, object]] = []

        def add(s: str) -> None:
            nonlocal text
            text += s

        def sep() -> str:
            return self.pick([",", ",", ",", ",", ",", ";", " ", "。", "!", "~"])

        intro = self.intro()
        if intro:
            add(intro + sep())

        def add_pii(t: str) -> None:
            lead, value, typ, also, fmt = self.pii_piece(t)
            add(lead)
            start = len(text)
            add(value)
            spans.append({"start": start, "end": len(text), "type": typ, "also": also, "format": fmt})

        def add_near() -> None:
            lead, value, nkind, chance = self.near_miss()
            add(lead)
            start = len(text)
            add(value)
            near.append({"start": start, "end": len(text), "kind": nkind, "chance_valid": chance})

        if kind in TYPES:
            add_pii(kind)
            if self.r.random() < 0.15:
                add(sep())
                add_near()
        elif kind == "MIXED":
            types = self.r.sample(TYPES, self.pick([2, 2, 3]))
            for i, t in enumerate(types):
                if i:
                    add(self.pick([",", ";", " ", ",或者", "。", "/", " 或 "]))
                add_pii(t)
        elif kind == "NEAR_MISS":
            add_near()
            if self.r.random() < 0.3:
                add(sep())
                add_near()
        if kind != "CLEAN" or self.r.random() < 0.5:
            add(sep())
        add(self.hobby_clause() + self.pick(["。", "!", "~", "", "。欢迎交流", ",求推荐", "。"]))
        # full-width punctuation in about half the strings (NFKC turns it into ASCII, 1:1)
        if self.r.random() < 0.5:
            text = text.replace(",", "，").replace(":", "：").replace(";", "；").replace("!", "！")
            text = text.replace("(", "（").replace(")", "）")
        return {"kind": kind, "text": text, "spans": spans, "near_misses": near}


# Share of each kind (per 100 strings)
MIX = [("PHONE", 14), ("LANDLINE", 8), ("ID_CARD", 10), ("BANK_CARD", 9), ("EMAIL", 9), ("QQ", 7), ("WECHAT", 8),
       ("MIXED", 10), ("NEAR_MISS", 22), ("CLEAN", 3)]


def generate(n: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> List[Dict[str, object]]:
    """The corpus: ``n`` labelled strings, the same for the same (n, seed)."""
    c = Corpus(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    out = []
    for i in range(n):
        rec = c.record(kinds[i % len(kinds)])
        rec = {"id": "p%05d" % i, **rec}
        _check(rec)
        out.append(rec)
    c.r.shuffle(out)
    return out


def _check(rec: Dict[str, object]) -> None:
    text = rec["text"]
    for ch in text:  # offsets survive NFKC
        assert len(unicodedata.normalize("NFKC", ch)) == 1, (rec["id"], ch)
    for s in rec["spans"] + rec["near_misses"]:
        assert 0 <= s["start"] < s["end"] <= len(text)


def stats(corpus: List[Dict[str, object]]) -> str:
    kinds = Counter(r["kind"] for r in corpus)
    types = Counter(s["type"] for r in corpus for s in r["spans"])
    fmts = Counter((s["type"], s["format"]) for r in corpus for s in r["spans"])
    near = Counter(n["kind"] for r in corpus for n in r["near_misses"])
    chance = Counter(n["kind"] for r in corpus for n in r["near_misses"] if n["chance_valid"])
    lines = [f"strings: {len(corpus)}", "by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
             "PII spans by type: " + ", ".join(f"{k} {types[k]}" for k in TYPES),
             "near-misses by kind: " + ", ".join(f"{k} {v}" + (f" ({chance[k]} pass a checksum by chance)" if chance[k] else "")
                                                 for k, v in sorted(near.items())),
             "formats:"]
    lines += [f"  {t:<9} {f:<16} {n}" for (t, f), n in sorted(fmts.items())]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", help="write JSON lines here ('-' = stdout)")
    ap.add_argument("--stats", action="store_true", help="print counts by kind, type, format")
    args = ap.parse_args(argv)
    corpus = generate(args.size, args.seed)
    if args.out:
        fh = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
        for rec in corpus:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        if fh is not sys.stdout:
            fh.close()
    if args.stats or not args.out:
        print(stats(corpus))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
