# -*- coding: utf-8 -*-
"""Print pools of VALID identifiers (seeded) that the author pastes by hand into bios.
Usage: python3 gen_values.py > pools.txt
"""
import random
from numcheck import AREA_CODES, MOBILE_PREFIXES, id_check_char, luhn_complete, hkid_check, twid_ok
import datetime

rnd = random.Random(20240611)
CN = "零一二三四五六七八九"
CAP = "零壹贰叁肆伍陆柒捌玖"
FW = "０１２３４５６７８９"

def cn(s): return "".join(CN[int(c)] if c.isdigit() else c for c in s)
def cap(s): return "".join(CAP[int(c)] if c.isdigit() else c for c in s)
def fw(s): return "".join(FW[int(c)] if c.isdigit() else c for c in s)

print("## PHONES")
prefs = sorted(MOBILE_PREFIXES)
common = "138 139 135 136 137 150 151 152 158 159 186 187 188 189 177 176 185 183 182 181 180 199 191 195 198 130 131 132 133 134 153 155 156 157 166 173 175 178 193 197 147 190 196 170".split()
for i in range(330):
    p = rnd.choice(common) if rnd.random() < 0.85 else rnd.choice(prefs)
    n = p + "".join(rnd.choice("0123456789") for _ in range(8))
    print(i, n, fw(n) if i % 5 == 0 else "", cn(n).replace("一", "幺") if i % 5 == 1 else "", cap(n) if i % 5 == 2 else "")

print("## IDS")
codes = sorted(AREA_CODES)
for i in range(190):
    c = rnd.choice(codes)
    d = datetime.date(1955, 1, 1) + datetime.timedelta(days=rnd.randrange(0, 365 * 52))
    seq = "%03d" % rnd.randrange(1, 999)
    f17 = c + d.strftime("%Y%m%d") + seq
    v = f17 + id_check_char(f17)
    print(i, v, AREA_CODES[c], "F" if int(seq[2]) % 2 == 0 else "M", fw(v) if i % 6 == 0 else "", cn(v) if i % 6 == 1 else "")

print("## OLD15")
for i in range(12):
    c = rnd.choice(codes)
    d = datetime.date(1940, 1, 1) + datetime.timedelta(days=rnd.randrange(0, 365 * 44))
    print(i, c + d.strftime("%y%m%d") + "%03d" % rnd.randrange(1, 999))

print("## HKID")
for i in range(6):
    pre = rnd.choice(["A", "C", "D", "E", "G", "K", "P", "R", "Z", "WX", "XA"])
    d6 = "".join(rnd.choice("0123456789") for _ in range(6))
    print(i, "%s%s(%s)" % (pre, d6, hkid_check(pre, d6)))
print("## TWID")
k = 0
while k < 4:
    s = rnd.choice("ABEFHDRS") + rnd.choice("12") + "".join(rnd.choice("0123456789") for _ in range(8))
    if twid_ok(s):
        print(k, s); k += 1

print("## CARDS")
bins = [("622202", 19, "工行"), ("621226", 19, "工行"), ("622848", 19, "农行"), ("621700", 19, "建行"),
        ("622700", 19, "建行"), ("622588", 16, "招行"), ("621483", 16, "招行"), ("622575", 16, "招行信用卡"),
        ("622262", 19, "交行"), ("621661", 19, "中行"), ("622609", 16, "民生"), ("621799", 19, "邮储"),
        ("623061", 19, "?"), ("625809", 16, "?信用卡"), ("628288", 16, "?信用卡"),
        ("436742", 16, "建行Visa"), ("438088", 16, "Visa"), ("404119", 16, "Visa"), ("4", 16, "Visa"),
        ("5187", 16, "MC"), ("5520", 16, "MC"), ("5233", 16, "MC"), ("2221", 16, "MC2"), ("2720", 16, "MC2"),
        ("37", 15, "Amex"), ("34", 15, "Amex"), ("3528", 16, "JCB"), ("3566", 16, "JCB")]
for i in range(150):
    b, L, name = bins[i % len(bins)] if i < 56 else rnd.choice(bins[:15] * 2 + bins[15:])
    body = b + "".join(rnd.choice("0123456789") for _ in range(L - len(b) - 1))
    v = luhn_complete(body)
    print(i, v, name, fw(v) if i % 7 == 0 else "", cn(v) if i % 7 == 1 else "")

print("## PASSPORTS")
for i in range(60):
    r = i % 4
    if r == 0: v = "E" + "".join(rnd.choice("0123456789") for _ in range(8))
    elif r == 1: v = "E" + rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + "".join(rnd.choice("0123456789") for _ in range(7))
    elif r == 2: v = "G" + "".join(rnd.choice("0123456789") for _ in range(8))
    else: v = "E" + "".join(rnd.choice("0123456789") for _ in range(8))
    print(i, v)

print("## PLATES")
prov = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青川宁琼"
L = "ABCDEFGHJKLMNPQRSTUVWXYZ"
for i in range(60):
    p = rnd.choice(prov) + rnd.choice("AAABBCDEFGHK")
    if i % 3 == 2:
        v = p + rnd.choice("DF") + rnd.choice("0123456789" + L[:6]) + "".join(rnd.choice("0123456789") for _ in range(4))
    else:
        chars = [rnd.choice("0123456789") for _ in range(5)]
        for j in rnd.sample(range(5), rnd.choice([0, 1, 1, 2])):
            chars[j] = rnd.choice(L)
        v = p + "".join(chars)
    print(i, v)

print("## QQ")
for i in range(130):
    L2 = rnd.choice([6, 7, 8, 8, 9, 9, 9, 10, 10, 10, 11, 5])
    v = rnd.choice("123456789") + "".join(rnd.choice("0123456789") for _ in range(L2 - 1))
    print(i, v, cn(v) if i % 5 == 0 else "")

print("## LANDLINES")
areas = "010 020 021 022 023 024 025 027 028 029 0311 0351 0371 0411 0431 0451 0471 0512 0510 0531 0532 0551 0571 0574 0577 0591 0592 0731 0755 0757 0769 0771 0851 0871 0898 0931 0991 0535 0760".split()
for i in range(120):
    a = rnd.choice(areas)
    n = rnd.choice("2345678") + "".join(rnd.choice("0123456789") for _ in range(7))
    print(i, a, n)
