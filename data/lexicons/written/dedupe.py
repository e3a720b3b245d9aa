#!/usr/bin/env python3
"""Import the written lexicons (neutral.txt, clauses.tsv) from a writer's raw files.

The raw files come from a writer who was given only a plain description of the 12 interests and of
a sign-up box (data/README.md, "Written lexicons"), never the generator, its lexicons or any
evaluation set. This script keeps a line only if it is new, has no tab or line break of its own,
and shares no run of ``--run`` (8) characters (NFKC, lower case) with any text of the evaluation
sets (every set under data/eval/interests: dev, dev2, dev3, test): the evaluation sets must not reach
training through a coincidence. It prints counts only, never an evaluation text. ``--into signal`` writes
data/lexicons/signal/ instead: texts only the no-signal detector trains on (data/signal.jsonl), never part
of the population.

    python data/lexicons/written/dedupe.py --neutral RAW.txt --clauses RAW.tsv
    python data/lexicons/written/dedupe.py --into signal --neutral RAW.txt --clauses RAW.tsv
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "data"))
from generate import TAGS, _norm  # noqa: E402  (the generator's labels and normalisation, not copies)


def _eval_runs(run: int) -> set:
    runs = set()
    for path in sorted((ROOT / "data" / "eval" / "interests").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                t = _norm(json.loads(line)["text"])
                runs.add(t.strip("。！!~ "))  # a whole short text counts as a run of its own
                runs.update(t[i:i + run] for i in range(max(len(t) - run + 1, 0)))
    return runs


def _touches(text: str, runs: set, run: int) -> bool:
    t = _norm(text)
    return t.strip("。！!~ ") in runs or any(t[i:i + run] in runs for i in range(max(len(t) - run + 1, 0)))


def _neutral_line(line: str):
    """(text to check, line to keep), or None for a malformed line."""
    text = line.strip()
    return None if not text or "\t" in text or text.startswith("#") else (text, text)


def _clause_line(line: str):
    parts = line.strip().split("\t")
    if len(parts) != 2 or parts[0] not in TAGS or not parts[1].strip():
        return None
    return parts[1].strip(), "%s\t%s" % (parts[0], parts[1].strip())


def _import(raw: Path, out: Path, runs: set, run: int, parse, known=()) -> None:
    kept, seen, dropped = [], set(), {"duplicate": 0, "eval_overlap": 0, "malformed": 0}
    known = {_norm(t) for t in known}
    for line in raw.read_text(encoding="utf-8").splitlines():
        parsed = parse(line)
        if parsed is None:
            dropped["malformed"] += 1
        elif _norm(parsed[0]) in seen or _norm(parsed[0]) in known:
            dropped["duplicate"] += 1
        elif _touches(parsed[0], runs, run):
            dropped["eval_overlap"] += 1
        else:
            seen.add(_norm(parsed[0]))
            kept.append(parsed[1])
    out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    print("%s: kept %d, dropped %s" % (out.name, len(kept), dropped))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--neutral", type=Path, help="raw no-interest texts, one per line")
    ap.add_argument("--clauses", type=Path, help="raw clauses, <tag>\\t<clause> per line")
    ap.add_argument("--run", type=int, default=8, help="shared characters that drop a line (default 8)")
    ap.add_argument("--into", choices=("written", "signal"), default="written",
                    help="written: the population's lexicons (default); signal: the no-signal detector's own texts "
                         "(data/lexicons/signal/, lines already in the written lexicons dropped as duplicates)")
    args = ap.parse_args(argv)
    runs = _eval_runs(args.run)
    dest = HERE.parent / args.into
    dest.mkdir(exist_ok=True)
    known = _written_texts() if args.into == "signal" else set()
    if args.neutral:
        _import(args.neutral, dest / "neutral.txt", runs, args.run, _neutral_line, known)
    if args.clauses:
        _import(args.clauses, dest / "clauses.tsv", runs, args.run, _clause_line, known)
    return 0


def _written_texts() -> set:
    texts = set()
    for name, parse in (("neutral.txt", _neutral_line), ("clauses.tsv", _clause_line)):
        for line in (HERE / name).read_text(encoding="utf-8").splitlines():
            parsed = parse(line)
            if parsed is not None:
                texts.add(parsed[0])
    return texts


if __name__ == "__main__":
    sys.exit(main())
