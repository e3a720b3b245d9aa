#!/usr/bin/env python3
"""Validate the interest_dev evaluation set. Exit code 0 = OK."""
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CATEGORIES = ["体育", "科技", "娱乐", "教育", "旅游", "美食",
              "财经", "游戏", "汽车", "时尚", "健康", "母婴"]
STYLES = {"entity", "occupation", "life_stage", "slang", "english_mix", "traditional",
          "typo", "short", "long", "negation", "implicit", "plain", "multi"}
KINDS = {"greeting", "gibberish", "digits_symbols", "neutral", "personal_details", "filler",
         "question", "negation_only", "emoji_only", "english_filler",
         "category_word_no_interest", "other"}
MIN_IN, MIN_PER_FIRST, MIN_NO, MIN_PER_KIND = 216, 18, 72, 5

errors = []


def load(name):
    rows = []
    with open(HERE / name, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"{name}:{n}: blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"{name}:{n}: bad JSON: {e}")
                continue
            if not isinstance(obj, dict):
                errors.append(f"{name}:{n}: not an object")
                continue
            obj["_where"] = f"{name}:{n}"
            rows.append(obj)
    return rows


inn = load("in_interest.jsonl")
no = load("no_interest.jsonl")

ids, texts = Counter(), Counter()
for r in inn + no:
    w = r["_where"]
    if not isinstance(r.get("id"), str) or not r["id"]:
        errors.append(f"{w}: missing id")
    if not isinstance(r.get("text"), str) or not r["text"].strip():
        errors.append(f"{w}: missing/empty text")
    if not isinstance(r.get("tags"), list):
        errors.append(f"{w}: tags must be a list")
    ids[r.get("id")] += 1
    texts[(r.get("text") or "").strip()] += 1

for k, c in ids.items():
    if c > 1:
        errors.append(f"duplicate id {k} x{c}")
for k, c in texts.items():
    if c > 1:
        errors.append(f"duplicate text {k!r} x{c}")

first = Counter()
styles = Counter()
ntags = Counter()
for r in inn:
    w, tags = r["_where"], r.get("tags") or []
    if set(r) - {"id", "text", "tags", "style", "_where"}:
        errors.append(f"{w}: unexpected keys {set(r) - {'id', 'text', 'tags', 'style', '_where'}}")
    if not r.get("id", "").startswith("v"):
        errors.append(f"{w}: in-interest id should start with v")
    if not tags:
        errors.append(f"{w}: in-interest text has no tags")
        continue
    if len(tags) > 3:
        errors.append(f"{w}: more than 3 tags")
    if len(set(tags)) != len(tags):
        errors.append(f"{w}: repeated tag")
    for t in tags:
        if t not in CATEGORIES:
            errors.append(f"{w}: invalid tag {t!r}")
    if r.get("style") not in STYLES:
        errors.append(f"{w}: invalid style {r.get('style')!r}")
    first[tags[0]] += 1
    styles[r.get("style")] += 1
    ntags[len(tags)] += 1

kinds = Counter()
for r in no:
    w = r["_where"]
    if set(r) - {"id", "text", "tags", "kind", "_where"}:
        errors.append(f"{w}: unexpected keys")
    if not r.get("id", "").startswith("n"):
        errors.append(f"{w}: no-interest id should start with n")
    if r.get("tags") != []:
        errors.append(f"{w}: no-interest text must have tags []")
    if r.get("kind") not in KINDS:
        errors.append(f"{w}: invalid kind {r.get('kind')!r}")
    kinds[r.get("kind")] += 1

if len(inn) < MIN_IN:
    errors.append(f"only {len(inn)} in-interest texts (< {MIN_IN})")
for c in CATEGORIES:
    if first[c] < MIN_PER_FIRST:
        errors.append(f"category {c}: only {first[c]} texts with it as first tag (< {MIN_PER_FIRST})")
if len(no) < MIN_NO:
    errors.append(f"only {len(no)} no-interest texts (< {MIN_NO})")
for k in sorted(KINDS):
    if kinds[k] < MIN_PER_KIND:
        errors.append(f"kind {k}: only {kinds[k]} texts (< {MIN_PER_KIND})")

# Summary
anytag = Counter(t for r in inn for t in r.get("tags") or [])
print(f"in_interest: {len(inn)} texts; tag counts {dict(sorted(ntags.items()))} "
      f"(single-tag {ntags[1] / max(len(inn), 1):.0%})")
print("  first tag :", {c: first[c] for c in CATEGORIES})
print("  any tag   :", {c: anytag[c] for c in CATEGORIES})
print("  styles    :", dict(sorted(styles.items())))
print(f"no_interest: {len(no)} texts")
print("  kinds     :", dict(sorted(kinds.items())))

if errors:
    print(f"\nFAILED with {len(errors)} error(s):")
    for e in errors:
        print("  -", e)
    sys.exit(1)
print("\nOK")
