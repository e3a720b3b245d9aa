#!/usr/bin/env python3
"""Convert hand-written source files (src/bios_*.txt, src/neg_*.txt) to JSONL.
Markup in bios: [[TYPE|format|value]]  ->  value stays in text, span recorded.
Only mechanical help: a trailing '?' in an ID/BC value is replaced by the
GB 11643 / Luhn check character computed from the digits typed before it;
'{zw}' is replaced by a zero-width space (U+200B).
Negative source lines: 'kind<TAB>text'."""
import json, re, glob, os
HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = {"PH": "PHONE", "LL": "LANDLINE", "ID": "ID_NUMBER", "BC": "BANK_CARD", "EM": "EMAIL",
         "QQ": "QQ", "WX": "WECHAT", "NM": "PERSON_NAME", "AD": "ADDRESS", "PP": "PASSPORT",
         "LP": "LICENSE_PLATE"}
CN = {}
for s in ["0０〇零洞", "1１一幺壹", "2２二两贰", "3３三叁", "4４四肆", "5５五伍", "6６六陆", "7７七柒", "8８八捌", "9９九玖"]:
    for ch in s: CN[ch] = s[0]
def digits(s):
    return "".join(CN[c] for c in s if c in CN)
def id_check(body17):
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(a) * b for a, b in zip(body17, w)) % 11]
def luhn_check(body):
    tot = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9: d -= 9
        tot += d
    return str((10 - tot % 10) % 10)
STYLE = [("０１２３４５６７８９", "０"), ("零一二三四五六七八九", "零"), ("零壹贰叁肆伍陆柒捌玖", "壹")]
def styled(ch, prev):
    for table, _ in STYLE:
        if prev in table and ch.isdigit():
            return table[int(ch)]
    if ch == "X" and prev in "０１２３４５６７８９": return "Ｘ"
    return ch
def fix(t, fmt, v):
    if not v.endswith("?"): return v
    body = v[:-1]; d = digits(body)
    prev = [c for c in body if c in CN][-1]
    if t == "ID":
        assert len(d) == 17, (v, d)
        ch = id_check(d)
        if fmt == "lowerx" and ch == "X": ch = "x"
    else:
        ch = luhn_check(d)
    return body + styled(ch, prev)
PAT = re.compile(r"\[\[(\w\w)\|([^|\]]+)\|(.+?)\]\]")
def conv_line(line):
    line = line.replace("{zw}", "\u200b")
    spans = []; out = []; pos = 0
    for m in PAT.finditer(line):
        out.append(line[pos:m.start()])
        t, fmt, v = m.group(1), m.group(2), m.group(3)
        v = fix(t, fmt, v)
        spans.append({"type": TYPES[t], "value": v, "format": fmt})
        out.append(v); pos = m.end()
    out.append(line[pos:])
    return "".join(out), spans
def main():
    bios = []
    for f in sorted(glob.glob(os.path.join(HERE, "src", "bios_*.txt"))):
        for line in open(f, encoding="utf-8"):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"): continue
            text, spans = conv_line(line)
            assert "[[" not in text and "]]" not in text, line
            bios.append((text, spans))
    with open(os.path.join(HERE, "bios.jsonl"), "w", encoding="utf-8") as fo:
        for i, (text, spans) in enumerate(bios, 1):
            fo.write(json.dumps({"id": "d5b%04d" % i, "text": text, "spans": spans}, ensure_ascii=False) + "\n")
    negs = []
    for f in sorted(glob.glob(os.path.join(HERE, "src", "neg_*.txt"))):
        for line in open(f, encoding="utf-8"):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"): continue
            kind, text = line.split("\t", 1)
            negs.append((kind.strip(), text))
    with open(os.path.join(HERE, "negatives.jsonl"), "w", encoding="utf-8") as fo:
        for i, (kind, text) in enumerate(negs, 1):
            fo.write(json.dumps({"id": "d5n%04d" % i, "text": text, "spans": [], "kind": kind}, ensure_ascii=False) + "\n")
    print("bios", len(bios), "negatives", len(negs))
if __name__ == "__main__":
    main()
