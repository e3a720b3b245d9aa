#!/usr/bin/python3
"""Validate bios.jsonl / negatives.jsonl of the pii_dev3 corpus.

Checks: JSON structure and ids; span types and formats; every value occurs verbatim in its
text; type-specific validity (GB 11643 mod-11 ID check characters and birth dates, Luhn and
issuer prefixes for cards, real mobile prefixes, real area codes, QQ/WeChat id shapes,
passport and plate shapes, e-mail shape after de-obfuscation); no unlabelled mobile numbers
left in bios; negatives carry no spans and contain nothing that passes the mobile / ID /
Luhn / e-mail checks. Prints counts per type and format and OK or FAIL.
"""
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent

TYPES = ["PHONE", "LANDLINE", "ID_NUMBER", "BANK_CARD", "EMAIL", "QQ", "WECHAT",
         "PERSON_NAME", "ADDRESS", "PASSPORT", "LICENSE_PLATE"]

CONTACT_FORMATS = {"keyword_direct", "keyword_colon", "keyword_space", "verb", "keyword_far",
                   "keyword_after", "bracketed", "evasive_keyword"}
FORMATS = {
    "PHONE": {"plain", "dashed", "spaced", "dotted", "slashed", "underscored", "tilde",
              "grouped_irregular", "spaced_digits", "intl_prefix", "fullwidth",
              "chinese_numerals", "capital_numerals", "mixed_numerals", "circled",
              "invisible_chars"},
    "LANDLINE": {"plain", "dashed", "spaced", "parenthesized", "extension", "intl"},
    "ID_NUMBER": {"plain", "grouped", "spaced", "fullwidth", "chinese_numerals",
                  "lowercase_x", "old15", "hk", "tw"},
    "BANK_CARD": {"plain", "grouped_space", "grouped_dash", "grouped_dot", "amex",
                  "split_6_13", "fullwidth", "chinese_numerals"},
    "EMAIL": {"plain", "chinese_local", "chinese_domain", "fullwidth", "spaced_at",
              "obfuscated"},
    "QQ": CONTACT_FORMATS | {"no_keyword", "chinese_numerals", "mixed_numerals",
                             "spaced_digits", "fullwidth", "circled"},
    "WECHAT": CONTACT_FORMATS | {"phone_as_id", "wxid"},
    "PERSON_NAME": {"wo_jiao", "benren", "xingming_field", "mingzi_shi", "jiao_wo",
                    "contact_person", "signature", "english_name", "name_then_age_job",
                    "name_then_job", "role_then_name", "family_member", "self_intro"},
    "ADDRESS": {"full_province", "city_road", "district_road", "compound_unit", "lane",
                "village"},
    "PASSPORT": {"e_digits", "e_letter_digits", "g_digits", "foreign"},
    "LICENSE_PLATE": {"plain", "dotted", "spaced", "new_energy"},
}

NEG_KINDS = {
    "order_number", "tracking_number", "invoice", "model_number", "staff_student_id",
    "date_time", "price_amount", "body_metrics", "score", "birth_year", "version", "isbn",
    "flight_train", "room_seat", "hotline", "verification_code", "postal_code", "stock_code",
    "invalid_number", "group_or_public_account", "celebrity_fictional", "surname_title",
    "nickname", "brand_app", "surname_word", "city_only", "handle_mention", "url",
    "code_snippet", "mixed",
}

MINIMUM = {"WECHAT": 150, "QQ": 120, "PERSON_NAME": 180, "ADDRESS": 80}
MIN_OTHER = 15
MIN_BIOS, MIN_NEGS = 600, 250

MOBILE_PREFIXES = ({str(p) for p in range(130, 140)} | {"145", "147", "149"}
                   | {"150", "151", "152", "153", "155", "156", "157", "158", "159"}
                   | {"162", "165", "166", "167"}
                   | {"170", "171", "172", "173", "175", "176", "177", "178"}
                   | {str(p) for p in range(180, 190)}
                   | {"190", "191", "192", "193", "195", "196", "197", "198", "199"})

AREA_CODES = {"010", "020", "021", "022", "023", "024", "025", "027", "028", "029",
              "0311", "0351", "0371", "0411", "0431", "0451", "0471", "0512", "0531",
              "0532", "0551", "0571", "0574", "0576", "0577", "0591", "0592", "0731", "0755",
              "0757", "0769", "0791", "0851", "0871", "0898", "0931", "0991"}

# county-level codes used in the corpus (all real GB/T 2260 codes)
COUNTY_CODES = {
    "110101": "北京东城", "110105": "北京朝阳", "110108": "北京海淀", "120101": "天津和平",
    "130102": "石家庄长安", "140105": "太原小店", "210102": "沈阳和平", "230103": "哈尔滨南岗",
    "310104": "上海徐汇", "320102": "南京玄武", "320106": "南京鼓楼", "320582": "张家港",
    "330106": "杭州西湖", "330782": "义乌", "340104": "合肥蜀山", "350203": "厦门思明",
    "360102": "南昌东湖", "370202": "青岛市南", "410105": "郑州金水", "420111": "武汉洪山",
    "430102": "长沙芙蓉", "440106": "广州天河", "440305": "深圳南山", "450103": "南宁青秀",
    "500103": "重庆渝中", "510107": "成都武侯", "520102": "贵阳南明", "530102": "昆明五华",
    "610113": "西安雁塔", "650102": "乌鲁木齐天山",
}
PROVINCES = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35",
             "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54",
             "61", "62", "63", "64", "65"}

CN_DIGITS = {}
for chars, d in [("零〇洞", "0"), ("一壹幺", "1"), ("二贰两", "2"), ("三叁", "3"),
                 ("四肆", "4"), ("五伍", "5"), ("六陆", "6"), ("七柒拐", "7"),
                 ("八捌", "8"), ("九玖勾", "9")]:
    for c in chars:
        CN_DIGITS[c] = d
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
SEPARATORS = re.compile(r"[\s\-\.\/_~·•・]+")

COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "宇文", "令狐", "尉迟",
                     "长孙", "慕容", "公孙", "司徒", "夏侯", "南宫", "闻人", "端木", "钟离")
RARE_SURNAMES = set("仉亓訾禤佘逄郗笪眭乜邸揭缪阙冶靳蔺晏冼覃隗岑邝练仇查姬柏麦农牛汪")


def norm(s):
    s = unicodedata.normalize("NFKC", s).translate(INVISIBLE)
    return "".join(CN_DIGITS.get(c, c) for c in s)


def digits_only(s):
    return re.sub(r"\D", "", norm(s))


def id_check_char(body17):
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(a) * b for a, b in zip(body17, w)) % 11]


def valid_date(y, m, d):
    import datetime
    try:
        datetime.date(y, m, d)
        return 1900 <= y <= 2024
    except ValueError:
        return False


def luhn_ok(num):
    total = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def hk_ok(v):
    m = re.fullmatch(r"([A-Z]{1,2})(\d{6})\(([0-9A])\)", v)
    if not m:
        return False
    letters, digits, chk = m.groups()
    vals = ([36] if len(letters) == 1 else []) + [ord(c) - 55 for c in letters] + [int(x) for x in digits]
    r = (11 - sum(a * b for a, b in zip(vals, range(9, 1, -1))) % 11) % 11
    return chk == ("A" if r == 10 else str(r))


TW_MAP = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", list(range(10, 34)) + [34, 35]))


def tw_ok(v):
    if not re.fullmatch(r"[A-Z][12]\d{8}", v):
        return False
    n = TW_MAP[v[0]]
    d = [n // 10, n % 10] + [int(x) for x in v[1:]]
    return sum(a * b for a, b in zip(d, [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1])) % 10 == 0


def mobile_ok(value):
    raw = norm(value)
    if re.search(r"[^\d\s\-\.\/_~+()（）]", raw):
        return False, "unexpected characters"
    d = re.sub(r"\D", "", raw)
    if len(d) == 15 and d.startswith("0086"):
        d = d[4:]
    elif len(d) == 13 and d.startswith("86"):
        d = d[2:]
    if len(d) != 11:
        return False, f"{len(d)} digits"
    if d[:3] not in MOBILE_PREFIXES:
        return False, f"prefix {d[:3]}"
    return True, ""


def check_phone(v, fmt):
    return mobile_ok(v)


def check_landline(v, fmt):
    s = norm(v)
    ext = ""
    m = re.search(r"\s*(转|ext\.?|分机)\s*(\d{1,5})$", s, re.I)
    if m:
        ext, s = m.group(2), s[:m.start()]
    intl = bool(re.match(r"^\s*(\+|00)?86[\s\-]", s))
    if intl:
        s = re.sub(r"^\s*(\+|00)?86[\s\-]*", "", s)
    if re.search(r"[^\d\s\-()（）]", s):
        return False, "unexpected characters"
    d = re.sub(r"\D", "", s)
    if intl:
        d = "0" + d
    groups = [g for g in re.split(r"[\s\-()（）]+", s) if g]
    for L in (3, 4):
        area = d[:L]
        if area not in AREA_CODES:
            continue
        rest = d[L:]
        for loc in ((8,) if L == 3 else (7, 8)):
            tail = rest[loc:]
            if len(rest) >= loc and not tail:
                return True, ""
            if len(rest) > loc and len(tail) <= 4 and not ext and groups and groups[-1] == tail:
                return True, ""  # dash extension like -808
    return False, f"area/local not recognised ({d})"


def check_id(v, fmt):
    if fmt == "hk":
        return hk_ok(v), "HK check"
    if fmt == "tw":
        return tw_ok(v), "TW check"
    s = SEPARATORS.sub("", norm(v)).upper()
    if fmt == "old15":
        if not re.fullmatch(r"\d{15}", s):
            return False, "not 15 digits"
        if s[:6] not in COUNTY_CODES:
            return False, f"unknown area {s[:6]}"
        return valid_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12])), "bad date"
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return False, f"shape {s}"
    if s[:6] not in COUNTY_CODES:
        return False, f"unknown area {s[:6]}"
    if not valid_date(int(s[6:10]), int(s[10:12]), int(s[12:14])):
        return False, "bad date"
    if id_check_char(s[:17]) != s[17]:
        return False, "check character"
    if fmt == "lowercase_x" and not v.endswith("x"):
        return False, "lowercase_x without x"
    return True, ""


def card_prefix_ok(d):
    if d[:2] in ("34", "37"):
        return len(d) == 15
    if len(d) < 16 or len(d) > 19:
        return False
    if d[0] == "4" or d[:2] == "62" or d[:4] == "6013":
        return True
    if "51" <= d[:2] <= "55" or "2221" <= d[:4] <= "2720":
        return True
    if "3528" <= d[:4] <= "3589":
        return True
    return False


def check_card(v, fmt):
    raw = norm(v)
    if re.search(r"[^\d\s\-\.]", raw):
        return False, "unexpected characters"
    d = re.sub(r"\D", "", raw)
    if not card_prefix_ok(d):
        return False, f"prefix/length {d}"
    return luhn_ok(d), "Luhn"


def deobfuscate_email(v):
    s = unicodedata.normalize("NFKC", v).replace("。", ".")
    s = re.sub(r"\s*(\[at\]|\(at\)|【at】|（at）|艾特|圈a|#|\sat\s)\s*", "@", s, flags=re.I)
    s = re.sub(r"\s*(\[dot\]|\(dot\)|（dot）|\sdot\s|点)\s*", ".", s, flags=re.I)
    return re.sub(r"\s+", "", s)


def check_email(v, fmt):
    s = deobfuscate_email(v)
    ok = re.fullmatch(r"[\w.+\-]+@[\w\-]+(\.[\w\-]+)*\.[\w]{2,}", s) is not None
    return ok, s


def check_qq(v, fmt):
    raw = norm(v)
    if re.search(r"[^\d\s\-]", raw):
        return False, "unexpected characters"
    d = re.sub(r"\D", "", raw)
    return re.fullmatch(r"[1-9]\d{4,10}", d) is not None, d


def check_wechat(v, fmt):
    if fmt == "phone_as_id":
        return mobile_ok(v)
    if fmt == "wxid":
        return re.fullmatch(r"wxid_[a-z0-9]{10,20}", v) is not None, "wxid"
    return re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{5,19}", v) is not None, "id shape"


def check_name(v, fmt):
    if re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", v):
        return True, ""
    if re.fullmatch(r"[\u4e00-\u9fff]{2,6}·[\u4e00-\u9fff]{2,8}", v):
        return True, ""
    return re.fullmatch(r"[\u4e00-\u9fff]{2,5}", v) is not None, "name shape"


ADDR_MARK = re.compile(r"(路|街|大道|巷|弄|胡同|村|小区|花园|苑|城|广场|大厦|园|区\d|道\d)")


def check_address(v, fmt):
    if not ADDR_MARK.search(v):
        return False, "no street/compound/village marker"
    if fmt != "village" and not re.search(r"\d", norm(v)):
        return False, "no number"
    if fmt == "village" and not re.search(r"(村|组|乡|镇)", v):
        return False, "village without 村/乡/镇"
    return True, ""


def check_passport(v, fmt):
    pats = {"e_digits": r"E\d{8}", "e_letter_digits": r"E[A-Z]\d{7}", "g_digits": r"G\d{8}",
            "foreign": r"[A-Z]{0,2}\d{7,9}"}
    return re.fullmatch(pats[fmt], v) is not None, "passport shape"


PROV = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


def check_plate(v, fmt):
    m = re.fullmatch(rf"([{PROV}])([A-HJ-NP-Z])[·•・ ]?([A-HJ-NP-Z0-9]{{5,6}})", v)
    if not m:
        return False, "plate shape"
    tail = m.group(3)
    if fmt == "new_energy":
        return len(tail) == 6 and (tail[0] in "DF" or tail[-1] in "DF"), "new energy"
    return len(tail) == 5, "5 chars"


CHECKS = {"PHONE": check_phone, "LANDLINE": check_landline, "ID_NUMBER": check_id,
          "BANK_CARD": check_card, "EMAIL": check_email, "QQ": check_qq,
          "WECHAT": check_wechat, "PERSON_NAME": check_name, "ADDRESS": check_address,
          "PASSPORT": check_passport, "LICENSE_PLATE": check_plate}

MOBILE_RUN = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_RUN = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
LONG_RUN = re.compile(r"(?<!\d)\d{15,19}(?!\d)")
EMAIL_RUN = re.compile(r"[\w.\-]+@[\w\-]+\.[A-Za-z]{2,}")


def load(name):
    rows = []
    with open(ROOT / name, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                rows.append({"_error": f"{name}:{n}: {e}"})
    return rows


def number_hits(text):
    """Things in free text that pass a mobile/ID/Luhn/e-mail check."""
    t = norm(text)
    hits = []
    for m in MOBILE_RUN.finditer(t):
        if m.group()[:3] in MOBILE_PREFIXES:
            hits.append(("mobile", m.group()))
    for m in ID_RUN.finditer(t):
        s = m.group().upper()
        if s[:2] in PROVINCES and valid_date(int(s[6:10]), int(s[10:12]), int(s[12:14])) \
                and id_check_char(s[:17]) == s[17]:
            hits.append(("id", m.group()))
    for m in LONG_RUN.finditer(t):
        if card_prefix_ok(m.group()) and luhn_ok(m.group()):
            hits.append(("card", m.group()))
    for m in EMAIL_RUN.finditer(t):
        hits.append(("email", m.group()))
    return hits


def main():
    errors = []
    bios, negs = load("bios.jsonl"), load("negatives.jsonl")
    seen_ids, seen_texts = set(), set()
    type_counts, fmt_counts = Counter(), defaultdict(Counter)
    multi, name_feats = 0, Counter()
    short_or_long = 0

    for row in bios:
        if "_error" in row:
            errors.append(row["_error"])
            continue
        rid = row.get("id")
        if set(row) != {"id", "text", "spans"}:
            errors.append(f"{rid}: keys {sorted(row)}")
        if not re.fullmatch(r"f\d{4}", str(rid)) or rid in seen_ids:
            errors.append(f"{rid}: bad or duplicate id")
        seen_ids.add(rid)
        text, spans = row.get("text", ""), row.get("spans", [])
        if text in seen_texts:
            errors.append(f"{rid}: duplicate text")
        seen_texts.add(text)
        if not 10 <= len(text) <= 200:
            errors.append(f"{rid}: length {len(text)} outside 10-200")
        if not spans:
            errors.append(f"{rid}: no spans")
        if len(spans) >= 2:
            multi += 1
        rest = text
        for sp in spans:
            if set(sp) != {"type", "value", "format"}:
                errors.append(f"{rid}: span keys {sorted(sp)}")
                continue
            t, v, f = sp["type"], sp["value"], sp["format"]
            if t not in FORMATS:
                errors.append(f"{rid}: unknown type {t}")
                continue
            if f not in FORMATS[t]:
                errors.append(f"{rid}: unknown format {t}/{f}")
            if not v or v not in text:
                errors.append(f"{rid}: value not in text: {v!r}")
            ok, why = CHECKS[t](v, f)
            if not ok:
                errors.append(f"{rid}: invalid {t}/{f} {v!r} ({why})")
            type_counts[t] += 1
            fmt_counts[t][f] += 1
            rest = rest.replace(v, " ")
            if t == "PERSON_NAME":
                if "·" in v:
                    name_feats["minority (middle dot)"] += 1
                elif re.fullmatch(r"[A-Za-z ]+", v):
                    name_feats["English/pinyin"] += 1
                elif v.startswith(COMPOUND_SURNAMES):
                    name_feats["compound surname"] += 1
                elif v[0] in RARE_SURNAMES:
                    name_feats["rare surname"] += 1
        for kind, val in number_hits(rest):
            errors.append(f"{rid}: unlabelled {kind} {val!r} in bio")

    neg_kinds = Counter()
    seen_ids = set()
    for row in negs:
        if "_error" in row:
            errors.append(row["_error"])
            continue
        rid = row.get("id")
        if set(row) != {"id", "text", "spans", "kind"}:
            errors.append(f"{rid}: keys {sorted(row)}")
        if not re.fullmatch(r"m\d{4}", str(rid)) or rid in seen_ids:
            errors.append(f"{rid}: bad or duplicate id")
        seen_ids.add(rid)
        text = row.get("text", "")
        if text in seen_texts:
            errors.append(f"{rid}: duplicate text")
        seen_texts.add(text)
        if not 10 <= len(text) <= 200:
            errors.append(f"{rid}: length {len(text)} outside 10-200")
        if row.get("spans") != []:
            errors.append(f"{rid}: negative with spans")
        if row.get("kind") not in NEG_KINDS:
            errors.append(f"{rid}: unknown kind {row.get('kind')}")
        neg_kinds[row.get("kind")] += 1
        for kind, val in number_hits(text):
            errors.append(f"{rid}: negative contains a valid-looking {kind} {val!r}")

    # sizes
    if len(bios) < MIN_BIOS:
        errors.append(f"only {len(bios)} bios (< {MIN_BIOS})")
    if len(negs) < MIN_NEGS:
        errors.append(f"only {len(negs)} negatives (< {MIN_NEGS})")
    for t in TYPES:
        need = MINIMUM.get(t, MIN_OTHER)
        if type_counts[t] < need:
            errors.append(f"{t}: {type_counts[t]} values (< {need})")

    print(f"bios: {len(bios)}  (with >=2 spans: {multi})   spans: {sum(type_counts.values())}")
    print(f"negatives: {len(negs)}")
    print()
    for t in TYPES:
        print(f"{t:14s} {type_counts[t]:4d}   " +
              ", ".join(f"{f} {n}" for f, n in sorted(fmt_counts[t].items(), key=lambda x: (-x[1], x[0]))))
    print()
    print("PERSON_NAME features: " + ", ".join(f"{k} {v}" for k, v in name_feats.items()))
    print("negatives by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(neg_kinds.items(), key=lambda x: (-x[1], x[0]))))
    print()
    if errors:
        for e in errors:
            print("ERROR", e)
        print(f"FAIL ({len(errors)} problems)")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
