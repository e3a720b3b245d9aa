"""Validity checks for numeric identifiers written in any of the supported styles."""
import re, unicodedata, datetime

CN = {"零": "0", "〇": "0", "洞": "0", "○": "0", "Ｏ": None,
      "一": "1", "幺": "1", "壹": "1", "么": "1",
      "二": "2", "两": "2", "贰": "2", "貳": "2",
      "三": "3", "叁": "3", "參": "3",
      "四": "4", "肆": "4",
      "五": "5", "伍": "5",
      "六": "6", "陆": "6", "陸": "6",
      "七": "7", "柒": "7", "拐": "7",
      "八": "8", "捌": "8",
      "九": "9", "玖": "9", "勾": "9"}

def digits_of(s, keep_x=False):
    out = []
    for ch in s:
        if ch in CN and CN[ch]:
            out.append(CN[ch]); continue
        try:
            d = unicodedata.digit(ch)
            out.append(str(d)); continue
        except (TypeError, ValueError):
            pass
        if keep_x and ch in "xXｘＸ":
            out.append("X")
    return "".join(out)

MOB = re.compile(r"^1(3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}$")
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

def mobile_ok(d):
    for p in ("0086", "86"):
        if len(d) == 11 + len(p) and d.startswith(p):
            d = d[len(p):]
    return bool(MOB.match(d))

def date_ok(y, m, d):
    try:
        datetime.date(y, m, d); return True
    except ValueError:
        return False

def id_ok(v):
    d = digits_of(v, keep_x=True)
    if len(d) == 18 and d[:17].isdigit():
        s = sum(int(c) * w for c, w in zip(d[:17], W))
        return "10X98765432"[s % 11] == d[17] and d[0] in "123456" and date_ok(int(d[6:10]), int(d[10:12]), int(d[12:14]))
    if len(d) == 15 and d.isdigit():
        return d[0] in "123456" and date_ok(1900 + int(d[6:8]), int(d[8:10]), int(d[10:12]))
    return None  # other format (HK/TW...)

def hk_ok(v):
    m = re.match(r"^([A-Z]{1,2})(\d{6})\s*[\(（]?([0-9A])[\)）]?$", v)
    if not m:
        return False
    p = m.group(1).rjust(2)
    vals = [36 if c == " " else ord(c) - 55 for c in p] + [int(x) for x in m.group(2)]
    s = sum(a * b for a, b in zip(vals, [9, 8, 7, 6, 5, 4, 3, 2]))
    c = (11 - s % 11) % 11
    return ("A" if c == 10 else str(c)) == m.group(3)

def tw_ok(v):
    m = re.match(r"^([A-Z])([12]\d{8})$", v)
    if not m:
        return False
    codes = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36)))
    n = codes[m.group(1)]
    vals = [n // 10, n % 10] + [int(x) for x in m.group(2)]
    return sum(a * b for a, b in zip(vals, [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1])) % 10 == 0

def luhn_ok(d):
    tot = 0
    for i, c in enumerate(reversed(d)):
        x = int(c)
        if i % 2:
            x = x * 2 - 9 if x > 4 else x * 2
        tot += x
    return tot % 10 == 0

def norm_alnum(v):
    out = []
    for ch in unicodedata.normalize("NFKC", v):
        if ch in CN and CN[ch]:
            out.append(CN[ch])
        elif unicodedata.category(ch) in ("Cf", "Zs", "Pd", "Po", "Ps", "Pe") or ch.isspace():
            continue
        else:
            out.append(ch)
    return "".join(out)

def check_value(typ, fmt, v):
    """Return an error string, or '' when the value looks valid."""
    if typ == "PHONE":
        return "" if mobile_ok(digits_of(v)) else "not a valid mobile: " + digits_of(v)
    if typ == "ID_NUMBER":
        r = id_ok(v)
        if r is None:
            return "" if (hk_ok(v) or tw_ok(v) or re.match(r"^[1578]\d{6}\(\d\)$", v)) else "unknown id format"
        return "" if r else "bad id checksum/date: " + digits_of(v, True)
    if typ == "BANK_CARD":
        d = digits_of(v)
        if not (15 <= len(d) <= 19):
            return "card length %d" % len(d)
        return "" if luhn_ok(d) else "luhn fail " + d
    if typ == "QQ":
        d = digits_of(v)
        return "" if (5 <= len(d) <= 11 and d[0] != "0") else "bad qq " + d
    if typ == "LANDLINE":
        d = digits_of(v)
        if d.startswith("86") and not d.startswith("0"):
            d = "0" + d[2:]
        elif d.startswith("0086"):
            d = "0" + d[4:]
        return "" if (d.startswith("0") and len(d) >= 10) else "bad landline " + d
    if typ == "PASSPORT":
        vv = norm_alnum(v)
        return "" if re.match(r"^([EG]\d{8}|E[A-HJ-NP-Z]\d{7}|[A-Z0-9]{6,10})$", vv) else "passport?"
    if typ == "LICENSE_PLATE":
        vv = norm_alnum(v).upper()
        return "" if re.match(r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-Z0-9]{5,6}$", vv) else "plate?"
    return ""
