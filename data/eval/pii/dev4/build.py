#!/usr/bin/env python3
"""Convert the hand-written source files in src/ to JSONL.
bios_*.txt: one bio per line; personal data marked inline as «T|value» or «T:format|value».
neg_*.txt:  one negative per line as  kind:: text
Markers only delimit the hand-typed value; the format label is derived from the value's shape
unless given explicitly. {zw} stands for a zero-width space typed into a value."""
import glob, json, re, os
T = {'P':'PHONE','L':'LANDLINE','I':'ID_NUMBER','B':'BANK_CARD','E':'EMAIL','Q':'QQ','W':'WECHAT',
     'N':'PERSON_NAME','A':'ADDRESS','S':'PASSPORT','C':'LICENSE_PLATE'}
CN = set('〇零一二三四五六七八九幺洞两壹贰叁肆伍陆柒捌玖拾')
FW = set('０１２３４５６７８９')
CIRC = set('①②③④⑤⑥⑦⑧⑨⓪⑩')
ZW = '\u200b'
COMPOUND = ('欧阳','司马','诸葛','上官','司徒','慕容','皇甫','东方','夏侯','令狐','尉迟','公孙','长孙','宇文','端木','独孤','南宫','西门','轩辕','呼延','澹台','万俟','闻人')

def numfmt(v):
    if ZW in v or '\u200c' in v or '\u2060' in v: return 'invisible_char'
    if any(c in CIRC for c in v): return 'circled_digits'
    has_cn = any(c in CN for c in v); has_ar = bool(re.search(r'[0-9０-９]', v))
    if has_cn and has_ar: return 'mixed_cn_arabic'
    if has_cn: return 'cn_numerals'
    if any(c in FW for c in v): return 'fullwidth'
    return None

def f_phone(v):
    n = numfmt(v)
    if n: return n
    if re.match(r'^(\+86|0086|\(\+86\)|（\+86）|86[ -])', v): return 'intl_prefix'
    seps = set(re.sub(r'[0-9]', '', v))
    if not seps: return 'plain'
    if seps == {' '}:
        return 'every_digit_spaced' if re.fullmatch(r'(\d ){10}\d', v) else 'spaced'
    if seps == {'-'}: return 'dashed'
    if seps == {'.'}: return 'dotted'
    return 'other_sep'

def f_landline(v):
    if v.startswith('+86') or v.startswith('0086'): return 'intl_prefix'
    if re.search(r'转|分机|ext|EXT|Ext', v): return 'with_extension'
    if '(' in v or '（' in v: return 'parenthesised'
    if '-' in v: return 'dashed'
    if ' ' in v: return 'spaced'
    return 'plain'

def f_id(v):
    if re.fullmatch(r'[A-Z]{1,2}\d{6}[(（][0-9A][)）]', v): return 'hk_id'
    d = re.sub(r'[^0-9Xx０-９]', '', v)
    n = numfmt(v)
    if n: return n
    if len(re.sub(r'\D', '', v)) == 15: return 'old_15'
    if 'x' in v: return 'lower_x'
    if re.search(r'[ \-]', v): return 'grouped'
    return 'plain_18'

def f_card(v):
    n = numfmt(v)
    if n: return n
    d = re.sub(r'\D', '', v)
    if d[:2] in ('34', '37'): return 'amex_15'
    if ' ' in v: return 'spaced_groups'
    if '-' in v: return 'dashed_groups'
    if '.' in v: return 'dotted_groups'
    return 'plain'

def f_email(v):
    if re.search(r'\[at\]|\(at\)|（at）| at |艾特|圈a|#| dot |点', v, re.I): return 'obfuscated'
    if '＠' in v or '。' in v: return 'fullwidth_symbols'
    if re.search(r'[\u4e00-\u9fff]', v): return 'cn_chars'
    if re.search(r'\s', v): return 'spaced'
    if re.fullmatch(r'\d+@qq\.com', v): return 'qq_numeric'
    return 'standard'

def f_qq(v):
    n = numfmt(v)
    if n: return n
    if ' ' in v or '-' in v: return 'spaced'
    return 'digits'

def f_wechat(v):
    n = numfmt(v)
    if n: return 'phone_' + n
    d = re.sub(r'[ \-]', '', v)
    if re.fullmatch(r'1[3-9]\d{9}', d): return 'phone_as_id'
    if v.lower().startswith('wxid_'): return 'wxid'
    if ' ' in v: return 'spaced'
    if '_' in v: return 'underscore'
    if '-' in v: return 'dash'
    if re.search(r'[A-Z]', v): return 'upper_case'
    if re.fullmatch(r'[a-z]+', v): return 'letters'
    return 'letters_digits'

def f_name(v):
    if '·' in v or '•' in v or '▪' in v: return 'minority_dot'
    if re.search(r'[A-Za-z]', v): return 'english'
    if v.startswith(COMPOUND): return 'compound_surname'
    return {2: 'cn_2char', 3: 'cn_3char'}.get(len(v), 'cn_4char')

def f_addr(v):
    if re.search(r'村|镇|乡|组$', v): return 'rural'
    if re.search(r'室|单元|号楼|栋|幢|座|层|楼\d', v): return 'with_unit'
    if re.search(r'小区|花园|苑|公寓|大厦|广场|家园|新村|城', v): return 'with_compound'
    return 'street_number'

def f_passport(v):
    if re.fullmatch(r'E[A-Z]\d{7}', v): return 'cn_E_letter'
    if re.fullmatch(r'E\d{8}', v): return 'cn_E_digits'
    if re.fullmatch(r'G\d{8}', v): return 'cn_G'
    return 'foreign'

def f_plate(v):
    core = re.sub(r'[·•\. ]', '', v)
    if len(core) == 8: return 'new_energy'
    if '·' in v or '•' in v: return 'dotted'
    if ' ' in v: return 'spaced'
    return 'standard'

FMT = {'PHONE': f_phone, 'LANDLINE': f_landline, 'ID_NUMBER': f_id, 'BANK_CARD': f_card, 'EMAIL': f_email,
       'QQ': f_qq, 'WECHAT': f_wechat, 'PERSON_NAME': f_name, 'ADDRESS': f_addr, 'PASSPORT': f_passport,
       'LICENSE_PLATE': f_plate}
MARK = re.compile(r'«([A-Z])(?::([\w\-]+))?\|(.*?)»')

def convert_bio(line):
    line = line.replace('{zw}', ZW).replace('\\n', '\n')
    spans = []
    def rep(m):
        t = T[m.group(1)]; v = m.group(3)
        spans.append({'type': t, 'value': v, 'format': m.group(2) or FMT[t](v)})
        return v
    text = MARK.sub(rep, line)
    if '«' in text or '»' in text: raise ValueError('bad marker: ' + line)
    return text, spans

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    for fn in sorted(glob.glob(os.path.join(here, 'src', 'bios_*.txt'))):
        for ln in open(fn, encoding='utf-8'):
            ln = ln.rstrip('\n')
            if not ln.strip() or ln.startswith('#'): continue
            text, spans = convert_bio(ln)
            out.append((text, spans, os.path.basename(fn)))
    with open(os.path.join(here, 'bios.jsonl'), 'w', encoding='utf-8') as f:
        for i, (text, spans, src) in enumerate(out, 1):
            f.write(json.dumps({'id': 'd4b%04d' % i, 'text': text, 'spans': spans}, ensure_ascii=False) + '\n')
    neg = []
    for fn in sorted(glob.glob(os.path.join(here, 'src', 'neg_*.txt'))):
        for ln in open(fn, encoding='utf-8'):
            ln = ln.rstrip('\n')
            if not ln.strip() or ln.startswith('#'): continue
            kind, text = ln.split(':: ', 1)
            neg.append((kind.strip(), text))
    with open(os.path.join(here, 'negatives.jsonl'), 'w', encoding='utf-8') as f:
        for i, (kind, text) in enumerate(neg, 1):
            f.write(json.dumps({'id': 'd4n%04d' % i, 'text': text, 'spans': [], 'kind': kind}, ensure_ascii=False) + '\n')
    print('bios', len(out), 'negatives', len(neg))

if __name__ == '__main__':
    main()
