#!/usr/bin/env python3
"""Validate bios.jsonl and negatives.jsonl (standard library only). Prints counts, then OK or FAIL."""
import json, re, sys, os, unicodedata, datetime
from collections import Counter
D = os.path.dirname(os.path.abspath(__file__))
TYPES = ['PHONE','LANDLINE','ID_NUMBER','BANK_CARD','EMAIL','QQ','WECHAT','PERSON_NAME','ADDRESS','PASSPORT','LICENSE_PLATE']
MINIMUM = dict(PHONE=150, WECHAT=150, QQ=120, PERSON_NAME=200, ADDRESS=80)
MIN_EACH = 15
errors = []; warnings = []
def err(m): errors.append(m)

CN = {'零':'0','〇':'0','洞':'0','一':'1','幺':'1','壹':'1','二':'2','两':'2','贰':'2','三':'3','叁':'3','四':'4','肆':'4',
      '五':'5','伍':'5','六':'6','陆':'6','七':'7','柒':'7','拐':'7','八':'8','捌':'8','九':'9','玖':'9','勾':'9'}
INVIS = '\u200b\u200c\u200d\u2060\ufeff'
def to_digits(s):
    """map every digit-like character to ASCII, keep the rest (NFKC for full-width letters)"""
    out = []
    for c in s:
        if c in INVIS: continue
        if c in CN: out.append(CN[c]); continue
        try:
            d = unicodedata.digit(c); out.append(str(d)); continue
        except (TypeError, ValueError):
            pass
        out.append(unicodedata.normalize('NFKC', c))
    return ''.join(out)
def only_digits(s): return re.sub(r'\D', '', to_digits(s))

MOBILE = set('130 131 132 133 134 135 136 137 138 139 145 147 149 150 151 152 153 155 156 157 158 159 162 165 166 167 170 171 172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 190 191 192 193 195 196 197 198 199'.split())
def valid_mobile(d): return len(d) == 11 and d[:3] in MOBILE
def check_phone(v):
    s = to_digits(v).strip()
    d = re.sub(r'\D', '', s)
    if len(d) == 15 and d.startswith('0086'): d = d[4:]
    elif len(d) == 13 and d.startswith('86'): d = d[2:]
    return valid_mobile(d)

AREA = set('010 020 021 022 023 024 025 027 028 029 0311 0351 0371 0411 0431 0451 0471 0512 0513 0519 0531 0532 0551 0571 0573 0574 0577 0579 0591 0592 0595 0731 0754 0755 0756 0757 0760 0769 0771 0791 0851 0871 0898 0931 0951 0991 0510 0816 0917 0351 0535 0536 0311 0315 0376 0710 0734 0745 0898 0891'.split())
def check_landline(v):
    s = to_digits(v)
    s = re.split(r'(?:转|分机|ext\.?|EXT\.?|Ext\.?|x|X|#)\s*\d+\s*$', s)[0]
    s = s.strip()
    if re.match(r'^\+?\s*\(?\+?86\)?', s) and not re.match(r'^\(?0', s):
        s = '0' + re.sub(r'^\+?\s*\(?\+?86\)?[\s-]*', '', s)
    groups = [g for g in re.split(r'[^\d]+', s) if g]
    if len(groups) >= 3 and len(groups[-1]) <= 4 and (groups[0] in AREA):
        local = ''.join(groups[1:-1]) if len(''.join(groups[1:-1])) in (7, 8) else ''.join(groups[1:])
        d = groups[0] + local
    else:
        d = ''.join(groups)
    for n in (3, 4):
        if d[:n] in AREA and len(d) - n in (7, 8): return True
    return False

# county-level codes used in this corpus (all real)
COUNTY = set('''110101 110102 110105 110108 120101 130102 140105 150102 210102 220102 230102 310101 310104 310115 320102 320106 320582
330102 330106 330782 340104 350102 350203 360102 370102 370202 410105 420106 420111 430102 430104 440103 440104 440106 440303 440304 440305
450103 460106 500103 510104 510107 520102 530102 540102 610113 620102 640104 650102'''.split())
W = [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]
def id18_ok(d):
    if not re.fullmatch(r'\d{17}[\dX]', d): return False
    if d[:6] not in COUNTY: return False
    try: dt = datetime.date(int(d[6:10]), int(d[10:12]), int(d[12:14]))
    except ValueError: return False
    if not (1920 <= dt.year <= 2020): return False
    return "10X98765432"[sum(int(c)*w for c, w in zip(d, W)) % 11] == d[17]
def hkid_ok(s):
    m = re.fullmatch(r'([A-Z])(\d{6})\(?([0-9A])\)?', s)
    if not m: return False
    L, ds, c = m.groups()
    t = 36*9 + (ord(L)-55)*8 + sum(int(x)*w for x, w in zip(ds, [7,6,5,4,3,2]))
    r = (11 - t % 11) % 11
    return ('A' if r == 10 else str(r)) == c
def check_id(v):
    s = to_digits(v).upper()
    s = re.sub(r'[\s\-·.]', '', s)
    if hkid_ok(s): return True
    if len(s) == 18: return id18_ok(s)
    if len(s) == 15 and s.isdigit():
        if s[:6] not in COUNTY: return False
        try: datetime.date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12])); return True
        except ValueError: return False
    return False
def luhn(d):
    t = 0
    for i, c in enumerate(reversed(d)):
        x = int(c)
        if i % 2: x *= 2; x -= 9 if x > 9 else 0
        t += x
    return t % 10 == 0
def card_prefix_ok(d):
    if d[:2] in ('34', '37'): return len(d) == 15
    if d[:2] == '62': return 16 <= len(d) <= 19
    if d[0] == '4': return len(d) in (16, 19)
    if 51 <= int(d[:2]) <= 55 or 2221 <= int(d[:4]) <= 2720: return len(d) == 16
    if 3528 <= int(d[:4]) <= 3589: return len(d) in (16, 19)
    return False
def check_card(v):
    d = only_digits(v)
    return 15 <= len(d) <= 19 and luhn(d) and card_prefix_ok(d)

def norm_email(v):
    s = v.replace('。', '.').replace('．', '.')
    s = unicodedata.normalize('NFKC', s)
    s = re.sub(r'\s*(?:\[at\]|\(at\)|（at）|\{at\}|艾特|圈a|#|\bat\b)\s*', '@', s, flags=re.I)
    s = re.sub(r'\s*(?:\[dot\]|\(dot\)|（dot）|\bdot\b|点)\s*', '.', s, flags=re.I)
    return re.sub(r'\s+', '', s)
def check_email(v):
    return re.fullmatch(r'[\w.+\-]+@[\w\-]+(\.[\w\-]+)*\.[A-Za-z\u4e00-\u9fff]{2,}', norm_email(v)) is not None
def check_qq(v):
    s = to_digits(v)
    if re.search(r'[A-Za-z]', s): return False
    d = re.sub(r'\D', '', s)
    return 5 <= len(d) <= 11 and d[0] != '0'
def check_wechat(v):
    s = to_digits(v)
    s = re.sub(r'\s+', '', s)
    if re.fullmatch(r'wxid_[a-z0-9]{6,20}', s): return True
    if re.fullmatch(r'[A-Za-z][A-Za-z0-9_\-]{5,19}', s): return True
    return check_phone(v)
def check_name(v):
    if re.search(r'先生|女士|小姐|老师|师傅|经理|总$', v): return False
    if re.fullmatch(r'[\u4e00-\u9fff]{2,4}', v): return True
    if re.fullmatch(r'[\u4e00-\u9fff]{1,8}[·•][\u4e00-\u9fff]{1,8}([·•][\u4e00-\u9fff]{1,8})?', v): return True
    if re.fullmatch(r'[A-Z][a-z]+( [A-Z][a-z]+){1,2}', v): return True
    return False
def check_address(v):
    if len(v) < 6: return False
    if not re.search(r'[省市区县镇乡旗州]|苑|园|小区|花园|大厦|公寓|\d+(号楼|栋|幢|单元)', v): return False
    if not re.search(r'路|街|道|巷|弄|胡同|村|组|号|室|栋|幢|楼|单元|苑|小区|花园|社区|屯|里', v): return False
    return re.search(r'[\d０-９一二三四五六七八九十]|村|组|屯|苑|花园|小区|社区', v) is not None
def check_passport(v):
    s = re.sub(r'\s', '', unicodedata.normalize('NFKC', v)).upper()
    return re.fullmatch(r'E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}|[HK]\d{8}|[A-Z]{1,2}\d{6,8}|\d{9}', s) is not None
PROV = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼'
def check_plate(v):
    s = re.sub(r'[·•.\s\-]', '', unicodedata.normalize('NFKC', v)).upper()
    if not re.fullmatch('[%s][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}' % PROV, s): return False
    if len(s) == 8: return s[2] in 'DF' or s[-1] in 'DF'
    return True
CHECK = dict(PHONE=check_phone, LANDLINE=check_landline, ID_NUMBER=check_id, BANK_CARD=check_card, EMAIL=check_email,
             QQ=check_qq, WECHAT=check_wechat, PERSON_NAME=check_name, ADDRESS=check_address, PASSPORT=check_passport,
             LICENSE_PLATE=check_plate)

def leaked_pii(text):
    """valid-looking PII patterns in text not covered by labels (used on negatives and on unlabelled parts of bios)"""
    found = []
    t = to_digits(text)
    for m in re.finditer(r'(?<![\dA-Za-z])\d{11}(?![\dA-Za-z])', t):
        if valid_mobile(m.group()): found.append('mobile ' + m.group())
    for m in re.finditer(r'(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])', t):
        if id18_ok(m.group().upper()): found.append('id ' + m.group())
    for m in re.finditer(r'(?<![\dA-Za-z])\d{15,19}(?![\dA-Za-z])', t):
        if luhn(m.group()) and card_prefix_ok(m.group()): found.append('card ' + m.group())
    for m in re.finditer(r'[\w.+\-]+@[\w\-]+(\.[\w\-]+)*\.[A-Za-z]{2,}', t):
        found.append('email ' + m.group())
    return found

def load(name):
    rows = []
    for i, line in enumerate(open(os.path.join(D, name), encoding='utf-8'), 1):
        try: rows.append(json.loads(line))
        except Exception as e: err('%s line %d: bad json %s' % (name, i, e))
    return rows
bios = load('bios.jsonl'); negs = load('negatives.jsonl')
ids = Counter(); texts = Counter()
tc = Counter(); fc = Counter(); kinds = Counter()
for r in bios:
    if set(r) != {'id', 'text', 'spans'}: err('%s: keys %s' % (r.get('id'), sorted(r)))
    if not re.fullmatch(r'd6b\d{4}', r.get('id', '')): err('bad id %s' % r.get('id'))
    ids[r['id']] += 1; texts[r['text']] += 1
    if not 10 <= len(r['text']) <= 200: err('%s: length %d' % (r['id'], len(r['text'])))
    if not r['spans']: err('%s: no spans' % r['id'])
    rest = r['text']
    for sp in r['spans']:
        if set(sp) != {'type', 'value', 'format'}: err('%s: span keys %s' % (r['id'], sorted(sp)))
        if sp['type'] not in TYPES: err('%s: type %s' % (r['id'], sp['type'])); continue
        if not sp['value'] or sp['value'] not in r['text']: err('%s: value not in text: %r' % (r['id'], sp['value']))
        if not isinstance(sp['format'], str) or not re.fullmatch(r'[a-z0-9_]{2,20}', sp['format']): err('%s: format %r' % (r['id'], sp['format']))
        if sp['value'] != sp['value'].strip(): err('%s: value has outer spaces %r' % (r['id'], sp['value']))
        if not CHECK[sp['type']](sp['value']): err('%s: invalid %s %r' % (r['id'], sp['type'], sp['value']))
        tc[sp['type']] += 1; fc[(sp['type'], sp['format'])] += 1
    for sp in sorted(r['spans'], key=lambda s: -len(s['value'])):
        rest = rest.replace(sp['value'], '\u2063')
    for leak in leaked_pii(rest): err('%s: unlabelled %s' % (r['id'], leak))
for r in negs:
    if set(r) != {'id', 'text', 'spans', 'kind'}: err('%s: keys %s' % (r.get('id'), sorted(r)))
    if not re.fullmatch(r'd6n\d{4}', r.get('id', '')): err('bad id %s' % r.get('id'))
    ids[r['id']] += 1; texts[r['text']] += 1
    if r.get('spans') != []: err('%s: negative with spans' % r['id'])
    if not r.get('kind'): err('%s: no kind' % r['id'])
    kinds[r['kind']] += 1
    if not 10 <= len(r['text']) <= 200: err('%s: length %d' % (r['id'], len(r['text'])))
    for leak in leaked_pii(r['text']): err('%s: negative contains %s' % (r['id'], leak))
for k, n in ids.items():
    if n > 1: err('duplicate id %s' % k)
for k, n in texts.items():
    if n > 1: err('duplicate text %r' % k[:40])
if len(bios) < 800: err('only %d bios' % len(bios))
if len(negs) < 300: err('only %d negatives' % len(negs))
for t in TYPES:
    need = max(MIN_EACH, MINIMUM.get(t, 0))
    if tc[t] < need: err('%s: %d < %d' % (t, tc[t], need))

print('bios: %d  negatives: %d  spans: %d' % (len(bios), len(negs), sum(tc.values())))
print('per type:')
for t in TYPES: print('  %-14s %d' % (t, tc[t]))
print('per format:')
for (t, f), n in sorted(fc.items()): print('  %-14s %-14s %d' % (t, f, n))
print('negative kinds:')
for k, n in sorted(kinds.items()): print('  %-16s %d' % (k, n))
for e in errors[:200]: print('ERROR', e)
if len(errors) > 200: print('... %d more errors' % (len(errors) - 200))
print('FAIL (%d errors)' % len(errors) if errors else 'OK')
sys.exit(1 if errors else 0)
