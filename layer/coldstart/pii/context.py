"""Context words around a candidate: the words that veto it, and the clause it sits in.

Checksums stop random digits, not real numbers of another kind: an 18-digit order number passes
Luhn one time in ten, an invoice code reads as a landline, an employee number as a mobile. What tells
them apart is the word in front ("订单号 2023...", "发票代码 0440..."), so every digit recognizer
asks ``vetoed(view, start)`` before it reports a candidate: the nearest label word before it, in the
same clause (no ，。；!? between) and with no other number in between, decides. A veto word (订单号, 发票, 快递单号, 型号, 编号, 工号, 学号 ...)
rejects the candidate; a contact word *after* it ("订单号12345 电话138...") wins back, unless the two
are glued ("订单号码": one label, still an order number).
"""
from __future__ import annotations

import re
from typing import Iterable

__all__ = ["VETO_WORDS", "CONTACT_WORDS", "vetoed", "clause_before", "word_regex"]

# Words that introduce a number that is *not* personal data (longest first where one contains another).
VETO_WORDS = (
    "会员卡号", "会员号", "订单编号", "订单号", "订单", "交易单号", "交易号", "单号", "运单", "快递单号", "物流单号",
    "发票代码", "发票号码", "发票", "税号", "纳税人识别号", "信用代码", "营业执照", "注册号", "备案号", "备案", "ICP",
    "型号", "编号", "序列号", "序号", "流水号", "批次", "批号", "货号", "条码", "条形码",
    "工号", "学号", "考号", "准考证", "学籍", "员工号", "职工号", "工牌", "警号", "工作证",
    "验证码", "校验码", "邀请码", "优惠码", "兑换码", "激活码", "密码", "口令", "取件码", "提货码",
    "邮编", "邮政编码", "房间号", "房号", "座位", "座号", "航班", "车次", "班次", "车架号", "发动机号", "VIN",
    "股票代码", "基金代码", "代码", "合同号", "保单", "工单", "票号", "单据", "设备号", "串号",
    "IMEI", "imei", "识别码", "ISBN", "isbn", "SN:", "SN ", "S/N", "群号", "QQ群", "qq群", "群:", "公众号",
    "UID", "uid", "用户ID", "用户id", "追踪号", "跟踪号", "报名号", "挂号", "病历号", "就诊卡", "医保卡号",
)

# Words that introduce personal contact data; one after a veto word (not glued to it) wins back.
CONTACT_WORDS = (
    "电话", "手机", "联系", "致电", "来电", "打我", "call", "tel", "Tel", "TEL", "phone", "Phone", "mobile", "Mobile",
    "微信", "QQ", "qq", "扣扣", "邮箱", "身份证", "证件", "银行卡", "卡号", "储蓄卡", "信用卡", "护照", "车牌", "座机",
    "固话", "号码是", "地址", "住址", "户口",
)

CLAUSE_BREAKS = "，,。；;!！?？\n|｜【】"


def word_regex(words: Iterable[str]) -> "re.Pattern[str]":
    """One alternation, longest words first (so 订单号 wins over 订单 at the same place)."""
    return re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)))


_VETO_RE = word_regex(VETO_WORDS)
_CONTACT_RE = word_regex(CONTACT_WORDS)
# Everything up to the last clause break (one match instead of a loop over every break: ~3 calls a bio).
_UP_TO_LAST_BREAK_RE = re.compile(".*[" + re.escape(CLAUSE_BREAKS) + "]", re.DOTALL)


def clause_before(text: str, start: int, window: int = 16) -> str:
    """Up to ``window`` characters before ``start``, cut after the last clause break."""
    lo = max(0, start - window)
    chunk = text[lo:start]
    last = _UP_TO_LAST_BREAK_RE.match(chunk)
    return chunk if last is None else chunk[last.end():]


def vetoed(text: str, start: int, window: int = 16) -> bool:
    """True when the nearest label before ``start`` in its clause is a veto word (see module doc)."""
    chunk = clause_before(text, start, window)
    if not chunk or _VETO_RE.search(chunk) is None:  # (the common case: one search, no iterator)
        return False
    last_veto = None
    for last_veto in _VETO_RE.finditer(chunk):
        pass
    if last_veto is None:
        return False
    between = chunk[last_veto.end():]
    if any(c.isdigit() for c in between):
        return False  # the veto word labels the number right after it, not a later one
    contact = _CONTACT_RE.search(chunk, last_veto.end() + 1)
    return contact is None
