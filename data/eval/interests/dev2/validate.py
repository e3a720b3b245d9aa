import json
from collections import Counter
LABELS={"体育","科技","娱乐","教育","旅游","美食","财经","游戏","汽车","时尚","健康","母婴"}
KINDS={"greeting","gibberish","digits_symbols","neutral","personal_details","filler","question","negation_only","emoji_only","english_filler","category_word_no_interest","other"}
def load(p):
    rows=[]
    with open(p,'rb') as f:
        for line in f:
            rows.append(json.loads(line.decode('utf-8')))
    return rows
A=load('in_interest.jsonl'); B=load('no_interest.jsonl')
print("in_interest:",len(A),"no_interest:",len(B))
assert all(r["tags"] and set(r["tags"])<=LABELS and len(set(r["tags"]))==len(r["tags"]) for r in A)
assert all(r["tags"]==[] and r["kind"] in KINDS for r in B)
texts=[r["text"].strip() for r in A+B]
assert len(texts)==len(set(texts)), "dup texts"
ids=[r["id"] for r in A+B]; assert len(ids)==len(set(ids))
main=Counter(r["tags"][0] for r in A); anyt=Counter(t for r in A for t in r["tags"])
print("main tag:",dict(main)); print("any tag:",dict(anyt))
n=Counter(len(r["tags"]) for r in A); print("tags per text:",dict(n))
k=Counter(r["kind"] for r in B); print("kinds:",dict(k))
print("min main",min(main.values()),"min kind",min(k.values()))
nl=[len(r["text"]) for r in B if r["kind"] in("neutral","category_word_no_interest") and 30<=len(r["text"])<=80]
print("no-interest neutral/catword 30-80 chars:",len(nl))
print("in-interest >=100 chars:",sum(len(r["text"])>=100 for r in A),"<=6 chars:",sum(len(r["text"])<=6 for r in A))
