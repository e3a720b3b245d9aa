# -*- coding: utf-8 -*-
"""Assemble bios.jsonl / negatives.jsonl from the hand-written source files in ../src.

Source markup (one bio per line, '#' lines are comments):
    ⟦T|value⟧  or  ⟦T.fmt|value⟧
T   : P=PHONE L=LANDLINE I=ID_NUMBER B=BANK_CARD E=EMAIL Q=QQ W=WECHAT N=PERSON_NAME
      A=ADDRESS S=PASSPORT C=LICENSE_PLATE
fmt : pl sep sp ug fw ud cn mx cc ext ob ak ne inv par ot   (default pl = plain)
Escapes usable anywhere: <ZW> U+200B, <ZWNJ> U+200C, <ZWJ> U+200D, <WJ> U+2060,
      <BOM> U+FEFF, <NBSP> U+00A0, <SHY> U+00AD
Negative files: 'kind:: text' per line.
"""
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from numcheck import check_value, digits_only, luhn_ok, id_check_char, MOBILE_PREFIXES  # noqa

TYPES = dict(P="PHONE", L="LANDLINE", I="ID_NUMBER", B="BANK_CARD", E="EMAIL", Q="QQ", W="WECHAT",
             N="PERSON_NAME", A="ADDRESS", S="PASSPORT", C="LICENSE_PLATE")
FMTS = dict(pl="plain", sep="separators", sp="spaced_digits", ug="unusual_grouping", fw="fullwidth",
            ud="unicode_digits", cn="chinese_numerals", mx="mixed_numerals", cc="country_prefix",
            ext="extension", ob="obfuscated", ak="alias_keyword", ne="non_ascii_email",
            inv="invisible_chars", par="parenthesized", ot="other")
ESC = {"<ZW>": "\u200b", "<ZWNJ>": "\u200c", "<ZWJ>": "\u200d", "<WJ>": "\u2060", "<BOM>": "\ufeff",
       "<NBSP>": "\u00a0", "<SHY>": "\u00ad"}
MARK = re.compile(r"⟦([A-Z])(?:\.([a-z]+))?\|(.+?)⟧")


def unescape(s):
    for k, v in ESC.items():
        s = s.replace(k, v)
    return s


def parse_bio(line):
    text, spans, pos = [], [], 0
    for m in MARK.finditer(line):
        text.append(unescape(line[pos:m.start()]))
        t, f, v = m.group(1), m.group(2) or "pl", unescape(m.group(3))
        if t not in TYPES or f not in FMTS:
            raise ValueError("bad markup %r" % m.group(0))
        spans.append({"type": TYPES[t], "value": v, "format": FMTS[f]})
        text.append(v)
        pos = m.end()
    text.append(unescape(line[pos:]))
    txt = "".join(text)
    if "⟦" in txt or "⟧" in txt:
        raise ValueError("unbalanced markup")
    return txt, spans


def stray_pii(text, spans):
    """Heuristic: digit runs outside labelled spans that look like mobiles/IDs/cards."""
    masked = text
    for s in spans:
        masked = masked.replace(s["value"], "#" * len(s["value"]))
    warns = []
    for m in re.finditer(r"(?<!\d)1[3-9]\d{9}(?!\d)", masked):
        warns.append("mobile-like " + m.group(0))
    for m in re.finditer(r"(?<![\d０-９])[1１][3-9３-９][\d０-９][\s\-\./_~－]?[\d０-９]{4}[\s\-\./_~－]?[\d０-９]{4}(?![\d０-９])", masked):
        if not re.fullmatch(r"1[3-9]\d{9}", m.group(0)):
            warns.append("sep-mobile-like " + m.group(0))
    if re.search(r"[一二三四五六七八九零〇幺壹贰叁肆伍陆柒捌玖①-⑨]{7,}", masked):
        warns.append("cn-numeral run " + re.search(r"[一二三四五六七八九零〇幺壹贰叁肆伍陆柒捌玖①-⑨]{7,}", masked).group(0))
    for m in re.finditer(r"(?<![\dA-Za-z])\d{17}[\dXx](?!\d)", masked):
        v = m.group(0).upper()
        if id_check_char(v[:17]) == v[17]:
            warns.append("id-like " + v)
    for m in re.finditer(r"(?<!\d)[2-6]\d{14,18}(?!\d)", masked):
        if luhn_ok(m.group(0)):
            warns.append("luhn-valid " + m.group(0))
    return warns


def main():
    bios, errors, warns = [], [], []
    n = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "src", "bios_*.txt"))):
        for ln, raw in enumerate(open(path, encoding="utf-8"), 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            try:
                text, spans = parse_bio(line)
            except ValueError as e:
                errors.append("%s:%d %s" % (os.path.basename(path), ln, e))
                continue
            if not spans:
                errors.append("%s:%d no spans" % (os.path.basename(path), ln))
            for s in spans:
                r = check_value(s["type"], s["value"])
                if r:
                    errors.append("%s:%d %s %r: %s" % (os.path.basename(path), ln, s["type"], s["value"], r))
            for w in stray_pii(text, spans):
                warns.append("%s:%d %s" % (os.path.basename(path), ln, w))
            n += 1
            bios.append({"id": "t%04d" % n, "text": text, "spans": spans})
    negs = []
    k = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "src", "neg_*.txt"))):
        for ln, raw in enumerate(open(path, encoding="utf-8"), 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if ":: " not in line:
                errors.append("%s:%d missing kind" % (os.path.basename(path), ln))
                continue
            kind, text = line.split(":: ", 1)
            text = unescape(text)
            if "⟦" in text:
                errors.append("%s:%d markup in negative" % (os.path.basename(path), ln))
            for w in stray_pii(text, []):
                warns.append("%s:%d %s" % (os.path.basename(path), ln, w))
            k += 1
            negs.append({"id": "n%04d" % k, "kind": kind.strip(), "text": text, "spans": []})
    # duplicate texts
    seen = {}
    for b in bios + negs:
        if b["text"] in seen:
            errors.append("duplicate text %s / %s" % (seen[b["text"]], b["id"]))
        seen[b["text"]] = b["id"]
    for e in errors:
        print("ERROR", e)
    for w in warns:
        print("WARN ", w)
    with open(os.path.join(ROOT, "bios.jsonl"), "w", encoding="utf-8") as f:
        for b in bios:
            f.write(json.dumps(b, ensure_ascii=False) + "\n")
    with open(os.path.join(ROOT, "negatives.jsonl"), "w", encoding="utf-8") as f:
        for b in negs:
            f.write(json.dumps(b, ensure_ascii=False) + "\n")
    from collections import Counter
    ct = Counter(s["type"] for b in bios for s in b["spans"])
    cf = Counter(s["format"] for b in bios for s in b["spans"])
    tot = sum(ct.values())
    print("bios", len(bios), "spans", tot, "negatives", len(negs), "errors", len(errors))
    print(dict(ct.most_common()))
    print(dict(cf.most_common()), "non-plain %.1f%%" % (100 * (tot - cf["plain"]) / max(tot, 1)))
    print(Counter(b["kind"] for b in negs).most_common())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
