#!/usr/bin/env python3
"""Convert the hand-written source files in src/ to JSONL.
bios:      src/bios_*.txt, one bio per line, personal data marked inline as ⟦T.fmt|value⟧ (fmt optional)
negatives: src/neg_*.txt, one per line: kind<TAB>text or kind|text
Escapes \\u200b \\u200c \\u200d \\u2060 \\ufeff are turned into the invisible characters.
Where fmt is omitted a default label is filled in from the value's shape (see README)."""
import json, re, glob, os
D = os.path.dirname(os.path.abspath(__file__))
TYPES = dict(P='PHONE', L='LANDLINE', I='ID_NUMBER', B='BANK_CARD', E='EMAIL', Q='QQ', W='WECHAT',
             N='PERSON_NAME', A='ADDRESS', S='PASSPORT', C='LICENSE_PLATE')
COMPOUND = ('欧阳','司马','诸葛','上官','慕容','东方','皇甫','夏侯','尉迟','公孙','令狐','司徒','长孙','宇文','端木','澹台','南宫','西门','独孤','轩辕','百里','呼延','第五','万俟','钟离','闻人','赫连','申屠','亓官')
ESC = {'\\u200b':'\u200b','\\u200c':'\u200c','\\u200d':'\u200d','\\u2060':'\u2060','\\ufeff':'\ufeff'}
MARK = re.compile(r'⟦([A-Z])(?:\.([a-z0-9_]+))?\|(.*?)⟧')

def default_fmt(t, v):
    if t == 'PERSON_NAME':
        if '·' in v or '•' in v: return 'minority'
        if re.fullmatch(r'[A-Za-z .\-]+', v): return 'english'
        if v[:2] in COMPOUND: return 'compound'
        return {2:'han2',3:'han3'}.get(len(v),'han4')
    if t == 'PASSPORT':
        if re.fullmatch(r'E\d{8}', v): return 'e8'
        if re.fullmatch(r'E[A-Z]\d{7}', v): return 'el7'
        if re.fullmatch(r'G\d{8}', v): return 'g8'
        return 'other'
    if t == 'LICENSE_PLATE':
        core = re.sub(r'[·•.\s\-]', '', v)
        if len(core) == 8: return 'nev'
        if '·' in v or '•' in v or '.' in v: return 'dot'
        if ' ' in v: return 'space'
        return 'plain'
    return {'PHONE':'plain','LANDLINE':'dash','ID_NUMBER':'plain','BANK_CARD':'plain','EMAIL':'plain',
            'QQ':'plain','WECHAT':'id','ADDRESS':'street'}[t]

def unesc(s):
    for k, v in ESC.items(): s = s.replace(k, v)
    return s

bios = []
for f in sorted(glob.glob(os.path.join(D, 'src', 'bios_*.txt'))):
    for ln, line in enumerate(open(f, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line.strip() or line.startswith('#'): continue
        line = unesc(line)
        spans = []
        def sub(m):
            t = TYPES[m.group(1)]; v = m.group(3)
            spans.append({'type': t, 'value': v, 'format': m.group(2) or default_fmt(t, v)})
            return v
        text = MARK.sub(sub, line)
        assert '⟦' not in text and '⟧' not in text, (f, ln, line)
        # dedupe identical spans
        seen = set(); sp2 = []
        for s in spans:
            k = (s['type'], s['value'])
            if k not in seen: seen.add(k); sp2.append(s)
        bios.append({'id': 'd6b%04d' % (len(bios) + 1), 'text': text, 'spans': sp2, '_src': '%s:%d' % (os.path.basename(f), ln)})

negs = []
for f in sorted(glob.glob(os.path.join(D, 'src', 'neg_*.txt'))):
    for ln, line in enumerate(open(f, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line.strip() or line.startswith('#'): continue
        kind, text = line.split('\t', 1) if '\t' in line else line.split('|', 1)
        negs.append({'id': 'd6n%04d' % (len(negs) + 1), 'text': unesc(text), 'spans': [], 'kind': kind, '_src': '%s:%d' % (os.path.basename(f), ln)})

with open(os.path.join(D, 'bios.jsonl'), 'w', encoding='utf-8') as o:
    for b in bios:
        b.pop('_src'); o.write(json.dumps(b, ensure_ascii=False) + '\n')
with open(os.path.join(D, 'negatives.jsonl'), 'w', encoding='utf-8') as o:
    for b in negs:
        b.pop('_src'); o.write(json.dumps(b, ensure_ascii=False) + '\n')
print('bios', len(bios), 'negatives', len(negs))
