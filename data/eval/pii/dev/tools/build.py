#!/usr/bin/env python3
"""Turn the hand-written, inline-annotated sources in tools/src/ into bios.jsonl / negatives.jsonl.

Source syntax (one bio per line, '#' lines are comments):
  bios_*.txt     : free text with inline annotations [[T|f|value]]
  neg_*.txt      : kind :: free text (no annotations allowed)
T codes: P PHONE, L LANDLINE, I ID_NUMBER, B BANK_CARD, E EMAIL, Q QQ, W WECHAT,
         N PERSON_NAME, A ADDRESS, PP PASSPORT, LP LICENSE_PLATE
f codes: pl sep sp ug fw ud cn mix cc ext ob ak nae inv par oth
Invisible/special characters are written as tokens: <ZW> U+200B, <ZWNJ> U+200C, <ZWJ> U+200D,
<WJ> U+2060, <BOM> U+FEFF, <SHY> U+00AD, <NBSP> U+00A0, <IDSP> U+3000.
The script only strips the markup; all text and values are hand-written.
"""
import glob, json, os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check_value

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
T = {"P": "PHONE", "L": "LANDLINE", "I": "ID_NUMBER", "B": "BANK_CARD", "E": "EMAIL", "Q": "QQ",
     "W": "WECHAT", "N": "PERSON_NAME", "A": "ADDRESS", "PP": "PASSPORT", "LP": "LICENSE_PLATE"}
F = {"pl": "plain", "sep": "separators", "sp": "spaced_digits", "ug": "unusual_grouping",
     "fw": "fullwidth", "ud": "unicode_digits", "cn": "chinese_numerals", "mix": "mixed_numerals",
     "cc": "country_prefix", "ext": "extension", "ob": "obfuscated", "ak": "alias_keyword",
     "nae": "non_ascii_email", "inv": "invisible_chars", "par": "parenthesized", "oth": "other"}
TOK = {"<ZW>": "\u200b", "<ZWNJ>": "\u200c", "<ZWJ>": "\u200d", "<WJ>": "\u2060", "<BOM>": "\ufeff",
       "<SHY>": "\u00ad", "<NBSP>": "\u00a0", "<IDSP>": "\u3000"}
ANN = re.compile(r"\[\[([A-Z]{1,2})\|([a-z]{2,3})\|(.+?)\]\](?!\])")

def detok(s):
    for k, v in TOK.items():
        s = s.replace(k, v)
    return s

def parse_bio(line, where):
    out, spans, pos = [], [], 0
    for m in ANN.finditer(line):
        out.append(detok(line[pos:m.start()]))
        t, f, v = m.group(1), m.group(2), detok(m.group(3))
        if t not in T or f not in F:
            raise SystemExit(f"{where}: bad code {t}|{f}")
        err = check_value(T[t], F[f], v)
        if err:
            print(f"WARN {where}: {T[t]} {v!r}: {err}")
        spans.append({"type": T[t], "value": v, "format": F[f]})
        out.append(v)
        pos = m.end()
    out.append(detok(line[pos:]))
    text = "".join(out)
    if "[[" in text or "]]" in text:
        raise SystemExit(f"{where}: leftover markup: {line}")
    return text, spans

def main():
    bios, negs = [], []
    for fn in sorted(glob.glob(os.path.join(HERE, "src", "bios_*.txt"))):
        for i, line in enumerate(open(fn, encoding="utf-8"), 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            text, spans = parse_bio(line, f"{os.path.basename(fn)}:{i}")
            bios.append((text, spans))
    for fn in sorted(glob.glob(os.path.join(HERE, "src", "neg_*.txt"))):
        for i, line in enumerate(open(fn, encoding="utf-8"), 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            kind, _, text = line.partition(" :: ")
            if not text or "[[" in text:
                raise SystemExit(f"{fn}:{i}: bad negative line")
            negs.append((kind.strip(), detok(text)))
    with open(os.path.join(OUT, "bios.jsonl"), "w", encoding="utf-8") as f:
        for n, (text, spans) in enumerate(bios, 1):
            f.write(json.dumps({"id": "d%04d" % n, "text": text, "spans": spans}, ensure_ascii=False) + "\n")
    with open(os.path.join(OUT, "negatives.jsonl"), "w", encoding="utf-8") as f:
        for n, (kind, text) in enumerate(negs, 1):
            f.write(json.dumps({"id": "n%04d" % n, "text": text, "spans": [], "kind": kind}, ensure_ascii=False) + "\n")
    print(f"bios={len(bios)} negatives={len(negs)}")

if __name__ == "__main__":
    main()
