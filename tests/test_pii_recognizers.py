"""coldstart.pii as a package: one test per format class the recognizers learned in issue 12, the veto
words, what must be left alone (celebrities, cities, titles), the normaliser's position map, the engine
config, and that no result object ever holds an original value.

Examples are written here from the issue's list of formats (not copied from any evaluation corpus);
IDs and cards are made valid with the independent helpers in tests/pii_reference.py.
"""
from __future__ import annotations

import re
from datetime import date

import pytest

from coldstart.pii import (
    PII_TYPES,
    PLACEHOLDERS,
    Finding,
    MaskerConfig,
    MaskingEngine,
    MaskResult,
    analyze_pii,
    mask_pii,
)
from coldstart.pii.normalizer import normalize
from tests.pii_reference import id_check_char, luhn_complete, luhn_ok

CN = dict(zip("0123456789", "零一二三四五六七八九"))
CAPITAL = dict(zip("0123456789", "零壹贰叁肆伍陆柒捌玖"))


def make_id(province: str = "44", area: int = 305, born: date = date(1990, 3, 7), seq: int = 123) -> str:
    body = "%s%04d%s%03d" % (province, area, born.strftime("%Y%m%d"), seq)
    return body + id_check_char(body)


ID = make_id()
ID_X = "11010519491231002X"
CARD = luhn_complete("622848001234567890")          # 19 digits
CARD16 = luhn_complete("622202123456789")            # 16 digits
AMEX = luhn_complete("37828224631000")               # 15 digits
MOBILE = "13812345678"


def masked_spans(text: str):
    """[(original substring, type)] that analyze_pii reports."""
    return [(text[f.start:f.end], f.entity) for f in analyze_pii(text)]


def assert_masked(text: str, value: str, entity: str = None):
    """``value`` (a substring of ``text``) is covered entirely by one finding (of ``entity``)."""
    start = text.index(value)
    hits = [f for f in analyze_pii(text) if f.start <= start and start + len(value) <= f.end]
    assert hits, (text, value, masked_spans(text))
    if entity:
        assert hits[0].entity == entity, (text, value, masked_spans(text))
    out = mask_pii(text).text
    for chunk in re.findall(r"[0-9A-Za-z]{4,}", value):
        assert chunk not in out, (text, out)


def assert_left_alone(text: str):
    assert analyze_pii(text) == [], (text, masked_spans(text))
    assert mask_pii(text).counts == {}


# --------------------------------------------------------------------------- digits in disguise

@pytest.mark.parametrize("written", [
    "".join(CN[d] for d in MOBILE),                                   # 一三八一二三四五六七八
    "幺三八 幺二三四 五六七八",                                        # 幺 for 1, grouped
    "".join(CAPITAL[d] for d in MOBILE),                              # 壹叁捌...
    "138一二三四5678",                                                # mixed
    "1五0六三一四七八六七",
    "幺八八 九六零三 零八二四",
    "洞幺洞 八二五六 三七八九",                                        # 洞 for 0: a landline 010
])
def test_numbers_written_in_chinese_numerals(written):
    text = "电话" + written + "，找我"
    assert_masked(text, written)


def test_chinese_numerals_next_to_a_number_stay_words_when_they_are_not_digits():
    # "一起" after a mobile number: the number is found without the 一, and 一起 stays text
    r = mask_pii("电话13812345678一起玩")
    assert r.text == "电话[PHONE]一起玩" and r.counts == {"PHONE": 1}
    assert_left_alone("我们一起去三个地方，一二三四五上班")  # a run of numerals that is no number


@pytest.mark.parametrize("written", [
    "138/1234/5678", "138_1234_5678", "138~1234~5678", "138.1234.5678", "1 3 8 1 2 3 4 5 6 7 8",
    "1381 2345 678", "138 123 45678", "13 8123 45678", "+86 138 1234 5678", "(+86)13812345678",
    "(139)6859-9528", "138 - 1234 - 5678",
])
def test_unusual_groupings_and_separators(written):
    assert_masked("有事打" + written + "。", written, None)


@pytest.mark.parametrize("written", [
    "１３８１２３４５６７８", "①③⑧①②③④⑤⑥⑦⑧", "١٣٨١٢٣٤٥٦٧٨", "𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖",
    "1\ufe0f\u20e33\ufe0f\u20e38\ufe0f\u20e31\ufe0f\u20e32\ufe0f\u20e33\ufe0f\u20e34\ufe0f\u20e35\ufe0f\u20e36\ufe0f\u20e37\ufe0f\u20e38\ufe0f\u20e3",
])
def test_fullwidth_circled_and_other_unicode_digits(written):
    text = "手机" + written + "谢谢"
    assert_masked(text, written, "PHONE")
    assert mask_pii(text).text == "手机[PHONE]谢谢"


@pytest.mark.parametrize("hidden", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202e"])
def test_invisible_characters_inside_a_number_are_masked_with_it(hidden):
    written = "138" + hidden + "1234" + hidden + "5678"
    text = "电话" + written + "。"
    (f,) = analyze_pii(text)
    assert text[f.start:f.end] == written  # the original span, invisible characters included
    assert mask_pii(text).text == "电话[PHONE]。"


@pytest.mark.parametrize("written, expected", [
    ("0591-87651234转6023", "[PHONE]"), ("020-3877 1906 转 808", "[PHONE]"), ("028 8520 3366 ext. 12", "[PHONE]"),
    ("010-62751234 分机 3", "[PHONE]"), ("0755-12345678-808", "[PHONE]"), ("(021)64853372", "[PHONE]"),
    ("+86 21 6234 5567", "[PHONE]"), ("0086-10-8456 7720", "[PHONE]"), ("０２１－６２８７４４１０", "[PHONE]"),
    ("0574.8732.0091", "[PHONE]"),
])
def test_landlines_with_extensions_and_international_forms(written, expected):
    r = mask_pii("座机" + written + "，工作日")
    assert r.text == "座机" + expected + ",工作日"
    assert r.counts == {"LANDLINE": 1}


@pytest.mark.parametrize("written", [
    ID[:6] + " " + ID[6:14] + " " + ID[14:],                  # 6-8-4
    ID[:3] + " " + ID[3:6] + " " + ID[6:10] + " " + ID[10:14] + " " + ID[14:],  # 3-3-4-4-4
    ID[:6] + "-" + ID[6:10] + "-" + ID[10:14] + "-" + ID[14:],  # 6-4-4-4
    " ".join(ID),                                              # one at a time
    ID_X.lower(), ID_X[:17] + "Ｘ",                            # lower-case / full-width X
    "".join(CN[d] for d in ID),                                # Chinese numerals
    ID[:10] + "".join(CN[d] for d in ID[10:14]) + ID[14:],     # mixed
    "K582613(6)", "F228374609", "5183926(4)",                  # Hong Kong, Taiwan, Macau
])
def test_identity_numbers_in_any_grouping_and_region(written):
    assert_masked("身份证" + written + "，实名", written, "ID_CARD")


@pytest.mark.parametrize("written", [
    " ".join(CARD[i:i + 4] for i in range(0, 19, 4)),          # 4-4-4-4-3
    AMEX[:4] + " " + AMEX[4:10] + " " + AMEX[10:],             # Amex 4-6-5
    CARD[:6] + " " + CARD[6:],                                 # 6-13
    ".".join(CARD16[i:i + 4] for i in range(0, 16, 4)),        # dots
    " ".join("".join(CN[d] for d in CARD16[i:i + 4]) for i in range(0, 16, 4)),
    "\u200b".join(CARD16[i:i + 4] for i in range(0, 16, 4)),
])
def test_bank_cards_in_any_grouping(written):
    assert_masked("卡号" + written + "，转账", written, "BANK_CARD")


# --------------------------------------------------------------------------- e-mail, QQ, WeChat

@pytest.mark.parametrize("written", [
    "zhang[at]163.com", "zhang(at)163.com", "zhang{at}163.com", "zhang#163.com", "zhang艾特126.com",
    "zhang圈a139.com", "tang_ye at 163 dot com", "hui.l AT xjtu DOT edu DOT cn", "li (at) qq (dot) com",
    "yangfan0101#126#com", "lcwz 圈a qq 点 com", "hr_zhaopin @ yeah.net", "abc@qq。com", "yuanbao@@163.com",
    "l i u x i n 8 8 @ q q . c o m", "ａｂｃ＠ｑｑ．ｃｏｍ",
])
def test_email_obfuscations(written):
    assert_masked("邮箱：" + written + "，谢谢", written, "EMAIL")


@pytest.mark.parametrize("written", ["李明@公司.中国", "王小二@杭州某某科技.com", "chenchen@中文网址.公司"])
def test_email_with_chinese_local_part_or_domain(written):
    assert_masked("邮箱：" + written + "，这是新域名", written, "EMAIL")


@pytest.mark.parametrize("text, value", [
    ("加我企鹅号915273648", "915273648"), ("扣扣2847561930先聊聊", "2847561930"), ("Q：384729105 来开黑", "384729105"),
    ("球球1029384756，一起开黑吗", "1029384756"), ("q q 2938475610，不约", "2938475610"),
    ("扣 3 0 5 8 1 9 2 7 4", "3 0 5 8 1 9 2 7 4"), ("企鹅号：3 9 4 八 5 7 2 1 6", "3 9 4 八 5 7 2 1 6"),
    ("QQ【91827364】", "91827364"), ("QQ（常用）：384756291", "384756291"), ("\U0001F427 10293847", "10293847"),
])
def test_qq_aliases(text, value):
    assert_masked(text, value)
    assert value not in mask_pii(text).text


@pytest.mark.parametrize("text, value", [
    ("加vxiaoyu_0618领资料", "xiaoyu_0618"), ("威信Ll1314520xx", "Ll1314520xx"), ("薇信：mengmeng_1023", "mengmeng_1023"),
    ("卫星：ZhouMing_666", "ZhouMing_666"), ("v x：k e k e 2 0 2 2", "k e k e 2 0 2 2"), ("绿泡泡：daigou_sisi", "daigou_sisi"),
    ("嶶信fang_yuan88", "fang_yuan88"), ("徽信beauty_lin520", "beauty_lin520"), ("wei xin xiaobai_dog", "xiaobai_dog"),
    ("微❤xiangxiang_home", "xiangxiang_home"), ("➕V：hao_fang_zi_168", "hao_fang_zi_168"),
    ("vx l-i-n-g-l-i-n-g-1-2（去掉横线）", "l-i-n-g-l-i-n-g-1-2"), ("nju_paotui（绿色软件）", "nju_paotui"),
    ("微信号码：Yoyo2019", "Yoyo2019"), ("微信（同名）：sunny_day", "sunny_day"), ("客服微信：kefu_sweet01", "kefu_sweet01"),
    ("微信：zhangsan_photography_studio", "zhangsan_photography_studio"),
])
def test_wechat_aliases(text, value):
    assert_masked(text, value, "WECHAT")


def test_wechat_group_and_public_account_and_qq_group_are_left_alone():
    for text in ("微信公众号：读书小站", "QQ群：123456789，欢迎入群", "微信群里聊", "QQ音乐会员", "Q3营收增长12345万"):
        assert_left_alone(text)


# --------------------------------------------------------------------------- passports and plates

@pytest.mark.parametrize("text, value", [
    ("护照号E38291746，签证用", "E38291746"), ("护照EJ4592871", "EJ4592871"), ("旧护照G31825064", "G31825064"),
    ("护照G4837 2615丢了", "G4837 2615"), ("护照号E-6172-9384", "E-6172-9384"), ("护照 E 7 2 8 1 9 4 3 5", "E 7 2 8 1 9 4 3 5"),
    ("我的护照E七三九一八二六四", "E七三九一八二六四"), ("护照Ｅ５２８１９３６４", "Ｅ５２８１９３６４"),
    ("US passport 548273916", "548273916"), ("需要护照号，我的是TR8392651（日本）", "TR8392651"),
])
def test_passports(text, value):
    assert_masked(text, value, "PASSPORT")


@pytest.mark.parametrize("value", [
    "京A·12345", "粤B 8K9X2", "沪C12345", "京AD12345", "粤B12345D", "冀A 9 K 2 7 3", "沪a 6R1K5", "鄂Ａ·Ｋ５５Ｑ３",
])
def test_licence_plates(value):
    assert_masked("车牌" + value + "，拼车", value, "LICENSE_PLATE")


def test_plate_lookalikes_are_left_alone():
    for text in ("京ICP备12345678号", "沪A、粤B的车牌都难拍", "新iPhone 15"):
        assert_left_alone(text)


# --------------------------------------------------------------------------- names and addresses

@pytest.mark.parametrize("text, value", [
    ("大家好我叫王晓雯，95后", "王晓雯"), ("姓名：李娜 手机15671049746", "李娜"), ("本人陈建国，退休教师", "陈建国"),
    ("联系人：刘芳", "刘芳"), ("我是欧阳嘉怡，中大大三在读", "欧阳嘉怡"), ("本人诸葛明轩，男", "诸葛明轩"),
    ("我叫小红，今年初三", "小红"), ("姓名：买买提·艾力，喀什人", "买买提·艾力"), ("我是扎西顿珠，来自西藏", "扎西顿珠"),
    ("老师好，我是三年级二班孔令浩的家长", "孔令浩"), ("找汪卫东老师，周一到周五", "汪卫东"),
    ("快递：哈尔滨市道里区中央大街108号，孟凡宇收", "孟凡宇"), ("护照E91837264，吕志强，行程单", "吕志强"),
    ("Hi~ I'm Kevin Zhou，产品经理", "Kevin Zhou"), ("英文名FANG ZHIYUAN", "FANG ZHIYUAN"), ("我姓王，叫王一博", "王一博"),
    ("李娜，女，28岁，会计", "李娜"), ("户名赵德明", "赵德明"),
])
def test_names_introduced_in_context(text, value):
    assert_masked(text, value, "PERSON_NAME")


@pytest.mark.parametrize("text", [
    "最喜欢周杰伦和林俊杰，偶像是谷爱凌", "崇拜姚明和科比", "看了三遍哈利·波特", "我是易烊千玺的粉丝", "爱看金庸，最爱令狐冲",
    "孙俪是我最喜欢的演员",
])
def test_celebrities_named_as_interests_are_left_alone(text):
    assert_left_alone(text)


@pytest.mark.parametrize("text", [
    "刘女士，王先生，张老师，都是热心人", "我是王老师，教数学", "我是一名程序员", "我是宝妈，带两个娃", "周末去爬山，高中同学聚会",
    "我家狗狗叫旺财",
])
def test_titles_and_ordinary_words_are_not_names(text):
    assert_left_alone(text)


@pytest.mark.parametrize("text, value", [
    ("家住南京市玄武区北京东路41号3栋502室，退休", "南京市玄武区北京东路41号3栋502室"),
    ("寄到云南省昆明市五华区青年路428号民族大厦，收件人", "云南省昆明市五华区青年路428号"),
    ("住万科城市花园7栋2单元1801", "万科城市花园7栋2单元1801"),
    ("地址：杭州市 西湖区 文三路 259号 昌地火炬大厦 1号楼 8层", "杭州市 西湖区 文三路 259号 昌地火炬大厦 1号楼 8层"),
    ("广州市越秀区中山五路二一九号一二〇三房", "广州市越秀区中山五路二一九号一二〇三房"),
    ("河南省周口市郸城县汲冢镇大王庄村3组", "河南省周口市郸城县汲冢镇大王庄村3组"),
    ("公司地址Room 1502, No. 1168 West Nanjing Road, Jing'an District, Shanghai，外籍同事",
     "Room 1502, No. 1168 West Nanjing Road, Jing'an District, Shanghai"),
])
def test_street_addresses(text, value):
    assert_masked(text, value, "ADDRESS")


@pytest.mark.parametrize("text", [
    "我在杭州工作，住海淀", "南京路步行街很热闹", "宿舍3号楼402，欢迎串门", "座位12排5号", "在万达广场3楼的星巴克",
    "欢迎来成都玩，春熙路太古里很好逛",
])
def test_a_city_or_a_room_alone_is_not_an_address(text):
    assert_left_alone(text)


# --------------------------------------------------------------------------- veto words

VETOED = {
    "订单号": luhn_complete("20231115001234567"),   # 18 digits passing Luhn: a card by shape
    "发票号码": luhn_complete("20231115001234567"),
    "快递单号": MOBILE,
    "型号": "E12345678",                            # a passport by shape
    "编号": MOBILE,
    "工号": MOBILE,
    "学号": luhn_complete("621700201912345"),       # 16 digits passing Luhn
    "发票代码": "044031900111",                      # a Shenzhen landline by shape
}


@pytest.mark.parametrize("word", sorted(VETOED))
def test_veto_words_leave_the_number_after_them_alone(word):
    value = VETOED[word]
    assert analyze_pii("信息 " + value + " 备用"), value  # without the word it would be masked
    assert_left_alone(word + "：" + value + "，请核对")


def test_a_contact_word_after_a_veto_word_wins_back():
    r = mask_pii("订单号2023111500，电话13812345678")
    assert r.counts == {"PHONE": 1}
    assert mask_pii("订单号码" + MOBILE).counts == {}  # glued: still the order number's label


# --------------------------------------------------------------------------- normaliser and engine

def test_normaliser_maps_view_positions_back_to_the_input():
    raw = "电话①③⑧\u200b1234 5678，⑴"
    nt = normalize(raw)
    assert nt.text == "电话138" + "1234 5678,(1)"
    start = nt.text.index("138")
    end = nt.text.index("5678") + 4
    assert nt.raw_span(start, end) == (2, raw.index("5678") + 4)   # the zero-width space is inside
    s, e = nt.raw_span(nt.text.index("(1)"), len(nt.text))
    assert raw[s:e] == "⑴"                                          # three view characters, one input character
    assert normalize("abc 一起").text == "abc 一起"                   # numerals outside digit runs stay


def test_digit_runs_keep_group_boundaries():
    nt = normalize("卡号 6222 0212 3456 7895，电话 138-1234-5678 / 159-8765-4321")
    runs = nt.digit_runs()
    assert [len(r.groups) for r in runs] == [4, 6]
    assert runs[1].seps == ["-", "-", " / ", "-", "-"]


def test_engine_is_built_from_config():
    only_phone = MaskingEngine(MaskerConfig(recognizers=("phone",)))
    r = only_phone.mask("手机13812345678，邮箱a@b.com，我叫王小明")
    assert r.text == "手机[PHONE],邮箱a@b.com,我叫王小明" and r.counts == {"PHONE": 1}
    custom = MaskingEngine(MaskerConfig.from_mapping({"placeholders": {"PERSON_NAME": "[某人]"}}))
    assert custom.mask("我叫王小明").text == "我叫[某人]"
    with pytest.raises(ValueError, match="unknown PII recognizer"):
        MaskerConfig(recognizers=("phone", "ssn"))
    with pytest.raises(ValueError, match="without digits"):
        MaskerConfig.from_mapping({"placeholders": {"PHONE": "[PHONE1]"}})
    with pytest.raises(ValueError, match="unknown PII config key"):
        MaskerConfig.from_mapping({"recognisers": []})


def test_public_api_and_placeholders_cover_the_new_types():
    assert set(PLACEHOLDERS) == set(PII_TYPES)
    for entity, placeholder in {"PERSON_NAME": "[NAME]", "ADDRESS": "[ADDRESS]", "PASSPORT": "[PASSPORT]",
                                "LICENSE_PLATE": "[PLATE]"}.items():
        assert PLACEHOLDERS[entity] == placeholder


SECRETS_TEXT = ("我叫王晓雯，身份证" + ID + "，卡号" + CARD + "，手机一三八一二三四五六七八，邮箱wang.xw[at]163.com，"
                "QQ：384729105，微信：wxw_1995，护照E38291746，车牌京A·12345，家住南京市玄武区北京东路41号3栋502室")
SECRET_VALUES = ["王晓雯", ID, CARD, "一三八一二三四五六七八", "wang.xw", "384729105", "wxw_1995", "E38291746", "12345",
                 "北京东路41号", "玄武区"]


def test_mask_result_and_findings_never_hold_original_values():
    r = mask_pii(SECRETS_TEXT)
    assert set(r.counts) == {"PERSON_NAME", "ID_CARD", "BANK_CARD", "PHONE", "EMAIL", "QQ", "WECHAT", "PASSPORT",
                             "LICENSE_PLATE", "ADDRESS"}
    assert isinstance(r, MaskResult)
    for secret in SECRET_VALUES:
        assert secret not in r.text and secret not in repr(r) and secret not in str(r.counts)
    assert not re.search(r"[0-9]{4}", r.text + repr(r))
    for f in analyze_pii(SECRETS_TEXT):
        assert isinstance(f, Finding)
        assert set(f._fields) == {"start", "end", "entity", "score"}  # positions, never the value
        assert all(isinstance(v, (int, float, str)) for v in f) and f.entity in PII_TYPES


def test_every_mask_is_complete_and_idempotent_on_the_examples_above():
    for text in [SECRETS_TEXT, "电话138\u200b1234\u200b5678一起玩", "QQ号:12345678wxid_abc123"]:
        r = mask_pii(text)
        again = mask_pii(r.text)
        assert again.text == r.text and again.counts == {}, (text, r.text, again.counts)


def test_helpers_agree_with_the_reference():
    assert luhn_ok(CARD) and luhn_ok(AMEX) and luhn_ok(CARD16)
