#!/usr/bin/env python3
"""Validate bios.jsonl and negatives.jsonl (standard library only)."""
import json, re, sys, os, datetime
from collections import Counter
HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = ['PHONE','LANDLINE','ID_NUMBER','BANK_CARD','EMAIL','QQ','WECHAT','PERSON_NAME','ADDRESS','PASSPORT','LICENSE_PLATE']
MINS = {'WECHAT':220,'PERSON_NAME':260,'QQ':150,'ADDRESS':80}
MIN_OTHER = 12
errors = []
def err(m): errors.append(m)

DIG = {}
for i, c in enumerate('０１２３４５６７８９'): DIG[c] = str(i)
for i, c in enumerate('⓪①②③④⑤⑥⑦⑧⑨'): DIG[c] = str(i)
for i, c in enumerate('零一二三四五六七八九'): DIG[c] = str(i)
for i, c in enumerate('零壹贰叁肆伍陆柒捌玖'): DIG[c] = str(i)
DIG.update({'〇':'0','洞':'0','幺':'1','两':'2','ｘ':'x','Ｘ':'X'})
def norm_digits(s):
    return ''.join(DIG.get(c, c) for c in s)
INVIS = '\u200b\u200c\u200d\u2060\ufeff'
def strip_invis(s): return ''.join(c for c in s if c not in INVIS)

MOBILE = set('130 131 132 133 134 135 136 137 138 139 145 147 149 150 151 152 153 155 156 157 158 159 162 165 166 167 170 171 172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 190 191 192 193 195 196 197 198 199'.split())
AREA = set('010 020 021 022 023 024 025 027 028 029 0311 0351 0371 0411 0431 0451 0531 0532 0551 0571 0574 0577 0591 0592 0510 0512 0516 0731 0755 0757 0769 0771 0791 0851 0871 0898 0931 0991 0471 0951 0971 0891 0535 0536 0752 0760 0756 0513 0519 0523 0575 0579 0595 0734 0717 0373 0312 0315 0335 0411 0412 0851 0872 0883 0711'.split())
# county-level codes used in this corpus (all real)
COUNTY = set('110101 110105 110108 310104 310115 440305 440106 330106 510107 420106 420102 320102 320106 370202 610113 500103 430104 350203 210102 410105 340104 450103 530102 650102 130102 360102 230103 440304 330102 320583 330782 350582 440604 371302 511702 522601 652901 140105 220102 620102 460105 520102'.split())

def valid_phone(v):
    s = strip_invis(norm_digits(v))
    s = re.sub(r'^\s*[\(（]?\s*(\+86|0086|86)\s*[\)）]?[\s\-]*', '', s) if re.sub(r'\D','',s).__len__() > 11 else s
    d = re.sub(r'[\s\-\./_~·～—•]', '', s)
    return bool(re.fullmatch(r'\d{11}', d)) and d[:3] in MOBILE

def valid_landline(v):
    s = norm_digits(v)
    s = re.split(r'转|分机|ext\.?|EXT|Ext', s)[0]
    s = re.sub(r'^\+86\s*|^0086\s*', '0', s)
    d = re.sub(r'[\s\-\(\)（）]', '', s)
    if not re.fullmatch(r'\d+(-\d{1,5})?', d):
        return False
    d = d.split('-')[0] if '-' in d else d
    # allow a trailing extension after dash in original: main number is area + 7/8 digits
    for a in AREA:
        if d.startswith(a):
            rest = d[len(a):]
            if len(rest) in (7, 8) and rest[0] not in '01': return True
            if len(rest) > 8 and rest[0] not in '01' and len(rest) <= 12: return True  # dash-less extension
    return False

W = [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]
def valid_date(s):
    try: datetime.date(int(s[:4]), int(s[4:6]), int(s[6:8])); return True
    except ValueError: return False
def valid_id(v):
    m = re.fullmatch(r'([A-Z])(\d{6})[(（]([0-9A])[)）]', v)
    if m:
        s = 36*9 + (ord(m.group(1))-55)*8 + sum(int(c)*w for c, w in zip(m.group(2), [7,6,5,4,3,2]))
        r = (11 - s % 11) % 11
        return m.group(3) == ('A' if r == 10 else str(r))
    d = re.sub(r'[\s\-]', '', norm_digits(v)).upper()
    if re.fullmatch(r'\d{15}', d):
        return d[:6] in COUNTY and valid_date('19' + d[6:12])
    if not re.fullmatch(r'\d{17}[\dX]', d): return False
    if d[:6] not in COUNTY or not valid_date(d[6:14]): return False
    return "10X98765432"[sum(int(c)*w for c, w in zip(d[:17], W)) % 11] == d[17]

def luhn(d):
    t = 0
    for i, c in enumerate(reversed(d)):
        x = int(c)
        if i % 2: x *= 2; x = x - 9 if x > 9 else x
        t += x
    return t % 10 == 0
def valid_card(v):
    d = re.sub(r'[\s\-\.]', '', norm_digits(v))
    if not re.fullmatch(r'\d{15,19}', d) or not luhn(d): return False
    if d[:2] in ('34', '37'): return len(d) == 15
    if len(d) < 16: return False
    return d[:2] in ('62', '35') or d[0] in '45' or d[:2] == '22'

def valid_email(v):
    s = v.replace('＠', '@').replace('。', '.')
    s = re.sub(r'\s*(\[at\]|\(at\)|（at）|艾特|圈a| at |#)\s*', '@', s, flags=re.I)
    s = re.sub(r'\s*(\[dot\]|\(dot\)| dot |点)\s*', '.', s, flags=re.I)
    s = s.replace(' ', '')
    return bool(re.fullmatch(r'[\w.\-+\u4e00-\u9fff]+@[\w\-\u4e00-\u9fff]+(\.[\w\-\u4e00-\u9fff]+)+', s))

def valid_qq(v):
    d = re.sub(r'[\s\-]', '', norm_digits(v))
    return bool(re.fullmatch(r'[1-9]\d{4,10}', d))

def valid_wechat(v):
    if valid_phone(v): return True
    s = v.replace(' ', '')
    if re.fullmatch(r'wxid_[a-z0-9]{6,20}', s, re.I): return True
    return bool(re.fullmatch(r'[A-Za-z][A-Za-z0-9_\-]{5,19}', s))

SURN_TITLE = re.compile(r'^.{1,2}(先生|女士|老师|师傅|总|经理|阿姨|小姐|哥|姐)$')
def valid_name(v):
    if SURN_TITLE.match(v): return False
    if re.fullmatch(r'[A-Z][a-z]+( [A-Z][a-z]+)*', v): return True
    if re.fullmatch(r'[\u4e00-\u9fff]{1,8}[·•][\u4e00-\u9fff]{1,8}', v): return True
    return bool(re.fullmatch(r'[\u4e00-\u9fff]{2,5}', v))

def valid_address(v):
    if len(v) < 7: return False
    if re.search(r'[镇乡].{1,6}村(\d+组|[一二三四五六七八九十]+组|\d+号)?$', v): return True  # village address
    return bool(re.search(r'\d|[一二三四五六七八九十]+(号|组|单元|栋)', v)) and bool(re.search(r'[路街道巷弄胡同村镇乡里园院苑楼栋幢]', v))

def valid_passport(v):
    return bool(re.fullmatch(r'E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}|[A-Z]{1,2}\d{6,8}|\d{9}', v))
PROV = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼'
def valid_plate(v):
    s = re.sub(r'[·•\. ]', '', v)
    return bool(re.fullmatch(r'[%s][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}' % PROV, s))

CHECK = {'PHONE': valid_phone, 'LANDLINE': valid_landline, 'ID_NUMBER': valid_id, 'BANK_CARD': valid_card,
         'EMAIL': valid_email, 'QQ': valid_qq, 'WECHAT': valid_wechat, 'PERSON_NAME': valid_name,
         'ADDRESS': valid_address, 'PASSPORT': valid_passport, 'LICENSE_PLATE': valid_plate}

def load(fn):
    rows = []
    with open(os.path.join(HERE, fn), encoding='utf-8') as f:
        for n, ln in enumerate(f, 1):
            try: rows.append(json.loads(ln))
            except Exception as e: err(f'{fn}:{n} bad json {e}')
    return rows

bios = load('bios.jsonl'); negs = load('negatives.jsonl')
ids, texts = set(), set()
tcount, fcount = Counter(), Counter()
for fn, rows, pref in (('bios', bios, 'd4b'), ('negatives', negs, 'd4n')):
    for r in rows:
        rid = r.get('id')
        if not isinstance(rid, str) or not re.fullmatch(pref + r'\d{4}', rid): err(f'{fn} bad id {rid}')
        if rid in ids: err(f'dup id {rid}')
        ids.add(rid)
        t = r.get('text')
        if not isinstance(t, str): err(f'{rid} no text'); continue
        if t in texts: err(f'{rid} duplicate text')
        texts.add(t)
        if not 10 <= len(t) <= 200: err(f'{rid} length {len(t)}')
        sp = r.get('spans')
        if not isinstance(sp, list): err(f'{rid} spans not list'); continue
        if fn == 'negatives':
            if sp: err(f'{rid} negative has spans')
            if not r.get('kind'): err(f'{rid} negative without kind')
            nd = norm_digits(strip_invis(t))
            for m in re.finditer(r'(?<!\d)1[3-9]\d{9}(?!\d)', nd):
                if m.group()[:3] in MOBILE: err(f'{rid} negative contains mobile-like {m.group()}')
            for m in re.finditer(r'(?<![\dA-Za-z])\d{17}[\dXx](?!\d)', nd):
                if valid_id(m.group()): err(f'{rid} negative contains valid ID {m.group()}')
            for m in re.finditer(r'(?<!\d)(?:\d[ \-]?){15,18}\d(?!\d)', nd):
                d = re.sub(r'\D', '', m.group())
                if 16 <= len(d) <= 19 and luhn(d) and d[:2] == '62': err(f'{rid} negative contains Luhn-valid card-like {d}')
            continue
        if not sp: err(f'{rid} bio without spans')
        for s in sp:
            ty, v, fm = s.get('type'), s.get('value'), s.get('format')
            if ty not in TYPES: err(f'{rid} bad type {ty}'); continue
            if not isinstance(v, str) or not v or v not in t: err(f'{rid} value not in text: {v!r}'); continue
            if not isinstance(fm, str) or not fm or len(fm) > 24: err(f'{rid} bad format {fm!r}')
            if v != v.strip(): err(f'{rid} value has outer whitespace {v!r}')
            if not CHECK[ty](v): err(f'{rid} invalid {ty}: {v!r}')
            tcount[ty] += 1; fcount[(ty, fm)] += 1
        # unlabelled mobile numbers left in the text
        covered = t
        for s in sp:
            if isinstance(s.get('value'), str): covered = covered.replace(s['value'], '#' * len(s['value']))
        for m in re.finditer(r'(?<!\d)1[3-9]\d{9}(?!\d)', covered):
            if m.group()[:3] in MOBILE: err(f'{rid} unlabelled mobile {m.group()}')
for ty in TYPES:
    need = MINS.get(ty, MIN_OTHER)
    if tcount[ty] < need: err(f'too few {ty}: {tcount[ty]} < {need}')
if len(bios) < 750: err(f'too few bios: {len(bios)}')
if len(negs) < 300: err(f'too few negatives: {len(negs)}')
print(f'bios: {len(bios)}  negatives: {len(negs)}  values: {sum(tcount.values())}')
for ty in TYPES:
    print(f'{ty:14s} {tcount[ty]:4d}   ' + ', '.join(f'{fm}={n}' for (t2, fm), n in sorted(fcount.items()) if t2 == ty))
kc = Counter(r.get('kind') for r in negs)
print('negative kinds:', ', '.join(f'{k}={n}' for k, n in kc.most_common()))
for e in errors[:80]: print('ERROR', e)
if len(errors) > 80: print(f'... {len(errors) - 80} more errors')
print('FAIL' if errors else 'OK')
