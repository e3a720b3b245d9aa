#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Validate the hand-written PII evaluation corpus (bios.jsonl, negatives.jsonl).

Checks
  * every line is valid JSON with the expected keys
  * ids unique (across both files)
  * every span value is an exact substring of its text; a value listed n times
    occurs at least n times in the text
  * span types and format labels come from the fixed lists
  * per-type minimum counts are met; at least 1050 bios and 320 negatives
  * negatives have "spans": [] and a non-empty "kind"
  * (extra) every numeric identifier still corresponds to a valid underlying
    identifier (GB 11643 check char, Luhn, mobile prefix, ...), via tools/numcheck.py
Exit status 0 on success, 1 on any error.
"""
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

TYPES = ["PHONE", "LANDLINE", "ID_NUMBER", "BANK_CARD", "EMAIL", "QQ", "WECHAT", "PERSON_NAME",
         "ADDRESS", "PASSPORT", "LICENSE_PLATE"]
FORMATS = ["plain", "separators", "spaced_digits", "unusual_grouping", "fullwidth", "unicode_digits",
           "chinese_numerals", "mixed_numerals", "country_prefix", "extension", "obfuscated",
           "alias_keyword", "non_ascii_email", "invisible_chars", "parenthesized", "other"]
MINIMA = {"PHONE": 220, "LANDLINE": 90, "ID_NUMBER": 130, "BANK_CARD": 110, "EMAIL": 130, "QQ": 100,
          "WECHAT": 120, "PERSON_NAME": 120, "ADDRESS": 110, "PASSPORT": 40, "LICENSE_PLATE": 40}
MIN_BIOS, MIN_NEG = 1050, 320


def load(path, errors):
    rows = []
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                errors.append("%s:%d empty line" % (os.path.basename(path), ln))
                continue
            try:
                rows.append((ln, json.loads(line)))
            except json.JSONDecodeError as e:
                errors.append("%s:%d JSON error %s" % (os.path.basename(path), ln, e))
    return rows


def main():
    errors, warnings = [], []
    bios = load(os.path.join(HERE, "bios.jsonl"), errors)
    negs = load(os.path.join(HERE, "negatives.jsonl"), errors)

    try:
        sys.path.insert(0, os.path.join(HERE, "tools"))
        from numcheck import check_value
    except ImportError:
        check_value = None
        warnings.append("tools/numcheck.py not found: identifier validity not checked")

    ids = set()
    type_ct, fmt_ct = collections.Counter(), collections.Counter()
    for name, rows, is_neg in (("bios", bios, False), ("negatives", negs, True)):
        for ln, d in rows:
            where = "%s:%d" % (name, ln)
            if not isinstance(d, dict):
                errors.append(where + " not an object")
                continue
            for k in ("id", "text", "spans"):
                if k not in d:
                    errors.append("%s missing key %s" % (where, k))
            if not all(k in d for k in ("id", "text", "spans")):
                continue
            if d["id"] in ids:
                errors.append("%s duplicate id %s" % (where, d["id"]))
            ids.add(d["id"])
            text = d["text"]
            if not isinstance(text, str) or not text:
                errors.append(where + " empty text")
                continue
            if is_neg:
                if d["spans"] != []:
                    errors.append(where + " negative with spans")
                if not isinstance(d.get("kind"), str) or not d["kind"].strip():
                    errors.append(where + " negative without kind")
                continue
            if not d["spans"]:
                errors.append(where + " bio without spans")
            need = collections.Counter()
            for s in d["spans"]:
                if set(s) != {"type", "value", "format"}:
                    errors.append("%s span keys %s" % (where, sorted(s)))
                    continue
                if s["type"] not in TYPES:
                    errors.append("%s bad type %r" % (where, s["type"]))
                if s["format"] not in FORMATS:
                    errors.append("%s bad format %r" % (where, s["format"]))
                if not s["value"] or s["value"] not in text:
                    errors.append("%s value not in text: %r" % (where, s["value"]))
                need[s["value"]] += 1
                type_ct[s["type"]] += 1
                fmt_ct[s["format"]] += 1
                if check_value:
                    r = check_value(s["type"], s["value"])
                    if r:
                        errors.append("%s invalid %s %r: %s" % (where, s["type"], s["value"], r))
            for v, n in need.items():
                if text.count(v) < n:
                    errors.append("%s value %r listed %d times but occurs %d" % (where, v, n, text.count(v)))

    for t, m in MINIMA.items():
        if type_ct[t] < m:
            errors.append("type %s count %d < %d" % (t, type_ct[t], m))
    if len(bios) < MIN_BIOS:
        errors.append("only %d bios" % len(bios))
    if len(negs) < MIN_NEG:
        errors.append("only %d negatives" % len(negs))

    total = sum(type_ct.values())
    print("bios: %d  spans: %d  negatives: %d" % (len(bios), total, len(negs)))
    print("per type:  " + ", ".join("%s=%d" % (t, type_ct[t]) for t in TYPES))
    print("per format: " + ", ".join("%s=%d" % (f, fmt_ct[f]) for f in FORMATS))
    print("non-plain share: %.1f%%" % (100.0 * (total - fmt_ct["plain"]) / max(total, 1)))
    print("negative kinds: " + ", ".join("%s=%d" % kv for kv in
                                         collections.Counter(d.get("kind") for _, d in negs).most_common()))
    for w in warnings:
        print("WARNING:", w)
    for e in errors:
        print("ERROR:", e)
    print("FAIL" if errors else "OK")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
