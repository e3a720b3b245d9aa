#!/usr/bin/env python3
"""Validate bios.jsonl and negatives.jsonl of the pii_dev2 development corpus.
Checks: JSON parses, ids unique (across both files), text is a string, every span value is an
exact substring of its text, type/format labels are valid, the required minima are met,
negatives have empty spans and a kind. Additionally checks that numbers look real after
normalisation (ID check character, Luhn, mobile prefix, QQ length, WeChat id shape)."""
import json, re, sys, os
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = {"PHONE", "LANDLINE", "ID_NUMBER", "BANK_CARD", "EMAIL", "QQ", "WECHAT", "PERSON_NAME",
         "ADDRESS", "PASSPORT", "LICENSE_PLATE"}
FORMATS = {"plain", "separators", "spaced_digits", "unusual_grouping", "fullwidth", "unicode_digits",
           "chinese_numerals", "mixed_numerals", "country_prefix", "extension", "obfuscated",
           "alias_keyword", "non_ascii_email", "invisible_chars", "parenthesized", "other"}
MINIMA = {"QQ": 150, "WECHAT": 170, "PERSON_NAME": 180, "ADDRESS": 160}
OTHER_RANGE = (20, 60)
MIN_BIOS, MIN_NEG = 700, 250

DIGITS = {}
for i, c in enumerate("０１２３４５６７８９"): DIGITS[c] = str(i)
for i, c in enumerate("⓪①②③④⑤⑥⑦⑧⑨"): DIGITS[c] = str(i)
for i, c in enumerate("𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"): DIGITS[c] = str(i)
for i, c in enumerate("٠١٢٣٤٥٦٧٨٩"): DIGITS[c] = str(i)
for i, c in enumerate("⑴⑵⑶⑷⑸⑹⑺⑻⑼"): DIGITS[c] = str(i + 1)
for i, c in enumerate("❶❷❸❹❺❻❼❽❾"): DIGITS[c] = str(i + 1)
for i, c in enumerate("➀➁➂➃➄➅➆➇➈"): DIGITS[c] = str(i + 1)
for ch, d in [("零〇洞0", "0"), ("一幺壹", "1"), ("二两贰", "2"), ("三叁", "3"), ("四肆", "4"),
              ("五伍", "5"), ("六陆", "6"), ("七拐柒", "7"), ("八捌", "8"), ("九勾玖", "9")]:
    for c in ch: DIGITS[c] = d
INVIS = "\u200b\u200c\u200d\u2060\ufeff"

def norm(s):
    s = "".join(DIGITS.get(c, c) for c in s)
    s = s.replace("ｘ", "x").replace("Ｘ", "X")
    return "".join(c for c in s if c not in INVIS)

def only_digits(s):
    return re.sub(r"[^0-9Xx]", "", norm(s))

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def id_ok(d):
    d = d.upper()
    if re.fullmatch(r"\d{15}", d): return True
    if not re.fullmatch(r"\d{17}[\dX]", d): return False
    return "10X98765432"[sum(int(a) * b for a, b in zip(d[:17], W)) % 11] == d[17]

def luhn(d):
    t = 0
    for i, ch in enumerate(reversed(d)):
        n = int(ch)
        if i % 2: n = n * 2 - 9 if n > 4 else n * 2
        t += n
    return t % 10 == 0

def check_number(sp):
    t, v, f = sp["type"], sp["value"], sp["format"]
    n = norm(v)
    if t == "PHONE":
        d = re.sub(r"\D", "", n)
        if d.startswith("0086"): d = d[4:]
        elif d.startswith("86") and len(d) == 13: d = d[2:]
        return bool(re.fullmatch(r"1[3-9]\d{9}", d))
    if t == "ID_NUMBER":
        if re.fullmatch(r"[A-Z]{1,2}\d{6}[(（][\dA][)）]", n.replace(" ", "")): return True
        if re.fullmatch(r"[A-Z][12]\d{8}", n): return True
        if re.fullmatch(r"[157]\d{6}[(（]\d[)）]", n): return True
        return id_ok(only_digits(v))
    if t == "BANK_CARD":
        d = re.sub(r"\D", "", n)
        return 15 <= len(d) <= 19 and luhn(d)
    if t == "QQ":
        d = re.sub(r"\D", "", n)
        return 5 <= len(d) <= 11 and d[0] != "0"
    if t == "WECHAT" and f in ("plain", "alias_keyword", "parenthesized"):
        if re.fullmatch(r"1[3-9]\d{9}", v): return True
        return bool(re.fullmatch(r"(wxid_[a-z0-9]{8,20}|[A-Za-z][A-Za-z0-9_-]{5,19})", v))
    if t == "PASSPORT":
        return bool(re.fullmatch(r"([EG]\d{8}|E[A-HJ-NP-Z]\d{7}|[A-Z]{1,2}\d{6,8}|\d{9}|[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8})", re.sub(r"[\s\-]", "", n)))
    if t == "LICENSE_PLATE":
        return bool(re.fullmatch(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•\.\- ]?[A-HJ-NP-Z0-9]{5,6}", n))
    return True

def main():
    errors, warnings = [], []
    ids = set()
    tc, fc = Counter(), Counter()
    tf = Counter()
    def load(name):
        rows = []
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            for ln, line in enumerate(f, 1):
                try:
                    rows.append(json.loads(line))
                except Exception as e:
                    errors.append("%s:%d does not parse: %s" % (name, ln, e))
        return rows
    bios, negs = load("bios.jsonl"), load("negatives.jsonl")
    for name, rows in (("bios", bios), ("negatives", negs)):
        for r in rows:
            rid = r.get("id")
            if not isinstance(rid, str) or rid in ids: errors.append("bad/duplicate id %r" % rid)
            ids.add(rid)
            if not isinstance(r.get("text"), str) or not r["text"]: errors.append("%s: no text" % rid)
            if not isinstance(r.get("spans"), list): errors.append("%s: spans not a list" % rid)
            L = len(r.get("text", ""))
            if L < 10 or L > 200: warnings.append("%s: length %d outside 10-200" % (rid, L))
    for r in bios:
        if not r["spans"]: errors.append("%s: bio without spans" % r["id"])
        for sp in r["spans"]:
            if set(sp) != {"type", "value", "format"}: errors.append("%s: span keys %s" % (r["id"], sorted(sp)))
            if sp.get("type") not in TYPES: errors.append("%s: bad type %r" % (r["id"], sp.get("type")))
            if sp.get("format") not in FORMATS: errors.append("%s: bad format %r" % (r["id"], sp.get("format")))
            v = sp.get("value")
            if not v or v not in r["text"]: errors.append("%s: value %r not in text" % (r["id"], v))
            elif v != v.strip(): errors.append("%s: value %r has outer whitespace" % (r["id"], v))
            elif not check_number(sp): errors.append("%s: %s %r does not look valid" % (r["id"], sp["type"], v))
            tc[sp.get("type")] += 1; fc[sp.get("format")] += 1; tf[(sp.get("type"), sp.get("format"))] += 1
    for r in negs:
        if r.get("spans") != []: errors.append("%s: negative with spans" % r["id"])
        if not r.get("kind"): errors.append("%s: negative without kind" % r["id"])
    if len(bios) < MIN_BIOS: errors.append("only %d bios (< %d)" % (len(bios), MIN_BIOS))
    if len(negs) < MIN_NEG: errors.append("only %d negatives (< %d)" % (len(negs), MIN_NEG))
    for t in TYPES:
        lo = MINIMA.get(t, OTHER_RANGE[0])
        if tc[t] < lo: errors.append("type %s: %d < %d" % (t, tc[t], lo))
        if t not in MINIMA and tc[t] > OTHER_RANGE[1]: errors.append("type %s: %d > %d" % (t, tc[t], OTHER_RANGE[1]))
    print("bios: %d  negatives: %d  spans: %d" % (len(bios), len(negs), sum(tc.values())))
    for t, n in sorted(tc.items(), key=lambda x: -x[1]):
        print("  %-14s %4d   " % (t, n) + ", ".join("%s %d" % (f, c) for (tt, f), c in sorted(tf.items(), key=lambda x: -x[1]) if tt == t))
    print("formats:", dict(fc.most_common()))
    print("negative kinds:", dict(Counter(r.get("kind") for r in negs).most_common()))
    for w in warnings: print("WARN", w)
    for e in errors: print("ERROR", e)
    print("FAIL" if errors else "OK")
    return 1 if errors else 0

if __name__ == "__main__":
    sys.exit(main())
