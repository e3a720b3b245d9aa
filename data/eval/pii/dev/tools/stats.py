import json, collections, os
D = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
t = collections.Counter(); f = collections.Counter(); tf = collections.defaultdict(collections.Counter)
n = 0
for line in open(os.path.join(D, "bios.jsonl"), encoding="utf-8"):
    o = json.loads(line); n += 1
    for s in o["spans"]:
        t[s["type"]] += 1; f[s["format"]] += 1; tf[s["type"]][s["format"]] += 1
print("bios", n, "spans", sum(t.values()))
for k, v in t.most_common():
    print(f"  {k:14s}{v:4d}  ", dict(tf[k]))
tot = sum(f.values())
print("formats", dict(f.most_common()))
print("non-plain %.1f%%, non-plain&non-separators %.1f%%" % (100 * (tot - f["plain"]) / tot, 100 * (tot - f["plain"] - f["separators"]) / tot))
