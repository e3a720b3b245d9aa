#!/usr/bin/env python3
"""Validate bios.jsonl and negatives.jsonl (standard library only)."""
import json, re, sys, os, collections
HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = ["PHONE", "LANDLINE", "ID_NUMBER", "BANK_CARD", "EMAIL", "QQ", "WECHAT", "PERSON_NAME",
         "ADDRESS", "PASSPORT", "LICENSE_PLATE"]
MIN = {"PERSON_NAME": 260, "WECHAT": 200, "QQ": 150, "ADDRESS": 80}
for t in TYPES: MIN.setdefault(t, 12)
MIN_BIOS, MIN_NEG = 750, 300
CN = {}
for s in ["0０〇零洞⓪", "1１一幺壹①", "2２二两贰②", "3３三叁③", "4４四肆④", "5５五伍⑤", "6６六陆⑥", "7７七柒⑦", "8８八捌⑧", "9９九玖⑨"]:
    for ch in s: CN[ch] = s[0]
def digits(s): return "".join(CN[c] for c in s if c in CN)
MOBILE = set("130 131 132 133 134 135 136 137 138 139 145 147 149 150 151 152 153 155 156 157 158 159 "
              "162 165 166 167 170 171 172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 "
              "190 191 192 193 195 196 197 198 199".split())
AREA = set("010 020 021 022 023 024 025 027 028 029 0311 0351 0371 0431 0451 0471 0531 0532 0551 0571 "
           "0574 0577 0591 0592 0731 0751 0755 0756 0757 0760 0769 0771 0791 0851 0871 0898 0931 0951 "
           "0991 0312 0379 0563 0578 0512 0510 0516 0519 0579 0411 0535 0631 0838 0316 0872 0898".split())
COUNTY = set("""110101 110102 110105 110106 110108 110114 120101 120103 130102 130104 140105 210102 210202
220102 230103 310101 310104 310105 310110 310115 320102 320106 320583 320205 320311 330102 330106 330203
330782 330302 340104 350102 350203 360102 370102 370202 370602 371702 410105 410305 420102 420106 430104
430102 440103 440106 440305 440304 441302 450103 460105 500103 500112 510104 510107 511302 520102 530102
610113 620102 630102 640104 650102 652801 532801 330108 130602 420111 341102 510681 433101""".split())
def id_ok(v):
    d = "".join(CN.get(c, c) for c in v if c in CN or c in "Xx")
    d = d.upper()
    if len(d) == 15:
        return d.isdigit() and d[:6] in COUNTY and valid_date("19" + d[6:12])
    if len(d) != 18 or not d[:17].isdigit(): return False
    if d[:6] not in COUNTY or not valid_date(d[6:14]): return False
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(a) * b for a, b in zip(d, w)) % 11] == d[17]
def hk_tw_ok(v):
    return bool(re.fullmatch(r"[A-Z]{1,2}\d{6}\s?[（(][0-9A][)）]", v) or re.fullmatch(r"[A-Z][12]\d{8}", v)
                or re.fullmatch(r"[1-7]\d{6}\s?[（(]\d[)）]", v))
def valid_date(s):
    import datetime
    try:
        dt = datetime.date(int(s[:4]), int(s[4:6]), int(s[6:8]))
        return 1930 <= dt.year <= 2020
    except Exception:
        return False
def luhn(d):
    tot = 0
    for i, c in enumerate(reversed(d)):
        x = int(c)
        if i % 2: x *= 2; x = x - 9 if x > 9 else x
        tot += x
    return tot % 10 == 0
def card_ok(v):
    d = digits(v)
    if not luhn(d): return False
    if d.startswith(("34", "37")): return len(d) == 15
    if d.startswith("62"): return 16 <= len(d) <= 19
    if d.startswith("35"): return len(d) == 16
    if d.startswith(("4", "5", "2")): return len(d) == 16
    return False
def phone_ok(v):
    d = digits(v)
    s = v.replace("\u200b", "")
    if re.match(r"^\s*[（(]?\s*(\+|＋)?\s*(00|０{2})?\s*(86|８６)", s) and len(d) == 13: d = d[2:]
    elif len(d) == 15 and d.startswith("0086"): d = d[4:]
    return len(d) == 11 and d[:3] in MOBILE
def landline_ok(v):
    main = re.split(r"转|分机|ext\.?|EXT|Ext|-(?=\d{2,4}$)|#", v)[0]
    d = digits(main)
    if d.startswith("86") and ("+" in v or "＋" in v or v.startswith("0086")): d = "0" + d[2:]
    if d.startswith("0086"): d = "0" + d[4:]
    ac = d[:3] if d[:3] in AREA else d[:4] if d[:4] in AREA else None
    if not ac:
        # full grouping with extension like 0755-26543210-808 already split; try without split
        return False
    rest = len(d) - len(ac)
    return rest in (7, 8)
def email_ok(v):
    at = re.search(r"@|＠|\[at\]|\(at\)|（at）|艾特|圈a|#| at |\{at\}", v, re.I)
    dot = re.search(r"\.|。|．|dot|点", v, re.I)
    return bool(at and dot)
def qq_ok(v):
    d = digits(v)
    return 5 <= len(d) <= 11 and d[0] != "0"
def wx_ok(v):
    if v.startswith("wxid_"): return bool(re.fullmatch(r"wxid_[a-z0-9]{6,20}", v))
    d = digits(v)
    if len(d) == 11 and not re.search(r"[A-Za-z]", v): return phone_ok(v)
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{5,19}", re.sub(r"\s", "", v)))
def name_ok(v):
    return 2 <= len(v) <= 25 and not re.search(r"\d", v)
def addr_ok(v):
    return len(v) >= 8 and bool(re.search(r"路|街|大道|巷|弄|胡同|小区|花园|苑|村|镇|乡|号|栋|楼|室|单元|里|屯|组", v))
def pp_ok(v):
    return bool(re.fullmatch(r"E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}|[A-Z]{1,2}\d{6,8}", v))
def plate_ok(v):
    return bool(re.fullmatch(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][·•\s]?[A-Z0-9]{5,6}", v))
CHECK = {"PHONE": phone_ok, "LANDLINE": landline_ok, "ID_NUMBER": lambda v: id_ok(v) or hk_tw_ok(v),
         "BANK_CARD": card_ok, "EMAIL": email_ok, "QQ": qq_ok, "WECHAT": wx_ok, "PERSON_NAME": name_ok,
         "ADDRESS": addr_ok, "PASSPORT": pp_ok, "LICENSE_PLATE": plate_ok}
def main():
    errs = []; ids = set(); texts = set()
    cnt = collections.Counter(); fmt = collections.Counter(); vals = collections.defaultdict(set)
    nb = 0
    for ln, line in enumerate(open(os.path.join(HERE, "bios.jsonl"), encoding="utf-8"), 1):
        r = json.loads(line); nb += 1
        if set(r) != {"id", "text", "spans"}: errs.append(f"b{ln}: keys {set(r)}")
        if not re.fullmatch(r"d5b\d{4}", r["id"]) or r["id"] in ids: errs.append(f"b{ln}: bad/dup id")
        ids.add(r["id"]); t = r["text"]
        if t in texts: errs.append(f"b{ln}: dup text")
        texts.add(t)
        if not 10 <= len(t) <= 200: errs.append(f"{r['id']}: length {len(t)}")
        if not r["spans"]: errs.append(f"{r['id']}: no spans")
        for s in r["spans"]:
            if set(s) != {"type", "value", "format"} or not s["format"]: errs.append(f"{r['id']}: span keys"); continue
            if s["type"] not in TYPES: errs.append(f"{r['id']}: type {s['type']}"); continue
            if s["value"] not in t: errs.append(f"{r['id']}: value not in text {s['value']!r}")
            if not CHECK[s["type"]](s["value"]): errs.append(f"{r['id']}: invalid {s['type']} {s['value']!r}")
            cnt[s["type"]] += 1; fmt[(s["type"], s["format"])] += 1; vals[s["type"]].add(s["value"])
    nn = 0; kinds = collections.Counter()
    for ln, line in enumerate(open(os.path.join(HERE, "negatives.jsonl"), encoding="utf-8"), 1):
        r = json.loads(line); nn += 1
        if set(r) != {"id", "text", "spans", "kind"}: errs.append(f"n{ln}: keys")
        if not re.fullmatch(r"d5n\d{4}", r["id"]) or r["id"] in ids: errs.append(f"n{ln}: bad/dup id")
        ids.add(r["id"]); t = r["text"]
        if t in texts: errs.append(f"n{ln}: dup text")
        texts.add(t)
        if not 10 <= len(t) <= 200: errs.append(f"{r['id']}: length {len(t)}")
        if r["spans"]: errs.append(f"{r['id']}: negatives must have no spans")
        if not r["kind"]: errs.append(f"{r['id']}: no kind")
        kinds[r["kind"]] += 1
        for m in re.finditer(r"(?<!\d)1[3-9]\d{9}(?!\d)", t):
            if phone_ok(m.group()): errs.append(f"{r['id']}: negative contains a valid mobile {m.group()}")
        for m in re.finditer(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])", t):
            if id_ok(m.group()): errs.append(f"{r['id']}: negative contains a valid ID {m.group()}")
        for m in re.finditer(r"(?<![\dA-Za-z])\d{16,19}(?![\dA-Za-z])", t):
            if card_ok(m.group()): errs.append(f"{r['id']}: negative contains a Luhn-valid card {m.group()}")
        if re.search(r"[A-Za-z0-9._-]+@[A-Za-z0-9-]+\.(com|cn|net)", t): errs.append(f"{r['id']}: negative contains an e-mail")
    print(f"bios: {nb}  negatives: {nn}")
    print("values per type (total / distinct):")
    for t in TYPES: print(f"  {t:14s} {cnt[t]:4d} / {len(vals[t]):4d}")
    print("values per format:")
    for (t, f), c in sorted(fmt.items()): print(f"  {t:14s} {f:14s} {c}")
    print("negative kinds:", dict(sorted(kinds.items())))
    for t, m in MIN.items():
        if cnt[t] < m: errs.append(f"count {t} = {cnt[t]} < {m}")
    if nb < MIN_BIOS: errs.append(f"bios {nb} < {MIN_BIOS}")
    if nn < MIN_NEG: errs.append(f"negatives {nn} < {MIN_NEG}")
    for e in errs[:80]: print("ERR", e)
    if len(errs) > 80: print(f"... {len(errs) - 80} more")
    print("OK" if not errs else f"FAIL ({len(errs)} problems)")
    return 0 if not errs else 1
if __name__ == "__main__":
    sys.exit(main())
