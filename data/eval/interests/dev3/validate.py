import json, collections, re
LABELS = {"体育","科技","娱乐","教育","旅游","美食","财经","游戏","汽车","时尚","健康","母婴"}
ins = [json.loads(l) for l in open("in_interest.jsonl", encoding="utf-8")]
nos = [json.loads(l) for l in open("no_interest.jsonl", encoding="utf-8")]
for r in ins: assert set(r)=={"id","text","tags","style"} and r["tags"] and set(r["tags"])<=LABELS
for r in nos: assert set(r)=={"id","text","tags","kind"} and r["tags"]==[]
texts = [r["text"] for r in ins+nos]
print("dups:", [t for t,c in collections.Counter(texts).items() if c>1])
print("ids unique:", len({r["id"] for r in ins+nos})==800)
main = collections.Counter(r["tags"][0] for r in ins); anyt = collections.Counter(t for r in ins for t in r["tags"])
print("main", dict(main)); print("any", dict(anyt))
print("ntags", collections.Counter(len(r["tags"]) for r in ins))
print("style", collections.Counter(r["style"] for r in ins))
print("kind", collections.Counter(r["kind"] for r in nos))
for r in ins:
    n=len(r["text"])
    if r["style"]=="very_short" and not 3<=n<=6: print("short bad", r["text"], n)
    if r["style"]=="long_rambling" and n<100: print("long bad", n)
forbid = ["湖人球迷","追《繁花》","原神冒险等级60","理想L9车主","程序员一枚","宝妈，娃刚满月","大三备考中","退休了天天跳广场舞","不爱运动，就喜欢宅家追剧","周末总往山里跑","每天盯盘","你好","hello","大家好我是新人","asdfghjkl","qwzx plmk","12345","！！！","。。。","今天天气不错","我在上海工作","刚注册，随便看看","年龄25","身高175","联系方式","没什么好说的","这个怎么用","什么都不感兴趣","不爱运动也不玩游戏","nothing much","n/a","上班路上总堵车","今天去医院体检了","手机号换了"]
for t in texts:
    for f in forbid:
        if f.lower()==t.lower() or (len(f)>4 and f in t): print("forbid", f, "|", t)
    if t in ("无","暂无"): print("forbid exact", t)
# shared 4-char openings / endings
pre = collections.defaultdict(list)
for t in texts:
    if len(t)>=8: pre[t[:4]].append(t); 
for k,v in pre.items():
    if len(v)>1: print("prefix", k, v)
suf = collections.defaultdict(list)
for t in texts:
    if len(t)>=8: suf[t[-4:]].append(t)
for k,v in suf.items():
    if len(v)>1: print("suffix", k, v)
