#!/usr/bin/env python3
"""Import the written lexicons (neutral.txt, clauses.tsv) from a writer's raw files.

The raw files come from a writer who was given only a plain description of the 12 interests and of
a sign-up box (data/README.md, "Written lexicons"), never the generator, its lexicons or any
evaluation set. This script keeps a line only if it is new, has no tab or line break of its own,
and shares no run of ``--run`` (8) characters (NFKC, lower case) with any text of the evaluation
sets (data/eval/interests/dev and test): the evaluation sets must not reach training through a
coincidence. It prints counts only, never an evaluation text.

    python data/lexicons/written/dedupe.py --neutral RAW.txt --clauses RAW.tsv
"""
from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
TAGS = ["体育", "科技", "娱乐", "教育", "旅游", "美食", "财经", "游戏", "汽车", "时尚", "健康", "母婴"]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--neutral", type=Path, help="raw no-interest texts, one per line")
    ap.add_argument("--clauses", type=Path, help="raw clauses, <tag>\\t<clause> per line")
    ap.add_argument("--run", type=int, default=8, help="shared characters that drop a line (default 8)")
    args = ap.parse_args(argv)
    runs = _eval_runs(args.run)
    if args.neutral:
        kept, seen, dropped = [], set(), {"duplicate": 0, "eval_overlap": 0, "malformed": 0}
        for line in args.neutral.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if not text or "\t" in text or text.startswith("#"):
                dropped["malformed"] += 1
            elif _norm(text) in seen:
                dropped["duplicate"] += 1
            elif _touches(text, runs, args.run):
                dropped["eval_overlap"] += 1
            else:
                seen.add(_norm(text))
                kept.append(text)
        (HERE / "neutral.txt").write_text("\n".join(kept) + "\n", encoding="utf-8")
        print("neutral.txt: kept %d, dropped %s" % (len(kept), dropped))
    if args.clauses:
        kept, seen, dropped = [], set(), {"duplicate": 0, "eval_overlap": 0, "malformed": 0}
        for line in args.clauses.read_text(encoding="utf-8").splitlines():
            parts = line.strip().split("\t")
            if len(parts) != 2 or parts[0] not in TAGS or not parts[1].strip():
                dropped["malformed"] += 1
                continue
            tag, clause = parts[0], parts[1].strip()
            if _norm(clause) in seen:
                dropped["duplicate"] += 1
            elif _touches(clause, runs, args.run):
                dropped["eval_overlap"] += 1
            else:
                seen.add(_norm(clause))
                kept.append("%s\t%s" % (tag, clause))
        (HERE / "clauses.tsv").write_text("\n".join(kept) + "\n", encoding="utf-8")
        print("clauses.tsv: kept %d, dropped %s" % (len(kept), dropped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
