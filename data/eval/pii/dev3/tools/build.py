#!/usr/bin/python3
"""Build bios.jsonl and negatives.jsonl from the hand-written files in src/.

src/bios_*.txt : one bio per line; personal data marked inline as [[TYPE|format|value]].
src/neg_*.txt  : one hard negative per line, written as  kind|text  (no markup allowed).
Blank lines and lines starting with '#' are ignored.
{U+XXXX} anywhere in a line is replaced by that character (used for invisible
characters such as U+200B inside a phone number); the replacement happens before the
markup is parsed, so the span value and the text carry the same real character.
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
MARK = re.compile(r"\[\[([A-Z_]+)\|([a-z0-9_]+)\|(.+?)\]\]")
ESC = re.compile(r"\{U\+([0-9A-Fa-f]{4,6})\}")


def expand(line):
    return ESC.sub(lambda m: chr(int(m.group(1), 16)), line)


def lines_of(path):
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        yield n, expand(line)


def parse_bio(line):
    spans = []
    out = []
    pos = 0
    for m in MARK.finditer(line):
        out.append(line[pos:m.start()])
        typ, fmt, value = m.group(1), m.group(2), m.group(3)
        out.append(value)
        spans.append({"type": typ, "value": value, "format": fmt})
        pos = m.end()
    out.append(line[pos:])
    return "".join(out), spans


def main():
    errors = []
    bios, negs = [], []
    for path in sorted(SRC.glob("bios_*.txt")):
        for n, line in lines_of(path):
            text, spans = parse_bio(line)
            where = f"{path.name}:{n}"
            if "[[" in text or "]]" in text:
                errors.append(f"{where}: unparsed markup")
            if not spans:
                errors.append(f"{where}: bio without spans")
            bios.append((text, spans))
    for path in sorted(SRC.glob("neg_*.txt")):
        for n, line in lines_of(path):
            where = f"{path.name}:{n}"
            if "|" not in line:
                errors.append(f"{where}: negative without kind|")
                continue
            kind, text = line.split("|", 1)
            kind, text = kind.strip(), text.strip()
            if "[[" in text or "]]" in text:
                errors.append(f"{where}: markup in negative")
            negs.append((kind, text))
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    with open(ROOT / "bios.jsonl", "w", encoding="utf-8") as f:
        for i, (text, spans) in enumerate(bios, 1):
            f.write(json.dumps({"id": f"f{i:04d}", "text": text, "spans": spans},
                               ensure_ascii=False) + "\n")
    with open(ROOT / "negatives.jsonl", "w", encoding="utf-8") as f:
        for i, (kind, text) in enumerate(negs, 1):
            f.write(json.dumps({"id": f"m{i:04d}", "text": text, "spans": [], "kind": kind},
                               ensure_ascii=False) + "\n")
    print(f"wrote {len(bios)} bios, {len(negs)} negatives")


if __name__ == "__main__":
    main()
