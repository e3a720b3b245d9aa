"""Street addresses (ADDRESS -> ``[ADDRESS]``): admin divisions + road/number or compound/building.

An address is anchored on something only addresses have, then grown to both sides:

* anchors: a road, street or lane with a house number (路 / 街 / 大街 / 大道 / 巷 / 弄 / 胡同 / 段 + 123号);
  a compound with a building or room (小区 / 花园 / 苑 / 公寓 / 大厦 ... + 3号楼 / 5栋 / 2单元 / 501室);
  a village under a town (XX镇XX村, XX村3组); Arabic or Chinese numbers (一百二十三号);
* to the left: the administrative chain in the same clause (省 / 自治区 / 市 / 区 / 县 / 镇 / 街道), starting
  at the first known province or city name (``lexicon.places``) or the first XX市 / XX区; words like
  住 / 在 / 寄到 in front are not part of it;
* to the right: building names and numbers (民族大厦, 睿东中心1栋, 4号楼2单元1102, 23层).

A city or district alone (我在杭州工作, 住海淀) has no anchor and is left alone, as are a famous street
without a number (南京路步行街) and a room number without a place (宿舍301). English addresses
("Room 1502, No. 1168 West Nanjing Road, Jing'an District, Shanghai") have their own pattern.
"""
from __future__ import annotations

import re
from typing import List, Optional

from ..lexicon.places import PLACE_NAMES
from ..normalizer import NormalizedText
from .base import Candidate, Recognizer

_CJK = "\u4e00-\u9fff"
_NUM = "(?:[0-9]+|[一二三四五六七八九十百千零〇两]+)"
_ROAD = "(?:大道|大街|路|街|巷|弄|胡同|段|道|里|坊)"
_ROAD_ANCHOR_RE = re.compile(_ROAD + "[ ]?" + _NUM + "(?:[-之][0-9]+)?(?:号院|号|弄|巷|支弄)")
_UNIT = "(?:号楼|号院|号门|号房|栋|幢|座|单元|楼|层|室|号|期|区|户|组|排|舍|房|门)"
_COMPOUND = ("(?:小区|花园|花苑|家园|新村|社区|公寓|大厦|广场|中心|写字楼|大楼|家属院|家属区|校区|园区|产业园|"
             "宿舍|商城|大院|酒店|宾馆|医院|中学|小学|大学|学院|幼儿园|苑|村|院|城|府|庭|湾|园|阁|里|坊|组|队|区)")
_COMPOUND_ANCHOR_RE = re.compile(
    _COMPOUND + "[ ]?[A-Za-z]?" + _NUM + "[A-Za-z]?(?:号楼|栋|幢|座|单元|(?:楼|层)[ ]?" + _NUM + "(?:室|房|号)?(?![0-9]))"
)  # a floor alone ("万达广场3楼") is a shop, not an address: it needs a room number after it
_COMPOUND_NUMBER_RE = re.compile("(?:社区|小区|新村|家园|花园|村|大院)" + _NUM + "号")
_VILLAGE_RE = re.compile("(?:镇|乡)[" + _CJK + "]{1,6}?村(?:" + _NUM + "(?:组|号|队|社))?")
# Cheap test: an address needs one of these characters.
_HINT_RE = re.compile("[路街巷弄道段里坊区苑园院城府庭湾阁村楼栋幢座寓舍心场厦]")
# What may follow the anchor, one token at a time (a space between tokens is allowed):
_RIGHT_TOKEN_RE = re.compile(
    "[ ]?(?:"
    "[A-Za-z]?" + _NUM + "[A-Za-z]?" + _UNIT            # 3号楼 2单元 501室 B2层 1101房
    + "|[A-Za-z]{1,2}(?:座|栋|幢|区|单元|楼)"             # B座 F区
    + "|[0-9]+(?:-[0-9]+)+"                              # 7-2-401 12-1-1802
    + "|之" + _NUM + _UNIT + "?"                          # 197号之三
    + "|(?<=[号楼栋幢座元层室期区户组排舍房门场厦心园苑院寓村城府庭湾阁])" + _NUM + "(?![0-9])" + _UNIT + "?"  # 单元1102, 广场1506
    + "|[" + _CJK + "A-Za-z0-9]{0,10}?" + _COMPOUND      # 民族大厦 睿东中心 阳光小区
    + ")"
)
_ADMIN = "(?:省|自治区|特别行政区|市|自治州|地区|盟|新区|区|县|旗|镇|乡|街道)"
_ADMIN_TOKEN_RE = re.compile("[" + _CJK + "]{2,6}?" + _ADMIN)
_LEAD_STOP = "我家住在于是到寄送址位从去回来搬租的为发收货件人地及和现居"
_EN_ADDRESS_RE = re.compile(
    r"(?:(?:Room|Rm\.?|Flat|Unit|Apt\.?|Suite)[ ]?[0-9A-Z-]+,?[ ]?)?"
    r"(?:No\.?[ ]?)?[0-9]+[A-Z]?,?[ ]"
    r"(?:[A-Z][A-Za-z']*[ ]){1,4}(?:Road|Street|Avenue|Lane|Boulevard|Rd\.?|St\.?|Ave\.?|Blvd\.?)"
    r"(?:,[ ]?(?:[A-Z][A-Za-z']*)(?:[ ][A-Z][A-Za-z']*){0,3}){0,4}"
)


def _left_start(text: str, anchor_start: int, need_place: bool = False) -> Optional[int]:
    """Where the address begins: the first place name / admin token in the CJK run before the anchor."""
    lo = anchor_start
    while lo > 0 and anchor_start - lo < 30:
        ch = text[lo - 1]
        if not ("\u4e00" <= ch <= "\u9fff" or ch.isdigit() or (ch == " " and lo >= 2 and "\u4e00" <= text[lo - 2] <= "\u9fff")):
            break
        lo -= 1
    window = text[lo:anchor_start]
    start: Optional[int] = None
    for i in range(len(window)):
        if window[i:i + 2] in PLACE_NAMES or window[i:i + 3] in PLACE_NAMES or window[i:i + 4] in PLACE_NAMES:
            start = lo + i
            break
    if start is None:
        m = _ADMIN_TOKEN_RE.search(window)
        if m is not None:
            start = lo + m.start()
    if start is None:
        if need_place:
            return None
        # the road or compound name alone: its last few characters
        start = max(lo, anchor_start - 4)
    while start < anchor_start - 1 and text[start] in _LEAD_STOP:
        start += 1
    return start


class AddressRecognizer(Recognizer):
    entity = "ADDRESS"
    name = "address"
    context = ("地址", "住址", "家住", "住在", "寄到", "收货地址", "位于")
    use_veto = False
    score = 0.6

    def analyze(self, nt: NormalizedText) -> List[Candidate]:
        text = nt.text
        out: List[Candidate] = []
        english = "Road" in text or "Street" in text or "Rd" in text or "Avenue" in text or "St." in text
        if _HINT_RE.search(text) is None and not english:
            return out
        anchors = []
        for m in _ROAD_ANCHOR_RE.finditer(text):
            anchors.append((m.start(), m.end()))
        for m in _COMPOUND_ANCHOR_RE.finditer(text):
            # a compound has a name ("阳光小区7栋"); "宿舍3号楼402" alone is a room, not an address
            name = text[max(0, m.start() - 2):m.start()]
            if len(name) == 2 and all("\u4e00" <= c <= "\u9fff" for c in name) and name[-1] not in "我的在住到是和与":
                anchors.append((m.start(), m.end()))
        for m in _VILLAGE_RE.finditer(text):
            anchors.append((m.start(), m.end()))
        for m in _COMPOUND_NUMBER_RE.finditer(text):
            # "阳光社区15号": a number in a compound is an address only under a city / district
            if _left_start(text, m.start(), need_place=True) is not None:
                anchors.append((m.start(), m.end()))
        for a_start, a_end in anchors:
            start = _left_start(text, a_start)
            end = a_end
            for _ in range(12):
                r = _RIGHT_TOKEN_RE.match(text, end)
                if r is None or r.end() <= end:
                    break
                end = r.end()
            out.append(Candidate(start, end, self.entity, self.score))
        if english:
            for m in _EN_ADDRESS_RE.finditer(text):
                out.append(Candidate(m.start(), m.end(), self.entity, self.score))
        return _merge(out)


def _merge(cands: List[Candidate]) -> List[Candidate]:
    """Anchors of one address overlap: keep their union."""
    if len(cands) < 2:
        return cands
    cands = sorted(cands)
    out = [cands[0]]
    for c in cands[1:]:
        last = out[-1]
        if c.start <= last.end:
            out[-1] = Candidate(last.start, max(last.end, c.end), last.entity, last.score)
        else:
            out.append(c)
    return out
