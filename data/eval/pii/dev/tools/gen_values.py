#!/usr/bin/env python3
"""Compute *valid* values to paste into hand-written bios.

Only computes numbers (no text):
  - 18-digit resident ID numbers (GB 11643-1999 mod-11 check char), real area codes
  - old 15-digit IDs
  - Luhn-valid bank card numbers with real issuer prefixes
  - mobile numbers with real 13x-19x prefixes
Usage: python3 gen_values.py [seed]
"""
import random, sys, datetime

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHK = "10X98765432"

def id_check(first17):
    s = sum(int(c) * w for c, w in zip(first17, W))
    return CHK[s % 11]

def luhn_ok(num):
    tot = 0
    for i, c in enumerate(reversed(num)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        tot += d
    return tot % 10 == 0

def luhn_complete(prefix, length, rnd):
    body = prefix + "".join(rnd.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for c in "0123456789":
        if luhn_ok(body + c):
            return body + c

# real county-level area codes
AREAS = {
    "110101": "北京东城", "110105": "北京朝阳", "110108": "北京海淀", "110106": "北京丰台",
    "310101": "上海黄浦", "310104": "上海徐汇", "310115": "上海浦东", "310112": "上海闵行",
    "440106": "广州天河", "440103": "广州荔湾", "440305": "深圳南山", "440304": "深圳福田",
    "330106": "杭州西湖", "330102": "杭州上城", "320102": "南京玄武", "320106": "南京鼓楼",
    "510104": "成都锦江", "510107": "成都武侯", "420106": "武汉武昌", "420111": "武汉洪山",
    "610113": "西安雁塔", "500103": "重庆渝中", "370102": "济南历下", "370202": "青岛市南",
    "350203": "厦门思明", "430104": "长沙岳麓", "410105": "郑州金水", "340104": "合肥蜀山",
    "360102": "南昌东湖", "450103": "南宁青秀", "530102": "昆明五华", "520102": "贵阳南明",
    "620102": "兰州城关", "650102": "乌鲁木齐天山", "130102": "石家庄长安", "140105": "太原小店",
    "220102": "长春南关", "120101": "天津和平", "460105": "海口秀英", "640104": "银川兴庆",
    "320582": "张家港", "330782": "义乌", "350582": "晋江", "330381": "瑞安",
    "210102": "沈阳和平", "230102": "哈尔滨道里", "320211": "无锡滨湖", "441302": "惠州惠城",
}

BANK_PREFIXES = [
    ("622202", 19), ("621226", 19), ("622848", 19), ("621700", 19), ("622700", 19),
    ("621483", 16), ("622588", 16), ("623058", 19), ("621661", 19), ("601382", 19),
    ("622262", 19), ("621799", 19), ("622609", 16), ("628288", 16), ("622155", 16),
    ("436742", 16), ("439225", 16), ("518710", 16), ("520169", 16), ("222100", 16),
    ("3568", 16), ("3771", 15), ("3456", 15), ("622908", 18), ("621098", 19),
]

MOBILE = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
          "145", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159",
          "166", "172", "173", "175", "176", "177", "178", "180", "181", "182", "183",
          "184", "185", "186", "187", "188", "189", "191", "193", "195", "198", "199"]

def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    rnd = random.Random(seed)
    print("## mobiles")
    for _ in range(60):
        p = rnd.choice(MOBILE) + "".join(rnd.choice("0123456789") for _ in range(8))
        print(p)
    print("## ids (18)")
    for _ in range(40):
        area = rnd.choice(list(AREAS))
        d = datetime.date(1962, 1, 1) + datetime.timedelta(days=rnd.randint(0, 365 * 45))
        seq = "%03d" % rnd.randint(1, 999)
        f17 = area + d.strftime("%Y%m%d") + seq
        print(f17 + id_check(f17), AREAS[area], d.isoformat(), "男" if int(seq[-1]) % 2 else "女")
    print("## ids (15)")
    for _ in range(6):
        area = rnd.choice(list(AREAS))
        d = datetime.date(1950, 1, 1) + datetime.timedelta(days=rnd.randint(0, 365 * 40))
        print(area + d.strftime("%y%m%d") + "%03d" % rnd.randint(1, 999), AREAS[area])
    print("## cards")
    for _ in range(35):
        pre, ln = rnd.choice(BANK_PREFIXES)
        if pre in ("3771", "3456"):
            pre = "37" + pre[2:] if pre == "3771" else "34" + pre[2:]
        print(luhn_complete(pre, ln, rnd))

if __name__ == "__main__":
    main()
