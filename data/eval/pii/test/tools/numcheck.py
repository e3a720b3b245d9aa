# -*- coding: utf-8 -*-
"""Validity helpers for the hand-written PII test corpus.

Only used to (a) compute valid identifiers that are then pasted into hand-written
bios and (b) re-check that every labelled value still corresponds to a valid
underlying identifier after it was hand-formatted (spaces, Chinese numerals,
full-width digits, ...).
"""
import re
import unicodedata
import datetime

# Real county-level (and a few prefecture-level) administrative codes.
AREA_CODES = {
    "110101": "北京东城", "110102": "北京西城", "110105": "北京朝阳", "110106": "北京丰台",
    "110108": "北京海淀", "120101": "天津和平", "130102": "石家庄长安", "130182": "藁城",
    "140105": "太原小店", "150102": "呼和浩特新城", "210102": "沈阳和平", "210202": "大连中山",
    "220102": "长春南关", "230102": "哈尔滨道里", "310101": "上海黄浦", "310104": "上海徐汇",
    "310105": "上海长宁", "310106": "上海静安", "310107": "上海普陀", "310110": "上海杨浦",
    "310112": "上海闵行", "310115": "上海浦东", "320102": "南京玄武", "320106": "南京鼓楼",
    "320505": "苏州虎丘", "320506": "苏州吴中", "321002": "扬州广陵", "321281": "兴化",
    "330102": "杭州上城", "330106": "杭州西湖", "330108": "杭州滨江", "330203": "宁波海曙",
    "330302": "温州鹿城", "330681": "诸暨", "340104": "合肥蜀山", "342422": "寿县",
    "350102": "福州鼓楼", "350128": "平潭", "350203": "厦门思明", "350583": "南安",
    "360102": "南昌东湖", "360124": "进贤", "360730": "宁都", "370102": "济南历下",
    "370202": "青岛市南", "370481": "滕州", "371322": "郯城", "410105": "郑州金水",
    "411522": "光山", "412726": "郸城", "420102": "武汉江岸", "420106": "武汉武昌",
    "422802": "利川", "430102": "长沙芙蓉", "430104": "长沙岳麓", "430521": "邵东",
    "431121": "祁阳", "440103": "广州荔湾", "440104": "广州越秀", "440106": "广州天河",
    "440304": "深圳福田", "440305": "深圳南山", "440306": "深圳宝安", "441581": "陆丰",
    "441900": "东莞", "445102": "潮州湘桥", "450103": "南宁青秀", "450881": "桂平",
    "460003": "儋州", "460105": "海口秀英", "500103": "重庆渝中", "500106": "重庆沙坪坝",
    "510104": "成都锦江", "510107": "成都武侯", "511623": "邻水", "513030": "渠县",
    "520102": "贵阳南明", "522422": "大方", "530102": "昆明五华", "610103": "西安碑林",
    "610113": "西安雁塔", "620102": "兰州城关", "630102": "西宁城东", "640104": "银川兴庆",
    "650102": "乌鲁木齐天山",
}

MOBILE_PREFIXES = set(
    "130 131 132 133 134 135 136 137 138 139 145 147 149 150 151 152 153 155 156 157 158 159 "
    "162 165 166 167 170 171 172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 "
    "190 191 192 193 195 196 197 198 199".split())

LANDLINE_AREA = set(
    "010 020 021 022 023 024 025 027 028 029 0311 0351 0371 0411 0431 0451 0471 0512 0510 0513 "
    "0531 0532 0551 0571 0574 0577 0579 0591 0592 0595 0731 0755 0756 0757 0760 0769 0771 0851 "
    "0871 0898 0931 0991 0535 0537 0553 0563 0591 0719 0736 0816 0830 0917 0668".split())

CN_DIGITS = {
    "零": "0", "〇": "0", "○": "0", "洞": "0", "O": None,
    "一": "1", "幺": "1", "么": "1", "壹": "1",
    "二": "2", "两": "2", "贰": "2", "貳": "2",
    "三": "3", "叁": "3", "參": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6", "陸": "6",
    "七": "7", "柒": "7", "拐": "7",
    "八": "8", "捌": "8",
    "九": "9", "玖": "9", "勾": "9",
}
CN_DIGITS = {k: v for k, v in CN_DIGITS.items() if v}


def to_digit(ch):
    """Map one character to an ASCII digit, or None."""
    if ch in CN_DIGITS:
        return CN_DIGITS[ch]
    if ch.isascii():
        return ch if ch.isdigit() else None
    try:
        d = unicodedata.digit(ch)
        return str(d)
    except (TypeError, ValueError):
        pass
    # full-width and other compat forms
    n = unicodedata.normalize("NFKC", ch)
    if len(n) == 1 and n.isdigit() and n.isascii():
        return n
    return None


def norm_chars(s):
    """NFKC-ish normalisation + digit mapping, keep letters, drop everything else."""
    out = []
    for ch in s:
        d = to_digit(ch)
        if d is not None:
            out.append(d)
            continue
        n = unicodedata.normalize("NFKC", ch)
        if len(n) == 1 and n.isascii() and n.isalpha():
            out.append(n.upper())
    return "".join(out)


def digits_only(s):
    return "".join(d for d in (to_digit(c) for c in s) if d is not None)


def luhn_ok(num):
    if not num.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(prefix_body):
    for c in "0123456789":
        if luhn_ok(prefix_body + c):
            return prefix_body + c
    raise ValueError


ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def id_check_char(first17):
    s = sum(int(a) * w for a, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK[s % 11]


def valid_date(yyyymmdd):
    try:
        d = datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return datetime.date(1930, 1, 1) <= d <= datetime.date(2012, 12, 31)


def hkid_check(prefix, digits6):
    p = prefix.upper()
    vals = []
    if len(p) == 1:
        vals.append(36)
    vals += [ord(c) - 55 for c in p]
    vals += [int(c) for c in digits6]
    s = sum(v * w for v, w in zip(vals, [9, 8, 7, 6, 5, 4, 3, 2]))
    r = 11 - s % 11
    return {10: "A", 11: "0"}.get(r, str(r))


TW_LETTERS = {c: v for c, v in zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36))}


def twid_ok(s):
    if not re.fullmatch(r"[A-Z][12]\d{8}", s):
        return False
    v = TW_LETTERS[s[0]]
    nums = [v // 10, v % 10] + [int(c) for c in s[1:]]
    w = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]
    return sum(a * b for a, b in zip(nums, w)) % 10 == 0


def check_value(typ, value):
    """Return None if the value corresponds to a plausible valid identifier, else a reason."""
    n = norm_chars(value)
    if typ == "PHONE":
        d = digits_only(value)
        for p in ("0086", "86"):
            if len(d) > 11 and d.startswith(p):
                d = d[len(p):]
        if len(d) != 11:
            return "phone length %d (%s)" % (len(d), d)
        if d[:3] not in MOBILE_PREFIXES:
            return "phone prefix " + d[:3]
        return None
    if typ == "LANDLINE":
        d = digits_only(value)
        # strip country code
        if d.startswith("0086"):
            d = "0" + d[4:]
        elif d.startswith("86"):
            d = "0" + d[2:]
        for code in sorted(LANDLINE_AREA, key=len, reverse=True):
            if d.startswith(code):
                rest = d[len(code):]
                if len(rest) >= 7 and rest[0] not in "01":
                    return None
        return "landline not recognised (%s)" % d
    if typ == "ID_NUMBER":
        m = re.fullmatch(r"[A-Z]{1,2}(\d{6})(\w)", n)
        if m and not n[:2].isdigit():  # Hong Kong style
            pre = re.match(r"[A-Z]{1,2}", n).group(0)
            return None if hkid_check(pre, m.group(1)) == m.group(2) else "hkid check"
        if re.fullmatch(r"[A-Z][12]\d{8}", n):
            return None if twid_ok(n) else "twid check"
        if re.fullmatch(r"\d{17}[\dX]", n):
            if n[:6] not in AREA_CODES:
                return "area code " + n[:6]
            if not valid_date(n[6:14]):
                return "birth date " + n[6:14]
            if id_check_char(n[:17]) != n[17]:
                return "check char"
            return None
        if re.fullmatch(r"\d{15}", n):
            if n[:6] not in AREA_CODES:
                return "area code " + n[:6]
            if not valid_date("19" + n[6:12]):
                return "birth date"
            return None
        return "id shape (%s)" % n
    if typ == "BANK_CARD":
        d = digits_only(value)
        if not (15 <= len(d) <= 19):
            return "card length"
        if not luhn_ok(d):
            return "luhn"
        if len(d) == 15 and d[:2] not in ("34", "37"):
            return "15 digits but not amex"
        if d[0] not in "23456":
            return "issuer prefix"
        return None
    if typ == "QQ":
        d = digits_only(value)
        if not re.fullmatch(r"[1-9]\d{4,10}", d):
            return "qq shape (%s)" % d
        return None
    if typ == "PASSPORT":
        if re.fullmatch(r"(E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}|[A-Z]{1,2}\d{6,8}|\d{9})", n):
            return None
        return "passport shape (%s)" % n
    if typ == "LICENSE_PLATE":
        v = re.sub(r"[\s·•\.\-\u00b7\u30fb]", "", unicodedata.normalize("NFKC", value))
        if re.fullmatch(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]"
                        r"([A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳]|[DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF])", v):
            return None
        return "plate shape (%s)" % v
    return None
