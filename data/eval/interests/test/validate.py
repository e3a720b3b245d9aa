#!/usr/bin/env python3
"""Validate the interest test set in this folder. Exit code 0 if all checks pass."""
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = ["体育", "科技", "娱乐", "教育", "旅游", "美食", "财经", "游戏", "汽车", "时尚", "健康", "母婴"]
STYLES = {"entity", "occupation", "life_stage", "slang", "english_mix", "traditional", "typo",
          "short", "long", "negation", "implicit", "plain", "multi"}
KINDS = {"greeting", "gibberish", "digits_symbols", "neutral", "personal_details", "filler", "question",
         "negation_only", "emoji_only", "english_filler", "category_word_no_interest", "other"}
MIN_IN, MIN_PER_FIRST, MIN_NO, MIN_PER_KIND = 432, 36, 165, 8

errors = []


def load(name):
    rows = []
    raw = (HERE / name).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        errors.append(f"{name}: not UTF-8 ({e})")
        return rows
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            errors.append(f"{name}:{i}: empty line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{name}:{i}: bad JSON ({e})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"{name}:{i}: not an object")
            continue
        obj["_where"] = f"{name}:{i}"
        rows.append(obj)
    return rows


inn = load("in_interest.jsonl")
no = load("no_interest.jsonl")

ids = Counter()
texts = Counter()
for r in inn + no:
    w = r["_where"]
    for key in ("id", "text", "tags"):
        if key not in r:
            errors.append(f"{w}: missing {key}")
    if not isinstance(r.get("id"), str) or not r.get("id"):
        errors.append(f"{w}: bad id")
    if not isinstance(r.get("text"), str) or not r.get("text", "").strip():
        errors.append(f"{w}: bad text")
    if not isinstance(r.get("tags"), list):
        errors.append(f"{w}: tags not a list")
    ids[r.get("id")] += 1
    texts[r.get("text", "").strip()] += 1

for k, v in ids.items():
    if v > 1:
        errors.append(f"duplicate id {k} x{v}")
for k, v in texts.items():
    if v > 1:
        errors.append(f"duplicate text {k!r} x{v}")

first = Counter()
styles = Counter()
ntags = Counter()
for r in inn:
    w, tags = r["_where"], r.get("tags") or []
    if not tags:
        errors.append(f"{w}: in_interest row without tags")
        continue
    bad = [t for t in tags if t not in LABELS]
    if bad:
        errors.append(f"{w}: unknown tags {bad}")
    if len(set(tags)) != len(tags):
        errors.append(f"{w}: repeated tag")
    if len(tags) > 3:
        errors.append(f"{w}: more than 3 tags")
    if r.get("style") not in STYLES:
        errors.append(f"{w}: bad style {r.get('style')!r}")
    if "kind" in r:
        errors.append(f"{w}: in_interest row has kind")
    if r.get("style") == "long" and len(r["text"]) < 100:
        errors.append(f"{w}: style long but only {len(r['text'])} chars")
    if r.get("style") == "short" and len(r["text"]) > 8:
        errors.append(f"{w}: style short but {len(r['text'])} chars")
    if r.get("style") == "multi" and len(tags) < 2:
        errors.append(f"{w}: style multi with a single tag")
    first[tags[0]] += 1
    styles[r.get("style")] += 1
    ntags[len(tags)] += 1

kinds = Counter()
for r in no:
    w = r["_where"]
    if r.get("tags") != []:
        errors.append(f"{w}: no_interest row must have empty tags")
    if r.get("kind") not in KINDS:
        errors.append(f"{w}: bad kind {r.get('kind')!r}")
    if "style" in r:
        errors.append(f"{w}: no_interest row has style")
    kinds[r.get("kind")] += 1

if len(inn) < MIN_IN:
    errors.append(f"in_interest has {len(inn)} rows < {MIN_IN}")
for lab in LABELS:
    if first[lab] < MIN_PER_FIRST:
        errors.append(f"first tag {lab}: {first[lab]} < {MIN_PER_FIRST}")
if len(no) < MIN_NO:
    errors.append(f"no_interest has {len(no)} rows < {MIN_NO}")
for k in sorted(KINDS):
    if kinds[k] < MIN_PER_KIND:
        errors.append(f"kind {k}: {kinds[k]} < {MIN_PER_KIND}")

print(f"in_interest: {len(inn)} rows; no_interest: {len(no)} rows")
print("first tag:", ", ".join(f"{lab} {first[lab]}" for lab in LABELS))
print("all tags:", ", ".join(f"{lab} {sum(lab in r.get('tags', []) for r in inn)}" for lab in LABELS))
print("tags per text:", dict(sorted(ntags.items())),
      f"(multi-tag share {(len(inn) - ntags[1]) / max(len(inn), 1):.1%})")
print("style:", dict(styles.most_common()))
print("kind:", dict(kinds.most_common()))

if errors:
    print(f"\nFAILED: {len(errors)} problem(s)")
    for e in errors:
        print("  ", e)
    sys.exit(1)
print("\nOK: all checks passed")
