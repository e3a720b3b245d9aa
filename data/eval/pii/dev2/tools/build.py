"""Convert the hand-written source files in src/ into bios.jsonl / negatives.jsonl.
Bios source (src/bios_*.txt): one bio per line; personal data marked inline as
[[TYPE|format|value]]; the markup is removed and the value kept verbatim in the text.
Negatives source (src/neg_*.txt): a line '@kind' sets the kind for the following lines.
Escapes usable anywhere: <ZW> U+200B, <ZWNJ> U+200C, <ZWJ> U+200D, <WJ> U+2060, <BOM> U+FEFF.
Lines starting with '#' and blank lines are ignored."""
import glob, json, os, re, sys
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ESC = {"<ZW>": "\u200b", "<ZWNJ>": "\u200c", "<ZWJ>": "\u200d", "<WJ>": "\u2060", "<BOM>": "\ufeff"}
MARK = re.compile(r"\[\[([A-Z_]+)\|([a-z_]+)\|(.+?)\]\]")

def unesc(s):
    for k, v in ESC.items():
        s = s.replace(k, v)
    return s

def parse_bio(line):
    spans, out, pos = [], [], 0
    for m in MARK.finditer(line):
        out.append(line[pos:m.start()])
        val = unesc(m.group(3))
        spans.append({"type": m.group(1), "value": val, "format": m.group(2)})
        out.append(val)
        pos = m.end()
    out.append(line[pos:])
    text = unesc("".join(out))
    if "[[" in text or "]]" in text:
        raise ValueError("unparsed markup: " + line)
    return text, spans

def main():
    bios, negs = [], []
    for fn in sorted(glob.glob(os.path.join(HERE, "src", "bios_*.txt"))):
        for ln, raw in enumerate(open(fn, encoding="utf-8"), 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            try:
                text, spans = parse_bio(line.strip())
            except ValueError as e:
                sys.exit("%s:%d %s" % (fn, ln, e))
            for sp in spans:
                if text.count(sp["value"]) > 1:
                    print("WARN %s:%d value occurs twice: %s" % (os.path.basename(fn), ln, sp["value"]))
            bios.append({"id": "e%04d" % (len(bios) + 1), "text": text, "spans": spans})
    for fn in sorted(glob.glob(os.path.join(HERE, "src", "neg_*.txt"))):
        kind = None
        for ln, raw in enumerate(open(fn, encoding="utf-8"), 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if re.fullmatch(r"@[a-z_]+", line.strip()):
                kind = line[1:].strip(); continue
            if "[[" in line:
                sys.exit("%s:%d markup in negative" % (fn, ln))
            negs.append({"id": "n%04d" % (len(negs) + 1), "text": unesc(line.strip()), "spans": [], "kind": kind})
    with open(os.path.join(HERE, "bios.jsonl"), "w", encoding="utf-8") as f:
        for b in bios:
            f.write(json.dumps(b, ensure_ascii=False) + "\n")
    with open(os.path.join(HERE, "negatives.jsonl"), "w", encoding="utf-8") as f:
        for b in negs:
            f.write(json.dumps(b, ensure_ascii=False) + "\n")
    print("bios", len(bios), "negatives", len(negs))

if __name__ == "__main__":
    main()
