"""Street addresses (ADDRESS -> ``[ADDRESS]``): admin divisions + road/number or compound/building.

An address is anchored on something only addresses have, then grown to both sides:

* anchors: a road, street or lane with a house number (路 / 街 / 大道 / 巷 / 弄 / 胡同 / 段 [东西南北] + [甲乙]
  123号 / 号院 / 号楼 / 弄); a compound with a building or room (小区 / 花园 / 苑 / 公寓 / 大厦 ... [A区, R1区,
  东] + 3号楼 / 5栋 / 2单元 / 6-3-301); a building, unit and room chain with no compound word (17幢2单元1803);
  a village under a town (XX镇XX村, XX村3组); a numbered stall or compound under a known city (B区108号,
  东门F4-12345号); a full admin chain down to a town (河北省邯郸市魏县牙里镇); Arabic or Chinese numbers;
* to the left: the administrative chain in the same clause (省 / 自治区 / 市 / 区 / 县 / 镇 / 街道), from the
  first known province or city name (``lexicon.places``) or the first XX市 / XX区, whichever comes first;
  without one, the compound or road name back to a word like 住 / 在 / 寄到 (which is not part of it);
* to the right: building names and numbers (民族大厦, 睿东中心1栋, 4号楼2单元1102, 23层, 8F-803, 南塔3608).

People also write the parts apart ("广东省 广州市 天河区 体育西路 103号", "福州市/鼓楼区/五四路/158号",
"浙江省,宁波市,鄞州区"), and in traditional characters (彌敦道688號15樓): the recognizer reads a view of the
text in which a separator after an address part (or before a building number) is dropped and 號 樓 區 ...
are simplified, one character for one, so the same anchors and growth rules apply and the span maps back.

A city or district alone (我在杭州工作, 住海淀, 江苏南京，鼓楼区) has no anchor and is left alone, as are a
famous street without a number (南京路步行街, 解放路和人民路交叉口附近) and a room number without a place
(宿舍301, 教室A302). English addresses ("Room 1502, No. 1168 West Nanjing Road, Jing'an District, Shanghai")
have their own pattern.

Cost: about a third of bios hold one of the characters an address needs (路 街 区 号 ...), and most of those
hold no address; for them the anchor patterns are skipped on a character test (a building chain needs 栋 幢
楼 or 座 ...) or tried only where a compound word starts, and punctuation after a word that ends no address
part is not looked at: ~81 -> ~31 µs for a 200-character bio on average (``bench/pii.py`` bios).
"""
from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

from ..lexicon.places import PLACE_NAMES
from ..normalizer import NormalizedText
from .base import Candidate, Recognizer, finditer_at

_CJK = "\u4e00-\u9fff"
_CN_NUM = "一二三四五六七八九十百千零〇两"
_NUM = "(?:[0-9]+|[" + _CN_NUM + "]+)"
_ROAD = "(?:大道|大街|路|街|巷|弄|胡同|段|道|里|坊)"
_ROAD_ANCHOR_RE = re.compile(
    _ROAD + "[东西南北中]?[ ]?[甲乙丙丁附]?" + _NUM + "(?:[-之][0-9]+)?(?:号院|号楼|号|弄|巷|支弄)"
)
_UNIT = "(?:号楼|号院|号门|号房|号铺|号商铺|商铺|栋|幢|座|单元|楼|层|室|号|期|区|户|组|排|舍|房|门|铺|档|F)"
_COMPOUND_WORDS = ("小区|花园|花苑|家园|新村|社区|公寓|大厦|广场|中心|写字楼|大楼|家属院|家属区|校区|园区|产业园|"
                   "宿舍|商城|大院|酒店|饭店|宾馆|医院|中学|小学|大学|学院|幼儿园|山庄|商厦|市场|商铺|门面|档口|苑|村|院|城|府|"
                   "庭|湾|园|阁|里|坊|组|队|区").split("|")
_COMPOUND = "(?:" + "|".join(_COMPOUND_WORDS) + ")"
_PHASE = "(?:" + _NUM + "期)?"  # a phase of the compound: 金色家园3期7栋, 世纪城三期16-2-1102
_COMPOUND_ANCHOR_RE = re.compile(
    _COMPOUND + _PHASE + "[东西南北中]?[ ]?[A-Za-z]?" + _NUM + "[A-Za-z]?(?:号楼|栋|幢|座|单元|(?:楼|层)[ ]?" + _NUM
    + "(?:室|房|号)?(?![0-9]))"
    + "|" + _COMPOUND + _PHASE + "[0-9]{1,3}-[0-9]{1,2}-[0-9]{3,4}(?![0-9])"  # 丹桂苑6-3-301 (not 园130-0000-0000: a mobile)
)  # a floor alone ("万达广场3楼") is a shop, not an address: it needs a room number after it
# Building, unit and room with no compound word before them: "保利香槟国际17幢2单元1803" (after a compound word,
# the compound needs a name: "宿舍3号楼402" is a room).
_GENERIC_BEFORE_RE = re.compile(_COMPOUND + r"\Z")
_BUILDING_CHAIN_RE = re.compile(
    "[A-Za-z]?" + _NUM + "(?:栋|幢|号楼|座)[ ]?" + _NUM + "单元"
    + "|[A-Za-z]?[0-9]{1,3}(?:栋|幢|号楼)[0-9]{3,4}(?:室|房)?(?![0-9])"
)
_COMPOUND_NUMBER_RE = re.compile(
    "(?:社区|小区|新村|家园|花园|村|大院|市场|商城|城|门|[A-Za-z]区)[A-Za-z]{0,2}" + _NUM + "(?:-[0-9]+)?号"
)
# Cheap tests before the anchor patterns above, which start with a group of words or an optional letter,
# so CPython's re tries them at every position (~60, ~60 and ~10 us for a 200-character bio): what a
# match must contain (a compound anchor: a building, unit, floor or a room chain 6-3-301; a building chain:
# 栋 幢 楼 座; a compound number: a number and 号), then where it can start (base.finditer_at).
_COMPOUND_UNIT_RE = re.compile("[楼栋幢座单层]")
_ROOM_CHAIN_RE = re.compile("[0-9]-[0-9]{1,2}-[0-9]{3}")
_CHAIN_UNIT_RE = re.compile("[栋幢楼座]")
_NUMBER_SIGN_RE = re.compile("[0-9" + _CN_NUM + "]号")
_COMPOUND_START_RE = re.compile("[" + "".join(sorted({w[0] for w in _COMPOUND_WORDS})) + "]")
_COMPOUND_NUMBER_START_RE = re.compile("[社小新家花村大市商城门A-Za-z]")
_VILLAGE_RE = re.compile("(?:镇|乡)[" + _CJK + "]{1,10}?村(?:" + _NUM + "(?:组|号|队|社))?")
_ADMIN_CHAIN_RE = re.compile(
    "[" + _CJK + "]{2,6}?(?:省|自治区)[" + _CJK + "]{2,8}?(?:市|州|盟|地区)"
    "[" + _CJK + "]{1,5}?(?:县|区|市|旗)[" + _CJK + "]{1,5}?(?:镇|乡|街道)"
)
# Cheap test: an address needs one of these characters (in simplified or traditional form).
_HINT_RE = re.compile("[路街巷弄道段里坊区苑园院城府庭湾阁村楼栋幢座寓舍心场厦號樓區棟镇乡鎮鄉]")
# What may follow the anchor, one token at a time (a space between tokens is allowed):
_RIGHT_TOKEN_RE = re.compile(
    "[ ]?(?:"
    "[A-Za-z]{0,2}[0-9]+[A-Za-z]?(?:-[A-Za-z]?[0-9]+)+"   # 7-2-401 8F-803 B1-12
    + "|[A-Za-z]?" + _NUM + "[A-Za-z]?" + _UNIT          # 3号楼 2单元 501室 B2层 1101房
    + "|[A-Za-z]{1,2}(?:座|栋|幢|区|单元|楼|室|房)"       # B座 F区 C室
    + "|[东西南北中]单元"                                   # 东单元
    + "|之[ ]?" + _NUM + _UNIT + "?"                      # 197号之三, 48 号之 3
    + "|(?<=[号楼栋幢座元层室期区户组排舍房门场厦心园苑院寓村城府庭湾阁塔铺F])[A-Za-z]?" + _NUM
    + "(?![0-9])[A-Za-z]?" + _UNIT + "?"                  # 单元1102, 广场1506, 宿舍W32, 三期9A
    + "|[" + _CJK + "A-Za-z0-9]{0,10}?" + _COMPOUND      # 民族大厦 睿东中心 阳光小区
    + "|[" + _CJK + "]{1,8}?[A-Za-z]?" + _NUM + "[A-Za-z]?" + _UNIT  # 和信商座1层 国际山庄12幢 福成五期
    + "|[" + _CJK + "]{1,8}?[A-Za-z]{1,2}(?:座|栋|幢|区)"   # 颐和国际A座
    + "|[" + _CJK + "]{1,6}?[A-Za-z]?[0-9]{3,5}(?![0-9年元块人个次天岁分])"  # 南塔3608 芙蓉三202
    + ")"
)
_ADMIN = "(?:省|自治区|特别行政区|市|自治州|州|地区|盟|新区|区|县|旗|镇|乡|街道)"
# An admin unit with its name (2-6 characters that are not the words in front of it: "公司在虹口区" -> 虹口区).
# Words in front of an address that are not part of it (one character each: 住在, 寄到, 位于 ...).
_LEAD_WORDS = "我住在于是到寄送址位从去搬租的为发收现居"
_LEAD_RE = re.compile("我家|家住|家在|[" + _LEAD_WORDS + "]")
_ADMIN_TOKEN_RE = re.compile("[^" + _LEAD_WORDS + "\\W0-9A-Za-z_]{2,6}?" + _ADMIN)
_ROAD_NAME_RE = re.compile("[^" + _LEAD_WORDS + "\\W0-9A-Za-z_]{2,6}?(?:大道|大街|路|街)")
_EN_ADDRESS_RE = re.compile(
    r"(?:(?:(?:Room|Rm\.?|Flat|Unit|Apt\.?|Suite|Building|Bldg\.?|Block|Tower|Floor)[ ]?[0-9A-Z-]+|[0-9]{1,3}/?F),?[ ]?){0,3}"
    r"(?:No\.?[ ]?)?[0-9]+[A-Z]?,?[ ]"
    r"(?:[A-Z][A-Za-z']*[ ]){1,4}(?:Road|Street|Avenue|Lane|Boulevard|Rd\.?|St\.?|Ave\.?|Blvd\.?)"
    r"(?:,[ ]?(?:[A-Z][A-Za-z']*)(?:[ ][A-Z][A-Za-z']*){0,3}){0,4}"
)

# A road with no number right after a town or street office that ends an admin chain ("下关镇建设路").
_ADMIN_END = frozenset("镇乡道")
_ROAD_AFTER_ADMIN_RE = re.compile(
    "[^" + _LEAD_WORDS + "和与边旁附近\\W0-9A-Za-z_]{1,6}?(?:大道|大街|路|街)(?:[一二三四五六七八九十东西南北中]段)?"
)

# ------------------------------------------------------------------ the address view

# Traditional forms of the characters the rules read (one character for one: positions do not move).
_TRADITIONAL_CHARS = "號樓區層棟廈園縣鎮鄉東龍門廣場灣臺莊陽華興蘇豐雲橋"
_TRADITIONAL = str.maketrans(_TRADITIONAL_CHARS, "号楼区层栋厦园县镇乡东龙门广场湾台庄阳华兴苏丰云桥")
_TRADITIONAL_RE = re.compile("[" + _TRADITIONAL_CHARS + "]")
_SEPARATOR_RUN_RE = re.compile(r"[ ]*[,，/\-._、·][ ]*|[ ]+")
# A separator is dropped between two parts of one address, judged by the end of the part before it:
_ADMIN_ROAD_END = frozenset("省市区县旗州盟镇乡道路街巷弄段")   # ... then an admin unit, a road, a house number
_NUMBER_END = frozenset("号院")                              # ... then a building or compound
_BUILDING_END = frozenset("栋幢座楼元层室苑园院场厦心寓城府阁舍村组期庭湾坊里")  # ... then a unit or room
_PART_END = _ADMIN_ROAD_END | _NUMBER_END | _BUILDING_END
_NEXT_ADMIN_ROAD_RE = re.compile(
    "[" + _CJK + "]{1,8}?" + _ADMIN + "|[" + _CJK + "0-9]{1,8}?" + _ROAD + "|[甲乙丙丁]?" + _NUM + "[ ]?号(?![线床位车机])"
)
# A number or letter, a space, then its unit: "398 号", "A 座", "12 栋" (not "3 号线").
_SPACED_UNIT_RE = re.compile("(?:号(?![线床位车机])|号楼|栋|幢|座|单元|楼|层|室)")
_NEXT_BUILDING_RE = re.compile(
    "[A-Za-z]?" + _NUM + "[A-Za-z]?(?:号楼|栋|幢|座|单元|楼|层|室)|[A-Za-z]{1,2}(?:座|栋|幢|区|单元|楼)"
    + "|[" + _CJK + "A-Za-z0-9]{1,10}?" + _COMPOUND
)
_BARE_NUMBER_RE = re.compile("[A-Za-z]?[0-9]{2,5}[A-Za-z]?(?![0-9])")
_BUILDING_NUMBER_RE = re.compile("[A-Za-z]?" + _NUM + "[A-Za-z]?(?:号楼|栋|幢|座|单元)|[A-Za-z]{1,2}(?:座|栋|幢)")
_NEEDS_VIEW_RE = re.compile(
    "[號樓區層棟廈園縣鎮鄉東龍門廣場灣臺#]|[省市区县旗州盟镇乡道路街巷弄段号院栋幢座楼元层室苑园场厦心寓城府阁舍]"
    "[ ]*[,，/\\-._、· ]|[" + _CJK + "][ ]+[A-Za-z0-9]"
)


def address_view(text: str) -> Tuple[str, Optional[List[int]]]:
    """(view, positions in ``text`` of each view character; None when the view is ``text``)."""
    if _NEEDS_VIEW_RE.search(text) is None:
        return text, None
    if _TRADITIONAL_RE.search(text) is not None:  # (str.translate costs ~0.1 us a character)
        text = text.translate(_TRADITIONAL)
    if "#" in text:  # 5#楼: a house number
        text = re.sub("(?<=[0-9])#", "号", text)
    pieces: List[str] = []
    where: List[int] = []
    pos = 0
    n = len(text)
    for m in _SEPARATOR_RUN_RE.finditer(text):
        s, e = m.span()
        if s == 0 or e >= n:
            continue
        sep = m.group().strip()
        if sep and sep != "/" and text[s - 1] not in _PART_END:
            continue  # a comma, 、 - . or · only ever joins after an address part (most runs: ~25 us a bio)
        if not _drop_separator(text, s, e):
            continue
        pieces.append(text[pos:s])
        where.extend(range(pos, s))
        pos = e
    if pos == 0:
        return text, None
    pieces.append(text[pos:])
    where.extend(range(pos, len(text)))
    return "".join(pieces), where


def _drop_separator(text: str, s: int, e: int) -> bool:
    """Whether the separator text[s:e] sits between two parts of one address (see the module doc)."""
    before, after = text[s - 1], text[e]
    if before.isdigit() and after.isdigit():
        return False  # 6-3-301, 138 1234: numbers keep their separators
    if not (_is_cjk(after) or after.isdigit() or after.isascii() and after.isalpha()):
        return False
    comma = "," in text[s:e] or "，" in text[s:e]
    if (before.isdigit() or before.isascii() and before.isalpha()) and text[s:e].strip() == "" \
            and _SPACED_UNIT_RE.match(text, e) is not None:
        return True
    if before in _ADMIN_ROAD_END:
        return _NEXT_ADMIN_ROAD_RE.match(text, e) is not None or _NEXT_BUILDING_RE.match(text, e) is not None
    if before in _NUMBER_END:
        # a building or compound after the house number ("103号 维多利广场", "478号，运达国际广场")
        return _NEXT_BUILDING_RE.match(text, e) is not None or (not comma and _is_cjk(after))
    if before in _BUILDING_END:
        # a unit or room after a building or compound ("B座 2801", "环球广场/1609", "8栋 504")
        return _NEXT_BUILDING_RE.match(text, e) is not None or _BARE_NUMBER_RE.match(text, e) is not None
    # "颐和国际 A座", "21世纪太阳城 8栋": a building number after a name
    return _is_cjk(before) and not comma and text[s:e].strip() in ("", "/") \
        and _BUILDING_NUMBER_RE.match(text, e) is not None


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


# ------------------------------------------------------------------ where an address starts

def _left_start(text: str, anchor_start: int, need_place: bool = False) -> Optional[int]:
    """Where the address begins: the first place name / admin token in the run before the anchor."""
    lo = anchor_start
    while lo > 0 and anchor_start - lo < 30:
        ch = text[lo - 1]
        if not (_is_cjk(ch) or ch.isdigit() or (ch.isascii() and ch.isalpha())
                or (ch == " " and lo >= 2 and _is_cjk(text[lo - 2]))):
            break
        lo -= 1
    window = text[lo:anchor_start]
    start: Optional[int] = None
    for i in range(len(window)):
        if window[i:i + 2] in PLACE_NAMES or window[i:i + 3] in PLACE_NAMES or window[i:i + 4] in PLACE_NAMES:
            start = lo + i
            break
    m = _ADMIN_TOKEN_RE.search(window)
    if m is not None and (start is None or lo + m.start() < start):
        start = lo + m.start()  # "公司在虹口区四川北路": 虹口区 comes before the place name 四川
    if start is None:
        if need_place:
            return None
        # no place: the road ("住在人民路与解放路交叉口润和苑2号楼") or the compound name, back to 住 / 在 ...
        r = _ROAD_NAME_RE.search(window)
        if r is not None:
            start = lo + r.start()
        else:
            start = max(lo, anchor_start - 12)
            for lead in _LEAD_RE.finditer(text, start, anchor_start):
                start = lead.end()
            start = min(start, anchor_start - 2) if anchor_start - 2 >= lo else lo
    while start < anchor_start - 1:
        lead = _LEAD_RE.match(text, start)
        if lead is None:
            break
        start = lead.end()
    return min(start, anchor_start)


class AddressRecognizer(Recognizer):
    entity = "ADDRESS"
    name = "address"
    context = ("地址", "住址", "家住", "住在", "寄到", "收货地址", "位于")
    use_veto = False
    score = 0.6

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        raw_view = nt.text
        english = "Road" in raw_view or "Street" in raw_view or "Rd" in raw_view or "Avenue" in raw_view \
            or "St." in raw_view
        if _HINT_RE.search(raw_view) is None and not english:
            return []
        text, where = address_view(raw_view)
        out = self._chinese(text)
        if where is not None:
            out = [Candidate(where[c.start], where[c.end - 1] + 1, c.entity, c.score) for c in out]
        if english:
            for m in _EN_ADDRESS_RE.finditer(raw_view):
                out.append(Candidate(m.start(), m.end(), self.entity, self.score))
        return _merge(out)

    def _chinese(self, text: str) -> List[Candidate]:
        anchors: List[Tuple[int, int, bool]] = []  # (start, end, needs a place name on the left)
        for m in _ROAD_ANCHOR_RE.finditer(text):
            anchors.append((m.start(), m.end(), False))
        if _COMPOUND_UNIT_RE.search(text) is not None or _ROOM_CHAIN_RE.search(text) is not None:
            for m in finditer_at(_COMPOUND_START_RE, _COMPOUND_ANCHOR_RE, text):
                # a compound has a name ("阳光小区7栋", "富力城D区4号楼"); "宿舍3号楼402" alone is a room
                if _has_name_before(text, m.start()):
                    anchors.append((m.start(), m.end(), False))
        if _CHAIN_UNIT_RE.search(text) is not None:
            for m in _BUILDING_CHAIN_RE.finditer(text):
                generic = _GENERIC_BEFORE_RE.search(text, max(0, m.start() - 4), m.start())
                if _has_name_before(text, m.start() if generic is None else generic.start()):
                    anchors.append((m.start(), m.end(), False))
        for m in _VILLAGE_RE.finditer(text):
            anchors.append((m.start(), m.end(), m.end() - m.start() > 8))
        if _NUMBER_SIGN_RE.search(text) is not None:
            for m in finditer_at(_COMPOUND_NUMBER_START_RE, _COMPOUND_NUMBER_RE, text):
                # "阳光社区15号", "花卉市场B区108号": a number in a compound is an address only under a city
                anchors.append((m.start(), m.end(), True))
        if "镇" in text or "乡" in text or "街道" in text:
            for m in _ADMIN_CHAIN_RE.finditer(text):
                anchors.append((m.end() - 1, m.end(), True))
        out = []
        for a_start, a_end, need_place in anchors:
            start = _left_start(text, a_start, need_place)
            if start is None:
                continue
            end = a_end
            for _ in range(16):
                r = _RIGHT_TOKEN_RE.match(text, end)
                if (r is None or r.end() <= end) and text[end - 1:end] in _ADMIN_END:
                    r = _ROAD_AFTER_ADMIN_RE.match(text, end)  # 下关镇建设路, 东升街道长城路一段
                if r is None or r.end() <= end:
                    break
                end = r.end()
            out.append(Candidate(start, end, self.entity, self.score))
        return out


def _has_name_before(text: str, start: int) -> bool:
    """Two CJK characters (ASCII letters and digits between allowed: "花果园R1区") before ``start`` that
    are not the words in front of a compound ("我的", "住在")."""
    i = start
    while i > 0 and start - i < 4 and text[i - 1].isascii() and text[i - 1].isalnum():
        i -= 1
    name = text[max(0, i - 2):i]
    # letters count as a name too: "望京SOHO东区3号楼"
    return len(name) == 2 and all(_is_cjk(c) or c.isascii() and c.isalpha() for c in name) \
        and any(_is_cjk(c) for c in text[max(0, i - 6):i]) and name[-1] not in "我的在住到是"


def _merge(cands: Sequence[Candidate]) -> List[Candidate]:
    """Anchors of one address overlap: keep their union."""
    if len(cands) < 2:
        return list(cands)
    cands = sorted(cands)
    out = [cands[0]]
    for c in cands[1:]:
        last = out[-1]
        if c.start <= last.end:
            out[-1] = Candidate(last.start, max(last.end, c.end), last.entity, last.score)
        else:
            out.append(c)
    return out
