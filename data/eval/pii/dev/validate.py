#!/usr/bin/env python3
"""Validate bios.jsonl and negatives.jsonl of the PII dev corpus. Exit code 0 = pass."""
import collections, datetime, json, os, re, sys, unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = {"PHONE": 90, "LANDLINE": 40, "ID_NUMBER": 55, "BANK_CARD": 45, "EMAIL": 55, "QQ": 40,
         "WECHAT": 50, "PERSON_NAME": 55, "ADDRESS": 50, "PASSPORT": 20, "LICENSE_PLATE": 20}
FORMATS = {"plain", "separators", "spaced_digits", "unusual_grouping", "fullwidth", "unicode_digits",
           "chinese_numerals", "mixed_numerals", "country_prefix", "extension", "obfuscated",
           "alias_keyword", "non_ascii_email", "invisible_chars", "parenthesized", "other"}
REQUIRED_KINDS = {"order_number", "tracking_number", "invoice", "model_number", "serial_number", "date",
                  "price", "measurement", "score", "birth_year", "version", "isbn", "flight_train",
                  "room_seat", "hotline", "verification_code", "postal_code", "stock_code",
                  "checksum_fail", "group_account", "celebrity", "city_only", "brand_app", "handle",
                  "code_snippet", "url"}
KINDS = REQUIRED_KINDS | {"other"}
MIN_BIOS, MIN_NEG = 450, 150

CN = {"零": "0", "〇": "0", "洞": "0", "○": "0", "一": "1", "幺": "1", "壹": "1", "么": "1",
      "二": "2", "两": "2", "贰": "2", "貳": "2", "三": "3", "叁": "3", "四": "4", "肆": "4",
      "五": "5", "伍": "5", "六": "6", "陆": "6", "陸": "6", "七": "7", "柒": "7", "拐": "7",
      "八": "8", "捌": "8", "九": "9", "玖": "9", "勾": "9"}
MOB = re.compile(r"^1(3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}$")
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

def digits_of(s, keep_x=False):
    out = []
    for ch in s:
        if ch in CN:
            out.append(CN[ch]); continue
        try:
            out.append(str(unicodedata.digit(ch))); continue
        except (TypeError, ValueError):
            pass
        if keep_x and ch in "xXｘＸ":
            out.append("X")
    return "".join(out)

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
    return None

def hk_ok(v):
    m = re.match(r"^([A-Z]{1,2})(\d{6})\s*[\(（]?([0-9A])[\)）]?$", v)
    if not m:
        return False
    p = m.group(1).rjust(2)
    vals = [36 if c == " " else ord(c) - 55 for c in p] + [int(x) for x in m.group(2)]
    c = (11 - sum(a * b for a, b in zip(vals, [9, 8, 7, 6, 5, 4, 3, 2])) % 11) % 11
    return ("A" if c == 10 else str(c)) == m.group(3)

def tw_ok(v):
    m = re.match(r"^([A-Z])([12]\d{8})$", v)
    if not m:
        return False
    n = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36)))[m.group(1)]
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
        if ch in CN:
            out.append(CN[ch])
        elif unicodedata.category(ch) in ("Cf", "Zs", "Pd", "Po", "Ps", "Pe") or ch.isspace():
            continue
        else:
            out.append(ch)
    return "".join(out)

def value_error(typ, v):
    if typ == "PHONE":
        return None if mobile_ok(digits_of(v)) else "invalid mobile"
    if typ == "ID_NUMBER":
        r = id_ok(v)
        if r is None:
            return None if (hk_ok(v) or tw_ok(v) or re.match(r"^[1578]\d{6}\(\d\)$", v)) else "unknown id format"
        return None if r else "bad id check char/date"
    if typ == "BANK_CARD":
        d = digits_of(v)
        return None if 15 <= len(d) <= 19 and luhn_ok(d) else "card length/Luhn"
    if typ == "QQ":
        d = digits_of(v)
        return None if 5 <= len(d) <= 11 and d[0] != "0" else "bad QQ number"
    if typ == "LANDLINE":
        d = digits_of(v)
        if d.startswith("0086"):
            d = "0" + d[4:]
        elif d.startswith("86"):
            d = "0" + d[2:]
        return None if d.startswith("0") and len(d) >= 10 else "bad landline"
    if typ == "PASSPORT":
        return None if re.match(r"^([EG]\d{8}|E[A-HJ-NP-Z]\d{7}|[A-Z0-9]{6,10})$", norm_alnum(v)) else "bad passport"
    if typ == "LICENSE_PLATE":
        return None if re.match(r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-Z0-9]{5,6}$",
                                norm_alnum(v).upper()) else "bad plate"
    if typ == "EMAIL":
        return None if re.search(r"[@＠]|at|AT|艾特|圈a|#", v) else "no @ or obfuscation"
    if typ == "WECHAT":
        return None if len(re.sub(r"\s|-", "", v)) >= 6 else "too short"
    return None

def main():
    errors, warnings = [], []
    ids = set()
    tcount, fcount = collections.Counter(), collections.Counter()
    nb = 0
    for ln, line in enumerate(open(os.path.join(HERE, "bios.jsonl"), encoding="utf-8"), 1):
        try:
            o = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"bios:{ln} JSON: {e}"); continue
        nb += 1
        if set(o) != {"id", "text", "spans"}:
            errors.append(f"bios:{ln} keys {sorted(o)}")
        i, t, spans = o.get("id"), o.get("text", ""), o.get("spans", [])
        if not isinstance(i, str) or not re.match(r"^d\d{4}$", i) or i in ids:
            errors.append(f"bios:{ln} bad/duplicate id {i}")
        ids.add(i)
        if not (10 <= len(t) <= 200):
            errors.append(f"{i}: text length {len(t)}")
        if not spans:
            errors.append(f"{i}: no spans")
        per_value = collections.Counter()
        for s in spans:
            if set(s) != {"type", "value", "format"}:
                errors.append(f"{i}: span keys {sorted(s)}"); continue
            if s["type"] not in TYPES:
                errors.append(f"{i}: bad type {s['type']}")
            if s["format"] not in FORMATS:
                errors.append(f"{i}: bad format {s['format']}")
            if not s["value"] or s["value"] not in t:
                errors.append(f"{i}: value not a substring: {s['value']!r}")
            if s["value"] != s["value"].strip():
                errors.append(f"{i}: value has outer whitespace: {s['value']!r}")
            err = value_error(s["type"], s["value"])
            if err:
                errors.append(f"{i}: {s['type']} {s['value']!r}: {err}")
            per_value[s["value"]] += 1
            tcount[s["type"]] += 1; fcount[s["format"]] += 1
        for v, k in per_value.items():
            if t.count(v) < k:
                errors.append(f"{i}: value {v!r} listed {k}x but occurs {t.count(v)}x")
        # spans must be placeable without overlap (greedy left-to-right per value order)
        taken = [False] * len(t)
        for s in sorted(spans, key=lambda s: -len(s["value"])):
            start = 0
            while True:
                p = t.find(s["value"], start)
                if p < 0:
                    errors.append(f"{i}: cannot place {s['value']!r} without overlap"); break
                if not any(taken[p:p + len(s["value"])]):
                    for k in range(p, p + len(s["value"])):
                        taken[k] = True
                    break
                start = p + 1
    nn, kinds = 0, collections.Counter()
    for ln, line in enumerate(open(os.path.join(HERE, "negatives.jsonl"), encoding="utf-8"), 1):
        try:
            o = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"neg:{ln} JSON: {e}"); continue
        nn += 1
        i, t = o.get("id"), o.get("text", "")
        if set(o) != {"id", "text", "spans", "kind"}:
            errors.append(f"neg:{ln} keys {sorted(o)}")
        if not isinstance(i, str) or not re.match(r"^n\d{4}$", i) or i in ids:
            errors.append(f"neg:{ln} bad/duplicate id {i}")
        ids.add(i)
        if o.get("spans") != []:
            errors.append(f"{i}: negatives must have empty spans")
        if o.get("kind") not in KINDS:
            errors.append(f"{i}: bad kind {o.get('kind')}")
        kinds[o.get("kind")] += 1
        if not (10 <= len(t) <= 200):
            errors.append(f"{i}: text length {len(t)}")
        for m in re.finditer(r"(?<![\d\-])\d[\d\- ]*\d[Xx]?(?![\d\-])", t):
            raw = m.group()
            d = re.sub(r"[^\dXx]", "", raw)
            dd = re.sub(r"\D", "", raw)
            if len(dd) == 11 and MOB.match(dd):
                errors.append(f"{i}: negative contains a mobile number {raw!r}")
            if len(d) in (15, 18) and id_ok(d):
                errors.append(f"{i}: negative contains a valid ID number {raw!r}")
            if 15 <= len(dd) <= 19 and luhn_ok(dd):
                errors.append(f"{i}: negative contains a Luhn-valid number {raw!r}")
    if nb < MIN_BIOS:
        errors.append(f"only {nb} bios (< {MIN_BIOS})")
    if nn < MIN_NEG:
        errors.append(f"only {nn} negatives (< {MIN_NEG})")
    for ty, mn in TYPES.items():
        if tcount[ty] < mn:
            errors.append(f"type {ty}: {tcount[ty]} < {mn}")
    missing = REQUIRED_KINDS - set(kinds)
    if missing:
        errors.append(f"negative kinds missing: {sorted(missing)}")
    tot = sum(fcount.values())
    unusual = tot - fcount["plain"]
    print(f"bios={nb} negatives={nn} spans={tot} unusual(non-plain)={unusual} ({100 * unusual / max(tot, 1):.1f}%)")
    print("types:", dict(tcount.most_common()))
    print("formats:", dict(fcount.most_common()))
    print("negative kinds:", dict(kinds.most_common()))
    for w in warnings:
        print("WARN", w)
    for e in errors:
        print("ERROR", e)
    print("PASS" if not errors else f"FAIL ({len(errors)} errors)")
    return 0 if not errors else 1

if __name__ == "__main__":
    sys.exit(main())
